import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { dependencyOrder } from '../../../src/ledger/dependency-order.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

/**
 * The recursive definition the iterative walk must reproduce exactly: every stored block's undo
 * record lists its spends in this order, so a different order would corrupt reverts of blocks
 * written before the change. Only used on small inputs (it is the code that overflowed).
 */
function recursiveOrder(txs: readonly EncodedTx[]): EncodedTx[] {
  const byId = new Map(txs.map((t) => [toHex(t.txid), t]));
  const done = new Set<string>();
  const out: EncodedTx[] = [];
  const visit = (t: EncodedTx): void => {
    const id = toHex(t.txid);
    if (done.has(id)) return;
    done.add(id);
    for (const input of t.tx.inputs) {
      const parent = byId.get(toHex(input.txid));
      if (parent) visit(parent);
    }
    out.push(t);
  };
  for (const t of txs) visit(t);
  return out;
}

/** Structural stand-ins: only txids and inputs matter to the ordering. */
function fakeTx(txid: Uint8Array, parents: readonly Uint8Array[]): EncodedTx {
  return {
    txid,
    bytes: new Uint8Array(0),
    tx: {
      version: 1,
      chainId: 3,
      inputs: parents.map((p, vout) => ({ txid: p, vout })),
      outputs: [],
      lockTime: 0,
      payload: null,
      witnesses: [],
    },
  };
}

/** A random DAG in random list order: each transaction spends 0–3 earlier ones and maybe an outsider. */
function randomDag(rng: SeededRandom, n: number): EncodedTx[] {
  const txs: EncodedTx[] = [];
  for (let i = 0; i < n; i++) {
    const parents: Uint8Array[] = [];
    const k = i === 0 ? 0 : rng.below(4);
    for (let j = 0; j < k; j++) parents.push(txs[rng.below(i)]!.txid);
    if (rng.below(3) === 0) parents.push(rng.bytes(32)); // an output of the chain, not in the list
    txs.push(fakeTx(rng.bytes(32), parents));
  }
  for (let i = txs.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [txs[i], txs[j]] = [txs[j]!, txs[i]!];
  }
  return txs;
}

describe('dependencyOrder', () => {
  it('gives exactly the recursive post-order on 500 random DAGs (undo records depend on it)', () => {
    const rng = new SeededRandom(12);
    for (let round = 0; round < 500; round++) {
      const txs = randomDag(rng, 1 + rng.below(40));
      // Duplicates in the list keep their first place, as before.
      if (round % 5 === 0) txs.push(txs[rng.below(txs.length)]!);
      // Lookups go through a txid prefix: txids that share one must still be told apart, and a
      // parent outside the list that shares it (a ground prefix) walks the whole bucket to its end.
      if (round % 3 === 0)
        for (const t of txs) {
          t.txid.set([7, 7, 7, 7]);
          for (const input of t.tx.inputs) input.txid.set([7, 7, 7, 7]);
        }
      const expected = recursiveOrder(txs).map((t) => toHex(t.txid));
      expect(dependencyOrder(txs).map((t) => toHex(t.txid))).toEqual(expected);
    }
  });

  it('puts every parent before its children and keeps each transaction once', () => {
    const rng = new SeededRandom(7);
    const txs = randomDag(rng, 300);
    const ordered = dependencyOrder(txs);
    expect(ordered).toHaveLength(300);
    const position = new Map(ordered.map((t, i) => [toHex(t.txid), i]));
    for (const t of ordered) {
      for (const input of t.tx.inputs) {
        const p = position.get(toHex(input.txid));
        if (p !== undefined) expect(p).toBeLessThan(position.get(toHex(t.txid))!);
      }
    }
  });

  it('orders a 100,000-deep chain given child first without growing the call stack', () => {
    const chain: EncodedTx[] = [fakeTx(new Uint8Array(32).fill(1), [])];
    const rng = new SeededRandom(3);
    for (let i = 1; i < 100_000; i++) chain.push(fakeTx(rng.bytes(32), [chain[i - 1]!.txid]));
    const ordered = dependencyOrder([...chain].reverse());
    expect(ordered[0]).toBe(chain[0]);
    expect(ordered[99_999]).toBe(chain[99_999]);
    expect(ordered.every((t, i) => t === chain[i])).toBe(true);
  });
});
