import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNodeConfig } from '../config/node-config.js';
import { type BackoffOptions, backoffDelay } from '../p2p/backoff.js';
import { COOKIE_FILE } from '../rpc/rpc-auth.js';

/**
 * How `timecoin` wallet and operator commands reach a node: JSON-RPC over HTTP with the node's
 * cookie (read from its data dir, as bitcoin-cli does) or explicit credentials. Every failure is a
 * CliFailure with its own exit code, so scripts can tell "node down" from "wrong cookie" from
 * "the node said no".
 */

/** Exit codes of the client commands (docs/operations.md lists them). */
export const EXIT = Object.freeze({
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  AUTH: 4,
  INSUFFICIENT_FUNDS: 5,
  RPC_ERROR: 6,
  NOT_FINAL: 7,
});

export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class NodeRpcError extends CliFailure {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(EXIT.RPC_ERROR, `node answered error ${code}: ${message}${dataText(data)}`);
  }
}

function dataText(data: unknown): string {
  if (data && typeof data === 'object' && 'code' in data)
    return ` (${String((data as { code: unknown }).code)})`;
  return '';
}

/** The connection flags every client command takes (node:util parseArgs options). */
export const CONNECTION_OPTIONS = {
  network: { type: 'string', default: 'devnet' },
  datadir: { type: 'string' },
  'rpc-host': { type: 'string' },
  'rpc-port': { type: 'string' },
  'rpc-user': { type: 'string' },
  'rpc-password': { type: 'string' },
} as const;

export const CONNECTION_USAGE =
  '[--network N] [--datadir DIR | --rpc-user U --rpc-password P] [--rpc-host H] [--rpc-port P]';

/**
 * How a submission backs off while the node pushes back: 0.25 s doubling to 4 s, half of each
 * delay random, so wallets turned away together do not all come back in the same instant.
 */
export const BUSY_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 250, maxMs: 4_000, random: Math.random });

export interface ConnectionFlags {
  network?: string | undefined;
  datadir?: string | undefined;
  'rpc-host'?: string | undefined;
  'rpc-port'?: string | undefined;
  'rpc-user'?: string | undefined;
  'rpc-password'?: string | undefined;
}

export class RpcClient {
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly authorization: string,
  ) {}

  /** From flags: host/port default to the network's config, credentials to the data dir's cookie. */
  static fromFlags(f: ConnectionFlags): RpcClient {
    // The environment as the node reads it: loadNodeConfig passes over the wallet's own variables
    // (NON_CONFIG_ENV), so the node and its clients agree on what a TIMECOIN_* variable means.
    const config = loadNodeConfig({
      network: (f.network ?? 'devnet') as 'devnet',
      overrides: { datadir: f.datadir },
    });
    const host = f['rpc-host'] ?? (config.rpc.bind === '0.0.0.0' ? '127.0.0.1' : config.rpc.bind);
    // Digits only: Number() would also take '0x50', '1e3' or ' 80' as some port.
    const port =
      f['rpc-port'] === undefined
        ? config.rpc.port
        : /^\d{1,5}$/.test(f['rpc-port'])
          ? Number(f['rpc-port'])
          : Number.NaN;
    if (!Number.isInteger(port) || port <= 0 || port > 65_535)
      throw new CliFailure(EXIT.USAGE, `--rpc-port must be a port number, got ${f['rpc-port']}`);
    let credentials: string;
    if (f['rpc-user'] !== undefined || f['rpc-password'] !== undefined)
      credentials = `${f['rpc-user'] ?? ''}:${f['rpc-password'] ?? ''}`;
    else if (config.rpc.user !== undefined) credentials = `${config.rpc.user}:${config.rpc.password}`;
    else {
      const cookie = join(config.datadir, COOKIE_FILE);
      try {
        credentials = readFileSync(cookie, 'utf8').trim();
      } catch {
        throw new CliFailure(
          EXIT.UNREACHABLE,
          `cannot read the RPC cookie ${cookie}: is the node running with this --datadir? (or pass --rpc-user/--rpc-password)`,
        );
      }
    }
    return new RpcClient(
      `http://${host}:${port}/`,
      `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`,
    );
  }

  async call<T = unknown>(method: string, params: unknown[] = [], timeoutMs = 30_000): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.authorization },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new CliFailure(EXIT.UNREACHABLE, `cannot reach the node at ${this.url} (${cause})`);
    }
    if (res.status === 401)
      throw new CliFailure(
        EXIT.AUTH,
        `the node at ${this.url} refused the credentials (wrong cookie or password)`,
      );
    if (res.status !== 200) throw new CliFailure(EXIT.ERROR, `the node answered HTTP ${res.status}`);
    const body = (await res.json()) as {
      result?: T;
      error?: { code: number; message: string; data?: unknown };
    };
    if (body.error) throw new NodeRpcError(body.error.code, body.error.message, body.error.data);
    return body.result as T;
  }

  /**
   * `sendrawtransaction`, sent again while the node answers INTAKE_BUSY (backpressure: as many
   * transactions await finality there as it takes; docs/architecture.md "Backpressure") until
   * `retryForMs` has passed, then that answer is the error. Safe to repeat: the method is
   * idempotent (a transaction the node already holds is answered with its txid). Every other
   * answer, success or error, is final at once.
   */
  async sendRawTransaction(txHex: string, retryForMs: number, backoff = BUSY_BACKOFF): Promise<string> {
    const deadline = performance.now() + retryForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call<string>('sendrawtransaction', [txHex]);
      } catch (err) {
        if (!isIntakeBusy(err)) throw err;
        const left = deadline - performance.now();
        if (left <= 0) throw err;
        await sleep(Math.min(left, backoffDelay(attempt, backoff)));
      }
    }
  }
}

function isIntakeBusy(err: unknown): boolean {
  return (
    err instanceof NodeRpcError &&
    typeof err.data === 'object' &&
    err.data !== null &&
    (err.data as { code?: unknown }).code === 'INTAKE_BUSY'
  );
}
