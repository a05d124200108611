import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET } from '../../../src/params/networks.js';
import type { Block } from '../../../src/protocol/block.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { addressUtxoKey, buildAddressIndex } from '../../../src/storage/address-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { addr, dbsOf, handBlock, handTx } from './hand-chain.js';
import { expectAddressIndexed, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = DEVNET;
const A = addr(0xa1);
const B = addr(0xb2);
const C = addr(0xc3);
const D = addr(0xd4);
const E = addr(0xe5);
const F = addr(0xf6);
/** Neighbours in key order: the range end of LOW (0x10 ff…ff) is the prefix 0x11, where HIGH starts. */
const LOW = Uint8Array.from([0x10, ...new Array(19).fill(0xff)]);
const HIGH = Uint8Array.from([0x11, ...new Array(19).fill(0)]);

const op = (t: EncodedTx, vout: number) => ({ txid: t.txid, vout });
const byKey = (x: { outpoint: { txid: Uint8Array; vout: number } }, y: typeof x) =>
  Buffer.compare(Buffer.from(x.outpoint.txid), Buffer.from(y.outpoint.txid)) ||
  x.outpoint.vout - y.outpoint.vout;

/**
 * Genesis pays A 100 and 200, B 300, LOW and HIGH 1000 each, E 400. Block 1: a coinbase of 50 to A,
 * and A spends its 200 into 75 + 75 (A's sat unchanged, two outputs more); B spends 300 into 250 to itself
 * and 50 to C (sat down, output count unchanged); E pays D 400 and D spends it on to F in the same
 * block (D receives and spends: no net change, no record).
 */
async function scenario() {
  const { dir, cleanup } = tempDir('addr');
  const g0 = handTx(
    P,
    [],
    [
      { value: 100n, address: A },
      { value: 200n, address: A },
      { value: 300n, address: B },
      { value: 1000n, address: LOW },
      { value: 1000n, address: HIGH },
      { value: 400n, address: E },
    ],
  );
  const genesis = handBlock(P, null, [g0]);
  const store = await ChainStore.open(dir, P, genesis);
  cleanups.push(cleanup, () => store.close());
  const cb = handTx(P, [], [{ value: 50n, address: A }], { lockTime: 1 });
  const t1 = handTx(
    P,
    [op(g0, 1)],
    [
      { value: 75n, address: A },
      { value: 75n, address: A },
    ],
  );
  const t2 = handTx(
    P,
    [op(g0, 2)],
    [
      { value: 250n, address: B },
      { value: 50n, address: C },
    ],
  );
  const t3 = handTx(P, [op(g0, 5)], [{ value: 400n, address: D }]);
  const t4 = handTx(P, [op(t3, 0)], [{ value: 390n, address: F }]);
  const b1 = handBlock(P, genesis, [cb, t1, t2, t3, t4]);
  return { store, genesis, g0, b1, cb, t1, t2, t3, t4 };
}

const all = { limit: 100 };

describe('address index: balances and unspent outputs per address', () => {
  it('after apply and after revert: totals, counts, order, heights and the coinbase flag', async () => {
    const { store, genesis, g0, b1, cb, t1, t2, t4 } = await scenario();
    const genesisState = () => {
      expect(store.addressTotals(A)).toEqual({ sat: 300n, outputs: 2 });
      expect(store.addressTotals(B)).toEqual({ sat: 300n, outputs: 1 });
      expect(store.addressTotals(E)).toEqual({ sat: 400n, outputs: 1 });
      for (const x of [C, D, F]) {
        expect(store.addressTotals(x)).toEqual({ sat: 0n, outputs: 0 });
        expect(store.addressUtxos(x, all)).toEqual([]);
      }
      expect(store.addressUtxos(A, all)).toEqual([
        { outpoint: op(g0, 0), value: 100n, height: 0, coinbase: false },
        { outpoint: op(g0, 1), value: 200n, height: 0, coinbase: false },
      ]);
      expect(store.addressIndexCounts()).toEqual({ outputs: 6, addresses: 5 });
      expectAddressIndexed(store, ReplayModel.of(P, [genesis]));
    };
    genesisState();

    await store.applyBlock(b1);
    expect(store.addressTotals(A)).toEqual({ sat: 300n, outputs: 4 });
    expect(store.addressTotals(B)).toEqual({ sat: 250n, outputs: 1 });
    expect(store.addressTotals(C)).toEqual({ sat: 50n, outputs: 1 });
    expect(store.addressTotals(F)).toEqual({ sat: 390n, outputs: 1 });
    for (const x of [D, E]) {
      expect(store.addressTotals(x)).toEqual({ sat: 0n, outputs: 0 });
      expect(store.addressUtxos(x, all)).toEqual([]);
    }
    const aAtOne = [
      { outpoint: op(cb, 0), value: 50n, height: 1, coinbase: true },
      { outpoint: op(t1, 0), value: 75n, height: 1, coinbase: false },
      { outpoint: op(t1, 1), value: 75n, height: 1, coinbase: false },
    ].sort(byKey);
    expect(store.addressUtxos(A, all)).toEqual([
      { outpoint: op(g0, 0), value: 100n, height: 0, coinbase: false },
      ...aAtOne,
    ]);
    expect(store.addressUtxos(B, all)).toEqual([
      { outpoint: op(t2, 0), value: 250n, height: 1, coinbase: false },
    ]);
    expect(store.addressUtxos(F, all)).toEqual([
      { outpoint: op(t4, 0), value: 390n, height: 1, coinbase: false },
    ]);
    expect(store.addressIndexCounts()).toEqual({ outputs: 9, addresses: 6 });
    expectAddressIndexed(store, ReplayModel.of(P, [genesis, b1]));

    // Pages: the limit bounds the page, minHeight skips older outputs.
    expect(store.addressUtxos(A, { limit: 2 }).map((u) => u.outpoint)).toEqual([
      op(g0, 0),
      aAtOne[0]!.outpoint,
    ]);
    expect(store.addressUtxos(A, { limit: 1 })).toHaveLength(1);
    expect(store.addressUtxos(A, { limit: 100, minHeight: 1 })).toEqual(aAtOne);
    expect(store.addressUtxos(A, { limit: 100, minHeight: 2 })).toEqual([]);

    await store.revertTip();
    genesisState();
  });

  it('an address whose next payload byte overflows does not read its neighbour', async () => {
    const { store, g0 } = await scenario();
    expect(store.addressUtxos(LOW, all)).toEqual([
      { outpoint: op(g0, 3), value: 1000n, height: 0, coinbase: false },
    ]);
    expect(store.addressUtxos(HIGH, all)).toEqual([
      { outpoint: op(g0, 4), value: 1000n, height: 0, coinbase: false },
    ]);
  });

  it('buildAddressIndex rebuilds the same index from the UTXO set and counts the outputs it indexed', async () => {
    const { store, genesis, b1 } = await scenario();
    await store.applyBlock(b1);
    const dbs = dbsOf(store);
    const n = dbs.env.transactionSync(() => {
      dbs.addressUtxos.clearSync();
      dbs.addressTotals.clearSync();
      return buildAddressIndex(dbs);
    });
    expect(n).toBe(9);
    expect(n).toBe(store.counts().utxos);
    expectAddressIndexed(store, ReplayModel.of(P, [genesis, b1]));
  });
});

describe('address index: disagreement with the UTXO set is refused, not written', () => {
  const spendE = (g0: EncodedTx, genesis: Block) =>
    handBlock(P, genesis, [handTx(P, [op(g0, 5)], [{ value: 400n, address: F }])]);
  const totals = (sat: bigint, outputs: number) => {
    const out = new Uint8Array(12);
    const v = new DataView(out.buffer);
    v.setBigUint64(0, sat, true);
    v.setUint32(8, outputs, true);
    return out;
  };

  it('a spend that would take the balance below zero aborts the block', async () => {
    const { store, genesis, g0 } = await scenario();
    const dbs = dbsOf(store);
    dbs.env.transactionSync(() => dbs.addressTotals.putSync(E, totals(10n, 1)));
    await expect(store.applyBlock(spendE(g0, genesis))).rejects.toThrow(/go negative/);
    expect(store.tip().height).toBe(0);
    expect(store.getUtxo(op(g0, 5))).toBeDefined();
    expect(store.addressTotals(E)).toEqual({ sat: 10n, outputs: 1 });
  });

  it('a spend that would take the output count below zero aborts the block', async () => {
    const { store, genesis, g0 } = await scenario();
    const dbs = dbsOf(store);
    dbs.env.transactionSync(() => dbs.addressTotals.putSync(E, totals(400n, 0)));
    await expect(store.applyBlock(spendE(g0, genesis))).rejects.toThrow(/go negative/);
    expect(store.tip().height).toBe(0);
    expect(store.addressTotals(E)).toEqual({ sat: 400n, outputs: 0 });
  });

  it('index records of the wrong size are refused when read', async () => {
    const { store, g0 } = await scenario();
    const dbs = dbsOf(store);
    const key = addressUtxoKey(A, 0, g0.txid, 0);
    for (const size of [11, 13]) {
      dbs.env.transactionSync(() => dbs.addressTotals.putSync(A, new Uint8Array(size)));
      expect(() => store.addressTotals(A), `${size} bytes`).toThrow(/address totals of/);
    }
    dbs.env.transactionSync(() => dbs.addressUtxos.putSync(key, new Uint8Array(8)));
    expect(() => store.addressUtxos(A, all)).toThrow(RangeError);
    expect(() => store.addressUtxos(A, all)).toThrow(/address index entry of 60\/8 bytes/);
    // A well-sized value under a key one byte too long.
    dbs.env.transactionSync(() => {
      dbs.addressUtxos.putSync(key, new Uint8Array(9));
      dbs.addressUtxos.putSync(Uint8Array.from([...key, 0]), new Uint8Array(9));
    });
    expect(() => store.addressUtxos(A, all)).toThrow(/address index entry of 61\/9 bytes/);
  });
});
