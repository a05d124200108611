import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { BlockTree } from '../../../src/node/block-tree.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, blockSize, headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { extendStore } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

/**
 * The bounded set of blocks kept beside the main chain: what it keeps, where a branch meets the
 * main chain, and what it drops first when full — never a block a masternode signed for one anyone
 * can send.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const id = (b: Block) => toHex(headerHash(b.header));

/** Empty devnet blocks at `slots` on genesis, one chain (real headers, distinct hashes). */
async function chainOf(slots: readonly number[]): Promise<Block[]> {
  const { dir, cleanup } = tempDir('block-tree-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  return extendStore(store, slots);
}

/** `n` distinct blocks that all claim a parent nobody has: orphans, as a flood would send them. */
function orphans(template: Block, n: number): Block[] {
  return Array.from({ length: n }, (_, i) => ({
    ...template,
    header: { ...template.header, prevHash: new Uint8Array(32).fill(i + 1) },
  }));
}

describe('BlockTree: adding, finding, walking to the main chain', () => {
  it('keeps a block once, under its header hash, with what it was given', async () => {
    const [b1] = await chainOf([1]);
    const tree = new BlockTree();
    const tb = tree.add(b1!, false, 1_234, 'peer-a', true)!;
    expect(tb).toMatchObject({ id: id(b1!), height: 1, timely: false, arrivalMs: 1_234, peerId: 'peer-a' });
    expect(tb.headerChecked).toBe(true);
    expect(tb.parentId).toBe(toHex(b1!.header.prevHash));
    expect(tb.size).toBe(blockSize(b1!));
    expect(tree.add(b1!, true, 9, 'peer-b', false)).toBeUndefined();
    expect(tree.size).toBe(1);
    expect(tree.totalBytes).toBe(blockSize(b1!));
    expect(tree.get(id(b1!))?.peerId).toBe('peer-a');
  });

  it('walks a branch back to the main chain, oldest first, or names the missing parent', async () => {
    const [b1, b2, b3] = await chainOf([1, 2, 3]);
    const tree = new BlockTree();
    for (const b of [b2!, b3!]) tree.add(b, true, 0, 'peer-a', true);
    const main = new Map([[id(b1!), 1]]);
    const branch = tree.branchTo(id(b3!), (h) => main.get(h));
    expect(branch.kind).toBe('branch');
    if (branch.kind === 'branch') {
      expect(branch.forkHeight).toBe(1);
      expect(branch.blocks.map((b) => b.id)).toEqual([id(b2!), id(b3!)]);
    }
    expect(tree.branchTo(id(b3!), () => undefined)).toEqual({
      kind: 'orphan',
      missingParent: id(b1!),
      peerId: 'peer-a',
    });
    expect(tree.branchTo('ff'.repeat(32), () => undefined)).toMatchObject({
      kind: 'orphan',
      peerId: undefined,
    });
    expect(tree.childrenOf(id(b2!)).map((b) => b.id)).toEqual([id(b3!)]);
    expect(tree.leaves().map((b) => b.id)).toEqual([id(b3!)]);
  });

  it('forgets a deleted block everywhere, and drops what lies at or below a height', async () => {
    const [b1, b2, b3] = await chainOf([1, 2, 3]);
    const tree = new BlockTree();
    for (const b of [b1!, b2!, b3!]) tree.add(b, true, 0, undefined, true);
    tree.delete(id(b3!));
    expect(tree.has(id(b3!))).toBe(false);
    expect(tree.childrenOf(id(b2!))).toEqual([]);
    expect(tree.leaves().map((b) => b.id)).toEqual([id(b2!)]);
    expect(tree.totalBytes).toBe(blockSize(b1!) + blockSize(b2!));
    tree.delete(id(b3!)); // twice is harmless
    expect(tree.size).toBe(2);
    tree.pruneAtOrBelow(1);
    expect([b1!, b2!].map((b) => tree.has(id(b)))).toEqual([false, true]);
  });

  it('deleting one of two siblings leaves the other a child of their parent', async () => {
    const [b1] = await chainOf([1]);
    const [c1] = await chainOf([2]); // another block on genesis
    const tree = new BlockTree();
    for (const b of [b1!, c1!]) tree.add(b, true, 0, 'peer-a', true);
    const parent = toHex(b1!.header.prevHash);
    expect(tree.childrenOf(parent)).toHaveLength(2);
    tree.delete(id(b1!));
    expect(tree.childrenOf(parent).map((b) => b.id)).toEqual([id(c1!)]);
    expect(tree.leaves().map((b) => b.id)).toEqual([id(c1!)]);
  });

  it('refuses a block larger than the whole byte budget', async () => {
    const [b1] = await chainOf([1]);
    const tree = new BlockTree({ maxBlocks: 8, maxBytes: blockSize(b1!) - 1 });
    expect(tree.add(b1!, true, 0, 'peer-a', true)).toBeUndefined();
    expect(tree.size).toBe(0);
    expect(
      new BlockTree({ maxBlocks: 8, maxBytes: blockSize(b1!) }).add(b1!, true, 0, 'peer-a', true),
    ).toBeDefined();
  });
});

describe('BlockTree: over its bounds', () => {
  it('drops the oldest arrivals first, by count, never the block just added', async () => {
    const blocks = await chainOf([1, 2, 3]);
    const tree = new BlockTree({ maxBlocks: 2, maxBytes: 1 << 20 });
    for (const b of blocks) tree.add(b, true, 0, 'peer-a', true);
    expect(blocks.map((b) => tree.has(id(b)))).toEqual([false, true, true]);
    // A limit of one keeps only the newest.
    const one = new BlockTree({ maxBlocks: 1, maxBytes: 1 << 20 });
    for (const b of blocks) one.add(b, true, 0, 'peer-a', true);
    expect(blocks.map((b) => one.has(id(b)))).toEqual([false, false, true]);
  });

  it('drops by bytes too: exactly at the budget everything stays', async () => {
    const blocks = await chainOf([1, 2, 3]);
    const bytes = blocks.reduce((n, b) => n + blockSize(b), 0);
    const exact = new BlockTree({ maxBlocks: 8, maxBytes: bytes });
    for (const b of blocks) exact.add(b, true, 0, 'peer-a', true);
    expect(exact.size).toBe(3);
    const short = new BlockTree({ maxBlocks: 8, maxBytes: bytes - 1 });
    for (const b of blocks) short.add(b, true, 0, 'peer-a', true);
    expect(blocks.map((b) => short.has(id(b)))).toEqual([false, true, true]);
    expect(short.totalBytes).toBe(bytes - blockSize(blocks[0]!));
  });

  it('a flood of unchecked blocks never pushes out a checked one: the oldest unchecked go first', async () => {
    const [b1, b2] = await chainOf([1, 2]);
    const tree = new BlockTree({ maxBlocks: 4, maxBytes: 1 << 20 });
    // Two real blocks a leader signed (checked), held while their transactions become final here.
    tree.add(b1!, true, 0, 'peer-a', true);
    tree.add(b2!, true, 0, 'peer-a', true);
    const flood = orphans(b1!, 10);
    for (const f of flood) tree.add(f, true, 0, 'mallory', false);
    expect(tree.has(id(b1!)) && tree.has(id(b2!))).toBe(true);
    expect(tree.size).toBe(4);
    // The two newest of the flood remain.
    expect(flood.map((f) => tree.has(id(f)))).toEqual([...Array(8).fill(false), true, true]);
  });

  it('checked blocks go, oldest first, only when no unchecked one is left to drop', async () => {
    const [b1, b2, b3] = await chainOf([1, 2, 3]);
    const tree = new BlockTree({ maxBlocks: 2, maxBytes: 1 << 20 });
    const [o1] = orphans(b1!, 1);
    tree.add(b1!, true, 0, 'peer-a', true);
    tree.add(o1!, true, 0, 'mallory', false);
    // Full: the newcomer (checked) makes the unchecked orphan go, though it came after b1.
    tree.add(b2!, true, 0, 'peer-a', true);
    expect([b1!, o1!, b2!].map((b) => tree.has(id(b)))).toEqual([true, false, true]);
    // Only checked blocks left: the oldest of them goes.
    tree.add(b3!, true, 0, 'peer-a', true);
    expect([b1!, b2!, b3!].map((b) => tree.has(id(b)))).toEqual([false, true, true]);
  });

  it('an unchecked newcomer into a tree of checked blocks stays, and the oldest checked goes', async () => {
    const [b1, b2] = await chainOf([1, 2]);
    const tree = new BlockTree({ maxBlocks: 2, maxBytes: 1 << 20 });
    tree.add(b1!, true, 0, 'peer-a', true);
    tree.add(b2!, true, 0, 'peer-a', true);
    const [o1] = orphans(b1!, 1);
    tree.add(o1!, true, 0, 'peer-b', false);
    expect([b1!, b2!, o1!].map((b) => tree.has(id(b)))).toEqual([false, true, true]);
  });
});
