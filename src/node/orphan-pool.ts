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

/**
 * What an orphan weighs against its sender's share of the pool: one unit per started KiB, so a
 * typical transaction (a few hundred bytes) is one unit and a 100 kB one is 98.
 */
export const ORPHAN_UNIT_BYTES = 1_024;

export function orphanUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / ORPHAN_UNIT_BYTES));
}

interface Orphan {
  readonly etx: EncodedTx;
  readonly parents: readonly string[];
  readonly addedMs: number;
  readonly sender: string;
  /** The shares it counts in (the sender's class when its share began). */
  readonly shares: SenderShares;
}

/** An orphan taken back from the pool, with the peer it came from. */
export interface TakenOrphan {
  readonly etx: EncodedTx;
  readonly sender: string;
}

/** A sender's orphans in arrival order, and what they weigh. */
interface SenderShare {
  readonly ids: Set<string>;
  units: number;
}

/**
 * Senders' shares of the pool, bucketed by units so that the largest holder is found in O(1)
 * amortized: the largest key steps down from where it was, and the steps never exceed the units
 * ever added.
 */
class SenderShares {
  private readonly bySender = new Map<string, SenderShare>();
  private readonly byUnits = new Map<number, Set<string>>();
  /** The largest key of byUnits (0 when empty). */
  private maxUnits = 0;

  get senderCount(): number {
    return this.bySender.size;
  }

  holds(sender: string): boolean {
    return this.bySender.has(sender);
  }

  unitsOf(sender: string): number {
    return this.bySender.get(sender)?.units ?? 0;
  }

  add(sender: string, id: string, units: number): void {
    let share = this.bySender.get(sender);
    if (!share) {
      share = { ids: new Set(), units: 0 };
      this.bySender.set(sender, share);
    }
    share.ids.add(id);
    this.setUnits(sender, share, share.units + units);
  }

  remove(sender: string, id: string, units: number): void {
    const share = this.bySender.get(sender)!;
    share.ids.delete(id);
    this.setUnits(sender, share, share.units - units);
  }

  /** The oldest orphan of the sender holding the most (the first to reach that much on a tie). */
  victim(): string | undefined {
    const sender = this.byUnits.get(this.maxUnits)?.values().next().value;
    return sender === undefined ? undefined : this.bySender.get(sender)!.ids.values().next().value;
  }

  /** Moves `sender` to the bucket of `units` (forgets it at 0) and keeps maxUnits the largest key. */
  private setUnits(sender: string, share: SenderShare, units: number): void {
    if (share.units > 0) {
      const bucket = this.byUnits.get(share.units)!;
      bucket.delete(sender);
      if (bucket.size === 0) this.byUnits.delete(share.units);
    }
    share.units = units;
    if (units > 0) {
      let bucket = this.byUnits.get(units);
      if (!bucket) {
        bucket = new Set();
        this.byUnits.set(units, bucket);
      }
      bucket.add(sender);
      if (units > this.maxUnits) this.maxUnits = units;
    } else {
      this.bySender.delete(sender);
    }
    while (this.maxUnits > 0 && !this.byUnits.has(this.maxUnits)) this.maxUnits--;
  }
}

/**
 * Transactions that spend an output this node does not know yet. A transaction may only spend
 * outputs of finalized transactions, and a relayer relays a child only after its parent is final
 * there — but finality is reached at slightly different moments on different nodes, so a child can
 * arrive before its parent is final here. It waits here, keyed by the parents it may be missing,
 * and is submitted again when one of them finalizes. Full nodes are never polled (so never asked
 * about it and never fetch it), which is why waiting matters for them.
 *
 * Bounded by count, bytes and age. Orphans cost their sender nothing (no input is known, so no
 * signature is checked), and with "oldest first" one peer's flood pushed out every other peer's
 * orphans: honest children that arrived a moment before their parent was final here. So when the
 * pool is full the orphan that leaves is the oldest one of the sender holding the most (in units
 * of ORPHAN_UNIT_BYTES), as in Bitcoin Core's orphanage, and among senders without stake first
 * (keys are free, so a flood spread over many of them would otherwise outnumber any honest
 * relayer's share; masternodes, which relay nearly every honest transaction, are accountable by
 * their collateral). A flood thus churns the flooder's own share; an orphan that would make its
 * sender the largest holder of a full pool is not kept at all. Senders are peer keys, so
 * reconnecting does not reset a share; a sender's class is fixed while it holds orphans.
 */
