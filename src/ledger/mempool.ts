import { performance } from 'node:perf_hooks';
import { compareBytes } from '../encoding/bytes.js';
import { sortByBytes } from '../encoding/sort-by-bytes.js';
import type { OutPoint, TxPayload } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { conflictKeysOf, describeConflictKey, registryConflictKey } from './conflict-keys.js';
import { bytesKey, outpointStringKey } from './map-keys.js';
import { MempoolError } from './mempool-errors.js';

/**
 * Transactions between admission and inclusion in a block (DESIGN §4 life cycle):
 * processing (Snowball decides) → finalized (persisted; inputs permanently spent) → in a block;
 * or → rejected when a conflicting transaction finalizes or a block uses up one of its conflict keys;
 * or → expired (undecided for `processingExpiryMs`; see expireProcessing).
 *
 * Conflict sets: all processing (and expired) transactions sharing one conflict key (an outpoint
 * they spend, or the registry change they make: ledger/conflict-keys.ts). Admission adds a
 * transaction to the set of each of its keys in one step (all or nothing: every check runs before
 * any change), so the Snowball engine always sees complete sets. This class checks no ledger rule:
 * callers validate against the ledger first (see ledger/ledger-overlay.ts for the finalized view).
 */

export type TxStatus = 'processing' | 'finalized';

export interface MempoolEntry {
  readonly etx: EncodedTx;
  readonly fee: bigint;
  status: TxStatus;
  /**
   * Its conflict keys (conflictKeysOf: each input's outpoint key, then its registry key if it has a
   * payload), as latin1 strings: its conflict sets. Pass them to `SnowballEngine.add`.
   */
  readonly conflictKeys: readonly string[];
}

export interface MempoolLimits {
  /**
   * Processing + finalized-not-in-a-block transactions + expired records. Admission of a new
   * processing transaction is refused at this count; finalized ones are final and always kept
   * (at start-up too), so they count but are never refused.
   */
  readonly maxCount: number;
  /** Bytes of the same: serialized transactions, and each expired record's compact size. */
  readonly maxBytes: number;
  /**
   * A processing transaction still undecided this long after admission expires (expireProcessing).
   * Default 600,000 (10 min): finality takes well under a second, and the slowest transactions of
   * the 20 %-silent-stake soak needed ~500 polls, about 2 min at 4 polls per 1 s timeout.
   */
  readonly processingExpiryMs?: number;
  /**
   * Rejected txids remembered so gossip cannot re-admit a loser; beyond this many the oldest is
   * forgotten (a peer could otherwise grow the set by making transactions lose). Default 100,000.
   */
  readonly maxRememberedRejections?: number;
  /**
   * Txids refused before their signatures were checked because a finalized transaction spends an
   * input of theirs (CONFLICTS_FINALIZED), remembered apart from the decided rejections: anyone can
   * make such a transaction for free, so they must not push those out. Default 16,384.
   */
  readonly maxRememberedRefusals?: number;
}

export const DEFAULT_PROCESSING_EXPIRY_MS = 600_000;
export const DEFAULT_MAX_REMEMBERED_REJECTIONS = 100_000;
export const DEFAULT_MAX_REMEMBERED_REFUSALS = 16_384;

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = Object.freeze({
  maxCount: 100_000,
  maxBytes: 300_000_000,
  processingExpiryMs: DEFAULT_PROCESSING_EXPIRY_MS,
  maxRememberedRejections: DEFAULT_MAX_REMEMBERED_REJECTIONS,
});

/** What an expired record costs against maxBytes beyond its keys: the txid. */
const EXPIRED_RECORD_BASE_BYTES = 32;

/** Map key of a txid. */
export const txKey = bytesKey;

/** Milliseconds from a monotonic clock (the wall clock may jump; expiry must not). */
export type Clock = () => number;
export const monotonicClock: Clock = () => performance.now();

export interface AdmitResult {
  /** Processing transactions that share a conflict key with the admitted one (its rivals). */
  readonly conflicts: readonly EncodedTx[];
}

