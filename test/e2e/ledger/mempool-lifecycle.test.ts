import { afterEach, describe, expect, it } from 'vitest';
import { compareBytes } from '../../../src/encoding/bytes.js';
import { STARTUP_PAGE } from '../../../src/ledger/ledger-service.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { time } from '../../../src/params/units.js';
import { StoreWriteError } from '../../../src/storage/errors.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import { chainedSpends } from '../../support/chained-spends.js';
import { FUNDED, fundedOutpoint, key, params, pay, spendFunded } from '../../support/devnet-ledger.js';
import { type HarnessOptions, LedgerHarness } from './harness.js';

/*
 * Issue 11: transactions that could never leave the mempool. A processing transaction whose input a
 * block spent stayed forever, nothing expired, and start-up loaded only the first maxCount finalized
 * transactions, silently dropping the rest's double-spend protection.
 */

const harnesses: LedgerHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});
async function open(options: HarnessOptions = {}) {
  const h = await LedgerHarness.open(options);
  harnesses.push(h);
  return h;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof MempoolError || err instanceof StoreWriteError) return err.code;
    if (err instanceof Error && 'code' in err) return String(err.code);
    throw err;
  }
}

const EXPIRY = 60_000;
function clock() {
  const c = { t: 1_000, now: () => c.t };
  return c;
}

describe('a block removes what it makes impossible', () => {
  it('applyBlock rejects and returns a processing transaction whose input the block spends', async () => {
    const h = await open();
    const mine = spendFunded(0, [pay(key(1), time(5))]);
    const unrelated = spendFunded(2, [pay(key(1), time(5))]);
    await h.ledger.submitTx(mine.bytes);
    await h.ledger.submitTx(unrelated.bytes);
    // The network finalized another spend of the same input; this node sees it first in a block.
    const theirs = spendFunded(0, [pay(key(3), time(5))]);
    const { result } = await h.mine([theirs]);
    expect(result.rejected.map((t) => t.txid)).toEqual([mine.txid]);
    expect(h.ledger.mempool.get(mine.txid)).toBeUndefined();
    expect(h.ledger.mempool.processing().map((t) => t.txid)).toEqual([unrelated.txid]);
    expect(h.ledger.mempool.wasRejected(mine.txid)).toBe(true);
    expect(await code(h.ledger.submitTx(mine.bytes))).toBe('INPUT_NOT_FOUND');
  });

  it('revertTip returns the block and what its returning transactions reject', async () => {
    const h = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    await h.ledger.submitTx(a.bytes);
    await h.ledger.finalizeTx(a.txid);
    const { block } = await h.mine();
    const reverted = await h.ledger.revertTip();
    expect(reverted.block.txs.map((t) => t.txid)).toEqual(block.txs.map((t) => t.txid));
    expect(reverted.rejected).toEqual([]);
    expect(h.ledger.mempool.get(a.txid)?.status).toBe('finalized');
  });
});

