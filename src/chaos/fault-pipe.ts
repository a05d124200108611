import type { Socket } from 'node:net';
import type { LinkShaper } from './link-shaper.js';

/** Byte and queue counters of one direction of a proxy, summed over its connections. */
export interface DirectionCounters {
  /** Bytes read from the sending side. */
  bytesIn: number;
  /** Bytes handed to the receiving side's socket. */
  bytesOut: number;
  /** Bytes read but not yet delivered, over all connections now. */
  queuedBytes: number;
  /** The largest queue any one connection held in this direction (the memory bound's witness). */
  peakQueuedBytes: number;
  /** Connections whose sending side is paused now because their queue is full. */
  pausedReads: number;
}

export function newDirectionCounters(): DirectionCounters {
  return { bytesIn: 0, bytesOut: 0, queuedBytes: 0, peakQueuedBytes: 0, pausedReads: 0 };
}

const DATA = 0;
/** The sender half-closed (FIN): end the receiving socket once the bytes before it are delivered. */
const END = 1;
/** The sender's connection broke (RST, refused dial): reset the receiving socket, in order. */
const RESET = 2;

const EMPTY = Buffer.alloc(0);

interface QueuedItem {
  kind: typeof DATA | typeof END | typeof RESET;
  bytes: Buffer | null;
  dueMs: number;
}

/**
 * One direction of one proxied TCP connection: bytes from `source` to `sink`, delayed, rate-capped
 * or held as the shared `LinkShaper` says, always in order. Byte-transparent: chunks are forwarded
 * as read, never parsed.
 *
 * Order: the queue is released strictly from its head, so a chunk leaves at max(release of the
 * chunk before it, its own ready time) — a short draw behind a long one waits, as TCP's in-order
 * delivery would make it. The fast path (no fault) is taken only when nothing is queued.
 *
 * Memory is bounded: when `maxQueueBytes` are waiting (delay, rate cap, black hole, or a sink that
 * does not read), the source socket is paused, so the sender's kernel buffers fill and its writes
 * back up, exactly as on a slow or dead path; reading resumes below half the bound. The sink's own
 * write buffer takes at most one released batch beyond its high-water mark: after a write returns
 * false nothing more is released until 'drain'.
 *
 * A black hole (drop) **holds** bytes instead of discarding them. TCP never delivers a stream with a
 * gap: on a real black-holed path the sender retransmits and everything arrives after the path
 * heals (or the connection times out first). Discarding inside the proxy would hand the receiver a
 * stream with bytes missing from the middle, a failure no real network produces (a WebSocket or TLS
 * peer would report a protocol error, not a partition).
 */
export class FaultPipe {
  private readonly queue: QueuedItem[] = [];
  private head = 0;
  private queuedBytes = 0;
  private source: Socket | null = null;
  private sink: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = Number.POSITIVE_INFINITY;
  /** The sink's write buffer is full: wait for 'drain'. */
  private blocked = false;
  private readPaused = false;
  /** A terminal item was delivered, or the pipe was disposed: accept nothing more. */
  private done = false;

  constructor(
    private readonly shaper: LinkShaper,
    private readonly counters: DirectionCounters,
    private readonly maxQueueBytes: number,
    private readonly onBackpressure: (paused: boolean) => void,
  ) {}

  setSource(socket: Socket): void {
    this.source = socket;
    if (this.readPaused) socket.pause();
  }

  /** The receiving socket, once connected; until then bytes queue (bounded) as if held. */
  setSink(socket: Socket): void {
    this.sink = socket;
    this.pump();
  }

  /** A chunk read from the source. */
  data(chunk: Buffer): void {
    if (this.done) return;
    this.counters.bytesIn += chunk.length;
    const sink = this.sink;
    if (this.head === this.queue.length && sink !== null && !this.blocked && this.shaper.transparent) {
      // Fast path (no fault configured, nothing queued): what stream.pipe would do.
      this.counters.bytesOut += chunk.length;
      if (!sink.write(chunk)) this.waitForDrain(sink);
      return;
    }
    const now = performance.now();
    const slice = this.shaper.maxSliceBytes;
    for (let off = 0; off < chunk.length; off += slice) {
      const part = off === 0 && chunk.length <= slice ? chunk : chunk.subarray(off, off + slice);
      this.enqueue(DATA, part, now);
    }
    this.queuedBytes += chunk.length;
    this.counters.queuedBytes += chunk.length;
    if (this.queuedBytes > this.counters.peakQueuedBytes) this.counters.peakQueuedBytes = this.queuedBytes;
    if (this.queuedBytes >= this.maxQueueBytes && !this.readPaused) this.pauseSource();
    this.pump();
  }

