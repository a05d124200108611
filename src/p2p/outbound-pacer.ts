import { encodeMessage } from '../wire/codec.js';
import { MAX_TXS_PER_BATCH, TX_FRAME_LIMIT } from '../wire/limits.js';
import { MSG, type WireMessage } from '../wire/message-types.js';
import type { RateLimit } from './rate-limits.js';
import { TokenBucket } from './token-bucket.js';

/**
 * We send at most this share of what a peer allows (its per-type rates and bursts, its byte
 * budget), so clock drift, retransmission bunching or a GC pause on either side never push an honest
 * node over a peer's limits.
 */
export const OUTBOUND_SHARE = 0.75;

/** CBOR overhead of a Tx frame around its transactions: map, keys, array header, per-tx headers. */
const TX_FRAME_OVERHEAD = 32;
const TX_ITEM_OVERHEAD = 5;

export interface PacerLimits {
  /** What the peer allows per type (we use OUTBOUND_SHARE of it). */
  readonly peerRates: Readonly<Record<number, RateLimit>>;
  readonly peerBytesPerSec: number;
  readonly peerBurstBytes: number;
  /** Transactions waiting for one peer; beyond it the oldest are dropped (catch-up recovers them). */
  readonly maxQueuedTxs: number;
  readonly maxQueuedTxBytes: number;
  /** Other messages waiting (blocks, beacons, requests). */
  readonly maxQueuedMessages: number;
}

interface Queued {
  readonly type: number;
  readonly frame: Uint8Array;
  /** Gossip may be dropped when the queue is full; requests are bounded by their own cap. */
  readonly droppable: boolean;
}

/**
 * Everything this node originates or relays to one peer — gossip, tip announcements, requests —
 * goes through the peer's pacer: token buckets per message type and in bytes at OUTBOUND_SHARE of
 * the peer's limits, Tx gossip batched into frames below the Tx frame limit and batch size, and
 * bounded queues. Answers to the peer's own requests are not queued (the requester waits for them)
 * but are charged to the same byte budget (chargeAnswer): a peer asking for blocks as fast as its
 * request allowance lets it would otherwise take up to 20 × 4 MiB a second of our upload.
 */
export class OutboundPacer {
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly bytes: TokenBucket;
  private txs: Uint8Array[] = [];
  private txBytes = 0;
  private readonly waiting: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tip: Uint8Array | undefined;
  dropped = 0;

  constructor(
    private readonly limits: PacerLimits,
    private readonly now: () => number,
    /** Hands a frame to the link; false when the link is gone. */
    private readonly send: (frame: Uint8Array) => boolean,
    /**
     * Called before each send: true when the frame may go. The node makes room in its total
     * send-buffer budget by closing the peer holding the most (P2pNode.makeSendRoom), so this is
     * false only when the link itself is gone or no room could be made; then the pacer waits.
     */
    private readonly sendBuffersFree: () => boolean,
  ) {
    this.bytes = new TokenBucket(
      limits.peerBytesPerSec * OUTBOUND_SHARE,
      limits.peerBurstBytes * OUTBOUND_SHARE,
      now(),
    );
  }

  /**
   * An answer to one of the peer's requests was sent (answers are not queued: the requester waits
   * for them): its bytes come out of the same byte budget as everything else we send this peer,
   * possibly into debt, so gossip after it waits and the peer's inbound budget is never exceeded.
   */
  chargeAnswer(bytes: number): void {
    this.bytes.charge(this.now(), bytes);
  }

  /** True while answers have overdrawn the byte budget: the next large answer is refused (BUSY). */
  get overdrawn(): boolean {
    return this.bytes.available(this.now()) < 0;
  }

  get queuedTxs(): number {
    return this.txs.length;
  }

  private bucket(type: number): TokenBucket | undefined {
    let b = this.buckets.get(type);
    if (!b) {
      const r = this.limits.peerRates[type];
      if (!r) return undefined;
      b = new TokenBucket(
        r.perSec * OUTBOUND_SHARE,
        Math.max(1, Math.floor(r.burst * OUTBOUND_SHARE)),
        this.now(),
      );
      this.buckets.set(type, b);
    }
    return b;
  }

