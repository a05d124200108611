import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET } from '../../../src/params/networks.js';
import type { Block } from '../../../src/protocol/block.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import {
  AddressIndexDelta,
  AddressIndexWriter,
  addressIndexCounts,
  addressUtxoKey,
  openAddressIndex,
  readAddressUtxos,
  readTotals,
  rebuildAddressIndex,
  replayDelta,
} from '../../../src/storage/address-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { addr, dbsOf, handBlock, handTx, indexDbsOf } from './hand-chain.js';
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
  return { store, genesis, g0, b1, cb, t1, t2, t3, t4, dir };
}

const all = { limit: 100 };

describe('address index: balances and unspent outputs per address', () => {
  it('after apply and after revert: totals, counts, order, heights and the coinbase flag', async () => {
    const { store, genesis, g0, b1, cb, t1, t2, t4 } = await scenario();
    const genesisState = async () => {
      expect(await store.addressTotals(A)).toEqual({ sat: 300n, outputs: 2 });
      expect(await store.addressTotals(B)).toEqual({ sat: 300n, outputs: 1 });
      expect(await store.addressTotals(E)).toEqual({ sat: 400n, outputs: 1 });
      for (const x of [C, D, F]) {
        expect(await store.addressTotals(x)).toEqual({ sat: 0n, outputs: 0 });
        expect(await store.addressUtxos(x, all)).toEqual([]);
      }
      expect(await store.addressUtxos(A, all)).toEqual([
        { outpoint: op(g0, 0), value: 100n, height: 0, coinbase: false },
        { outpoint: op(g0, 1), value: 200n, height: 0, coinbase: false },
      ]);
      expect(await store.addressIndexCounts()).toEqual({ outputs: 6, addresses: 5 });
      await expectAddressIndexed(store, ReplayModel.of(P, [genesis]));
    };
    await genesisState();

    await store.applyBlock(b1);
    expect(await store.addressTotals(A)).toEqual({ sat: 300n, outputs: 4 });
    expect(await store.addressTotals(B)).toEqual({ sat: 250n, outputs: 1 });
    expect(await store.addressTotals(C)).toEqual({ sat: 50n, outputs: 1 });
    expect(await store.addressTotals(F)).toEqual({ sat: 390n, outputs: 1 });
    for (const x of [D, E]) {
      expect(await store.addressTotals(x)).toEqual({ sat: 0n, outputs: 0 });
      expect(await store.addressUtxos(x, all)).toEqual([]);
    }
    const aAtOne = [
      { outpoint: op(cb, 0), value: 50n, height: 1, coinbase: true },
      { outpoint: op(t1, 0), value: 75n, height: 1, coinbase: false },
      { outpoint: op(t1, 1), value: 75n, height: 1, coinbase: false },
    ].sort(byKey);
    expect(await store.addressUtxos(A, all)).toEqual([
      { outpoint: op(g0, 0), value: 100n, height: 0, coinbase: false },
      ...aAtOne,
    ]);
    expect(await store.addressUtxos(B, all)).toEqual([
      { outpoint: op(t2, 0), value: 250n, height: 1, coinbase: false },
    ]);
    expect(await store.addressUtxos(F, all)).toEqual([
      { outpoint: op(t4, 0), value: 390n, height: 1, coinbase: false },
    ]);
    expect(await store.addressIndexCounts()).toEqual({ outputs: 9, addresses: 6 });
    await expectAddressIndexed(store, ReplayModel.of(P, [genesis, b1]));

    // Pages: the limit bounds the page, minHeight skips older outputs.
    expect((await store.addressUtxos(A, { limit: 2 })).map((u) => u.outpoint)).toEqual([
      op(g0, 0),
      aAtOne[0]!.outpoint,
    ]);
    expect(await store.addressUtxos(A, { limit: 1 })).toHaveLength(1);
    expect(await store.addressUtxos(A, { limit: 100, minHeight: 1 })).toEqual(aAtOne);
    expect(await store.addressUtxos(A, { limit: 100, minHeight: 2 })).toEqual([]);

    await store.revertTip();
    await genesisState();
  });

  it('an address whose next payload byte overflows does not read its neighbour', async () => {
    const { store, g0 } = await scenario();
    expect(await store.addressUtxos(LOW, all)).toEqual([
      { outpoint: op(g0, 3), value: 1000n, height: 0, coinbase: false },
    ]);
    expect(await store.addressUtxos(HIGH, all)).toEqual([
      { outpoint: op(g0, 4), value: 1000n, height: 0, coinbase: false },
    ]);
  });

  it('rebuildAddressIndex replaces the whole index with the UTXO set and counts the outputs it indexed', async () => {
    const { store, genesis, b1, g0 } = await scenario();
    await store.applyBlock(b1);
    await store.addressIndexCounts();
    const index = indexDbsOf(store);
    // A stray entry the rebuild must clear, not keep beside the rebuilt ones.
    index.env.transactionSync(() =>
      index.addressUtxos.putSync(addressUtxoKey(D, 7, g0.txid, 9), new Uint8Array(9)),
    );
    const n = rebuildAddressIndex(dbsOf(store).utxo, index, store.tip());
    expect(n).toBe(9);
    expect(n).toBe(store.counts().utxos);
    await expectAddressIndexed(store, ReplayModel.of(P, [genesis, b1]));
  });
});