export interface FinalizeResult {
  readonly finalized: EncodedTx;
  /** Processing transactions rejected because they conflict with it, in txid order; their locks are released. */
  readonly rejected: readonly EncodedTx[];
}

/** A processing transaction that expired: its bytes are gone, its conflict keys stay locked. */
interface ExpiredRecord {
  readonly conflictKeys: readonly string[];
  /** Counted against maxBytes. */
  readonly bytes: number;
}

/**
 * Told of every transaction as it joins or leaves the pool, with its status (a status change is a
 * leave and a join): an index kept beside the pool, such as the address index the balance RPCs
 * read. Called inside the pool's own updates, so it must not throw or call back into the pool.
 */
export interface MempoolObserver {
  entered(etx: EncodedTx, status: TxStatus): void;
  left(etx: EncodedTx, status: TxStatus): void;
}

export class Mempool {
  private readonly entries = new Map<string, MempoolEntry>();
  private observer: MempoolObserver | undefined;
  /** conflict key → txids of processing or expired transactions holding it (the conflict set). */
  private readonly conflictSets = new Map<string, Set<string>>();
  /** conflict key → txid of the finalized transaction holding it (permanently used up). */
  private readonly finalizedSpends = new Map<string, string>();
  /** txid → record of a processing transaction that expired here undecided. */
  private readonly expired = new Map<string, ExpiredRecord>();
  /** Processing txids → admission time, in admission order (the expiry sweep reads the front). */
  private readonly admittedAt = new Map<string, number>();
  private readonly rejected = new Set<string>();
  /** Unverified transactions refused for a finalized rival (maxRememberedRefusals). */
  private readonly refused = new Set<string>();
  private bytes = 0;

  constructor(
    readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
    private readonly now: Clock = monotonicClock,
  ) {}

  /** Sets the pool's one observer and tells it of every transaction already here. */
  observe(observer: MempoolObserver): void {
    this.observer = observer;
    for (const e of this.entries.values()) observer.entered(e.etx, e.status);
  }

  /** Processing + finalized transactions (expired records are counted by expiredCount). */
  get count(): number {
    return this.entries.size;
  }

  /**
   * Processing transactions, in O(1) (RPC and metrics ask often; processing() sorts them all).
   * admittedAt holds exactly the processing entries: set on admit, deleted on every way out.
   */
  get processingCount(): number {
    return this.admittedAt.size;
  }

  /** Expired records still locking their conflict keys. */
  get expiredCount(): number {
    return this.expired.size;
  }

  /** Bytes counted against maxBytes: transactions plus expired records. */
  get totalBytes(): number {
    return this.bytes;
  }

  get processingExpiryMs(): number {
    return this.limits.processingExpiryMs ?? DEFAULT_PROCESSING_EXPIRY_MS;
  }

  get(txid: Uint8Array): MempoolEntry | undefined {
    return this.getByKey(txKey(txid));
  }

  /** `get` by the txid's map key (txKey), for callers that look one txid up in several maps. */
  getByKey(key: string): MempoolEntry | undefined {
    return this.entries.get(key);
  }

  wasRejected(txid: Uint8Array): boolean {
    return this.wasRejectedByKey(txKey(txid));
  }

  /** `wasRejected` by the txid's map key (txKey): rejected here, or refused for a finalized rival. */
  wasRejectedByKey(key: string): boolean {
    return this.rejected.has(key) || this.refused.has(key);
  }

  /**
   * True when the processing transaction with map key `key` shares a conflict set with another
   * transaction's expired record: it came back from expiry (or was polled) alone in a set whose
   * other members this node no longer holds. O(1) while nothing is expired (the vote hot path).
   */
  hasExpiredRivalByKey(key: string): boolean {
    if (this.expired.size === 0) return false;
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    for (const k of entry.conflictKeys) {
      for (const member of this.conflictSets.get(k) ?? [])
        if (member !== key && this.expired.has(member)) return true;
    }
    return false;
  }