  /** Queues transactions for one or more Tx gossip frames. */
  queueTxs(txs: readonly Uint8Array[]): void {
    for (const tx of txs) {
      this.txs.push(tx);
      this.txBytes += tx.length;
    }
    while (this.txs.length > this.limits.maxQueuedTxs || this.txBytes > this.limits.maxQueuedTxBytes) {
      this.txBytes -= this.txs.shift()!.length;
      this.dropped++;
    }
    this.flush();
  }

  /** Queues one message (gossip when `droppable`, else a request that must go out). */
  queue(msg: WireMessage, droppable: boolean): void {
    this.queueFrame(msg.t, encodeMessage(msg), droppable);
  }

  queueFrame(type: number, frame: Uint8Array, droppable: boolean): void {
    if (this.waiting.length >= this.limits.maxQueuedMessages) {
      const i = this.waiting.findIndex((q) => q.droppable);
      if (i < 0 && droppable) {
        this.dropped++;
        return;
      }
      if (i >= 0) {
        this.waiting.splice(i, 1);
        this.dropped++;
      }
    }
    this.waiting.push({ type, frame, droppable });
    this.flush();
  }

  /** Announces our tip: only the newest one waits if the Tip allowance is used up. */
  queueTip(frame: Uint8Array): void {
    this.tip = frame;
    this.flush();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.length = 0;
    this.txs = [];
    this.txBytes = 0;
    this.tip = undefined;
  }

  /** Sends whatever the buckets allow now; schedules itself for the rest. */
  flush(): void {
    if (this.timer) return;
    let wait = 0;
    const now = this.now();
    const trySend = (type: number, frame: Uint8Array): boolean => {
      const b = this.bucket(type);
      const msgWait = b ? b.msUntil(now) : 0;
      const byteWait = this.bytes.msUntil(now, frame.length);
      if (msgWait > 0 || byteWait > 0 || !this.sendBuffersFree()) {
        // A frame bigger than the whole allowance waits for the bucket to be full, not in 1 ms steps.
        const bytesWait = byteWait === Number.POSITIVE_INFINITY ? this.bytes.msUntilFull(now) : byteWait;
        wait = Math.max(wait, msgWait, bytesWait, 1);
        if (byteWait === Number.POSITIVE_INFINITY) {
          // bigger than the whole allowance: send it alone when the bucket is full
          if (this.bytes.available(now) >= this.bytes.burst && msgWait === 0) {
            b?.take(now);
            this.bytes.take(now, this.bytes.available(now));
            this.send(frame);
            return true;
          }
        }
        return false;
      }
      b?.take(now);
      this.bytes.take(now, frame.length);
      this.send(frame);
      return true;
    };
    if (this.tip && trySend(MSG.tip, this.tip)) this.tip = undefined;
    while (this.waiting.length > 0 && trySend(this.waiting[0]!.type, this.waiting[0]!.frame))
      this.waiting.shift();
    while (this.txs.length > 0) {
      const { frame, count, bytes } = this.nextTxFrame();
      if (!trySend(MSG.tx, frame)) break;
      this.txs.splice(0, count);
      this.txBytes -= bytes;
    }
    if (wait > 0 && (this.tip || this.waiting.length > 0 || this.txs.length > 0)) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
      this.timer.unref?.();
    }
  }

  /** The next Tx gossip frame: as many queued transactions as fit the batch and frame limits. */
  private nextTxFrame(): { frame: Uint8Array; count: number; bytes: number } {
    let size = TX_FRAME_OVERHEAD;
    let count = 0;
    let bytes = 0;
    while (count < this.txs.length && count < MAX_TXS_PER_BATCH) {
      const next = this.txs[count]!.length + TX_ITEM_OVERHEAD;
      if (count > 0 && size + next > TX_FRAME_LIMIT) break;
      size += next;
      bytes += this.txs[count]!.length;
      count++;
    }
    const frame = encodeMessage({ t: MSG.tx, id: 0, txs: this.txs.slice(0, count) });
    return { frame, count, bytes };
  }
}
