import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { compareBytes, toHex } from '../../../src/encoding/bytes.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import { FinalityWaiters } from '../../../src/node/finality-waiters.js';
import { NodeMetrics } from '../../../src/node/node-metrics.js';
import { OrphanPool } from '../../../src/node/orphan-pool.js';
import { TxGossip } from '../../../src/node/tx-gossip.js';
import { TxIntake } from '../../../src/node/tx-intake.js';
import { ledgerVoteOf, VoteResponder } from '../../../src/node/vote-responder.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { params } from '../../support/devnet-ledger.js';
import { poll } from '../consensus/engine-driver.js';
import { tempDir } from '../storage/temp-dir.js';

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
    const ledger = LedgerService.open(
      params,
      store,
      new WasmVerifier(),
      { maxCount: 1_000, maxBytes: 10_000_000, processingExpiryMs: 1_000 },
      () => clock,
    );
    const engine = new SnowballEngine(params.snowball);
    const metrics = new NodeMetrics();
    cleanups.push(() => metrics.close());
    const gossip = new TxGossip({ flushMs: 1, send: () => undefined });
    cleanups.push(() => gossip.stop());
    const waiters = new FinalityWaiters();
    const intake = new TxIntake({
      ledger,
      engine,
      includedHeight: (txid) => store.getTxHeight(txid),
      orphans: new OrphanPool(),
      gossip,
      metrics,
      scorer: { invalidTransaction: () => undefined },
      onAdmitted: () => undefined,
      now: () => performance.now(),
      maxInFlight: 64,
      waitOutcome: (txid, ms) => waiters.wait(txid, ms),
    });
    const named: string[] = [];
    // Wired as node.ts wires it (the fetch of an unknown txid is replaced by recording it).
    const responder = new VoteResponder({
      engine,
      ledgerVote: ledgerVoteOf(ledger.mempool, (txid) => store.getTxHeight(txid) !== undefined),
      unknown: (_peer, txid) => named.push(toHex(txid)),
    });
    const votes = (txid: Uint8Array) => responder.votes(txid, 'attacker')[0];

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
    for (let i = 0; i < 50 && intake.inFlightCount > 0; i++) await new Promise((r) => setTimeout(r, 10));

    // Expiry must never create a yes vote; we preferred `win` and voted NO on `lose`.
    expect(votes(lose!.txid)).not.toBe(Vote.YES);
  });
});
