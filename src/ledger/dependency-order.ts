import type { EncodedTx } from '../protocol/tx-codec.js';
import { bytesKey } from './map-keys.js';

/**
 * Orders transactions so every parent present in the list precedes its children; otherwise the
 * input order is kept. Blocks (sorted by txid) and the finalized pool may hold a child before
 * its parent, but applying or checking them needs parents first. txids are hashes, so there are
 * no cycles.
 */
export function dependencyOrder(txs: readonly EncodedTx[]): EncodedTx[] {
  const byId = new Map<string, EncodedTx>();
  for (const t of txs) byId.set(bytesKey(t.txid), t);
  const done = new Set<string>();
  const out: EncodedTx[] = [];
  const visit = (t: EncodedTx): void => {
    const id = bytesKey(t.txid);
    if (done.has(id)) return;
    done.add(id);
    for (const input of t.tx.inputs) {
      const parent = byId.get(bytesKey(input.txid));
      if (parent) visit(parent);
    }
    out.push(t);
  };
  for (const t of txs) visit(t);
  return out;
}
