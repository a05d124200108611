import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import type { SignatureVerifier } from '../../../src/crypto/signature-verifier.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { type Coin, fundedCoin, pay, recipient, split } from '../../../src/devnet/coins.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import { FinalityWaiters } from '../../../src/node/finality-waiters.js';
import { releaseIncluded } from '../../../src/node/finalizer.js';
import { NodeMetrics } from '../../../src/node/node-metrics.js';
import { OrphanPool } from '../../../src/node/orphan-pool.js';
import { TxGossip } from '../../../src/node/tx-gossip.js';
import { type ParentWaitLimits, TxIntake, type TxIntakeDeps } from '../../../src/node/tx-intake.js';
import { VerifyBudget } from '../../../src/node/verify-budget.js';
import { NO_COLLATERAL } from '../../../src/protocol/transaction.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { registrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { FUNDED, fundedOutpoint, key, params } from '../../support/devnet-ledger.js';
import { poll } from '../consensus/engine-driver.js';
import { tempDir } from '../storage/temp-dir.js';
import { votingNode } from './voting-node.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** TxIntake over a real store, ledger, engine and waiters, wired as the node wires them. */
async function setup(
  parentWait: ParentWaitLimits,
  verifyDelayMs = 0,
  maxSubmitBacklog?: number,
  extra: Partial<TxIntakeDeps> = {},
) {
  const { dir, cleanup } = tempDir('tx-intake');
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(() => store.close());
  const wasm = new WasmVerifier();
  const verified = { signatures: 0 };
  // The real verifier; a delay widens the window in which a transaction is being verified.
  const verifier: SignatureVerifier = {
    verifyBatch: async (items) => {
      verified.signatures += items.length;
      if (verifyDelayMs > 0) await new Promise((r) => setTimeout(r, verifyDelayMs));
      return wasm.verifyBatch(items);
    },
  };
  const ledger = LedgerService.open(params, store, verifier);
  const engine = new SnowballEngine(params.snowball);
  const waiters = new FinalityWaiters();
  const metrics = new NodeMetrics();
  cleanups.push(() => metrics.close());
  const gossip = new TxGossip({ flushMs: 1, send: () => undefined });
  cleanups.push(() => gossip.stop());
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
    parentWait,
    ...(maxSubmitBacklog === undefined ? {} : { maxSubmitBacklog }),
    ...extra,
  });
  /** What the node does when Snowball accepts a transaction: persist, then tell the waiters and the orphans. */
  const finalize = async (etx: EncodedTx) => {
    expect((await ledger.finalizeTxs([etx.txid])).length).toBe(1);
    waiters.settle(etx.txid, 'finalized');
    intake.parentFinalized(etx.txid);
  };
  const reject = (etx: EncodedTx) => {
    ledger.rejectTx(etx.txid);
    waiters.settle(etx.txid, 'rejected');
  };
  return { intake, ledger, engine, metrics, finalize, reject, verified };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'admitted',
    (err: { code?: string }) => err.code ?? String(err),
  );

/** A parent splitting funded coin 0 and a child spending the parent's first output. */
function family(): { parent: EncodedTx; child: EncodedTx; coins: Coin[] } {
  const s = split(fundedCoin(0), 3, 100_000_000n);
  return { parent: s.tx, child: pay(s.coins[0]!, recipient(1), 10_000_000n), coins: s.coins };
}

describe('TxIntake.submitLocal: what Snowball decides at admission', () => {
  it('a rival of a transaction Snowball accepted (its finality still being written) comes back rejected', async () => {
    // k = 1, α = 1, β = 1: one yes vote decides.
    const engine = new SnowballEngine({ k: 1, alphaPreference: 1, alphaConfidence: 1, beta: 1 } as never);
    const { intake, ledger } = await setup({ timeoutMs: 1_000, maxWaiting: 4 }, 0, undefined, { engine });
    const first = pay(fundedCoin(3), recipient(1), 10_000_000n);
    const rival = pay(fundedCoin(3), recipient(2), 10_000_000n);
    expect(await intake.submitLocal(first.bytes)).toMatchObject({ standing: 'processing', duplicate: false });
    const req = engine.startPoll(['v'])!;
    expect(engine.recordResponse(req.requestId, 'v', [1])).toBe(true);
    expect(engine.statusOf(first.txid)).toBe('accepted');
    // The ledger still holds `first` as processing (the finalizer has not written it yet).
    expect(ledger.mempool.get(first.txid)?.status).toBe('processing');
    const out = await intake.submitLocal(rival.bytes);
    expect(out).toMatchObject({ standing: 'rejected', duplicate: false });
    expect(out.txid).toEqual(rival.txid);
    expect(ledger.mempool.wasRejected(rival.txid)).toBe(true);
    expect(intake.standing(rival.txid)).toBe('rejected');
  });
});