describe('processing expiry', () => {
  it('an undecided transaction expires; its keys stay locked until a block uses them up', async () => {
    const c = clock();
    const h = await open({
      now: c.now,
      limits: { maxCount: 100, maxBytes: 1e6, processingExpiryMs: EXPIRY },
    });
    const a = signTx(
      params,
      { inputs: [fundedOutpoint(0), fundedOutpoint(1)], outputs: [pay(key(5), time(5))] },
      [key(0), key(1)],
    );
    await h.ledger.submitTx(a.bytes);
    c.t += EXPIRY - 1;
    expect(h.ledger.expireProcessing()).toEqual([]);
    c.t += 1;
    expect(h.ledger.expireProcessing()).toEqual([a.txid]);
    expect(h.ledger.mempool.count).toBe(0);
    // No rival is admitted here while a is undecided elsewhere.
    expect(await code(h.ledger.submitTx(spendFunded(1, [pay(key(2), time(1))]).bytes))).toBe(
      'CONFLICTS_EXPIRED',
    );
    // A block spends outpoint 0 another way: a can never be valid, its lock on outpoint 1 goes.
    const { result } = await h.mine([spendFunded(0, [pay(key(3), time(1))])]);
    expect(result.rejected).toEqual([]); // a was not processing any more
    expect(h.ledger.mempool.expiredCount).toBe(0);
    expect(await code(h.ledger.submitTx(spendFunded(1, [pay(key(2), time(1))]).bytes))).toBe('OK');
  });

  it('an expired transaction may be admitted again and finalized', async () => {
    const c = clock();
    const h = await open({
      now: c.now,
      limits: { maxCount: 100, maxBytes: 1e6, processingExpiryMs: EXPIRY },
    });
    const a = spendFunded(0, [pay(key(1), time(5))]);
    await h.ledger.submitTx(a.bytes);
    c.t += EXPIRY;
    h.ledger.expireProcessing();
    expect((await h.ledger.submitTx(a.bytes)).conflicts).toEqual([]);
    await h.ledger.finalizeTx(a.txid);
    await h.mine();
    expect(h.store.getTxHeight(a.txid)).toBe(1);
  });

  it('finalizeTx still finalizes a transaction that expired after Snowball accepted it', async () => {
    const c = clock();
    const h = await open({
      now: c.now,
      limits: { maxCount: 100, maxBytes: 1e6, processingExpiryMs: EXPIRY },
    });
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const b = spendFunded(0, [pay(key(2), time(5))]);
    await h.ledger.submitTx(a.bytes);
    await h.ledger.submitTx(b.bytes);
    // A block is being applied: finalizeTx waits its turn, and meanwhile both expire.
    const applying = h.mine([spendFunded(3, [pay(key(4), time(1))])]);
    const finalizing = h.ledger.finalizeTx(a.txid);
    c.t += EXPIRY;
    expect(h.ledger.expireProcessing()).toHaveLength(2);
    await applying;
    const { rejected } = await finalizing;
    expect(rejected).toEqual([]); // b was an expired record, not processing
    expect(h.ledger.mempool.get(a.txid)?.status).toBe('finalized');
    expect(h.ledger.mempool.wasRejected(b.txid)).toBe(true);
    expect(h.store.listFinalized(10).map((t) => t.txid)).toEqual([a.txid]);
    expect(await code(h.ledger.submitTx(b.bytes))).toBe('CONFLICTS_FINALIZED');
  });
});

describe('finalizeTx persists before it changes memory', () => {
  it('when the store refuses, the transaction stays processing and its rival stays', async () => {
    const h = await open();
    const a = spendFunded(0, [pay(key(1), time(5))]);
    const b = spendFunded(0, [pay(key(2), time(5))]);
    await h.ledger.submitTx(a.bytes);
    await h.ledger.submitTx(b.bytes);
    await h.store.close();
    expect(await code(h.ledger.finalizeTx(a.txid))).toBe('STORE_CLOSED');
    expect(h.ledger.mempool.get(a.txid)?.status).toBe('processing');
    expect(h.ledger.mempool.get(b.txid)?.status).toBe('processing');
    expect(h.ledger.mempool.conflictSetSizes(a.txid)).toEqual([2]);
  });
});

describe('start-up loads every finalized transaction', () => {
  it('restores all of them even above maxCount, and admission counts them', async () => {
    const h = await open({ limits: { maxCount: 3, maxBytes: 1e6 } });
    const finals = [0, 1, 2, 3, 4].map((i) => spendFunded(i, [pay(key(9), time(1))]));
    await h.store.putFinalized(...finals);
    await h.restart();
    expect(h.ledger.mempool.finalized()).toHaveLength(5);
    // The finalized transaction with the highest txid (the one a capped load dropped) still
    // protects its input.
    const last = [...finals].sort((x, y) => compareBytes(x.txid, y.txid))[4]!;
    const lastIndex = finals.indexOf(last);
    const rival = spendFunded(lastIndex, [pay(key(8), time(2))]);
    expect(await code(h.ledger.submitTx(rival.bytes))).toBe('CONFLICTS_FINALIZED');
    // The pool is over its limit: admission waits until blocks drain it, as at run time.
    expect(await code(h.ledger.submitTx(spendFunded(6, [pay(key(9), time(1))]).bytes))).toBe('MEMPOOL_FULL');
    await h.mine();
    expect(h.ledger.mempool.count).toBe(0);
    expect(await code(h.ledger.submitTx(spendFunded(6, [pay(key(9), time(1))]).bytes))).toBe('OK');
  });

  it(`reads the finalized pool in pages of ${STARTUP_PAGE}: all ${2 * STARTUP_PAGE + 1} come back`, async () => {
    const h = await open();
    const chain = chainedSpends(params, key(0), fundedOutpoint(0), FUNDED, 2 * STARTUP_PAGE + 1, 1_000n);
    await h.store.putFinalized(...chain);
    await h.restart();
    expect(h.ledger.mempool.finalized()).toHaveLength(2 * STARTUP_PAGE + 1);
    expect(h.ledger.view.getUtxo({ txid: chain[2 * STARTUP_PAGE]!.txid, vout: 0 })).toBeDefined();
  });
});