  /** True while `txid` expired here undecided: only it may take its conflict keys (admit it again). */
  isExpired(txid: Uint8Array): boolean {
    return this.expired.has(txKey(txid));
  }

  /** The finalized transaction spending this outpoint, if any. */
  finalizedSpender(outpoint: OutPoint): Uint8Array | undefined {
    const k = this.finalizedSpends.get(outpointStringKey(outpoint));
    return k === undefined ? undefined : this.entries.get(k)?.etx.txid;
  }

  /** The finalized transaction making this registry change (same kind, same node key), if any. */
  finalizedRegistryChange(payload: TxPayload): Uint8Array | undefined {
    const k = this.finalizedSpends.get(registryConflictKey(payload));
    return k === undefined ? undefined : this.entries.get(k)?.etx.txid;
  }

  /**
   * Throws CONFLICTS_FINALIZED if an input is already spent, or its registry change already made,
   * by a finalized transaction (details name the input or the payload).
   */
  checkNoFinalizedConflict(etx: EncodedTx): void {
    this.checkKeysNotFinalized(etx, conflictKeysOf(etx.tx), false);
  }

  /**
   * Adds a validated transaction as processing and locks its conflict keys into their conflict
   * sets. A transaction that expired here may come back (its own record holds its keys); any
   * other transaction sharing a key with an expired one is refused (CONFLICTS_EXPIRED).
   */
  admit(etx: EncodedTx, fee: bigint): AdmitResult {
    const id = txKey(etx.txid);
    if (this.entries.has(id)) throw new MempoolError('ALREADY_KNOWN', 'transaction already in the mempool');
    if (this.rejected.has(id)) throw new MempoolError('ALREADY_REJECTED', 'transaction was rejected');
    const conflictKeys = conflictKeysOf(etx.tx);
    this.checkKeysNotFinalized(etx, conflictKeys, true);
    const record = this.expired.get(id);
    if (!record) this.checkKeysNotExpired(etx, conflictKeys);
    const count = this.entries.size + this.expired.size - (record ? 1 : 0);
    const bytes = this.bytes + etx.bytes.length - (record?.bytes ?? 0);
    if (count >= this.limits.maxCount || bytes > this.limits.maxBytes) {
      throw new MempoolError(
        'MEMPOOL_FULL',
        `mempool holds ${this.entries.size} transactions and ${this.expired.size} expired records / ` +
          `${this.bytes} bytes (limits ${this.limits.maxCount} / ${this.limits.maxBytes})`,
      );
    }
    if (record) {
      // Back from expiry: it is still a member of its conflict sets.
      this.expired.delete(id);
      this.bytes -= record.bytes;
    }
    const rivals = new Set<string>();
    for (const k of conflictKeys) {
      let set = this.conflictSets.get(k);
      if (!set) {
        set = new Set();
        this.conflictSets.set(k, set);
      }
      for (const other of set) if (other !== id && this.entries.has(other)) rivals.add(other);
      set.add(id);
    }
    this.entries.set(id, { etx, fee, status: 'processing', conflictKeys });
    this.admittedAt.set(id, this.now());
    this.bytes += etx.bytes.length;
    this.observer?.entered(etx, 'processing');
    return { conflicts: [...rivals].map((k) => this.entries.get(k)!.etx) };
  }

  /** The processing transactions spending `outpoint` (one conflict set), sorted by txid. */
  conflictSet(outpoint: OutPoint): EncodedTx[] {
    const set = this.conflictSets.get(outpointStringKey(outpoint));
    if (!set) return [];
    const out: EncodedTx[] = [];
    for (const k of set) {
      const entry = this.entries.get(k);
      if (entry) out.push(entry.etx);
    }
    return out.sort((a, b) => compareBytes(a.txid, b.txid));
  }

  /** Processing members of each conflict set the transaction belongs to (1 = uncontested). */
  conflictSetSizes(txid: Uint8Array): number[] {
    const entry = this.entries.get(txKey(txid));
    if (entry?.status !== 'processing') return [];
    return entry.conflictKeys.map((k) => {
      let n = 0;
      for (const m of this.conflictSets.get(k) ?? []) if (this.entries.has(m)) n++;
      return n;
    });
  }

