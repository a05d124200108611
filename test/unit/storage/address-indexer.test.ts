import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET } from '../../../src/params/networks.js';
import { AddressIndexDelta, type AddressIndexSink, replayDelta } from '../../../src/storage/address-index.js';
import { MAX_INDEX_LAG } from '../../../src/storage/address-indexer.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { expectAddressIndexed, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

/*
 * The address index's thread (address-indexer.ts) against a real store: blocks reach it in commit
 * order, a store never runs more than MAX_INDEX_LAG blocks ahead of it, a change that does not
 * start at its tip stops it (never the chain), and a closed store refuses reads.
 */

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freshStore(seed: number) {
  const { dir, cleanup } = tempDir('indexer');
  const chain = SyntheticChain.create(DEVNET, seed, 400);
  const genesis = chain.genesis();
  const store = await ChainStore.open(dir, DEVNET, genesis);
  cleanups.push(cleanup, () => store.close());
  return { dir, chain, genesis, store };
}

describe('AddressIndexer', () => {
  it('applyBlock settles only while the thread is at most MAX_INDEX_LAG blocks behind; reads wait for it to catch up', async () => {
    const { chain, genesis, store } = await freshStore(3);
    const blocks = [genesis];
    let maxLag = 0;
    for (let i = 0; i < MAX_INDEX_LAG * 3; i++) {
      const b = chain.nextBlock({ spends: 40 });
      await store.applyBlock(b);
      blocks.push(b);
      maxLag = Math.max(maxLag, store.addressIndex.lag);
      expect(store.addressIndex.lag).toBeLessThanOrEqual(MAX_INDEX_LAG);
    }
    // A read waits for every block handed over, then sees the chain's tip.
    await expectAddressIndexed(store, ReplayModel.of(DEVNET, blocks));
    expect(store.addressIndex.lag).toBe(0);
    expect(store.addressIndex.indexedTip()).toEqual(store.tip());
    expect(maxLag).toBeGreaterThan(0);
  });

  it('a change that does not start at the index tip stops the index, never the chain', async () => {
    const { chain, store } = await freshStore(4);
    const b1 = chain.nextBlock({ spends: 5 });
    // As if a block had been lost on its way: the thread is at genesis, this claims to extend b1.
    const fake = { height: 1, hash: new Uint8Array(32).fill(9), slot: 1 };
    await store.addressIndex.applied(
      fake,
      { height: 2, hash: new Uint8Array(32), slot: 2 },
      new AddressIndexDelta(0).finish(),
    );
    await expect(store.addressTotals(new Uint8Array(20))).rejects.toThrow(
      /ADDRESS_INDEX_FAILED.*apply from 0909.*but the index is at/,
    );
    // The chain takes blocks as before, and the failed index is not handed them.
    await store.applyBlock(b1);
    expect(store.tip().height).toBe(1);
    expect(store.addressIndex.lag).toBe(1);
    expect(() => store.addressIndex.counts()).toThrow(/ADDRESS_INDEX_FAILED/);
  });

  it('a closed store refuses address reads with ADDRESS_INDEX_CLOSED', async () => {
    const { store } = await freshStore(5);
    await store.close();
    await expect(store.addressIndex.synced()).rejects.toThrow(/ADDRESS_INDEX_CLOSED/);
    expect(() => store.addressIndex.totals(new Uint8Array(20))).toThrow(/ADDRESS_INDEX_CLOSED/);
  });
});

describe('AddressIndexDelta: the bytes a block walk hands the index thread', () => {
  it('replays every record in order, with every field, added and removed alike', () => {
    const seen: unknown[] = [];
    const sink: AddressIndexSink = {
      added: (a, h, t, v, value, cb) => seen.push(['+', [...a], h, [...t], v, value, cb]),
      removed: (a, h, t, v, value) => seen.push(['-', [...a], h, [...t], v, value]),
    };
    const addr = (b: number) => new Uint8Array(20).fill(b);
    const txid = (b: number) => new Uint8Array(32).fill(b);
    const d = new AddressIndexDelta(4);
    d.added(addr(1), 7, txid(2), 3, 2n ** 63n + 5n, true);
    d.removed(addr(4), 0xffff_fffe, txid(5), 0xffff_ffff, 1n);
    // A raw stored UtxoEntry: value u64 LE ‖ address 20 ‖ height u32 LE ‖ flags.
    const raw = new Uint8Array(33);
    new DataView(raw.buffer).setBigUint64(0, 9n, true);
    raw.set(addr(6), 8);
    new DataView(raw.buffer).setUint32(28, 11, true);
    d.removedRaw(raw, txid(8), 1);
    d.added(addr(9), 1, txid(9), 0, 0n, false);
    const bytes = d.finish();
    expect(bytes.byteLength).toBe(4 * 70);
    replayDelta(bytes, sink);
    expect(seen).toEqual([
      ['+', [...addr(1)], 7, [...txid(2)], 3, 2n ** 63n + 5n, true],
      ['-', [...addr(4)], 0xffff_fffe, [...txid(5)], 0xffff_ffff, 1n],
      ['-', [...addr(6)], 11, [...txid(8)], 1, 9n],
      ['+', [...addr(9)], 1, [...txid(9)], 0, 0n, false],
    ]);
  });

  it('finishes at the records written, refuses one more than it was sized for, and a torn buffer', () => {
    const d = new AddressIndexDelta(2);
    d.removed(new Uint8Array(20), 1, new Uint8Array(32), 0, 5n);
    expect(d.finish().byteLength).toBe(70);
    d.removed(new Uint8Array(20), 1, new Uint8Array(32), 1, 5n);
    expect(() => d.removed(new Uint8Array(20), 1, new Uint8Array(32), 2, 5n)).toThrow(/delta is full/);
    const sink: AddressIndexSink = { added: () => undefined, removed: () => undefined };
    // Fields are fixed-size: a view of another length is refused, not spilled into the next field.
    const roomy = new AddressIndexDelta(4);
    expect(() => roomy.added(new Uint8Array(21), 1, new Uint8Array(32), 0, 1n, false)).toThrow(
      /address of 21/,
    );
    expect(() => roomy.removed(new Uint8Array(19), 1, new Uint8Array(32), 0, 1n)).toThrow(/address of 19/);
    expect(() => roomy.removed(new Uint8Array(20), 1, new Uint8Array(33), 0, 1n)).toThrow(/txid of 33/);
    expect(() => roomy.removedRaw(new Uint8Array(33), new Uint8Array(31), 0)).toThrow(/txid of 31/);
    expect(roomy.finish().byteLength).toBe(0);
    expect(() => replayDelta(new Uint8Array(69), sink)).toThrow(/not whole records/);
    expect(() => replayDelta(new Uint8Array(141), sink)).toThrow(/not whole records/);
  });
});
