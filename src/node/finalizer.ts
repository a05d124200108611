import type { SnowballEngine } from '../consensus/snowball/engine.js';
import type { LedgerService } from '../ledger/ledger-service.js';
import { bytesKey } from '../ledger/map-keys.js';
import type { EncodedTx } from '../protocol/tx-codec.js';

export interface FinalizerDeps {
  readonly ledger: LedgerService;
  readonly engine: SnowballEngine;
  readonly onFinal: (etx: EncodedTx) => void;
  readonly onRejected: (etx: EncodedTx) => void;
  /** Persisting failed (true) or works again (false): the node stops or resumes polling. */
  readonly onHalt: (halted: boolean, error?: Error) => void;
  /** First retry delay after a failed write; doubles up to `maxRetryMs`. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

/**
 * Turns Snowball's decisions into ledger state, persist-before-acknowledge: after each applied poll
 * the engine's newly accepted transactions are written in ONE durable LMDB transaction and only then
 * marked final in memory (and reported: RPC, events, metrics); the rejected ones leave the mempool.
 *
 * If the write fails (disk full, I/O error) nothing is reported final, the decisions wait here, and
 * the node halts polling (`onHalt(true)`) — a node that cannot record finality must not keep
 * deciding — and retries with back-off until the write succeeds (`onHalt(false)`). The engine's
 * votes meanwhile reflect its preference, which is not an acknowledgement of finality to anyone.
 */
export class Finalizer {
  private pending: Uint8Array[] = [];
  private readonly pendingKeys = new Set<string>();
  private running = false;
  private halted = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private closed = false;

  constructor(private readonly deps: FinalizerDeps) {
    this.retryDelay = deps.retryMs ?? 250;
  }

  get isHalted(): boolean {
    return this.halted;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Collects the engine's decisions (call after every applied poll) and writes them. */
  collect(): void {
    const { accepted, rejected } = this.deps.engine.takeDecided();
    for (const txid of rejected) {
      const entry = this.deps.ledger.mempool.get(txid);
      if (entry?.status === 'processing') this.deps.onRejected(this.deps.ledger.rejectTx(txid));
    }
    for (const txid of accepted) {
      const k = bytesKey(txid);
      if (this.pendingKeys.has(k)) continue;
      this.pendingKeys.add(k);
      this.pending.push(txid);
    }
    if (this.pending.length > 0) void this.drain();
  }

  /** Resolves when nothing is waiting to be written (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.running || (this.pending.length > 0 && !this.halted && !this.closed)) {
      if (!this.running) void this.drain();
      await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async drain(): Promise<void> {
    if (this.running || this.closed || this.retryTimer) return;
    this.running = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        const batch = this.pending;
        this.pending = [];
        try {
          // LedgerService serializes this write with block application and reverts.
          const results = await this.deps.ledger.finalizeTxs(batch);
          for (const txid of batch) this.pendingKeys.delete(bytesKey(txid));
          for (const r of results) {
            this.deps.onFinal(r.finalized);
            for (const loser of r.rejected) this.deps.onRejected(loser);
          }
          if (this.halted) {
            this.halted = false;
            this.retryDelay = this.deps.retryMs ?? 250;
            this.deps.onHalt(false);
          }
        } catch (err) {
          // Nothing changed in memory: put the batch back in front and retry later.
          this.pending = [...batch, ...this.pending];
          if (!this.halted) {
            this.halted = true;
            this.deps.onHalt(true, err as Error);
          }
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.drain();
          }, this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, this.deps.maxRetryMs ?? 30_000);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