describe('address index: a disagreement with the UTXO set stops the index, never the chain', () => {
  const spendE = (g0: EncodedTx, genesis: Block) =>
    handBlock(P, genesis, [handTx(P, [op(g0, 5)], [{ value: 400n, address: F }])]);
  const totals = (sat: bigint, outputs: number) => {
    const out = new Uint8Array(12);
    const v = new DataView(out.buffer);
    v.setBigUint64(0, sat, true);
    v.setUint32(8, outputs, true);
    return out;
  };

  for (const [what, forged] of [
    ['the balance', totals(10n, 1)],
    ['the output count', totals(400n, 0)],
  ] as const)
    it(`a spend that would take ${what} below zero: the block applies, the index fails, a restart rebuilds it`, async () => {
      const { store, genesis, g0, dir } = await scenario();
      const index = indexDbsOf(store);
      index.env.transactionSync(() => index.addressTotals.putSync(E, forged));
      const b1 = spendE(g0, genesis);
      await store.applyBlock(b1);
      expect(store.tip().height).toBe(1);
      expect(store.getUtxo(op(g0, 5))).toBeUndefined();
      await expect(store.addressTotals(E)).rejects.toThrow(/ADDRESS_INDEX_FAILED.*go negative/);
      await expect(store.addressUtxos(F, all)).rejects.toThrow(/ADDRESS_INDEX_FAILED/);
      // The failed transaction wrote nothing: the index still names genesis.
      expect(store.addressIndex.indexedTip()?.height).toBe(0);
      await store.close();
      const again = await ChainStore.open(dir, P, genesis);
      cleanups.push(() => again.close());
      expect(again.addressIndex.rebuilt).toBe(again.counts().utxos);
      expect(await again.addressTotals(E)).toEqual({ sat: 0n, outputs: 0 });
      await expectAddressIndexed(again, ReplayModel.of(P, [genesis, b1]));
    });

  it('index records of the wrong size are refused when read', async () => {
    const { store, g0 } = await scenario();
    const index = indexDbsOf(store);
    const key = addressUtxoKey(A, 0, g0.txid, 0);
    for (const size of [11, 13]) {
      index.env.transactionSync(() => index.addressTotals.putSync(A, new Uint8Array(size)));
      await expect(store.addressTotals(A), `${size} bytes`).rejects.toThrow(/address totals of/);
    }
    index.env.transactionSync(() => index.addressUtxos.putSync(key, new Uint8Array(8)));
    await expect(store.addressUtxos(A, all)).rejects.toThrow(RangeError);
    await expect(store.addressUtxos(A, all)).rejects.toThrow(/address index entry of 60\/8 bytes/);
    // A well-sized value under a key one byte too long.
    index.env.transactionSync(() => {
      index.addressUtxos.putSync(key, new Uint8Array(9));
      index.addressUtxos.putSync(Uint8Array.from([...key, 0]), new Uint8Array(9));
    });
    await expect(store.addressUtxos(A, all)).rejects.toThrow(/address index entry of 61\/9 bytes/);
  });
});

