import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { ChaosError } from './chaos-error.js';
import type { Endpoint } from './endpoint.js';
import { type DirectionCounters, destroyWithReset, newDirectionCounters } from './fault-pipe.js';
import { type LinkFaults, type LinkFaultsUpdate, mergeLinkFaults } from './link-faults.js';
import { LinkShaper } from './link-shaper.js';
import { type ConnectionContext, type Direction, ProxiedConnection } from './proxied-connection.js';
import { chaosSeed } from './seed.js';

export type { Direction } from './proxied-connection.js';
export type DirectionSelector = Direction | 'both';

/** How a cut link fails: `blackhole` holds every byte (a dead path), `reset` sends RSTs (a crashed router). */
export type CutMode = 'blackhole' | 'reset';

export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

export interface FaultProxyOptions {
  /** Where accepted connections are forwarded. */
  readonly target: Endpoint;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Listen port; default 0 (a free port, reported by `listen()`). */
  readonly port?: number;
  /**
   * Local address the proxy dials the target from (e.g. 127.0.0.3): on one host every proxied node
   * would otherwise reach its peers from 127.0.0.1, and one IP ban would cut them all off.
   */
  readonly sourceHost?: string;
  /** Seed of the delay draws; without one a seed is chosen and printed (see seed.ts). */
  readonly seed?: number;
  /** Per-connection, per-direction queue bound before the sender is paused (default 1 MiB). */
  readonly maxQueueBytes?: number;
  readonly forward?: LinkFaultsUpdate;
  readonly reverse?: LinkFaultsUpdate;
}

export interface DirectionStats extends DirectionCounters {
  readonly faults: LinkFaults;
  /**
   * Bytes released but still in the receiving sockets' write buffers, over all connections now.
   * With `queuedBytes` this is all the user-space memory the direction holds.
   */
  readonly socketBufferedBytes: number;
}

export interface FaultProxyStats {
  readonly listen: Endpoint;
  readonly target: Endpoint;
  readonly seed: number;
  /** Connections open now. */
  readonly connections: number;
  /** Connections accepted since start (refused ones included). */
  readonly accepted: number;
  /** Connections reset on arrival while refusing. */
  readonly refused: number;
  /** Connections the proxy reset (reset() or cut('reset')). */
  readonly resets: number;
  readonly refusing: boolean;
  readonly forward: DirectionStats;
  readonly reverse: DirectionStats;
}

export interface FaultProxyEvents {
  /** A client connected (not emitted for refused ones). */
  connection: [id: number];
  /** Both sides of a connection are closed. */
  connectionClosed: [id: number];
  /** A connection's sending side was paused (queue full) or resumed. */
  backpressure: [id: number, direction: Direction, paused: boolean];
  /** A client was reset on arrival because the proxy refuses new connections. */
  refused: [];
}

/**
 * A byte-transparent TCP proxy with faults that can be changed at run time, per direction: delay
 * with jitter (order kept), a bandwidth cap, a black hole, resets and refusal. It never parses what
 * it carries, so WebSocket, TLS or anything else on top works unchanged.
 *
 * One proxy is one directed link of a `FaultNetwork`: node i dials the proxy, the proxy dials node j.
 */
export class FaultProxy extends EventEmitter<FaultProxyEvents> {
  readonly seed: number;
  readonly target: Endpoint;
  private readonly server: Server;
  private readonly shapers: Record<Direction, LinkShaper>;
  private readonly counters: Record<Direction, DirectionCounters> = {
    forward: newDirectionCounters(),
    reverse: newDirectionCounters(),
  };
  private readonly connections = new Map<number, ProxiedConnection>();
  private readonly context: ConnectionContext;
  private listening: Endpoint | null = null;
  private closed = false;
  private refusing = false;
  private nextId = 1;
  private accepted = 0;
  private refused = 0;
  private resets = 0;

