import { bytesKey } from '../ledger/map-keys.js';
import type { EncodedTx } from '../protocol/tx-codec.js';

export interface OrphanPoolLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
  /** An orphan whose parents never become final here is dropped after this long. */
  readonly ttlMs: number;
}

export const DEFAULT_ORPHAN_LIMITS: OrphanPoolLimits = Object.freeze({
  maxCount: 10_000,
  maxBytes: 20_000_000,
  ttlMs: 60_000,
});

interface Orphan {
  readonly etx: EncodedTx;
  readonly parents: readonly string[];
  readonly addedMs: number;
}

/**
 * Transactions that spend an output this node does not know yet. A transaction may only spend
 * outputs of finalized transactions, and a relayer relays a child only after its parent is final
 * there — but finality is reached at slightly different moments on different nodes, so a child can
 * arrive before its parent is final here. It waits here, keyed by the parents it may be missing,
 * and is submitted again when one of them finalizes. Full nodes are never polled (so never asked
 * about it and never fetch it), which is why waiting matters for them.
 *
 * Bounded by count, bytes and age; the oldest orphan leaves first. Insertion order of a Map is
 * arrival order, so eviction is O(1).
 */
export class OrphanPool {
  private readonly orphans = new Map<string, Orphan>();
  private readonly byParent = new Map<string, Set<string>>();
  private bytes = 0;

  constructor(private readonly limits: OrphanPoolLimits = DEFAULT_ORPHAN_LIMITS) {}

  get size(): number {
    return this.orphans.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /**
   * Distinct parent txids the kept orphans wait on. Bounded by the orphans' inputs only if every
   * way out (taken, evicted, expired) forgets a parent no orphan waits on any more: an attacker's
   * orphans name random parents, so a leftover entry per parent would grow without bound.
   */
  get parentCount(): number {
    return this.byParent.size;
  }

  has(txid: Uint8Array): boolean {
    return this.orphans.has(bytesKey(txid));
  }

  /** Keeps `etx` until one of its parents finalizes. Returns false if it is too big to keep at all. */
  add(etx: EncodedTx, nowMs: number): boolean {
    const id = bytesKey(etx.txid);
    if (this.orphans.has(id) || etx.bytes.length > this.limits.maxBytes) return false;
    this.expire(nowMs);
    while (
      this.orphans.size > 0 &&
      (this.orphans.size >= this.limits.maxCount || this.bytes + etx.bytes.length > this.limits.maxBytes)
    ) {
      this.remove(this.orphans.keys().next().value!);
    }
    const parents = [...new Set(etx.tx.inputs.map((i) => bytesKey(i.txid)))];
    this.orphans.set(id, { etx, parents, addedMs: nowMs });
    this.bytes += etx.bytes.length;
    for (const p of parents) {
      let set = this.byParent.get(p);
      if (!set) {
        set = new Set();
        this.byParent.set(p, set);
      }
      set.add(id);
    }
    return true;
  }

  /** The orphans waiting on `parentTxid`, removed from the pool (the caller submits them again). */
  takeChildrenOf(parentTxid: Uint8Array, nowMs: number): EncodedTx[] {
    this.expire(nowMs);
    const set = this.byParent.get(bytesKey(parentTxid));
    if (!set) return [];
    const out: EncodedTx[] = [];
    for (const id of [...set]) {
      const o = this.orphans.get(id);
      if (o) out.push(o.etx);
      this.remove(id);
    }
    return out;
  }

  private expire(nowMs: number): void {
    for (const [id, o] of this.orphans) {
      if (nowMs - o.addedMs < this.limits.ttlMs) break; // arrival order: the rest are younger
      this.remove(id);
    }
  }

  private remove(id: string): void {
    const o = this.orphans.get(id);
    if (!o) return;
    this.orphans.delete(id);
    this.bytes -= o.etx.bytes.length;
    for (const p of o.parents) {
      const set = this.byParent.get(p);
      if (!set) continue;
      set.delete(id);
      if (set.size === 0) this.byParent.delete(p);
    }
  }
}
