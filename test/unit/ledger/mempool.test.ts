import { describe, expect, it } from 'vitest';
import { Mempool } from '../../../src/ledger/mempool.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { time } from '../../../src/params/units.js';
import { signTx } from '../../../src/wallet/tx-builder.js';
import { fundedOutpoint, key, params, pay, spendFunded } from '../../support/devnet-ledger.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'OK';
  } catch (err) {
    if (err instanceof MempoolError) return err.code;
    throw err;
  }
};

describe('mempool conflict sets', () => {
  it('puts transactions spending the same outpoint into one conflict set and reports rivals', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    const b = spendFunded(0, [pay(key(2), time(1))]);
    expect(pool.admit(a, 1n).conflicts).toEqual([]);
    expect(pool.admit(b, 1n).conflicts.map((t) => t.txid)).toEqual([a.txid]);
    expect(
      pool
        .conflictSet(fundedOutpoint(0))
        .map((t) => t.txid)
        .sort(Buffer.compare),
    ).toEqual([a.txid, b.txid].sort(Buffer.compare));
    expect(pool.conflictSetSizes(a.txid)).toEqual([2]);
  });

  it('finalizing one member rejects every rival, releases their other locks, and spends the input permanently', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    // b spends outpoint 0 AND outpoint 1: finalizing a must also free outpoint 1.
    const b = signTx(
      params,
      { inputs: [fundedOutpoint(0), fundedOutpoint(1)], outputs: [pay(key(3), time(2))] },
      [key(0), key(1)],
    );
    const c = spendFunded(1, [pay(key(4), time(1))]);
    pool.admit(a, 1n);
    pool.admit(b, 1n);
    pool.admit(c, 1n);
    expect(pool.conflictSetSizes(c.txid)).toEqual([2]);
    const result = pool.finalize(a.txid);
    expect(result.rejected.map((t) => t.txid)).toEqual([b.txid]);
    expect(pool.get(b.txid)).toBeUndefined();
    expect(pool.wasRejected(b.txid)).toBe(true);
    expect(pool.conflictSetSizes(c.txid)).toEqual([1]);
    expect(pool.get(a.txid)?.status).toBe('finalized');
    expect(pool.finalizedSpender(fundedOutpoint(0))).toEqual(a.txid);
    // A newcomer spending the finalized input can never be admitted; the loser cannot come back.
    expect(code(() => pool.admit(spendFunded(0, [pay(key(5), time(1))]), 1n))).toBe('CONFLICTS_FINALIZED');
    expect(code(() => pool.admit(b, 1n))).toBe('ALREADY_REJECTED');
    expect(code(() => pool.admit(a, 1n))).toBe('ALREADY_KNOWN');
  });

  it('rejection unlocks the inputs so a replacement is uncontested', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    const b = spendFunded(0, [pay(key(2), time(1))]);
    pool.admit(a, 1n);
    pool.reject(a.txid);
    expect(pool.conflictSet(fundedOutpoint(0))).toEqual([]);
    expect(pool.admit(b, 1n).conflicts).toEqual([]);
    expect(code(() => pool.reject(a.txid))).toBe('NOT_PROCESSING');
  });

  it('admission is all-or-nothing: a transaction refused for a finalized input locks nothing', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    pool.admit(a, 1n);
    pool.finalize(a.txid);
    const mixed = signTx(
      params,
      { inputs: [fundedOutpoint(2), fundedOutpoint(0)], outputs: [pay(key(3), time(2))] },
      [key(2), key(0)],
    );
    expect(code(() => pool.admit(mixed, 1n))).toBe('CONFLICTS_FINALIZED');
    expect(pool.conflictSet(fundedOutpoint(2))).toEqual([]);
    expect(pool.count).toBe(1);
  });

  it('enforces count and byte limits with MEMPOOL_FULL', () => {
    const byCount = new Mempool({ maxCount: 2, maxBytes: 1e9 });
    byCount.admit(spendFunded(0, [pay(key(1), time(1))]), 1n);
    byCount.admit(spendFunded(1, [pay(key(1), time(1))]), 1n);
    expect(code(() => byCount.admit(spendFunded(2, [pay(key(1), time(1))]), 1n))).toBe('MEMPOOL_FULL');
    const tx = spendFunded(0, [pay(key(1), time(1))]);
    const byBytes = new Mempool({ maxCount: 100, maxBytes: tx.bytes.length * 2 - 1 });
    byBytes.admit(tx, 1n);
    expect(code(() => byBytes.admit(spendFunded(1, [pay(key(1), time(1))]), 1n))).toBe('MEMPOOL_FULL');
    expect(byBytes.totalBytes).toBe(tx.bytes.length);
  });

  it('finalized transactions leave when a block includes them; restored ones reject rivals', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    const rival = spendFunded(0, [pay(key(2), time(1))]);
    pool.admit(a, 1n);
    pool.finalize(a.txid);
    expect(pool.finalized().map((t) => t.txid)).toEqual([a.txid]);
    pool.removeIncluded([a.txid]);
    expect(pool.count).toBe(0);
    expect(pool.totalBytes).toBe(0);
    expect(pool.finalizedSpender(fundedOutpoint(0))).toBeUndefined();
    // After a reorg puts `a` back, a processing rival admitted meanwhile loses.
    pool.admit(rival, 1n);
    expect(pool.restoreFinalized(a, 1n).map((t) => t.txid)).toEqual([rival.txid]);
    expect(pool.get(a.txid)?.status).toBe('finalized');
  });

  it('lists processing and finalized transactions in txid order, whatever the admission order', () => {
    const txs = [0, 1, 2, 3, 4].map((i) => spendFunded(i, [pay(key(9), time(1))]));
    const pool = new Mempool();
    for (const t of [...txs].reverse()) pool.admit(t, 1n);
    expect(pool.processing().map((t) => t.txid)).toEqual(txs.map((t) => t.txid).sort(Buffer.compare));
  });
});