describe('TxIntake.submitLocal: a child of a transaction not yet final here', () => {
  it('waits for a processing parent to become final, then admits the child', async () => {
    const { intake, ledger, finalize } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    const { parent, child } = family();
    expect((await intake.submitLocal(parent.bytes)).standing).toBe('processing');
    let settled = false;
    const pending = intake.submitLocal(child.bytes).finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false); // still waiting: the parent is processing
    expect(ledger.mempool.get(child.txid)).toBeUndefined();
    await finalize(parent);
    const out = await pending;
    expect(out.standing).toBe('processing');
    expect(out.duplicate).toBe(false);
    expect(ledger.mempool.get(child.txid)?.status).toBe('processing');
  });

  it('waits for a parent submitted just before it and still being verified', async () => {
    const { intake, ledger, finalize } = await setup({ timeoutMs: 10_000, maxWaiting: 4 }, 100);
    const { parent, child } = family();
    const parentIn = intake.submitLocal(parent.bytes);
    const childIn = intake.submitLocal(child.bytes);
    expect((await parentIn).standing).toBe('processing');
    await new Promise((r) => setTimeout(r, 20));
    expect(ledger.mempool.get(child.txid)).toBeUndefined();
    await finalize(parent);
    expect((await childIn).standing).toBe('processing');
  });

  it('refuses with INPUT_NOT_FOUND when the parent is not final within the wait', async () => {
    const { intake, ledger } = await setup({ timeoutMs: 60, maxWaiting: 4 });
    const { parent, child } = family();
    await intake.submitLocal(parent.bytes);
    const t0 = performance.now();
    expect(await refusal(intake.submitLocal(child.bytes))).toBe('INPUT_NOT_FOUND');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(ledger.mempool.get(child.txid)).toBeUndefined();
  });

  it('refuses at once when the parent is rejected here', async () => {
    const { intake, reject } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    const { parent, child } = family();
    await intake.submitLocal(parent.bytes);
    const t0 = performance.now();
    const p = refusal(intake.submitLocal(child.bytes));
    await new Promise((r) => setTimeout(r, 20));
    reject(parent);
    expect(await p).toBe('INPUT_NOT_FOUND');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('refuses at once when the parent is unknown here (nothing to wait for)', async () => {
    const { intake } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    const { child } = family();
    const t0 = performance.now();
    expect(await refusal(intake.submitLocal(child.bytes))).toBe('INPUT_NOT_FOUND');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('waits for a parent that is itself waiting here as an orphan', async () => {
    const { intake, ledger, finalize } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    const { parent: grandparent, coins } = family();
    const parent = split(coins[0]!, 2, 10_000_000n).tx;
    const child = pay(
      { outpoint: { txid: parent.txid, vout: 0 }, value: 10_000_000n, key: coins[0]!.key },
      recipient(2),
      1_000_000n,
    );
    await intake.submitLocal(grandparent.bytes);
    intake.fromPeer('peer', [parent.bytes]); // its input is not final here: it waits as an orphan
    await until(() => intake.knows(parent.txid) && !intake.inFlightCount);
    expect(ledger.mempool.get(parent.txid)).toBeUndefined();
    const pending = intake.submitLocal(child.bytes);
    await finalize(grandparent); // the orphan is admitted…
    await until(() => ledger.mempool.get(parent.txid)?.status === 'processing');
    await finalize(parent); // …and once it is final, so is the child's input
    expect((await pending).standing).toBe('processing');
  });

  it('admits at once a child whose parent is final here already', async () => {
    const { intake, finalize } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    const { parent, child } = family();
    await intake.submitLocal(parent.bytes);
    await finalize(parent);
    expect((await intake.submitLocal(child.bytes)).standing).toBe('processing');
  });

  it('holds at most maxWaiting submissions; the next one is refused at once', async () => {
    const { intake, finalize } = await setup({ timeoutMs: 10_000, maxWaiting: 2 });
    const { parent, coins } = family();
    const children = coins.map((c, i) => pay(c, recipient(10 + i), 10_000_000n));
    await intake.submitLocal(parent.bytes);
    const first = intake.submitLocal(children[0]!.bytes);
    const second = intake.submitLocal(children[1]!.bytes);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    expect(await refusal(intake.submitLocal(children[2]!.bytes))).toBe('INPUT_NOT_FOUND');
    expect(performance.now() - t0).toBeLessThan(5_000);
    await finalize(parent);
    expect((await first).standing).toBe('processing');
    expect((await second).standing).toBe('processing');
    // The slots are free again: a child of another processing parent waits and is admitted.
    const other = split(fundedCoin(1), 2, 100_000_000n);
    await intake.submitLocal(other.tx.bytes);
    const late = intake.submitLocal(pay(other.coins[0]!, recipient(20), 10_000_000n).bytes);
    await new Promise((r) => setTimeout(r, 20));
    await finalize(other.tx);
    expect((await late).standing).toBe('processing');
  });
});

describe('TxIntake.submitLocal: the submit backlog (consensus.maxSubmitBacklog)', () => {
  const payments = (n: number) =>
    Array.from({ length: n }, (_, i) => pay(fundedCoin(i), recipient(i), 10_000_000n));

  it('refuses local submissions with INTAKE_BUSY once that many are processing, never peers’ transactions', async () => {
    const { intake, ledger, engine, metrics } = await setup({ timeoutMs: 10_000, maxWaiting: 4 }, 0, 2);
    const [a, b, c, d] = payments(4);
    expect((await intake.submitLocal(a!.bytes)).standing).toBe('processing');
    expect((await intake.submitLocal(b!.bytes)).standing).toBe('processing');
    expect(engine.processingCount).toBe(2);
    const busy = await intake.submitLocal(c!.bytes).catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'INTAKE_BUSY' });
    expect(String((busy as Error).message)).toContain('2 transactions await finality');
    expect((await metrics.txRefused.get()).values).toEqual([{ value: 1, labels: { code: 'INTAKE_BUSY' } }]);
    expect(ledger.mempool.get(c!.txid)).toBeUndefined();
    // A transaction the node already has is answered with its standing, busy or not.
    expect(await intake.submitLocal(a!.bytes)).toMatchObject({ standing: 'processing', duplicate: true });
    // Every validator must see every transaction to vote: a peer's is admitted past the limit.
    intake.fromPeer('peer', [c!.bytes]);
    await until(() => ledger.mempool.get(c!.txid)?.status === 'processing');
    expect(engine.processingCount).toBe(3);
    // Decisions make room again.
    engine.withdraw(a!.txid);
    engine.withdraw(b!.txid);
    expect(await refusal(intake.submitLocal(d!.bytes))).toBe('admitted');
  });

  it('counts transactions still being verified as backlog', async () => {
    const { intake, engine } = await setup({ timeoutMs: 10_000, maxWaiting: 4 }, 100, 2);
    const [a, b, c] = payments(3);
    const first = intake.submitLocal(a!.bytes);
    const second = intake.submitLocal(b!.bytes);
    expect(engine.processingCount).toBe(0);
    expect(await refusal(intake.submitLocal(c!.bytes))).toBe('INTAKE_BUSY');
    expect([await refusal(first), await refusal(second)]).toEqual(['admitted', 'admitted']);
  });

  it('has no limit when none is configured', async () => {
    const { intake, engine } = await setup({ timeoutMs: 10_000, maxWaiting: 4 });
    for (const t of payments(5)) expect(await refusal(intake.submitLocal(t.bytes))).toBe('admitted');
    expect(engine.processingCount).toBe(5);
  });
});

describe('TxIntake.fromPeer: the verify budget (VerifyBudget)', () => {
  it("verifies a masternode's relays always, others' within their own and a shared budget, and drops the rest unverified", async () => {
    const frozen = 0; // no refill during the test: only the bursts count
    const verifyBudget = new VerifyBudget({
      isStaked: (id) => id === 'masternode',
      now: () => frozen,
      perPeer: { perSec: 1, burst: 2 },
      atLarge: { perSec: 1, burst: 3 },
    });
    const { intake, ledger, metrics, verified } = await setup(
      { timeoutMs: 1_000, maxWaiting: 4 },
      0,
      undefined,
      {
        verifyBudget,
      },
    );
    const txs = Array.from({ length: 9 }, (_, i) => pay(fundedCoin(i), recipient(i), 10_000_000n));
    const admitted = () => txs.filter((t) => ledger.mempool.get(t.txid) !== undefined).length;
    intake.fromPeer(
      'stranger',
      txs.slice(0, 4).map((t) => t.bytes),
    ); // its own 2
    intake.fromPeer(
      'other',
      txs.slice(4, 6).map((t) => t.bytes),
    ); // the shared pool's last 1
    intake.fromPeer(
      'masternode',
      txs.slice(6, 9).map((t) => t.bytes),
    ); // all 3
    await until(() => admitted() === 6);
    expect(txs.map((t) => ledger.mempool.get(t.txid) !== undefined)).toEqual([
      true,
      true,
      false,
      false,
      true,
      false,
      true,
      true,
      true,
    ]);
    expect(verified.signatures).toBe(6); // one input each: the dropped were never checked
    expect((await metrics.txDropped.get()).values).toEqual([
      { value: 3, labels: { reason: 'verify_budget' } },
    ]);
  });
});

describe("TxIntake: an orphan waits on its sender's share of the orphan pool", () => {
  it("parks a peer's orphan on that peer, and parks it again on the same peer when only one of two parents is final", async () => {
    const orphans = new OrphanPool();
    const { intake, ledger, finalize } = await setup({ timeoutMs: 1_000, maxWaiting: 4 }, 0, undefined, {
      orphans,
    });
    const a = split(fundedCoin(0), 2, 100_000_000n);
    const b = split(fundedCoin(1), 2, 100_000_000n);
    const inputs = [a.coins[0]!, b.coins[0]!];
    const child = signTx(
      params,
      { inputs: inputs.map((c) => c.outpoint), outputs: [{ value: 150_000_000n, address: recipient(3) }] },
      inputs.map((c) => c.key),
    );
    await intake.submitLocal(a.tx.bytes);
    await intake.submitLocal(b.tx.bytes);
    intake.fromPeer('relayer', [child.bytes]);
    await until(() => orphans.has(child.txid));
    expect([orphans.unitsOf('relayer'), orphans.senderCount]).toEqual([1, 1]);
    await finalize(a.tx); // re-submitted, still missing b's output: parked again, on the relayer
    await until(() => orphans.has(child.txid) && intake.inFlightCount === 0);
    expect([orphans.unitsOf('relayer'), orphans.senderCount]).toEqual([1, 1]);
    await finalize(b.tx);
    await until(() => ledger.mempool.get(child.txid)?.status === 'processing');
    expect([orphans.size, orphans.senderCount]).toEqual([0, 0]);
  });
});

describe('TxIntake.fromPeer: whom a refusal scores', () => {
  /** setup() with a scorer that records `peer:code` for each score. */
  async function scoring() {
    const scored: string[] = [];
    const parts = await setup({ timeoutMs: 1_000, maxWaiting: 4 }, 0, undefined, {
      scorer: { invalidTransaction: (peer, code) => scored.push(`${peer}:${code}`) },
    });
    return { ...parts, scored };
  }
  const settled = (intake: TxIntake) => until(() => intake.inFlightCount === 0);

  it('scores the sender for the amount rules (FEE_TOO_LOW, INSUFFICIENT_INPUTS) and REGISTRATION_FEE', async () => {
    const { intake, ledger, scored, metrics } = await scoring();
    const spend = (i: number, value: bigint) =>
      signTx(params, { inputs: [fundedCoin(i).outpoint], outputs: [{ value, address: recipient(1) }] }, [
        fundedCoin(i).key,
      ]);
    const feeless = spend(0, FUNDED); // inputs = outputs: fee 0
    const overspend = spend(1, FUNDED + 1n);
    const node = devnetKeyPair('intake scoring node', 1);
    const unpaidRegistration = signTx(
      params,
      {
        inputs: [fundedOutpoint(2)],
        outputs: [{ value: FUNDED - 100_000n, address: key(2).addressPayload }],
        payload: registrationPayload(params, fundedOutpoint(2), node, NO_COLLATERAL, key(2).addressPayload),
      },
      [key(2)],
    );
    intake.fromPeer('peerA', [feeless.bytes]);
    intake.fromPeer('peerB', [overspend.bytes]);
    intake.fromPeer('peerC', [unpaidRegistration.bytes]);
    await settled(intake);
    expect(ledger.mempool.count).toBe(0);
    expect(scored.sort()).toEqual([
      'peerA:FEE_TOO_LOW',
      'peerB:INSUFFICIENT_INPUTS',
      'peerC:REGISTRATION_FEE',
    ]);
    expect((await metrics.txRefused.get()).values.map((v) => v.labels.code).sort()).toEqual([
      'FEE_TOO_LOW',
      'INSUFFICIENT_INPUTS',
      'REGISTRATION_FEE',
    ]);
  });

  it('an overspend of an output not final here yet is parked unscored; refused once the parent is final, it scores nobody', async () => {
    // At the relayer the parent may be final while here it is still processing: here the input is
    // missing (INPUT_NOT_FOUND, not the sender's fault) and the amounts are never summed.
    const { intake, ledger, finalize, scored, metrics } = await scoring();
    const { parent, coins } = family();
    expect((await intake.submitLocal(parent.bytes)).standing).toBe('processing');
    const coin = coins[0]!;
    const overspend = signTx(
      params,
      { inputs: [coin.outpoint], outputs: [{ value: coin.value + 1n, address: recipient(2) }] },
      [coin.key],
    );
    intake.fromPeer('relayer', [overspend.bytes]);
    await until(() => intake.arriving(overspend.txid) && intake.inFlightCount === 0);
    expect(scored).toEqual([]);
    await finalize(parent); // the orphan is submitted again, now with its input here
    await settled(intake);
    expect(intake.arriving(overspend.txid)).toBe(false);
    expect(ledger.mempool.get(overspend.txid)).toBeUndefined();
    expect(scored).toEqual([]);
    expect((await metrics.txRefused.get()).values).toContainEqual({
      value: 1,
      labels: { code: 'INSUFFICIENT_INPUTS' },
    });
  });

  it('does not score a refusal that depends on the state here (CONFLICTS_FINALIZED)', async () => {
    const { intake, finalize, scored } = await scoring();
    const first = pay(fundedCoin(3), recipient(1), 10_000_000n);
    const rival = pay(fundedCoin(3), recipient(2), 10_000_000n);
    expect((await intake.submitLocal(first.bytes)).standing).toBe('processing');
    await finalize(first);
    intake.fromPeer('peerD', [rival.bytes]);
    await settled(intake);
    // Remembered as the loser it is (a NO to polls, never fetched again), its sender not blamed.
    expect(intake.standing(rival.txid)).toBe('rejected');
    expect(scored).toEqual([]);
  });
});

describe('TxIntake: the ages it keeps for finality latency', () => {
  it('a block taking transactions the engine accepted but the finalizer has not written leaves no age behind', async () => {
    const { dir, cleanup } = tempDir('intake-ages');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, params, genesisBlock(params));
    cleanups.push(() => store.close());
    const { ledger, engine, intake } = votingNode(store, cleanups);
    const txs = Array.from({ length: 8 }, (_, i) => pay(fundedCoin(i), recipient(i), 10_000_000n));
    for (const etx of txs) expect((await intake.submitLocal(etx.bytes)).standing).toBe('processing');
    expect(intake.agesKept).toBe(8);
    // The network accepts them; the finalizer's group commit has not run yet.
    for (let i = 0; i < 30 && engine.processingCount > 0; i++) poll(engine, () => 20);
    for (const etx of txs) expect(engine.statusOf(etx.txid)).toBe('accepted');
    // A block holding them is applied (what node.onBlockApplied does after LedgerService.applyBlock).
    ledger.mempool.removeBlock(txs);
    releaseIncluded(engine, txs);
    intake.included(txs);
    // The finalizer's write then finds nothing to finalize, so no takeAge would ever run.
    expect(await ledger.finalizeTxs(txs.map((t) => t.txid))).toEqual([]);
    expect(intake.agesKept).toBe(0);
  });
});