/*
 * The writer the index thread runs, driven here in this thread (the thread itself runs the compiled
 * build, out of reach of the mutation tests): a block's delta replayed into one write transaction.
 */
describe('AddressIndexWriter: one delta, one transaction', () => {
  async function indexEnv() {
    const { dir, cleanup } = tempDir('index-writer');
    const dbs = openAddressIndex(dir);
    cleanups.push(cleanup, () => dbs.env.close());
    const write = (record: (d: AddressIndexDelta) => void) => {
      const d = new AddressIndexDelta(16);
      record(d);
      const w = new AddressIndexWriter(dbs);
      dbs.env.transactionSync(() => {
        replayDelta(d.finish(), w);
        w.finish();
      });
    };
    return { dbs, write };
  }
  const tx = (n: number) => new Uint8Array(32).fill(n);

  it('sums totals per address, drops an address whose outputs all left, and keeps one a block leaves even', async () => {
    const { dbs, write } = await indexEnv();
    write((d) => {
      d.added(A, 1, tx(1), 0, 100n, false);
      d.added(A, 1, tx(1), 1, 50n, true);
      d.added(B, 1, tx(2), 0, 30n, false);
    });
    expect(readTotals(dbs, A)).toEqual({ sat: 150n, outputs: 2 });
    expect(readTotals(dbs, B)).toEqual({ sat: 30n, outputs: 1 });
    expect(addressIndexCounts(dbs)).toEqual({ outputs: 3, addresses: 2 });
    expect(readAddressUtxos(dbs, A, all).map((u) => [u.value, u.coinbase])).toEqual([
      [100n, false],
      [50n, true],
    ]);
    write((d) => {
      d.removed(A, 1, tx(1), 0, 100n);
      d.removed(A, 1, tx(1), 1, 50n);
      // B's output leaves and another joins: its total moves by nothing.
      d.removed(B, 1, tx(2), 0, 30n);
      d.added(B, 2, tx(3), 0, 30n, false);
    });
    expect(readTotals(dbs, A)).toEqual({ sat: 0n, outputs: 0 });
    expect(readAddressUtxos(dbs, A, all)).toEqual([]);
    expect(readTotals(dbs, B)).toEqual({ sat: 30n, outputs: 1 });
    expect(readAddressUtxos(dbs, B, all).map((u) => u.height)).toEqual([2]);
    expect(addressIndexCounts(dbs)).toEqual({ outputs: 1, addresses: 1 });
    // One output for another of a different value: the count stays, the sum moves.
    write((d) => {
      d.removed(B, 2, tx(3), 0, 30n);
      d.added(B, 3, tx(4), 0, 45n, false);
    });
    expect(readTotals(dbs, B)).toEqual({ sat: 45n, outputs: 1 });
  });

  it('refuses a total that would go below zero, in value or in outputs, and writes nothing of that delta', async () => {
    const { dbs, write } = await indexEnv();
    write((d) => d.added(D, 1, tx(1), 0, 5n, false));
    const cases: [string, (d: AddressIndexDelta) => void][] = [
      ['an address never paid', (d) => d.removed(C, 1, tx(9), 0, 10n)],
      ['more value than it holds', (d) => d.removed(D, 1, tx(1), 0, 10n)],
      [
        'more outputs than it holds',
        (d) => {
          d.removed(D, 1, tx(1), 0, 0n);
          d.removed(D, 1, tx(1), 1, 0n);
        },
      ],
    ];
    for (const [what, record] of cases) {
      expect(() => write(record), what).toThrow(/address totals would go negative/);
      expect(readTotals(dbs, D), what).toEqual({ sat: 5n, outputs: 1 });
      expect(addressIndexCounts(dbs), what).toEqual({ outputs: 1, addresses: 1 });
    }
  });
});