  /**
   * Snowball accepted `txid`: it becomes finalized, its conflict keys permanently used up, and every
   * processing or expired transaction conflicting with it is rejected (removed, its other locks
   * released). Callers persist the finalized transaction before calling this (persist before
   * acknowledge).
   */
  finalize(txid: Uint8Array): FinalizeResult {
    const id = txKey(txid);
    const entry = this.entries.get(id);
    if (entry?.status !== 'processing')
      throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
    const rejected = this.dropRivals(id, entry.conflictKeys);
    this.unlock(id, entry.conflictKeys);
    this.admittedAt.delete(id);
    entry.status = 'finalized';
    for (const k of entry.conflictKeys) this.finalizedSpends.set(k, id);
    this.observer?.left(entry.etx, 'processing');
    this.observer?.entered(entry.etx, 'finalized');
    return { finalized: entry.etx, rejected };
  }

  /** Snowball rejected `txid`: remove it and release its locks. */
  reject(txid: Uint8Array): EncodedTx {
    const id = txKey(txid);
    const entry = this.entries.get(id);
    if (entry?.status !== 'processing')
      throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
    return this.drop(id);
  }

  /**
   * Re-inserts a transaction that is already final (loaded from storage at start-up, returned by a
   * reorg, or accepted by Snowball while it expired here). Any processing or expired rival is
   * rejected, as in finalize(). Final transactions are never refused for the limits: they count
   * against them (see MempoolLimits.maxCount) but losing one would lose its double-spend protection.
   */
  restoreFinalized(etx: EncodedTx, fee: bigint): readonly EncodedTx[] {
    const id = txKey(etx.txid);
    const existing = this.entries.get(id);
    if (existing?.status === 'finalized') return [];
    if (existing) return this.finalize(etx.txid).rejected;
    const record = this.expired.get(id);
    if (record) this.forgetExpired(id, record);
    const conflictKeys = conflictKeysOf(etx.tx);
    const rejected = this.dropRivals(id, conflictKeys);
    this.entries.set(id, { etx, fee, status: 'finalized', conflictKeys });
    this.bytes += etx.bytes.length;
    for (const k of conflictKeys) this.finalizedSpends.set(k, id);
    this.observer?.entered(etx, 'finalized');
    return rejected;
  }

  /**
   * A block was committed with these transactions (coinbase included or not): they leave the
   * mempool whatever their state, and every processing or expired transaction sharing a conflict
   * key with one of them can never be valid any more: it is rejected (remembered, locks released).
   * Returns the rejected processing transactions in txid order (the caller drops them from
   * Snowball). A finalized transaction conflicting with the block is left alone: final is final,
   * and validateBlock refuses such a block (CONFLICTS_FINALIZED) before it gets here.
   */
  removeBlock(txs: readonly EncodedTx[]): EncodedTx[] {
    const rejected: EncodedTx[] = [];
    for (const etx of txs) {
      if (etx.tx.inputs.length === 0) continue; // a coinbase uses up nothing and is never pooled
      const id = txKey(etx.txid);
      this.removeIncludedOne(id);
      // Its keys are the chain's now: the ledger refuses every other use of them.
      rejected.push(...this.dropRivals(id, conflictKeysOf(etx.tx)));
    }
    return sortByBytes(rejected, (etx) => etx.txid);
  }

  /**
   * A block included these transactions: they leave the mempool (the chain has them).
   * Prefer removeBlock, which also rejects what the block made impossible; this one only knows
   * the keys of transactions the pool holds.
   */
  removeIncluded(txids: readonly Uint8Array[]): void {
    for (const txid of txids) {
      const id = txKey(txid);
      const entry = this.entries.get(id);
      // A block can only include finalized transactions; a processing one here means we missed
      // its finality: the block is authoritative, so rivals lose as if it finalized now.
      if (entry?.status === 'processing') this.dropRivals(id, entry.conflictKeys);
      this.removeIncludedOne(id);
    }
  }