  /** The source half-closed: end the sink after the bytes already queued. */
  end(): void {
    if (this.done) return;
    this.enqueue(END, null, performance.now());
    this.pump();
  }

  /** The source's connection broke: reset the sink after the bytes already queued. */
  reset(): void {
    if (this.done) return;
    this.enqueue(RESET, null, performance.now());
    this.pump();
  }

  /** Drops everything queued (the sink is gone, or the proxy reset the connection). */
  dispose(): void {
    this.done = true;
    this.clearTimer();
    this.counters.queuedBytes -= this.queuedBytes;
    this.queuedBytes = 0;
    this.queue.length = 0;
    this.head = 0;
    if (this.readPaused) {
      this.readPaused = false;
      this.counters.pausedReads--;
    }
  }

  /**
   * Delivers the items at the head that are due (stopping at the first that is not), unless the path
   * is held (black hole), the sink is not there yet or its buffer is full. Called on arrival, by the
   * timer, on 'drain' and when faults change.
   */
  pump(): void {
    const sink = this.sink;
    if (this.done || sink === null || this.blocked || this.shaper.faults.drop) return;
    if (this.head === this.queue.length) return;
    const now = performance.now();
    let wrote = false;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (item.dueMs > now) {
        this.armTimer(item.dueMs, now);
        break;
      }
      this.queue[this.head++] = undefined as unknown as QueuedItem;
      if (item.kind === DATA) {
        const bytes = item.bytes!;
        this.queuedBytes -= bytes.length;
        this.counters.queuedBytes -= bytes.length;
        this.counters.bytesOut += bytes.length;
        if (!wrote) sink.cork();
        wrote = true;
        if (!sink.write(bytes)) {
          this.waitForDrain(sink);
          break;
        }
      } else {
        this.done = true;
        if (wrote) sink.uncork(); // hand the bytes before the FIN/RST to the socket first
        wrote = false;
        if (item.kind === END) {
          if (!sink.destroyed) sink.end();
        } else if (!sink.destroyed) {
          // An RST discards whatever the socket has not yet written, so reset only once the bytes
          // before it have reached the kernel (a zero-length write completes after them).
          sink.write(EMPTY, () => destroyWithReset(sink));
        }
        break;
      }
    }
    if (wrote) sink.uncork();
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.readPaused && this.queuedBytes <= this.maxQueueBytes / 2) this.resumeSource();
  }

  private enqueue(kind: QueuedItem['kind'], bytes: Buffer | null, now: number): void {
    this.queue.push({ kind, bytes, dueMs: this.shaper.readyAt(now, bytes === null ? 0 : bytes.length) });
  }

  private waitForDrain(sink: Socket): void {
    this.blocked = true;
    sink.once('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  private armTimer(dueMs: number, now: number): void {
    if (this.timer !== null) {
      if (this.timerDueMs <= dueMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = dueMs;
    // setTimeout has millisecond resolution and may fire a little early against performance.now()
    // (libuv caches the loop time); pump() re-checks and re-arms, so nothing leaves before it is due.
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerDueMs = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(1, Math.ceil(dueMs - now)),
    );
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDueMs = Number.POSITIVE_INFINITY;
  }

  private pauseSource(): void {
    this.readPaused = true;
    this.counters.pausedReads++;
    this.source?.pause();
    this.onBackpressure(true);
  }

  private resumeSource(): void {
    this.readPaused = false;
    this.counters.pausedReads--;
    if (this.source !== null && !this.source.destroyed) this.source.resume();
    this.onBackpressure(false);
  }
}

/**
 * Aborts a socket with a TCP RST. A socket still connecting is reset as soon as its connect
 * completes (Node does this): closing it before that would send a FIN if the far side had already
 * accepted, and a half-open peer would wait forever instead of seeing the reset.
 */
export function destroyWithReset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
