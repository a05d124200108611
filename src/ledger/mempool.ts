import { compareBytes } from '../encoding/bytes.js';
import type { OutPoint, TxPayload } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import { conflictKeysOf, describeConflictKey, registryConflictKey } from './conflict-keys.js';
import { bytesKey, outpointStringKey } from './map-keys.js';
import { MempoolError } from './mempool-errors.js';

/**
 * Transactions between admission and inclusion in a block (DESIGN §4 life cycle):
 * processing (Snowball decides) → finalized (persisted; inputs permanently spent) → in a block;
 * or → rejected when a conflicting transaction finalizes.
 *
 * Conflict sets: all processing transactions sharing one conflict key (an outpoint they spend, or
 * the registry change they make: ledger/conflict-keys.ts). Admission adds a transaction to the set
 * of each of its keys in one step (all or nothing: every check runs before any
 * change), so the Snowball engine always sees complete sets. This class checks no ledger rule:
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
  /** Processing + finalized-not-in-block transactions. */
  readonly maxCount: number;
  readonly maxBytes: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = Object.freeze({
  maxCount: 100_000,
  maxBytes: 300_000_000,
});

/** Rejected txids are remembered (bounded) so gossip cannot re-admit a loser. */
const MAX_REMEMBERED_REJECTIONS = 100_000;

/** Map key of a txid. */
export const txKey = bytesKey;

export interface AdmitResult {
  /** Processing transactions that share a conflict key with the admitted one (its rivals). */
  readonly conflicts: readonly EncodedTx[];
}

export interface FinalizeResult {
  readonly finalized: EncodedTx;
  /** Processing transactions rejected because they conflict with it; their locks are released. */
  readonly rejected: readonly EncodedTx[];
}

export class Mempool {
  private readonly entries = new Map<string, MempoolEntry>();
  /** conflict key → txids of processing transactions holding it (the conflict set). */
  private readonly conflictSets = new Map<string, Set<string>>();
  /** conflict key → txid of the finalized transaction holding it (permanently used up). */
  private readonly finalizedSpends = new Map<string, string>();
  private readonly rejected = new Set<string>();
  private bytes = 0;

