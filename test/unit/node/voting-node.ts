import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import type { Clock, MempoolLimits } from '../../../src/ledger/mempool.js';
import { FinalityWaiters } from '../../../src/node/finality-waiters.js';
import { NodeMetrics } from '../../../src/node/node-metrics.js';
import { OrphanPool } from '../../../src/node/orphan-pool.js';
import { TxGossip } from '../../../src/node/tx-gossip.js';
import { TxIntake } from '../../../src/node/tx-intake.js';
import { ledgerVoteOf, VoteResponder } from '../../../src/node/vote-responder.js';
import type { ChainStore } from '../../../src/storage/chain-store.js';
import { params } from '../../support/devnet-ledger.js';

/**
 * One node's voting side over a real store, wired as node.ts wires it: the ledger (WASM
 * signatures), the Snowball engine, the intake and the vote responder. A txid a poll names that we
 * do not know is recorded in `named` instead of being fetched. A second call on the same store is
 * that node after a restart. Closers go to `cleanups`.
 */
export function votingNode(
  store: ChainStore,
  cleanups: (() => unknown)[],
  opts: { readonly limits?: Partial<MempoolLimits>; readonly clock?: Clock } = {},
) {
  const ledger = LedgerService.open(
    params,
    store,
    new WasmVerifier(),
    { maxCount: 1_000, maxBytes: 10_000_000, ...opts.limits },
    ...(opts.clock ? [opts.clock] : []),
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
  const responder = new VoteResponder({
    engine,
    ledgerVote: ledgerVoteOf(ledger.mempool, (txid) => store.getTxHeight(txid) !== undefined),
    unknown: (_peer, txid) => named.push(toHex(txid)),
  });
  const vote = (txid: Uint8Array, peer = 'peer') => responder.votes(txid, peer)[0];
  /** Resolves once no transaction is being verified (peers' transactions are admitted in the background). */
  const settle = async () => {
    for (let i = 0; i < 100 && intake.inFlightCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  };
  return { ledger, engine, intake, vote, named, settle };
}
