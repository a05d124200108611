import type { EncodedTx } from '../protocol/tx-codec.js';
import { bytesKey } from './map-keys.js';

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
 */
export function dependencyOrder(txs: readonly EncodedTx[]): EncodedTx[] {
  const byId = new Map<string, EncodedTx>();
  for (const t of txs) byId.set(bytesKey(t.txid), t);
  const visited = new Set<string>();
  const out: EncodedTx[] = [];
  // The explicit stack: a transaction and the index of the next input whose parent to visit.
  const pending: EncodedTx[] = [];
  const nextInput: number[] = [];
  for (const root of txs) {
    const rootId = bytesKey(root.txid);
    if (visited.has(rootId)) continue;
    visited.add(rootId);
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
      const parentId = bytesKey(t.tx.inputs[i]!.txid);
      const parent = byId.get(parentId);
      if (parent !== undefined && !visited.has(parentId)) {
        visited.add(parentId);
        pending.push(parent);
        nextInput.push(0);
      }
    }
  }
  return out;
}
