import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { BlockTree } from '../../../src/node/block-tree.js';
import { ChainController, type ChainControllerDeps } from '../../../src/node/chain-controller.js';
import { ChainIndex } from '../../../src/node/chain-index.js';
import { DEVNET } from '../../../src/params/networks.js';
import type { Block } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A dependency the path under test must not touch: any use throws and fails the test. */
const untouched = <T>(name: string): T =>
  new Proxy({} as object, {
    get: (_t, prop) => {
      throw new Error(`${name}.${String(prop)} used on a path that must not reach it`);
    },
  }) as T;

/** The controller over a real store, index and tree (devnet genesis); the rest must stay unused. */
async function setup() {
  const { dir, cleanup } = tempDir('chain-controller-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  const tree = new BlockTree();
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
  };
  return { chain: new ChainController(deps), tree, block, orphansAnnounced };
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
    expect(tree.add(block, true, 0, 'peer-a')).toBeDefined();
    expect(await chain.receive(block, 'sync', 'peer-b')).toBe('known');
    expect(await chain.receive(genesisBlock(DEVNET), 'sync', 'peer-b')).toBe('known');
  });
});
