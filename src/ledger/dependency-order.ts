import { bytesEqual } from '../encoding/bytes.js';
import type { EncodedTx } from '../protocol/tx-codec.js';

/**
 * Orders transactions so every parent present in the list precedes its children; otherwise the
 * input order is kept. Blocks (sorted by txid) and the finalized pool may hold a child before
 * its parent, but applying or checking them needs parents first. txids are hashes, so there are
 * no cycles.
 *
 * The order is a depth-first post-order: for each transaction in list order, its parents (in input
 * order, each with its own parents first), then itself. The undo record of every stored block lists
 * spends in this order, so it must never change. The walk keeps its own stack: one recursive call
 * per parent overflowed V8's stack at ~5,100 chained transactions in a fresh process and ~7,600
 * after JIT warm-up, so the same block passed on warm nodes and threw on restarted ones (issue 12).
 *
 * A full block runs this twice on the producer (assembly, validation) and once on every validator
 * (validation; the store writes in the order validation returns), once per input of ~9,400
 * transactions, so lookups avoid building a string per txid: positions are found
 * through a small-integer prefix of the txid and confirmed by comparing the bytes (a ground
 * prefix collision only lengthens one bucket's chain).
 */
export function dependencyOrder(txs: readonly EncodedTx[]): EncodedTx[] {
  const n = txs.length;
  // Buckets by txid prefix, each a chain of positions from the highest down, so the first match
  // is the LAST position holding that txid (a duplicate's later copy stands for it, as a map
  // keyed by txid would keep it).
  const head = new Map<number, number>();
  const below = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = txidPrefix(txs[i]!.txid);
    below[i] = head.get(p) ?? -1;
    head.set(p, i);
  }
  const positionOf = (txid: Uint8Array): number => {
    for (let i = head.get(txidPrefix(txid)) ?? -1; i >= 0; i = below[i]!)
      if (bytesEqual(txs[i]!.txid, txid)) return i;
    return -1;
  };
  // Marked by a txid's canonical position (positionOf), so duplicates are placed once.
  const visited = new Uint8Array(n);
  const out: EncodedTx[] = [];
  // The explicit stack: a transaction and the index of the next input whose parent to visit.
  const pending: EncodedTx[] = [];
  const nextInput: number[] = [];
  for (let r = 0; r < n; r++) {
    const root = txs[r]!;
    const canonical = positionOf(root.txid);
    if (visited[canonical] === 1) continue;
    visited[canonical] = 1;
    pending.push(root);
    nextInput.push(0);
    while (pending.length > 0) {
      const top = pending.length - 1;
      const t = pending[top]!;
      const i = nextInput[top]!;
      if (i === t.tx.inputs.length) {
        pending.pop();
        nextInput.pop();
        out.push(t);
        continue;
      }
      nextInput[top] = i + 1;
      const parent = positionOf(t.tx.inputs[i]!.txid);
      if (parent >= 0 && visited[parent] === 0) {
        visited[parent] = 1;
        pending.push(txs[parent]!);
        nextInput.push(0);
      }
    }
  }
  return out;
}

/** The first 30 bits of a txid: always a small integer, the cheapest kind of map key in V8. */
function txidPrefix(txid: Uint8Array): number {
  return ((txid[0]! << 22) | (txid[1]! << 14) | (txid[2]! << 6) | (txid[3]! >>> 2)) >>> 0;
}
