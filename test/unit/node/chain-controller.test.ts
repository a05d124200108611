import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { slotAt } from '../../../src/chain/slot-time.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { type CommittedChain, LedgerService } from '../../../src/ledger/ledger-service.js';
import { SerialQueue } from '../../../src/ledger/serial-queue.js';
import { BlockTree } from '../../../src/node/block-tree.js';
import { ChainController, type ChainControllerDeps } from '../../../src/node/chain-controller.js';
import { ChainIndex } from '../../../src/node/chain-index.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { extendStore, inlineBeacons, nextBlockOn } from '../../support/block-builder.js';
import { untouched } from '../../support/untouched.js';
import { tempDir } from '../storage/temp-dir.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The controller over a real store, index and tree (devnet genesis); the rest must stay unused. */
async function setup(tree = new BlockTree(), onHeader?: ChainControllerDeps['onHeader']) {
  const { dir, cleanup } = tempDir('chain-controller-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  const orphansAnnounced: number[] = [];
  const { block } = nextBlockOn(store, []);
  const deps: ChainControllerDeps = {
    params: DEVNET,
    store,
    index: new ChainIndex(store, DEVNET.maxReorgDepth + 8),
    tree,
    log: pino({ level: 'silent' }),
    now: () => block.header.timestampMs + 1_000,
    finalityWaitMs: 1_000,
    onOrphan: (_peer, height) => orphansAnnounced.push(height),
    ledger: untouched('ledger'),
    engine: untouched('engine'),
    serial: untouched('serial'),
    beacons: untouched('beacons'),
    intake: untouched('intake'),
    waiters: untouched('waiters'),
    onApplied: untouched('onApplied'),
    onReverted: untouched('onReverted'),
    onRejected: untouched('onRejected'),
    onBadBlock: untouched('onBadBlock'),
    ...(onHeader ? { onHeader } : {}),
  };
  return { chain: new ChainController(deps), tree, block, store, orphansAnnounced };
}

describe('ChainController.receive: what sync hears for blocks it already holds', () => {
  it('a held orphan is reported as an orphan every time it arrives again, never as known', async () => {
    const { chain, block, orphansAnnounced } = await setup();
    // A block of another branch whose parent we never saw (as after a partition: gossip brought the
    // other side's newest block, not the ones we missed).
    const orphan: Block = {
      ...block,
      header: { ...block.header, height: 9, prevHash: new Uint8Array(32).fill(7) },
    };
    expect(await chain.receive(orphan, 'gossip', 'peer-a')).toBe('orphan');
    expect(orphansAnnounced).toEqual([9]);
    // Sync fetches it again from a peer: still unconnected, so sync must step back for its parents.
    expect(await chain.receive(orphan, 'sync', 'peer-b')).toBe('orphan');
    expect(await chain.receive(orphan, 'gossip', 'peer-c')).toBe('orphan');
  });

  it('a held block whose branch reaches the main chain, and a main-chain block, are known', async () => {
    const { chain, tree, block } = await setup();
    // Held beside the main chain (its parent is genesis), as a side branch that did not win.
    expect(tree.add(block, true, 0, 'peer-a', true)).toBeDefined();
    expect(await chain.receive(block, 'sync', 'peer-b')).toBe('known');
    expect(await chain.receive(genesisBlock(DEVNET), 'sync', 'peer-b')).toBe('known');
  });
});

describe('ChainController: which headers the double-sign detector sees', () => {
  it('a registered producer in a slot that has begun; never a future block, a far slot or an unknown key', async () => {
    const seen: number[] = [];
    const { chain, block } = await setup(new BlockTree(), (b) => seen.push(b.header.slot));
    // Orphans (unknown parent), so nothing else runs: the detector sees headers before any check.
    const orphan = (over: Partial<Block['header']>): Block => ({
      ...block,
      header: { ...block.header, prevHash: new Uint8Array(32).fill(7), ...over },
    });
    const slot = block.header.slot;
    expect(await chain.receive(orphan({ slot }), 'gossip', 'p')).toBe('orphan');
    expect(seen).toEqual([slot]);
    // A slot far ahead of our clock (the timestamp is not): it would stop the detector's pruning.
    expect(await chain.receive(orphan({ slot: slot + 1_000 }), 'gossip', 'p')).toBe('orphan');
    // A producer key nobody registered: free to make, one per header.
    expect(await chain.receive(orphan({ producerPubkey: new Uint8Array(32).fill(9) }), 'gossip', 'p')).toBe(
      'orphan',
    );
    // From the future: dropped unseen.
    expect(
      await chain.receive(orphan({ timestampMs: block.header.timestampMs + 60_000 }), 'gossip', 'p'),
    ).toBe('future');
    expect(seen).toEqual([slot]);
    // The last slot our clock allows (now + the future tolerance) is seen; the one after it is not.
    const edge = slotAt(DEVNET, block.header.timestampMs + 1_000 + DEVNET.futureBlockToleranceMs);
    expect(edge).toBeGreaterThan(slot);
    await chain.receive(orphan({ slot: edge + 1 }), 'gossip', 'p');
    await chain.receive(orphan({ slot: edge }), 'gossip', 'p');
    expect(seen).toEqual([slot, edge]);
  });
});

describe('ChainController.heldHeight and seenOutcome: what sync need not fetch again', () => {
  it('counts a held block that connects to the main chain, never an orphan above it', async () => {
    const { chain, tree, block } = await setup();
    const id = toHex(headerHash(block.header));
    expect(chain.heldHeight()).toBe(0);
    expect(chain.seenOutcome(id)).toBeUndefined();
    const orphan: Block = {
      ...block,
      header: { ...block.header, height: 9, prevHash: new Uint8Array(32).fill(7) },
    };
    expect(await chain.receive(orphan, 'gossip', 'peer-a')).toBe('orphan');
    // Held, but its ancestors are missing: sync must still fetch below and around it.
    expect(chain.heldHeight()).toBe(0);
    expect(chain.seenOutcome(toHex(headerHash(orphan.header)))).toBe('orphan');
    // Block 1 on genesis, held beside the tip (as while its transactions await finality here).
    tree.add(block, true, 0, 'peer-a', true);
    expect(chain.heldHeight()).toBe(1);
    expect(chain.seenOutcome(id)).toBe('known');
    expect(chain.seenOutcome(toHex(headerHash(genesisBlock(DEVNET).header)))).toBe('known');
  });
});

describe('ChainController.heldHeight over many held blocks: linear in the tree, not leaves × depth', () => {
  it('a comb of forged orphans (a chain of 200, 200 leaves on top) costs one lookup per block', async () => {
    const { chain, tree, block } = await setup(new BlockTree({ maxBlocks: 1_000, maxBytes: 100_000_000 }));
    const forge = (prevHash: Uint8Array, height: number, tag: number): Block => ({
      ...block,
      header: { ...block.header, height, prevHash, timestampMs: block.header.timestampMs + tag },
      signature: new Uint8Array(64),
    });
    let prev: Uint8Array = new Uint8Array(32).fill(0xee);
    for (let i = 0; i < 200; i++) {
      const b = forge(prev, 1_000 + i, i);
      expect(await chain.receive(b, 'gossip', 'attacker')).toBe('orphan');
      prev = headerHash(b.header);
    }
    for (let i = 0; i < 200; i++)
      expect(await chain.receive(forge(prev, 1_200, 1_000 + i), 'gossip', 'attacker')).toBe('orphan');
    // And one real block beside the tip, which does connect.
    tree.add(block, true, 0, 'peer-a', true);
    expect(tree.size).toBe(401);
    const lookups = vi.spyOn(ChainIndex.prototype, 'heightOfId');
    try {
      expect(chain.heldHeight()).toBe(1);
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(tree.size);
      lookups.mockClear();
      expect(chain.longerBranchPending(0)).toBe(true);
      // The connectivity pass, then one walk of the one connected branch.
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(tree.size + 1);
    } finally {
      lookups.mockRestore();
    }
  });
});

describe('ChainController.longerBranchPending: a branch ahead of our tip we have not followed yet', () => {
  it('counts a connected branch above the tip by its newest arrival, never an orphan', async () => {
    const { chain, tree, block } = await setup();
    expect(chain.longerBranchPending(0)).toBe(false);
    const orphan: Block = {
      ...block,
      header: { ...block.header, height: 9, prevHash: new Uint8Array(32).fill(7) },
    };
    tree.add(orphan, true, 5_000, 'peer-a', true);
    expect(chain.longerBranchPending(0)).toBe(false);
    // Block 1 on genesis arrived at 1,000 ms and waits (as for its transactions' finality here).
    tree.add(block, true, 1_000, 'peer-a', true);
    expect(chain.longerBranchPending(1_000)).toBe(true);
    // Arrived before the time asked about: it timed out undecided, production goes on.
    expect(chain.longerBranchPending(1_001)).toBe(false);
  });

  it('counts only blocks that passed the header check, from the fork point up', async () => {
    const { chain, tree } = await setup();
    const { dir, cleanup } = tempDir('chain-controller-side-');
    const side = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
    cleanups.push(cleanup, () => side.close());
    const [b1, b2] = await extendStore(side, [1, 2]);
    // Not checked yet (its check runs, or it is a forgery): it holds nothing back.
    const t1 = tree.add(b1!, true, 1_000, 'peer-a', false)!;
    expect(chain.longerBranchPending(0)).toBe(false);
    t1.headerChecked = true;
    expect(chain.longerBranchPending(0)).toBe(true);
    // An unchecked block above it: the branch is pending by its checked part's newest arrival.
    const t2 = tree.add(b2!, true, 5_000, 'peer-a', false)!;
    expect(chain.longerBranchPending(1_000)).toBe(true);
    expect(chain.longerBranchPending(2_000)).toBe(false);
    t2.headerChecked = true;
    expect(chain.longerBranchPending(2_000)).toBe(true);
    expect(chain.longerBranchPending(5_001)).toBe(false);
  });

  it('a side branch no longer than our chain is neither pending nor held above the tip', async () => {
    const { chain, tree, block, store } = await setup();
    // Our chain: block 1 of slot 2. Beside it, just arrived: block 1 of slot 1 (lost fork choice).
    await extendStore(store, [2]);
    tree.add(block, true, 1_000, 'peer-a', true);
    expect(chain.longerBranchPending(0)).toBe(false);
    expect(chain.heldHeight()).toBe(1);
    // Our chain grows past it: the side block stays below the tip and never lowers what we hold.
    await extendStore(store, [3]);
    expect(chain.longerBranchPending(0)).toBe(false);
    expect(chain.heldHeight()).toBe(2);
  });
});

/** A store whose block writes fail for one block (a disk error, a lost worker): not the block's fault. */
function failingFor(store: ChainStore, bad: { hash: string | undefined }): CommittedChain {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'applyBlock')
        return async (block: Block) => {
          if (toHex(headerHash(block.header)) === bad.hash) throw new Error('EIO: i/o error');
          return target.applyBlock(block);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as CommittedChain;
}

describe('ChainController.receive: a block too big for the tree', () => {
  it('is neither kept nor looked at: nothing else is touched', async () => {
    const { chain, block } = await setup(new BlockTree({ maxBlocks: 8, maxBytes: 100 }));
    expect(await chain.receive(block, 'gossip', 'peer-a')).toBe('known');
    expect(chain.isKnown(toHex(headerHash(block.header)))).toBe(false);
  });
});

describe('ChainController: a reorg that breaks half way', () => {
  /**
   * Main chain a1 on genesis; a branch b1, b2 of its own; the store's writes fail for `bad.hash`.
   * `maxReorgDepth` overrides the devnet's; `orphans` records each request for missing ancestors.
   */
  async function reorgFixture(maxReorgDepth = DEVNET.maxReorgDepth) {
    const { dir, cleanup } = tempDir('chain-controller-reorg-');
    const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
    cleanups.push(cleanup, () => store.close());
    const other = tempDir('chain-controller-branch-');
    const branchStore = await ChainStore.open(other.dir, DEVNET, genesisBlock(DEVNET));
    cleanups.push(other.cleanup, () => branchStore.close());

    // The branch: two blocks on genesis (slots 2 and 3), built on a store of its own.
    const b1 = nextBlockOn(branchStore, [], { slot: 2 }).block;
    await branchStore.applyBlock(b1);
    const b2 = nextBlockOn(branchStore, []).block;
    // Our main chain: one block on genesis (slot 1).
    const { block: a1, slot: a1Slot } = nextBlockOn(store, []);
    const bad = { hash: undefined as string | undefined };
    const ledger = LedgerService.open(DEVNET, failingFor(store, bad), new WasmVerifier());
    await ledger.applyBlock(a1, a1Slot);

    const tree = new BlockTree();
    const index = new ChainIndex(store, DEVNET.maxReorgDepth + 8);
    const reverted: string[] = [];
    const applied: string[] = [];
    const orphans: { peerId: string | undefined; height: number }[] = [];
    const chain = new ChainController({
      params: { ...DEVNET, maxReorgDepth },
      store,
      index,
      tree,
      log: pino({ level: 'silent' }),
      now: () => b2.header.timestampMs + 1_000,
      finalityWaitMs: 1_000,
      onOrphan: (peerId, height) => orphans.push({ peerId, height }),
      ledger,
      serial: new SerialQueue(),
      beacons: inlineBeacons(DEVNET),
      onApplied: (b) => applied.push(toHex(headerHash(b.header))),
      onReverted: (b) => reverted.push(toHex(headerHash(b.header))),
      onRejected: () => undefined,
      onBadBlock: untouched('onBadBlock'),
      engine: untouched('engine'),
      intake: untouched('intake'),
      waiters: untouched('waiters'),
    });
    const id = (b: Block) => toHex(headerHash(b.header));
    return { store, tree, chain, a1, b1, b2, bad, reverted, applied, orphans, id };
  }

  type ReorgFixture = Awaited<ReturnType<typeof reorgFixture>>;

  /** b1 is held beside a1; then b2 starts the switch to the branch, whose write of `failing` fails. */
  async function breakSwitch(f: ReorgFixture, failing: Block): Promise<void> {
    // b1 alone ties with a1 on length and loses on the hash or rank: kept beside the main chain.
    expect(await f.chain.receive(f.b1, 'sync', 'peer-b')).toBe('side');
    f.bad.hash = f.id(failing);
    await expect(f.chain.receive(f.b2, 'sync', 'peer-b')).rejects.toThrow('EIO');
  }

  it('keeps the reverted blocks when applying the branch fails on something other than the block', async () => {
    const f = await reorgFixture();
    const { store, tree, chain, a1, b1, b2, bad, reverted, applied, id } = f;
    // b2 makes the branch longer: the node reverts a1, applies b1, and the write of b2 fails.
    await breakSwitch(f, b2);
    expect(reverted).toEqual([id(a1)]);
    expect(applied).toEqual([id(b1)]);
    expect(store.tip().height).toBe(1);
    // a1 was valid; only the switch broke. It is still held, so fork choice can come back to it,
    // and b2 is still held to be tried again.
    expect(tree.has(id(a1))).toBe(true);
    expect(tree.has(id(b2))).toBe(true);
    expect(chain.isKnown(id(a1))).toBe(true);

    // Once the disk works again, the longer branch is taken and a1 stays held as a side branch.
    bad.hash = undefined;
    await chain.reconsiderLeaves();
    expect(store.tip().height).toBe(2);
    expect(toHex(store.tip().hash)).toBe(id(b2));
    expect(tree.has(id(a1))).toBe(true);
  });

  it('keeps the reverted blocks when the first block of the branch cannot be written', async () => {
    const f = await reorgFixture();
    const { store, tree, a1, b1, b2, bad, reverted, applied, chain, id } = f;
    // The switch reverts a1, then b1's write fails: the store is left at genesis, below a1's height.
    await breakSwitch(f, b1);
    expect(reverted).toEqual([id(a1)]);
    expect(applied).toEqual([]);
    expect(store.tip().height).toBe(0);
    expect(tree.has(id(a1)) && tree.has(id(b1)) && tree.has(id(b2))).toBe(true);
    bad.hash = undefined;
    await chain.reconsiderLeaves();
    expect(toHex(store.tip().hash)).toBe(id(b2));
  });

  it("does not look again at a leaf that an earlier leaf's switch pruned (no ancestors asked for)", async () => {
    // With a reorg depth of 1, applying b1, b2 prunes every held block at height 1, a1 among them.
    const f = await reorgFixture(1);
    const { store, tree, chain, a1, b1, b2, bad, orphans, id } = f;
    await breakSwitch(f, b1);
    expect(tree.leaves().map((l) => l.id)).toEqual([id(b2), id(a1)]);
    bad.hash = undefined;
    await chain.reconsiderLeaves();
    expect(toHex(store.tip().hash)).toBe(id(b2));
    expect(tree.has(id(a1))).toBe(false);
    // a1, gone from the tree, would read as a block whose parent is missing: a fetch for nothing.
    expect(orphans).toEqual([]);
  });
});
