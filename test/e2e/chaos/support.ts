import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Endpoint } from '../../../src/chaos/endpoint.js';

/** A plain TCP server on a free port that keeps every accepted socket. */
export class TcpTarget {
  readonly sockets: Socket[] = [];
  private readonly waiters: (() => void)[] = [];

  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(onSocket: (s: Socket) => void = () => undefined, port = 0): Promise<TcpTarget> {
    let target: TcpTarget | undefined;
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      s.on('error', () => undefined);
      target!.sockets.push(s);
      onSocket(s);
      for (const w of target!.waiters.splice(0)) w();
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    target = new TcpTarget(server, (server.address() as { port: number }).port);
    return target;
  }

  get endpoint(): Endpoint {
    return { host: '127.0.0.1', port: this.port };
  }

  /** Resolves with the n-th accepted socket (1-based) once it exists. */
  async nthSocket(n: number): Promise<Socket> {
    while (this.sockets.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.sockets[n - 1]!;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Connects and resolves once the TCP handshake is done (with the proxy, not the target). */
export async function dialTcp(e: Endpoint): Promise<Socket> {
  const s = connect({ host: e.host, port: e.port, noDelay: true, allowHalfOpen: true });
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

/** Collects everything a socket receives. */
export class Collector {
  private readonly chunks: Buffer[] = [];
  bytes = 0;
  ended = false;
  error: NodeJS.ErrnoException | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.bytes += c.length;
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.wake();
    });
    socket.on('close', () => this.wake());
  }

  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves when `pred` holds, re-checked on every socket event. */
  async until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.socket.destroyed) throw new Error(`socket closed before ${what} (got ${this.bytes} bytes)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (got ${this.bytes} bytes)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }
}

/**
 * Re-checks `pred` every few milliseconds until it holds (for state that changes without an event
 * we can subscribe to, e.g. proxy counters). A condition wait, not a fixed sleep: it returns as
 * soon as the state is reached and only fails after a generous timeout.
 */
export async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Lets `ms` of wall time pass. Used only to assert that something does NOT happen (no event can
 * signal an absence); never to wait for something to happen.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Deterministic pseudo-random bytes (so a failure shows the same data again). */
export function patternBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Resolves with the error code a socket dies with (ECONNRESET…), or 'closed' if it closes cleanly. */
export function deathOf(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve('closed');
    let code: string | undefined;
    s.on('error', (e: NodeJS.ErrnoException) => {
      code ??= e.code ?? 'error';
    });
    s.once('close', () => resolve(code ?? 'closed'));
    s.resume();
  });
}
