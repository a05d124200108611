import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { params } from '../../support/devnet-ledger.js';
import { tempDir } from '../storage/temp-dir.js';
import { votingNode } from './voting-node.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const boot = (store: ChainStore) => votingNode(store, cleanups);

async function openStore() {
  const { dir, cleanup } = tempDir('restart-votes');
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(() => store.close());
  return store;
}

describe('votes after a restart', () => {
  /**
   * A final here, B rejected: before a restart B is answered NO (a remembered rejection) and never
   * fetched. The rejected set is not persisted: after a restart a poll naming B used to get UNKNOWN
   * and a fetch, at every poll, from every asker (the fetched copy was refused CONFLICTS_FINALIZED
   * and nothing remembered it). Now the first refusal remembers it.
   */
  it('the rival of a transaction final here is answered NO again once refused, and not fetched again', async () => {
    const store = await openStore();
    const coin = fundedCoin(5);
    const a = pay(coin, recipient(1), 10_000_000n);
    const b = pay(coin, recipient(2), 10_000_000n);
    const before = boot(store);
    await before.intake.submitLocal(a.bytes);
    await before.intake.submitLocal(b.bytes);
    await before.ledger.finalizeTx(a.txid); // persisted, B rejected
    expect(before.vote(a.txid)).toBe(Vote.YES);
    expect(before.vote(b.txid)).toBe(Vote.NO);
    expect(before.named).toHaveLength(0);

    const after = boot(store);
    expect(after.vote(a.txid)).toBe(Vote.YES);
    // Unknown after the restart: fetched once from the asker, and refused.
    expect(after.vote(b.txid)).toBe(Vote.UNKNOWN);
    expect(after.named).toEqual([toHex(b.txid)]);
    after.intake.fromPeer('peer', [b.bytes]);
    await after.settle();
    after.named.length = 0;
    expect(after.vote(b.txid)).toBe(Vote.NO);
    expect(after.named).toHaveLength(0);
    expect(after.intake.standing(b.txid)).toBe('rejected');
  });
});
