import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import type { Block } from '../../../src/protocol/block.js';
import { headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { SeededRandom, SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { expectStoreMatches, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const plan = (rng: SeededRandom) => ({
  spends: 5 + rng.below(20),
  registrations: rng.below(3),
  deregistrations: rng.below(2),
});

describe('reorg: apply N, revert k, apply another branch', () => {
  it('leaves exactly the state of a fresh replay of the winning branch, over several reorgs', async () => {
    const { dir, cleanup } = tempDir('reorg');
    cleanups.push(cleanup);
    const rng = new SeededRandom(77);
    const gen = SyntheticChain.create(DEVNET, 7, 300);
    const genesis = gen.genesis();
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());

    // `forks[h]` is a generator positioned at height h of the current best chain.
    let chain: Block[] = [genesis];
    let forks: SyntheticChain[] = [gen.fork()];
    let head = gen;
    const extend = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const b = head.nextBlock(plan(rng));
        await store.applyBlock(b);
        chain.push(b);
        forks.push(head.fork());
      }
    };
    await extend(12);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, chain));

    for (const [k, newLength] of [
      [4, 6],
      [1, 1],
      [6, 9],
      [3, 2],
    ] as const) {
      const forkHeight = chain.length - 1 - k;
      const loser = chain.slice(forkHeight + 1);
      for (let i = 0; i < k; i++) await store.revertTip();
      expect(store.tip().height).toBe(forkHeight);
      // Right after the reverts, before any block follows: their txids are in no block.
      for (const b of loser) for (const t of b.txs) expect(store.getTxHeight(t.txid)).toBeUndefined();
      await expectStoreMatches(store, ReplayModel.of(DEVNET, chain.slice(0, forkHeight + 1)));

      chain = chain.slice(0, forkHeight + 1);
      forks = forks.slice(0, forkHeight + 1);
      // A different branch from the same parent state.
      head = forks[forkHeight]!.fork().diverge();
      await extend(newLength);
      const winnerHashes = chain.slice(forkHeight + 1).map((b) => toHex(headerHash(b.header)));
      expect(winnerHashes).not.toContain(toHex(headerHash(loser[0]!.header)));

      // The store equals a from-scratch replay of genesis + the winning branch.
      await expectStoreMatches(store, ReplayModel.of(DEVNET, chain));
      expect(store.tip().hash).toEqual(headerHash(chain[chain.length - 1]!.header));
      for (const b of loser) expect(store.getHeight(headerHash(b.header))).toBeUndefined();
      // The loser's transactions stay final: every one the winner did not include is in the pool.
      const winnerTxids = new Set(chain.flatMap((b) => b.txs.map((t) => toHex(t.txid))));
      for (const b of loser)
        for (const t of b.txs.slice(1))
          if (!winnerTxids.has(toHex(t.txid))) expect(store.getFinalized(t.txid)?.bytes).toEqual(t.bytes);
      // A reverted block's txids are in no block any more, also for the in-memory recent heights.
      for (const b of loser)
        for (const t of b.txs)
          if (!winnerTxids.has(toHex(t.txid))) expect(store.getTxHeight(t.txid)).toBeUndefined();
    }
  });
});
