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
  });
});
