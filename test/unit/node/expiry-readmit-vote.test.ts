import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { compareBytes, toHex } from '../../../src/encoding/bytes.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { params } from '../../support/devnet-ledger.js';
import { poll } from '../consensus/engine-driver.js';
import { tempDir } from '../storage/temp-dir.js';
import { votingNode } from './voting-node.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Mempool.expireProcessing promises "Expiry only ever withdraws this node's yes votes and never
 * creates one ... no rival is admitted here ... only the expired transactions themselves may come
 * back". But any peer can bring back just the LOSING member of an expired conflict: it names it in a
 * PollRequest (we answer UNKNOWN and fetch it from the asker), the record lets it back in, and it
 * re-enters Snowball alone in its conflict set, so we now answer YES for the transaction we had
 * voted NO on, with the member we preferred still locked out as an expired record.
 */
describe('after expiry, a peer cannot flip our vote to the losing double spend', () => {
  it('a poll naming the loser brings it back alone, and we vote no for it while the winner is an expired record', async () => {
    const { dir, cleanup } = tempDir('review-flip');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    cleanups.push(() => store.close());
    let clock = 0;
    const { ledger, engine, intake, named, ...node } = votingNode(store, cleanups, {
      limits: { processingExpiryMs: 1_000 },
      clock: () => clock,
    });
    const votes = (txid: Uint8Array) => node.vote(txid, 'attacker');

    const coin = fundedCoin(4);
    const [win, lose] = [pay(coin, recipient(1), 10_000_000n), pay(coin, recipient(2), 10_000_000n)].sort(
      (a, b) => compareBytes(a.txid, b.txid),
    );
    expect((await intake.submitLocal(win!.bytes)).standing).toBe('processing');
    expect((await intake.submitLocal(lose!.bytes)).standing).toBe('processing');
    // The network backs `win`: 10 successful polls (short of beta = 20).
    for (let i = 0; i < 10; i++) poll(engine, (h) => (h === toHex(win!.txid) ? 20 : 0));
    expect(votes(win!.txid)).toBe(Vote.YES);
    expect(votes(lose!.txid)).toBe(Vote.NO);

    // Undecided for processingExpiryMs: both expire (node.ts onExpired withdraws them).
    clock = 2_000;
    for (const txid of ledger.expireProcessing()) engine.withdraw(txid);
    expect(ledger.mempool.isExpired(lose!.txid)).toBe(true);

    // A peer names the loser in a poll: we answer UNKNOWN and fetch it from that peer.
    expect(votes(lose!.txid)).toBe(Vote.UNKNOWN);
    expect(named).toContain(toHex(lose!.txid));
    intake.fromPeer('attacker', [lose!.bytes]);
    await node.settle();

    // Expiry must never create a yes vote; we preferred `win` and voted NO on `lose`.
    expect(votes(lose!.txid)).not.toBe(Vote.YES);
  });
});