export class OrphanPool {
  /** Every orphan in arrival order (expiry). */
  private readonly orphans = new Map<string, Orphan>();
  private readonly byParent = new Map<string, Set<string>>();
  private readonly staked = new SenderShares();
  private readonly others = new SenderShares();
  private bytes = 0;

  constructor(
    private readonly limits: OrphanPoolLimits = DEFAULT_ORPHAN_LIMITS,
    /** Whether a sender is an active masternode (its orphans leave after everyone else's). */
    private readonly isStaked: (sender: string) => boolean = () => false,
  ) {}

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

  /** Senders holding orphans (each forgotten with its last orphan). */
  get senderCount(): number {
    return this.staked.senderCount + this.others.senderCount;
  }

  /** The units `sender`'s orphans weigh (0 when it holds none). */
  unitsOf(sender: string): number {
    return this.staked.unitsOf(sender) + this.others.unitsOf(sender);
  }

  has(txid: Uint8Array): boolean {
    return this.orphans.has(bytesKey(txid));
  }

  /**
   * Keeps `etx`, relayed by `sender`, until one of its parents finalizes. Returns false if it is
   * not kept: known already, too big to keep at all, or dropped at once because it would make its
   * sender the largest holder of a full pool.
   */
  add(etx: EncodedTx, nowMs: number, sender: string): boolean {
    const id = bytesKey(etx.txid);
    if (this.orphans.has(id) || etx.bytes.length > this.limits.maxBytes) return false;
    this.expire(nowMs);
    const parents = [...new Set(etx.tx.inputs.map((i) => bytesKey(i.txid)))];
    const shares = this.sharesOf(sender);
    this.orphans.set(id, { etx, parents, addedMs: nowMs, sender, shares });
    this.bytes += etx.bytes.length;
    for (const p of parents) {
      let set = this.byParent.get(p);
      if (!set) {
        set = new Set();
        this.byParent.set(p, set);
      }
      set.add(id);
    }
    shares.add(sender, id, orphanUnits(etx.bytes.length));
    while (this.orphans.size > this.limits.maxCount || this.bytes > this.limits.maxBytes) this.evictOne();
    return this.orphans.has(id);
  }

  /** The orphans waiting on `parentTxid`, removed from the pool (the caller submits them again). */
  takeChildrenOf(parentTxid: Uint8Array, nowMs: number): TakenOrphan[] {
    this.expire(nowMs);
    const set = this.byParent.get(bytesKey(parentTxid));
    if (!set) return [];
    const out: TakenOrphan[] = [];
    for (const id of [...set]) {
      const o = this.orphans.get(id)!; // every id under a parent is kept (remove() forgets both)
      out.push({ etx: o.etx, sender: o.sender });
      this.remove(id);
    }
    return out;
  }

  /** The class a sender's orphans count in: the one it holds orphans in, else by its stake now. */
  private sharesOf(sender: string): SenderShares {
    if (this.staked.holds(sender)) return this.staked;
    if (this.others.holds(sender)) return this.others;
    return this.isStaked(sender) ? this.staked : this.others;
  }

  /** The oldest orphan of the largest holder without stake leaves, else of the largest masternode. */
  private evictOne(): void {
    this.remove((this.others.victim() ?? this.staked.victim())!);
  }

  private expire(nowMs: number): void {
    for (const [id, o] of this.orphans) {
      if (nowMs - o.addedMs < this.limits.ttlMs) break; // arrival order: the rest are younger
      this.remove(id);
    }
  }

  /** Forgets a kept orphan: from the pool, its parents' sets and its sender's share. */
  private remove(id: string): void {
    const o = this.orphans.get(id)!;
    this.orphans.delete(id);
    this.bytes -= o.etx.bytes.length;
    for (const p of o.parents) {
      const set = this.byParent.get(p)!;
      set.delete(id);
      if (set.size === 0) this.byParent.delete(p);
    }
    o.shares.remove(o.sender, id, orphanUnits(o.etx.bytes.length));
  }
}
