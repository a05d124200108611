import { bytesEqual, compareBytes } from '../encoding/bytes.js';
import { bytesKey } from '../ledger/map-keys.js';
import type { MempoolObserver, TxStatus } from '../ledger/mempool.js';
import type { OutPoint } from '../protocol/transaction.js';
import type { EncodedTx } from '../protocol/tx-codec.js';

/** An output as the balance RPCs read it. */
export interface SpentOutput {
  readonly value: bigint;
  readonly address: Uint8Array;
}

/**
 * The mempool's transactions by the addresses they touch (an output paid to the address, or an
 * input spending one of its outputs), per status: what getbalance and listunspent read for the
 * part of a balance that is final or pending but in no block yet. Kept beside the pool as a
 * MempoolObserver, so a query costs the transactions of one address, not the whole pool: walking
 * the pool made each call cost the coordinator ~25 ms with 40,000 transactions processing (the
 * rpc.getbalance bench), and an exchange polling its deposit addresses would have held polls and
 * votes back for as long.
 *
 * A transaction that joins is only queued: admission runs at thousands a second on the coordinator
 * and must not pay for an index nobody may read (filing each one at once cost sendrawtransaction
 * ~10 % in the rpc bench). The queue is filed at the next query, so each transaction is filed once
 * however often balances are asked. The outputs its inputs spend are read then (`resolve`: the
 * chain's UTXO set, or its parent in the pool). An input that cannot be read yet (a parent returned
 * by a reorg after its child) leaves the transaction waiting, retried before each query.
 */
export class MempoolAddressIndex implements MempoolObserver {
  private readonly byStatus: Record<TxStatus, Map<string, Set<EncodedTx>>> = {
    processing: new Map(),
    finalized: new Map(),
  };
  /** The outputs each transaction's inputs spend, once all are read. */
  private readonly spent = new WeakMap<EncodedTx, readonly SpentOutput[]>();
  /** The address keys each transaction was filed under (its leave must undo exactly its entry). */
  private readonly filed = new WeakMap<EncodedTx, readonly string[]>();
  /** Transactions with an input not read yet, and their status. */
  private readonly unresolved = new Map<EncodedTx, TxStatus>();
  /** Transactions that joined since the last query, with their status, not filed yet. */
  private readonly queued = new Map<EncodedTx, TxStatus>();

  constructor(private readonly resolve: (input: OutPoint) => SpentOutput | undefined) {}

  /** Addresses with a transaction filed under them, per status (bounded by the pool's transactions). */
  addressCount(status: TxStatus): number {
    this.fileQueued();
    return this.byStatus[status].size;
  }

  entered(etx: EncodedTx, status: TxStatus): void {
    this.queued.set(etx, status);
  }

  private fileNow(etx: EncodedTx, status: TxStatus): void {
    const spent = this.spentBy(etx);
    if (spent === undefined) {
      this.unresolved.set(etx, status);
      this.file(etx, status, outputKeys(etx));
      return;
    }
    this.file(etx, status, [...outputKeys(etx), ...spent.map((o) => bytesKey(o.address))]);
  }

  left(etx: EncodedTx, status: TxStatus): void {
    this.queued.delete(etx);
    this.unresolved.delete(etx);
    const keys = this.filed.get(etx);
    if (keys === undefined) return;
    const index = this.byStatus[status];
    for (const k of keys) {
      const set = index.get(k);
      if (set === undefined) continue;
      set.delete(etx);
      if (set.size === 0) index.delete(k);
    }
    this.filed.delete(etx);
  }

  /** What the pool's transactions of `status` add to (+) and take from (−) `address`, in sat. */
  delta(address: Uint8Array, status: TxStatus): bigint {
    this.fileQueued();
    this.retryUnresolved();
    let delta = 0n;
    for (const etx of this.byStatus[status].get(bytesKey(address)) ?? []) {
      for (const o of etx.tx.outputs) if (bytesEqual(o.address, address)) delta += o.value;
      for (const o of this.spent.get(etx) ?? []) if (bytesEqual(o.address, address)) delta -= o.value;
    }
    return delta;
  }

  /** The pool's transactions of `status` that pay `address`, in txid order. */
  paying(address: Uint8Array, status: TxStatus): EncodedTx[] {
    this.fileQueued();
    const out: EncodedTx[] = [];
    for (const etx of this.byStatus[status].get(bytesKey(address)) ?? [])
      if (etx.tx.outputs.some((o) => bytesEqual(o.address, address))) out.push(etx);
    return out.sort((a, b) => compareBytes(a.txid, b.txid));
  }

  private file(etx: EncodedTx, status: TxStatus, keys: readonly string[]): void {
    const unique = [...new Set(keys)];
    const index = this.byStatus[status];
    for (const k of unique) {
      let set = index.get(k);
      if (set === undefined) {
        set = new Set();
        index.set(k, set);
      }
      set.add(etx);
    }
    this.filed.set(etx, unique);
  }

  private spentBy(etx: EncodedTx): readonly SpentOutput[] | undefined {
    const known = this.spent.get(etx);
    if (known) return known;
    const found: SpentOutput[] = [];
    for (const input of etx.tx.inputs) {
      const o = this.resolve(input);
      if (o === undefined) return undefined;
      found.push({ value: o.value, address: o.address });
    }
    this.spent.set(etx, found);
    return found;
  }

  private fileQueued(): void {
    for (const [etx, status] of this.queued) this.fileNow(etx, status);
    this.queued.clear();
  }

  private retryUnresolved(): void {
    for (const [etx, status] of this.unresolved) {
      if (this.spentBy(etx) === undefined) continue;
      this.left(etx, status);
      this.fileNow(etx, status);
    }
  }
}

function outputKeys(etx: EncodedTx): string[] {
  return etx.tx.outputs.map((o) => bytesKey(o.address));
}
