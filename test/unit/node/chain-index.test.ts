import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { ChainIndex } from '../../../src/node/chain-index.js';
import { DEVNET } from '../../../src/params/networks.js';
import { headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { extendStore } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

/** The recent main chain in memory: here, the anchors it finds for a slot on a branch. */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store with empty blocks at `slots` (heights 1, 2, …) and an index over its last `keep`. */
async function indexed(slots: readonly number[], keep: number) {
  const { dir, cleanup } = tempDir('chain-index-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  const blocks = await extendStore(store, slots);
  const hashes = [genesisBlock(DEVNET), ...blocks].map((b) => toHex(headerHash(b.header)));
  return { index: new ChainIndex(store, keep), hashes };
}

describe('ChainIndex.anchorAtOrBelow: the anchor of a slot on a branch forking at a height', () => {
  it('is the newest block at or below that height with slot < slot − 1', async () => {
    // Heights 1..4 at slots 2, 3, 5, 6.
    const { index, hashes } = await indexed([2, 3, 5, 6], 16);
    const anchor = (slot: number, top: number) => {
      const a = index.anchorAtOrBelow(slot, top);
      return a && hashes.indexOf(toHex(a.hash));
    };
    // On the main chain itself it agrees with anchorFor.
    expect(anchor(8, 4)).toBe(4);
    expect(toHex(index.anchorFor(8).hash)).toBe(hashes[4]);
    // A branch forking at height 2 (slot 3): blocks above it are not its own.
    expect(anchor(8, 2)).toBe(2);
    // Slot 5 needs slot < 4: height 2 (slot 3), whatever lies above.
    expect(anchor(5, 4)).toBe(2);
    // A top above the tip is the tip.
    expect(anchor(8, 99)).toBe(4);
    // The first slots anchor on genesis.
    expect(anchor(1, 4)).toBe(0);
    expect(anchor(2, 4)).toBe(0);
    expect(anchor(3, 0)).toBe(0);
  });

  it('is undefined when the anchor lies below the blocks the index keeps (genesis not among them)', async () => {
    const { index, hashes } = await indexed([1, 2, 3, 4], 2);
    // Heights 3 and 4 kept (slots 3, 4).
    expect(toHex(index.anchorAtOrBelow(6, 4)!.hash)).toBe(hashes[4]);
    expect(toHex(index.anchorAtOrBelow(5, 4)!.hash)).toBe(hashes[3]);
    expect(index.anchorAtOrBelow(4, 4)).toBeUndefined();
    expect(index.anchorAtOrBelow(6, 3)!.height).toBe(3);
    // A fork point below the kept range: nothing to read.
    expect(index.anchorAtOrBelow(6, 1)).toBeUndefined();
  });
});

describe('ChainIndex: kept in step with the store', () => {
  it('loads the last `keep` blocks at start; above() is what a branch forking at a height competes with', async () => {
    const { index, hashes } = await indexed([1, 2, 3, 4], 3);
    expect(index.at(1)).toBeUndefined();
    expect(toHex(index.at(2)!.hash)).toBe(hashes[2]);
    expect(index.tip.height).toBe(4);
    expect(index.above(2).map((b) => b.height)).toEqual([3, 4]);
    expect(index.above(0).map((b) => b.height)).toEqual([2, 3, 4]);
    expect(index.above(4)).toEqual([]);
    expect(index.heightOf(headerHash(genesisBlock(DEVNET).header))).toBeUndefined();
    expect(index.heightOf(fromHexBytes(hashes[3]!))).toBe(3);
  });

  it('refuses a block that is not the next height, and one missing from the store at start', async () => {
    const { index, store } = await indexedWithStore([1, 2], 4);
    const [b3] = await extendStore(store, [3]);
    expect(() => index.pushed({ ...b3!.header, height: 4 }, true)).toThrow('index: 4 after 2');
    index.pushed(b3!.header, false);
    expect(index.tip).toMatchObject({ height: 3, timely: false });
    const gap = {
      tip: () => ({ height: 2 }),
      getBlockBytes: (h: number) => store.getBlockBytes(h === 1 ? 9 : h),
    };
    expect(() => new ChainIndex(gap, 4)).toThrow('block 1 missing below the tip 2');
  });

  it('after a revert it refills from the store to `keep` blocks, and refuses to drift from it', async () => {
    const { index, store } = await indexedWithStore([1, 2, 3, 4], 2);
    expect([index.at(3)?.height, index.at(2)]).toEqual([3, undefined]);
    await store.revertTip();
    index.popped(store);
    // Heights 2 and 3 now: the one below came back from the store, as timely (loaded from disk).
    expect(index.tip.height).toBe(3);
    expect(index.at(2)).toMatchObject({ height: 2, timely: true });
    expect(index.at(1)).toBeUndefined();
    // A pop the store did not make.
    expect(() => index.popped(store)).toThrow('index out of step with the store');
  });

  it('never refills below genesis, and a pop of its last block is refused', async () => {
    const { index, store } = await indexedWithStore([1], 8);
    await store.revertTip();
    index.popped(store);
    expect(index.tip.height).toBe(0);
    expect(index.above(-1).map((b) => b.height)).toEqual([0]);
    expect(() => index.popped(store)).toThrow('index out of step with the store');
  });
});

function fromHexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** As `indexed`, with the store (to move the chain under the index). */
async function indexedWithStore(slots: readonly number[], keep: number) {
  const { dir, cleanup } = tempDir('chain-index-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  await extendStore(store, slots);
  return { index: new ChainIndex(store, keep), store };
}
