import { MAX_TXS_PER_BATCH, TX_FRAME_LIMIT } from '../wire/limits.js';

/** Bytes of transactions per Tx message: below the frame limit with room for CBOR framing. */
export const GOSSIP_BATCH_BYTES = TX_FRAME_LIMIT - 16 * 1024;

export interface TxGossipOptions {
  /** How long a transaction may wait for companions before its batch leaves. */
  readonly flushMs: number;
  /** Sends one batch to every peer that does not have it yet (P2pNode.gossipTxs). */
  readonly send: (batch: Uint8Array[]) => void;
}

/**
 * Batches admitted transactions into Tx gossip messages. Every admitted transaction is relayed to
 * every peer (the simulator showed that a node which never hears of the winning spend cannot
 * finalize), but one message per transaction would cost a frame, a syscall and a rate-limit token
 * each. A batch leaves when it is full (MAX_TXS_PER_BATCH transactions or GOSSIP_BATCH_BYTES, both
 * below what peers accept) or `flushMs` after its first transaction.
 */
export class TxGossip {
  private batch: Uint8Array[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: TxGossipOptions) {}

  add(tx: Uint8Array): void {
    if (this.batch.length > 0 && this.bytes + tx.length > GOSSIP_BATCH_BYTES) this.flush();
    this.batch.push(tx);
    this.bytes += tx.length;
    if (this.batch.length >= MAX_TXS_PER_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    this.opts.send(batch);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.batch = [];
    this.bytes = 0;
  }
}
