import { ChaosError } from './chaos-error.js';

/** A TCP address: where a node listens, or where a proxy listens for it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:port`), refusing anything else with CHAOS_BAD_OPTIONS. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65_535)
    throw new ChaosError('CHAOS_BAD_OPTIONS', `bad endpoint ${JSON.stringify(text)} (host:port)`);
  return { host: (m[1] ?? m[2])!, port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
