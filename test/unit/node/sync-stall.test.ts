import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { BlockSync, type BlockSyncDeps, MAX_COOL_DOWN_MS } from '../../../src/node/block-sync.js';
import type { ChainController } from '../../../src/node/chain-controller.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, encodeBlock } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { extendStore } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

/**
 * Two peers (any keys, no stake) claim a far tip (Hello / Tip messages, free) and never answer
 * GetBlocks. BlockSync always picks the highest claim that is not cooling down; a stalled request
 * costs the GetBlocks timeout (10 s in the node) and then only 5 s of cool-down, so two liars take
 * turns forever and the honest peer that holds the blocks is never asked.
 *
 * Time is scaled 100×: 1 real ms = 100 ms of the node's clock (GetBlocks timeout 10 s → 100 ms).
 */
let blocks: Block[] = [];
let store: ChainStore;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir('review-sync-');
  cleanup = t.cleanup;
  store = await ChainStore.open(t.dir, DEVNET, genesisBlock(DEVNET));
  blocks = await extendStore(store, [1, 2, 3, 4, 5, 6, 7, 8]);
});
afterAll(async () => {
  await store.close();
  cleanup();
});

describe('sync against peers that claim a far tip and stall', () => {
  it('still catches up from the honest peer that holds the blocks', async () => {
    const SCALE = 100;
    const t0 = Date.now();
    const now = () => (Date.now() - t0) * SCALE;
    const GETBLOCKS_TIMEOUT_REAL_MS = 10_000 / SCALE;
    let height = 0;
    const asks: string[] = [];
    const deps: BlockSyncDeps = {
      params: DEVNET,
      store: { tip: () => ({ height }) } as unknown as ChainStore,
      chain: {
        heldHeight: () => height,
        seenOutcome: () => undefined,
        receive: async (b: Block) => {
          if (b.header.height !== height + 1) return 'known';
          height = b.header.height;
          return 'applied';
        },
      } as unknown as ChainController,
      fetcher: {
        getBlocks: async (peerId, from, count) => {
          asks.push(peerId);
          if (peerId === 'honest') return blocks.slice(from - 1, from - 1 + count).map(encodeBlock);
          // A liar: never answers; the transport's request timeout fails it.
          await new Promise((r) => setTimeout(r, GETBLOCKS_TIMEOUT_REAL_MS));
          throw new Error('P2P_TIMEOUT: no answer within 10000 ms');
        },
      },
      log: pino({ level: 'silent' }),
      now,
      onBadBlock: () => undefined,
      onBadAnswer: () => undefined,
    };
    const sync = new BlockSync(deps);
    // Liars announce a far tip (and repeat it with Tip messages, 2/s allowed); the honest peer its 8.
    const tips = setInterval(() => {
      sync.peerTip('liar-1', 1_000_000);
      sync.peerTip('liar-2', 1_000_000);
    }, 5);
    sync.peerTip('liar-1', 1_000_000);
    sync.peerTip('liar-2', 1_000_000);
    sync.peerTip('honest', 8);
    await new Promise((r) => setTimeout(r, 1_500)); // 150 s of node time
    clearInterval(tips);
    sync.stop();
    expect(height).toBe(8);
  }, 10_000);
});

/** Sync on a fake clock: `honest` serves the blocks, any other peer's GetBlocks fails at once. */
function harness() {
  const clock = { now: 0 };
  let height = 0;
  const asks: string[] = [];
  const sync = new BlockSync({
    params: DEVNET,
    store: { tip: () => ({ height }) } as unknown as ChainStore,
    chain: {
      heldHeight: () => height,
      seenOutcome: () => undefined,
      receive: async (b: Block) => {
        if (b.header.height !== height + 1) return 'known';
        height = b.header.height;
        return 'applied';
      },
    } as unknown as ChainController,
    fetcher: {
      getBlocks: async (peerId, from, count) => {
        asks.push(`${peerId} ${from}`);
        if (peerId === 'honest') return blocks.slice(from - 1, from - 1 + count).map(encodeBlock);
        throw new Error('P2P_TIMEOUT: no answer within 10000 ms');
      },
    },
    log: pino({ level: 'silent' }),
    now: () => clock.now,
    onBadBlock: () => undefined,
    onBadAnswer: () => undefined,
  });
  const settle = () => new Promise((r) => setTimeout(r, 20));
  /** Claims a far tip for `peerId` at `atMs` and answers whether it was asked for blocks. */
  const claimAt = async (peerId: string, atMs: number): Promise<boolean> => {
    clock.now = atMs;
    const before = asks.length;
    sync.peerTip(peerId, 1_000_000);
    await settle();
    return asks.slice(before).some((a) => a.startsWith(`${peerId} `));
  };
  return { sync, clock, asks, claimAt, height: () => height, settle };
}