  /**
   * Expires every processing transaction admitted at least `processingExpiryMs` ago, together with
   * every processing transaction connected to it through conflict sets, and returns their txids
   * (the caller stops polling them and stops answering yes for them).
   *
   * Expiry only ever withdraws this node's yes votes and never creates one, so it cannot make two
   * honest nodes accept conflicting transactions: the bytes leave memory, but a compact record
   * keeps each conflict key locked, so no rival is admitted here (CONFLICTS_EXPIRED) and this node
   * never prefers one; only the expired transactions themselves may come back (admit), as when a
   * block holds one and it must be polled. A whole connected component expires at once because
   * dropping one member from a set would move this node's preference to a rival still in it, a new
   * yes vote. The lock goes when a block uses the key up (removeBlock), or a conflicting
   * transaction becomes final here. Records count against maxCount and maxBytes.
   */
  expireProcessing(): Uint8Array[] {
    const cutoff = this.now() - this.processingExpiryMs;
    const expired: Uint8Array[] = [];
    for (const [id, at] of this.admittedAt) {
      if (at > cutoff) break; // admission order: everything after is younger
      for (const member of this.processingComponent(id)) expired.push(this.expireOne(member));
    }
    return expired;
  }

  /** Processing transactions, in txid order (deterministic iteration for polls). */
  processing(): EncodedTx[] {
    return this.byStatus('processing');
  }

  /** Finalized transactions not yet in a block, in txid order (the block body order). */
  finalized(): EncodedTx[] {
    return this.byStatus('finalized');
  }

  /** Every transaction held (processing or finalized), in txid order. */
  all(): EncodedTx[] {
    return sortByBytes(
      Array.from(this.entries.values(), (e) => e.etx),
      (etx) => etx.txid,
    );
  }

  /**
   * Transactions of one status in no particular order: for sums over the pool (an address's
   * pending balance), which need no txid order and should not pay a sort of the whole pool per call.
   */
  unordered(status: TxStatus): EncodedTx[] {
    const out: EncodedTx[] = [];
    for (const e of this.entries.values()) if (e.status === status) out.push(e.etx);
    return out;
  }

  private byStatus(status: TxStatus): EncodedTx[] {
    return sortByBytes(this.unordered(status), (etx) => etx.txid);
  }

  /**
   * A transaction refused here can never become valid (finality is never undone): it is remembered,
   * so polls that name it get a NO and it is not fetched again. The finalized pool is persisted and
   * the rejected set is not, so after a restart this is how a known loser becomes one again the
   * first time it comes back. One refused before its signatures were checked (`verified` false) is
   * remembered in the small set of refusals, where free junk can push out only other refusals.
   */
  private checkKeysNotFinalized(etx: EncodedTx, keys: readonly string[], verified: boolean): void {
    const id = txKey(etx.txid);
    keys.forEach((k, i) => {
      const spender = this.finalizedSpends.get(k);
      if (spender === undefined) return;
      if (spender !== id) {
        if (verified) this.remember(id);
        else remember(this.refused, id, this.limits.maxRememberedRefusals ?? DEFAULT_MAX_REMEMBERED_REFUSALS);
      }
      const what = describeConflictKey(etx.tx, i);
      throw new MempoolError(
        'CONFLICTS_FINALIZED',
        'input' in what
          ? `input ${what.input} is spent by a finalized transaction`
          : `a finalized transaction already makes this ${what.payload} of the node key`,
        what,
      );
    });
  }

  private checkKeysNotExpired(etx: EncodedTx, keys: readonly string[]): void {
    keys.forEach((k, i) => {
      const set = this.conflictSets.get(k);
      if (!set) return;
      for (const member of set) {
        if (!this.expired.has(member)) continue;
        const what = describeConflictKey(etx.tx, i);
        throw new MempoolError(
          'CONFLICTS_EXPIRED',
          `${'input' in what ? `input ${what.input}` : `the ${what.payload}`} conflicts with a transaction ` +
            'that expired here undecided; no rival is admitted until a block uses it up',
          what,
        );
      }
    });
  }