  constructor(readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {}

  get count(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(txid: Uint8Array): MempoolEntry | undefined {
    return this.entries.get(txKey(txid));
  }

  wasRejected(txid: Uint8Array): boolean {
    return this.rejected.has(txKey(txid));
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
    this.checkKeysNotFinalized(etx, conflictKeysOf(etx.tx));
  }

  private checkKeysNotFinalized(etx: EncodedTx, keys: readonly string[]): void {
    keys.forEach((k, i) => {
      if (!this.finalizedSpends.has(k)) return;
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

  /** Adds a validated transaction as processing and locks its inputs into their conflict sets. */
  admit(etx: EncodedTx, fee: bigint): AdmitResult {
    const id = txKey(etx.txid);
    if (this.entries.has(id)) throw new MempoolError('ALREADY_KNOWN', 'transaction already in the mempool');
    if (this.rejected.has(id)) throw new MempoolError('ALREADY_REJECTED', 'transaction was rejected');
    const conflictKeys = conflictKeysOf(etx.tx);
    this.checkKeysNotFinalized(etx, conflictKeys);
    if (this.entries.size >= this.limits.maxCount || this.bytes + etx.bytes.length > this.limits.maxBytes) {
      throw new MempoolError(
        'MEMPOOL_FULL',
        `mempool holds ${this.entries.size} transactions / ${this.bytes} bytes (limits ${this.limits.maxCount} / ${this.limits.maxBytes})`,
      );
    }
    const rivals = new Set<string>();
    for (const k of conflictKeys) {
      let set = this.conflictSets.get(k);
      if (!set) {
        set = new Set();
        this.conflictSets.set(k, set);
      }
      for (const other of set) rivals.add(other);
      set.add(id);
    }
    this.entries.set(id, { etx, fee, status: 'processing', conflictKeys });
    this.bytes += etx.bytes.length;
    return { conflicts: [...rivals].map((k) => this.entries.get(k)!.etx) };
  }

  /** The processing transactions spending `outpoint` (one conflict set), sorted by txid. */
  conflictSet(outpoint: OutPoint): EncodedTx[] {
    const set = this.conflictSets.get(outpointStringKey(outpoint));
    if (!set) return [];
    return [...set].map((k) => this.entries.get(k)!.etx).sort((a, b) => compareBytes(a.txid, b.txid));
  }

  /** Size of each conflict set the transaction belongs to (1 = uncontested input). */
  conflictSetSizes(txid: Uint8Array): number[] {
    const entry = this.entries.get(txKey(txid));
    if (entry?.status !== 'processing') return [];
    return entry.conflictKeys.map((k) => this.conflictSets.get(k)?.size ?? 0);
  }

  /**
   * Snowball accepted `txid`: it becomes finalized, its inputs permanently spent, and every
   * processing transaction conflicting with it is rejected (removed, its other locks released).
   * Callers persist the finalized transaction before calling this (persist before acknowledge).
   */
  finalize(txid: Uint8Array): FinalizeResult {
    const id = txKey(txid);
    const entry = this.entries.get(id);
    if (entry?.status !== 'processing')
      throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
    const losers = new Set<string>();
    for (const k of entry.conflictKeys) {
      for (const other of this.conflictSets.get(k) ?? []) if (other !== id) losers.add(other);
    }
    const rejected = [...losers].sort().map((k) => this.drop(k));
    this.unlock(id, entry);
    entry.status = 'finalized';
    for (const k of entry.conflictKeys) this.finalizedSpends.set(k, id);
    return { finalized: entry.etx, rejected };
  }

  /** Snowball rejected `txid` (or it expired): remove it and release its locks. */
  reject(txid: Uint8Array): EncodedTx {
    const id = txKey(txid);
    const entry = this.entries.get(id);
    if (entry?.status !== 'processing')
      throw new MempoolError('NOT_PROCESSING', 'not a processing transaction');
    return this.drop(id);
  }

  /**
   * Re-inserts a transaction that is already final (loaded from storage at start-up, or from a
   * block undone by a reorg). Any processing rival is rejected, as in finalize().
   */
  restoreFinalized(etx: EncodedTx, fee: bigint): readonly EncodedTx[] {
    const id = txKey(etx.txid);
    const existing = this.entries.get(id);
    if (existing?.status === 'finalized') return [];
    if (!existing) {
      const conflictKeys = conflictKeysOf(etx.tx);
      const rivals = new Set<string>();
      for (const k of conflictKeys) for (const other of this.conflictSets.get(k) ?? []) rivals.add(other);
      const rejected = [...rivals].sort().map((k) => this.drop(k));
      this.entries.set(id, { etx, fee, status: 'finalized', conflictKeys });
      this.bytes += etx.bytes.length;
      for (const k of conflictKeys) this.finalizedSpends.set(k, id);
      return rejected;
    }
    return this.finalize(etx.txid).rejected;
  }

  /** A block included these finalized transactions: they leave the mempool (the chain has them). */
  removeIncluded(txids: readonly Uint8Array[]): void {
    for (const txid of txids) {
      const id = txKey(txid);
      const entry = this.entries.get(id);
      if (!entry) continue;
      if (entry.status === 'processing') {
        // A block can only include finalized transactions; a processing one here means we missed
        // its finality — the block is authoritative, so rivals lose as if it finalized now.
        this.finalize(txid);
      }
      for (const k of entry.conflictKeys)
        if (this.finalizedSpends.get(k) === id) this.finalizedSpends.delete(k);
      this.entries.delete(id);
      this.bytes -= entry.etx.bytes.length;
    }
  }

  /** Processing transactions, in txid order (deterministic iteration for polls). */
  processing(): EncodedTx[] {
    return this.byStatus('processing');
  }

  /** Finalized transactions not yet in a block, in txid order (the block body order). */
  finalized(): EncodedTx[] {
    return this.byStatus('finalized');
  }

  private byStatus(status: TxStatus): EncodedTx[] {
    const out: EncodedTx[] = [];
    for (const e of this.entries.values()) if (e.status === status) out.push(e.etx);
    return out.sort((a, b) => compareBytes(a.txid, b.txid));
  }

  private unlock(id: string, entry: MempoolEntry): void {
    for (const k of entry.conflictKeys) {
      const set = this.conflictSets.get(k);
      if (!set) continue;
      set.delete(id);
      if (set.size === 0) this.conflictSets.delete(k);
    }
  }

  /** Removes a processing transaction, releases its locks and remembers it as rejected. */
  private drop(id: string): EncodedTx {
    const entry = this.entries.get(id)!;
    this.unlock(id, entry);
    this.entries.delete(id);
    this.bytes -= entry.etx.bytes.length;
    if (this.rejected.size >= MAX_REMEMBERED_REJECTIONS) {
      const oldest = this.rejected.values().next().value;
      if (oldest !== undefined) this.rejected.delete(oldest);
    }
    this.rejected.add(id);
    return entry.etx;
  }
}