  constructor(private readonly options: FaultProxyOptions) {
    super();
    this.target = options.target;
    const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    if (!Number.isSafeInteger(maxQueueBytes) || maxQueueBytes < 1024)
      throw new ChaosError(
        'CHAOS_BAD_OPTIONS',
        `maxQueueBytes must be an integer ≥ 1024, got ${maxQueueBytes}`,
      );
    this.seed = chaosSeed(options.seed);
    const rng = new Xoshiro128(this.seed);
    this.shapers = { forward: new LinkShaper(rng.fork()), reverse: new LinkShaper(rng.fork()) };
    if (options.forward) this.shapers.forward.update(options.forward);
    if (options.reverse) this.shapers.reverse.update(options.reverse);
    this.context = {
      target: options.target,
      ...(options.sourceHost !== undefined ? { sourceHost: options.sourceHost } : {}),
      maxQueueBytes,
      shapers: this.shapers,
      counters: this.counters,
      onBackpressure: (c, direction, paused) => this.emit('backpressure', c.id, direction, paused),
      onClosed: (c) => {
        this.connections.delete(c.id);
        this.emit('connectionClosed', c.id);
      },
    };
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the address to dial. */
  async listen(): Promise<Endpoint> {
    if (this.closed) throw new ChaosError('CHAOS_NOT_RUNNING', 'proxy is closed');
    if (this.listening) return this.listening;
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException) =>
        reject(
          new ChaosError(
            'CHAOS_LISTEN_FAILED',
            `cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
            {
              cause: err.code,
            },
          ),
        );
      this.server.once('error', fail);
      this.server.listen({ host, port }, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
    // After start-up an accept error (EMFILE…) must not crash the process; the client just fails.
    this.server.on('error', () => undefined);
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string')
      throw new ChaosError('CHAOS_NOT_RUNNING', 'no TCP address');
    this.listening = Object.freeze({ host, port: addr.port });
    return this.listening;
  }

  /** Where to dial to reach the target through this proxy. */
  get address(): Endpoint {
    if (!this.listening) throw new ChaosError('CHAOS_NOT_RUNNING', 'proxy is not listening');
    return this.listening;
  }

  faults(direction: Direction): LinkFaults {
    return this.shapers[direction].faults;
  }

  /**
   * Changes faults (a partial update) in one or both directions. Both updates are checked before
   * either applies. Queued chunks keep their release times; new chunks get the new ones (order is
   * kept either way). Clearing `drop` releases what was held.
   */
  setFaults(direction: DirectionSelector, update: LinkFaultsUpdate): void {
    const dirs: Direction[] = direction === 'both' ? ['forward', 'reverse'] : [direction];
    for (const d of dirs) mergeLinkFaults(this.shapers[d].faults, update); // throws before any change
    for (const d of dirs) this.shapers[d].update(update);
    this.afterFaultChange();
  }

  /**
   * Cuts the link: hold every byte in both directions (new connections are accepted and held too),
   * or reset every connection and refuse new ones (a black hole after a reset cut stops refusing).
   */
  cut(mode: CutMode): void {
    if (mode === 'blackhole') {
      this.refusing = false;
      this.setFaults('both', { drop: true });
    } else {
      this.reset({ refuseNew: true });
    }
  }

  /** Undoes cuts and drops (delay and bandwidth settings stay). */
  heal(): void {
    this.refusing = false;
    this.setFaults('both', { drop: false });
  }

  /** Sends an RST to both sides of every open connection now; returns how many were reset. */
  reset(opts: { refuseNew?: boolean } = {}): number {
    if (opts.refuseNew !== undefined) this.refusing = opts.refuseNew;
    const all = [...this.connections.values()];
    for (const c of all) c.abort();
    this.resets += all.length;
    return all.length;
  }

  stats(): FaultProxyStats {
    const dir = (d: Direction): DirectionStats => {
      let socketBufferedBytes = 0;
      for (const c of this.connections.values()) socketBufferedBytes += c.socketBufferedBytes()[d];
      return { ...this.counters[d], faults: this.shapers[d].faults, socketBufferedBytes };
    };
    return {
      listen: this.address,
      target: this.target,
      seed: this.seed,
      connections: this.connections.size,
      accepted: this.accepted,
      refused: this.refused,
      resets: this.resets,
      refusing: this.refusing,
      forward: dir('forward'),
      reverse: dir('reverse'),
    };
  }

  /** Stops listening and resets every open connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections.values()) c.abort();
    if (this.listening) await done;
  }

  private accept(socket: Socket): void {
    this.accepted++;
    if (this.refusing || this.closed) {
      this.refused++;
      socket.on('error', () => undefined);
      destroyWithReset(socket);
      this.emit('refused');
      return;
    }
    const c = new ProxiedConnection(this.nextId++, socket, this.context);
    this.connections.set(c.id, c);
    if (!this.shapers.forward.faults.drop) c.dial();
    this.emit('connection', c.id);
  }

  private afterFaultChange(): void {
    const dialNow = !this.shapers.forward.faults.drop;
    for (const c of this.connections.values()) {
      if (dialNow && !c.dialed) c.dial();
      c.pump();
    }
  }
}
