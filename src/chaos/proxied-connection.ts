import { connect, type Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';
import { type DirectionCounters, destroyWithReset, FaultPipe } from './fault-pipe.js';
import type { LinkShaper } from './link-shaper.js';

/** `forward` carries bytes from the dialing side to the target, `reverse` the replies. */
export type Direction = 'forward' | 'reverse';

/** What a connection needs from its proxy: the shared per-direction state and two callbacks. */
export interface ConnectionContext {
  readonly target: Endpoint;
  /** Local address to dial from (the node's own loopback address in a proxied devnet). */
  readonly sourceHost?: string;
  readonly maxQueueBytes: number;
  readonly shapers: Readonly<Record<Direction, LinkShaper>>;
  readonly counters: Readonly<Record<Direction, DirectionCounters>>;
  onBackpressure(connection: ProxiedConnection, direction: Direction, paused: boolean): void;
  onClosed(connection: ProxiedConnection): void;
}

/**
 * One accepted client socket, its upstream socket to the target and the two pipes between them.
 * Closing is mirrored in order: a FIN or an RST from one side reaches the other after the bytes
 * before it (and after their delay), so the far side sees what a real path would show.
 */
export class ProxiedConnection {
  private upstream: Socket | null = null;
  private readonly forward: FaultPipe;
  private readonly reverse: FaultPipe;
  private clientEnded = false;
  private clientClosed = false;
  private upstreamEnded = false;
  private upstreamClosed = false;
  /** The proxy reset this connection: close events are our own doing, not the peers'. */
  private aborted = false;
  private finished = false;

  constructor(
    readonly id: number,
    private readonly client: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    client.setNoDelay(true);
    this.forward = new FaultPipe(ctx.shapers.forward, ctx.counters.forward, ctx.maxQueueBytes, (p) =>
      ctx.onBackpressure(this, 'forward', p),
    );
    this.reverse = new FaultPipe(ctx.shapers.reverse, ctx.counters.reverse, ctx.maxQueueBytes, (p) =>
      ctx.onBackpressure(this, 'reverse', p),
    );
    this.forward.setSource(client);
    this.reverse.setSink(client);
    client.on('data', (chunk: Buffer) => this.forward.data(chunk));
    client.on('end', () => {
      this.clientEnded = true;
      this.forward.end();
    });
    client.on('error', () => undefined); // 'close' follows and carries the consequence
    client.on('close', () => this.onClientClose());
  }

  /** Whether the upstream socket exists (a black-holed forward path defers the dial: the SYN is lost too). */
  get dialed(): boolean {
    return this.upstream !== null;
  }

  /** Opens the upstream connection to the target; a refusal comes back to the client as an RST. */
  dial(): void {
    if (this.upstream !== null || this.finished || this.clientClosed) return;
    const { host, port } = this.ctx.target;
    const upstream = connect({
      host,
      port,
      allowHalfOpen: true,
      noDelay: true,
      ...(this.ctx.sourceHost !== undefined ? { localAddress: this.ctx.sourceHost } : {}),
    });
    this.upstream = upstream;
    this.reverse.setSource(upstream);
    upstream.on('connect', () => this.forward.setSink(upstream));
    upstream.on('data', (chunk: Buffer) => this.reverse.data(chunk));
    upstream.on('end', () => {
      this.upstreamEnded = true;
      this.reverse.end();
    });
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.onUpstreamClose());
  }

  /** Bytes sitting in the receiving sockets' user-space write buffers, per direction. */
  socketBufferedBytes(): Record<Direction, number> {
    return { forward: this.upstream?.writableLength ?? 0, reverse: this.client.writableLength };
  }

  /** Releases whatever became due or deliverable after a fault change. */
  pump(): void {
    this.forward.pump();
    this.reverse.pump();
  }

  /** Resets both sockets now (RST on each side), dropping anything queued. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.forward.dispose();
    this.reverse.dispose();
    destroyWithReset(this.client);
    if (this.upstream !== null) destroyWithReset(this.upstream);
  }

  private onClientClose(): void {
    this.clientClosed = true;
    this.reverse.dispose(); // nothing can be delivered to a closed socket
    if (this.upstream === null)
      this.forward.dispose(); // never reached the target: nothing to tell it
    else if (!this.aborted && !this.clientEnded) this.forward.reset();
    this.finishIfClosed();
  }

  private onUpstreamClose(): void {
    this.upstreamClosed = true;
    this.forward.dispose();
    if (!this.aborted && !this.upstreamEnded) this.reverse.reset();
    this.finishIfClosed();
  }

  private finishIfClosed(): void {
    if (this.finished || !this.clientClosed || (this.upstream !== null && !this.upstreamClosed)) return;
    this.finished = true;
    this.ctx.onClosed(this);
  }
}