  /** Every processing transaction reachable from `start` through shared conflict sets (a loop). */
  private processingComponent(start: string): string[] {
    const members = [start];
    const seen = new Set(members);
    for (let i = 0; i < members.length; i++) {
      for (const k of this.entries.get(members[i]!)!.conflictKeys) {
        for (const other of this.conflictSets.get(k) ?? []) {
          if (seen.has(other) || this.entries.get(other)?.status !== 'processing') continue;
          seen.add(other);
          members.push(other);
        }
      }
    }
    return members;
  }

  /** Turns a processing transaction into an expired record; it stays in its conflict sets. */
  private expireOne(id: string): Uint8Array {
    const entry = this.entries.get(id)!;
    this.entries.delete(id);
    this.admittedAt.delete(id);
    this.bytes -= entry.etx.bytes.length;
    let recordBytes = EXPIRED_RECORD_BASE_BYTES;
    for (const k of entry.conflictKeys) recordBytes += k.length;
    this.expired.set(id, { conflictKeys: entry.conflictKeys, bytes: recordBytes });
    this.bytes += recordBytes;
    this.observer?.left(entry.etx, 'processing');
    return entry.etx.txid;
  }

  /** Removes a transaction the chain now holds, whatever its state here (not remembered as rejected). */
  private removeIncludedOne(id: string): void {
    const record = this.expired.get(id);
    if (record) this.forgetExpired(id, record);
    const entry = this.entries.get(id);
    if (!entry) return;
    if (entry.status === 'processing') {
      this.unlock(id, entry.conflictKeys);
      this.admittedAt.delete(id);
    }
    for (const k of entry.conflictKeys)
      if (this.finalizedSpends.get(k) === id) this.finalizedSpends.delete(k);
    this.entries.delete(id);
    this.bytes -= entry.etx.bytes.length;
    this.observer?.left(entry.etx, entry.status);
  }

  /** Rejects every other processing or expired member of the sets of `keys`; returns the processing ones. */
  private dropRivals(id: string, keys: readonly string[]): EncodedTx[] {
    const losers = new Set<string>();
    for (const k of keys)
      for (const other of this.conflictSets.get(k) ?? []) if (other !== id) losers.add(other);
    const rejected: EncodedTx[] = [];
    for (const loser of [...losers].sort()) {
      const record = this.expired.get(loser);
      if (record) {
        this.forgetExpired(loser, record);
        this.remember(loser);
      } else rejected.push(this.drop(loser));
    }
    return rejected;
  }

  private unlock(id: string, keys: readonly string[]): void {
    for (const k of keys) {
      const set = this.conflictSets.get(k);
      if (!set) continue;
      set.delete(id);
      if (set.size === 0) this.conflictSets.delete(k);
    }
  }

  private forgetExpired(id: string, record: ExpiredRecord): void {
    this.unlock(id, record.conflictKeys);
    this.expired.delete(id);
    this.bytes -= record.bytes;
  }

  /** Removes a processing transaction, releases its locks and remembers it as rejected. */
  private drop(id: string): EncodedTx {
    const entry = this.entries.get(id)!;
    this.unlock(id, entry.conflictKeys);
    this.entries.delete(id);
    this.admittedAt.delete(id);
    this.bytes -= entry.etx.bytes.length;
    this.remember(id);
    this.observer?.left(entry.etx, 'processing');
    return entry.etx;
  }

  private remember(id: string): void {
    remember(this.rejected, id, this.limits.maxRememberedRejections ?? DEFAULT_MAX_REMEMBERED_REJECTIONS);
  }
}

/** Adds `id` to a set bounded at `max` entries, the oldest forgotten first. */
function remember(set: Set<string>, id: string, max: number): void {
  if (set.size >= max) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
  }
  set.add(id);
}
