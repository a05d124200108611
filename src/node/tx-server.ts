import { compareBytes } from '../encoding/bytes.js';
import type { Mempool } from '../ledger/mempool.js';
import { MAX_TXS_PER_BATCH } from '../wire/limits.js';
import { GOSSIP_BATCH_BYTES } from './tx-gossip.js';

/**
 * Answers GetTx: the requested transactions this node holds as processing or finalized-not-in-a-
 * block, in request order, as many as fit one Tx frame (the same budget as our gossip batches).
 * Unknown txids are skipped; a requester that still misses one asks again or learns it elsewhere.
 */
export function answerGetTx(mempool: Mempool, txids: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  const n = txids.length >>> 5;
  for (let i = 0; i < n && out.length < MAX_TXS_PER_BATCH; i++) {
    const entry = mempool.get(txids.subarray(i * 32, i * 32 + 32));
    if (!entry) continue;
    if (bytes + entry.etx.bytes.length > GOSSIP_BATCH_BYTES) break;
    out.push(entry.etx.bytes);
    bytes += entry.etx.bytes.length;
  }
  return out;
}

/** Txids per Inventory page (the PollRequest/GetTx limit: 32 KiB of txids). */
export const INVENTORY_PAGE = 1_024;

/**
 * The txids this node holds as processing or finalized-not-in-a-block, sorted, for catch-up
 * (GetInventory). Sorting the whole mempool per request would cost O(n log n) for every page a
 * peer walks, so a sorted snapshot is reused for `maxAgeMs`: a reconnecting peer walks all pages of
 * one snapshot, and anything newer reaches it by gossip anyway.
 */
export class InventorySnapshot {
  private sorted: Uint8Array[] = [];
  private takenMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly mempool: Mempool,
    private readonly now: () => number,
    private readonly maxAgeMs = 1_000,
  ) {}

  /** One page after the cursor `after` (empty = from the start): packed txids and the next cursor. */
  page(after: Uint8Array): { txids: Uint8Array; next: Uint8Array } {
    const now = this.now();
    if (now - this.takenMs > this.maxAgeMs) {
      this.sorted = this.mempool.all().map((e) => e.txid);
      this.takenMs = now;
    }
    let start = 0;
    if (after.length === 32) {
      // First txid strictly greater than the cursor.
      let lo = 0;
      let hi = this.sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareBytes(this.sorted[mid]!, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const end = Math.min(this.sorted.length, start + INVENTORY_PAGE);
    const txids = new Uint8Array((end - start) * 32);
    for (let i = start; i < end; i++) txids.set(this.sorted[i]!, (i - start) * 32);
    const next = end < this.sorted.length ? this.sorted[end - 1]!.slice() : new Uint8Array(0);
    return { txids, next };
  }
}