describe('a peer whose rounds fail', () => {
  it('has its claim lowered to what it served; claims while it cools down count only after', async () => {
    const h = harness();
    expect(await h.claimAt('liar', 0)).toBe(true);
    // Tips repeating the far claim do not lift it back while it cools down...
    expect(await h.claimAt('liar', 1)).toBe(false);
    expect(await h.claimAt('liar', 4_999)).toBe(false);
    expect(h.sync.syncing).toBe(false);
    // ...and the claim heard meanwhile counts once the cool-down is over (a lower one starts a round).
    h.clock.now = 5_000;
    h.sync.peerTip('liar', 1);
    await h.settle();
    expect(h.asks).toEqual(['liar 1', 'liar 1']);
    h.sync.stop();
  });

  it('cools down longer each time it fails again as soon as it is asked, up to a bound', async () => {
    const h = harness();
    expect(await h.claimAt('liar', 0)).toBe(true);
    let at = 0;
    for (const cool of [5_000, 10_000, 20_000, 40_000, 80_000, MAX_COOL_DOWN_MS, MAX_COOL_DOWN_MS]) {
      expect(await h.claimAt('liar', at + cool - 1)).toBe(false);
      at += cool;
      expect(await h.claimAt('liar', at)).toBe(true);
    }
    h.sync.stop();
  });

  it('starts from the shortest cool-down again when it was not asked for long after the last', async () => {
    const h = harness();
    expect(await h.claimAt('liar', 0)).toBe(true);
    expect(await h.claimAt('liar', 5_000)).toBe(true); // failed again at once: 10 s
    expect(await h.claimAt('liar', 14_999)).toBe(false);
    // Quiet for longer than its last cool-down: the next failure is a first one again.
    expect(await h.claimAt('liar', 30_000)).toBe(true);
    expect(await h.claimAt('liar', 34_999)).toBe(false);
    expect(await h.claimAt('liar', 35_000)).toBe(true);
    h.sync.stop();
  });

  it('keeps its failures when it reconnects', async () => {
    const h = harness();
    expect(await h.claimAt('liar', 0)).toBe(true);
    expect(await h.claimAt('liar', 5_000)).toBe(true); // cools until 15 s
    h.sync.peerGone('liar');
    expect(await h.claimAt('liar', 5_001)).toBe(false);
    expect(await h.claimAt('liar', 14_999)).toBe(false);
    expect(await h.claimAt('liar', 15_000)).toBe(true); // and fails a third time: 20 s
    h.sync.peerGone('liar');
    expect(await h.claimAt('liar', 34_999)).toBe(false);
    expect(await h.claimAt('liar', 35_000)).toBe(true);
    h.sync.stop();
  });

  it('is asked after the peers that have not failed, whatever it claims', async () => {
    const h = harness();
    expect(await h.claimAt('liar', 0)).toBe(true);
    h.clock.now = 4_000; // while it cools down it claims far more than the honest peer will
    h.sync.peerTip('liar', 1_000_000);
    h.clock.now = 5_000; // its cool-down is over
    h.sync.peerTip('honest', 8);
    await h.settle();
    expect(h.height()).toBe(8);
    expect(h.asks[1]).toBe('honest 1');
    h.sync.stop();
  });
});
