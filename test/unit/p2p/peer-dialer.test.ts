import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BookEntry } from '../../../src/p2p/address-book.js';
import type { Link } from '../../../src/p2p/link.js';
import { PeerDialer } from '../../../src/p2p/peer-dialer.js';
import type { PeerSession } from '../../../src/p2p/peer-session.js';

// PeerDialer.forget: an entry the address book dropped is never dialed again, whether it was
// waiting for its backoff or being dialed at that moment (which still counts until it ends).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const servers: Server[] = [];
const sockets: Socket[] = [];
const dialers: PeerDialer[] = [];

afterEach(() => {
  for (const d of dialers.splice(0)) d.stop();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

function entry(port: number): BookEntry {
  return {
    host: '127.0.0.1',
    port,
    persistent: false,
    verifiedKey: undefined,
    claimedKey: 'k',
    attempts: 0,
    lastSuccessMs: 0,
    bucket: 0,
  };
}

/** A port that accepts TCP and never answers (a TLS handshake to it hangs). */
async function silentPort(): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A port nobody listens on (connections are refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function dialer(handshakeTimeoutMs = 5_000) {
  const seen = { wanted: 0, failed: 0, scheduled: 0 };
  const d = new PeerDialer({
    path: '/p2p/1',
    handshakeTimeoutMs,
    pingIntervalMs: 10_000,
    maxBackpressure: 1 << 20,
    tls: true,
    backoff: { baseMs: 40, maxMs: 80, random: () => 0 },
    attach: (_link: Link) => ({}) as PeerSession,
    wanted: () => {
      seen.wanted++;
      return 'dial';
    },
    onScheduled: () => {
      seen.scheduled++;
    },
    onFailed: () => {
      seen.failed++;
    },
  });
  dialers.push(d);
  return { d, seen };
}

describe('PeerDialer.forget', () => {
  it('an entry waiting for its backoff is not redialed', async () => {
    const { d, seen } = dialer();
    const e = entry(await closedPort());
    d.offer(e);
    for (let t = 0; t < 200 && seen.scheduled === 0; t++) await sleep(5);
    expect(seen).toEqual({ wanted: 1, failed: 1, scheduled: 1 });
    expect(d.busy(e)).toBe(true);
    d.forget(e);
    expect(d.busy(e)).toBe(false);
    await sleep(200); // several backoffs
    d.offer(e);
    expect(seen.wanted).toBe(1);
  });

  it('an entry being dialed still counts until that dial ends, and is then not rescheduled', async () => {
    const { d, seen } = dialer(150);
    const e = entry(await silentPort());
    d.offer(e);
    expect(d.dialingCount()).toBe(1);
    d.forget(e);
    expect(d.dialingCount()).toBe(1);
    for (let t = 0; t < 200 && d.dialingCount() > 0; t++) await sleep(5);
    expect(d.dialingCount()).toBe(0);
    await sleep(200);
    expect(seen.wanted).toBe(1);
    expect(seen.scheduled).toBe(0);
    expect(d.busy(e)).toBe(false);
  });
});
