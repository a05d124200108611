import { describe, expect, it } from 'vitest';
import { DEVNET_SEED, devnetMasternodes } from '../../../src/chain/genesis.js';
import { compareBytes } from '../../../src/encoding/bytes.js';
import { conflictKeysOf, registryConflictKeyBytes } from '../../../src/ledger/conflict-keys.js';
import { DEFAULT_MEMPOOL_LIMITS, Mempool, txKey } from '../../../src/ledger/mempool.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { time } from '../../../src/params/units.js';
import { NO_COLLATERAL } from '../../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx, outpointKey } from '../../../src/protocol/tx-codec.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { deregistrationPayload, registrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { FUNDED, fundedOutpoint, key, params, pay, spendFunded } from '../../support/devnet-ledger.js';

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
    const newcomer = spendFunded(0, [pay(key(5), time(1))]);
    expect(pool.wasRejected(newcomer.txid)).toBe(false);
    expect(code(() => pool.admit(newcomer, 1n))).toBe('CONFLICTS_FINALIZED');
    // Remembered: polls get a NO for it and it is not fetched again (the rejected set is not
    // persisted, so after a restart this is how a known loser becomes one again).
    expect(pool.wasRejected(newcomer.txid)).toBe(true);
    expect(code(() => pool.admit(newcomer, 1n))).toBe('ALREADY_REJECTED');
    const another = spendFunded(0, [pay(key(6), time(1))]);
    expect(code(() => pool.checkNoFinalizedConflict(another))).toBe('CONFLICTS_FINALIZED');
    expect(pool.wasRejected(another.txid)).toBe(true);
    // The finalized transaction itself is never remembered as its own rival.
    expect(code(() => pool.checkNoFinalizedConflict(a))).toBe('CONFLICTS_FINALIZED');
    expect(pool.wasRejected(a.txid)).toBe(false);
    expect(code(() => pool.admit(b, 1n))).toBe('ALREADY_REJECTED');
    expect(code(() => pool.admit(a, 1n))).toBe('ALREADY_KNOWN');
  });

  it('free junk refused for a finalized rival pushes out only other such refusals, never a decided rejection', () => {
    const pool = new Mempool({
      ...DEFAULT_MEMPOOL_LIMITS,
      maxRememberedRejections: 4,
      maxRememberedRefusals: 8,
    });
    const a = spendFunded(0, [pay(key(3), time(1))]);
    const b = spendFunded(0, [pay(key(4), time(1))]);
    pool.admit(a, 1n);
    pool.admit(b, 1n);
    pool.finalize(a.txid); // b: a loser Snowball decided
    const junk = (i: number) => spendFunded(0, [pay(key(5), time(1) + BigInt(i))]);
    // Refused before any signature is checked (LedgerService.submitEncoded's first look).
    for (let i = 0; i < 20; i++)
      expect(code(() => pool.checkNoFinalizedConflict(junk(i)))).toBe('CONFLICTS_FINALIZED');
    expect(pool.wasRejected(b.txid)).toBe(true);
    // Refusals are remembered too (a NO, no refetch), the newest 8 of them.
    expect([0, 11, 12, 19].map((i) => pool.wasRejected(junk(i).txid))).toEqual([false, false, true, true]);
    // Refused after its signatures were checked (admit): a decided loser like b.
    const late = junk(100);
    expect(code(() => pool.admit(late, 1n))).toBe('CONFLICTS_FINALIZED');
    for (let i = 200; i < 220; i++) code(() => pool.checkNoFinalizedConflict(junk(i)));
    expect(pool.wasRejected(late.txid)).toBe(true);
    expect(pool.wasRejected(b.txid)).toBe(true);
  });

  it('reports the rivals a finalization rejects in txid order, whatever order they arrived in', () => {
    const pool = new Mempool();
    const rivals = [1, 2, 3, 4, 5].map((i) => spendFunded(0, [pay(key(i), time(1))]));
    const winner = rivals.shift()!;
    // Admitted in descending txid order, so arrival order and txid order disagree.
    const descending = [...rivals].sort((a, b) => compareBytes(b.txid, a.txid));
    pool.admit(winner, 1n);
    for (const r of descending) pool.admit(r, 1n);
    const { rejected } = pool.finalize(winner.txid);
    expect(rejected.map((t) => t.txid)).toEqual([...descending].reverse().map((t) => t.txid));
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

  it('remembers at most maxRememberedRejections losers, forgetting the oldest first', () => {
    const pool = new Mempool({ ...DEFAULT_MEMPOOL_LIMITS, maxRememberedRejections: 2 });
    const losers = [0, 1, 2].map((i) => spendFunded(i, [pay(key(1), time(1))]));
    const rejectedNow = () => losers.map((t) => pool.wasRejected(t.txid));
    pool.admit(losers[0]!, 1n);
    pool.reject(losers[0]!.txid);
    expect(rejectedNow()).toEqual([true, false, false]);
    pool.admit(losers[1]!, 1n);
    pool.reject(losers[1]!.txid);
    expect(rejectedNow()).toEqual([true, true, false]);
    // The third pushes out the first: the set never grows past its bound.
    pool.admit(losers[2]!, 1n);
    pool.reject(losers[2]!.txid);
    expect(rejectedNow()).toEqual([false, true, true]);
    // A forgotten loser is a stranger again (admitted), a remembered one is still refused.
    expect(code(() => pool.admit(losers[0]!, 1n))).toBe('OK');
    expect(code(() => pool.admit(losers[1]!, 1n))).toBe('ALREADY_REJECTED');
    expect(DEFAULT_MEMPOOL_LIMITS.maxRememberedRejections).toBe(100_000);
  });

  it('all() lists processing and finalized transactions together, in txid order', () => {
    const pool = new Mempool();
    const txs = [0, 1, 2, 3].map((i) => spendFunded(i, [pay(key(1), time(1))]));
    for (const t of txs) pool.admit(t, 1n);
    pool.finalize(txs[2]!.txid);
    const sorted = [...txs].sort((a, b) => compareBytes(a.txid, b.txid)).map((t) => t.txid);
    expect(pool.all().map((t) => t.txid)).toEqual(sorted);
    expect(new Mempool().all()).toEqual([]);
  });

  it('expires by the monotonic clock when none is given', async () => {
    const pool = new Mempool({ ...DEFAULT_MEMPOOL_LIMITS, processingExpiryMs: 200 });
    const a = spendFunded(0, [pay(key(1), time(1))]);
    pool.admit(a, 1n);
    const admitted = performance.now();
    expect(pool.expireProcessing()).toEqual([]);
    while (performance.now() - admitted < 210) await new Promise((r) => setTimeout(r, 20));
    expect(pool.expireProcessing()).toEqual([a.txid]);
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
    // Unordered: the same transactions of that status, and only those.
    pool.finalize(txs[2]!.txid);
    const ids = (list: readonly { txid: Uint8Array }[]) =>
      list.map((t) => Buffer.from(t.txid).toString('hex')).sort();
    expect(ids(pool.unordered('processing'))).toEqual(ids(pool.processing()));
    expect(ids(pool.unordered('processing'))).toHaveLength(4);
    expect(ids(pool.unordered('finalized'))).toEqual(ids([txs[2]!]));
  });

  it('processingCount follows every way in and out of processing, without listing the pool', () => {
    let t = 0;
    const pool = new Mempool({ maxCount: 100, maxBytes: 1e6, processingExpiryMs: 1_000 }, () => t);
    const counted = () => expect(pool.processingCount).toBe(pool.processing().length);
    const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => spendFunded(i, [pay(key(9), time(1))]));
    const rivalOfA = spendFunded(0, [pay(key(8), time(1))]);
    for (const tx of [a!, b!, c!, d!, rivalOfA]) pool.admit(tx, 1n);
    expect(pool.processingCount).toBe(5);
    pool.finalize(a!.txid); // a final, its rival rejected
    counted();
    expect(pool.processingCount).toBe(3);
    pool.removeIncluded([b!.txid]); // included while processing
    counted();
    pool.reject(c!.txid);
    counted();
    t = 1_000;
    expect(pool.expireProcessing()).toEqual([d!.txid]);
    counted();
    expect(pool.processingCount).toBe(0);
    pool.restoreFinalized(e!, 1n); // final without ever processing
    counted();
    expect(pool.count).toBe(2);
  });

  describe('registry changes (issue 12)', () => {
    const node = devnetKeyPair(DEVNET_SEED, 9_200);
    const register = (funded: number) =>
      signTx(
        params,
        {
          inputs: [fundedOutpoint(funded)],
          outputs: [pay(key(funded), FUNDED - 100_000n)],
          payload: registrationPayload(
            params,
            fundedOutpoint(funded),
            node,
            NO_COLLATERAL,
            key(funded).addressPayload,
          ),
        },
        [key(funded)],
      );
    const deregister = (funded: number, nodeKey = devnetMasternodes()[1]!.nodeKey) =>
      signTx(
        params,
        {
          inputs: [fundedOutpoint(funded)],
          outputs: [pay(key(funded), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, fundedOutpoint(funded), nodeKey),
        },
        [key(funded)],
      );

    it('a registry change adds one 33-byte key (payload kind ‖ node pubkey) after its outpoint keys', () => {
      const reg = register(4);
      const keys = conflictKeysOf(reg.tx);
      expect(keys).toHaveLength(2);
      expect(Buffer.from(keys[0]!, 'latin1')).toEqual(Buffer.from(outpointKey(fundedOutpoint(4))));
      expect(Buffer.from(keys[1]!, 'latin1')).toEqual(Buffer.from([1, ...node.publicKey]));
      expect(registryConflictKeyBytes(reg.tx.payload!)).toEqual(Uint8Array.from([1, ...node.publicKey]));
      const dereg = deregister(6, node);
      expect(Buffer.from(conflictKeysOf(dereg.tx)[1]!, 'latin1')).toEqual(
        Buffer.from([2, ...node.publicKey]),
      );
      // Never equal to an outpoint key, which is 36 bytes.
      expect(keys[1]!.length).toBe(33);
      const pool = new Mempool();
      pool.admit(reg, 1n);
      expect(pool.get(reg.txid)!.conflictKeys).toEqual(keys);
    });

    it('two registrations of one key through different inputs share a conflict set; finality rejects the other', () => {
      const pool = new Mempool();
      const [r1, r2] = [register(4), register(5)];
      pool.admit(r1, 1n);
      expect(pool.admit(r2, 1n).conflicts.map((t) => t.txid)).toEqual([r1.txid]);
      expect(pool.get(r2.txid)!.conflictKeys).toEqual(conflictKeysOf(r2.tx));
      expect(pool.finalize(r1.txid).rejected.map((t) => t.txid)).toEqual([r2.txid]);
      expect(pool.finalizedRegistryChange(r1.tx.payload!)).toEqual(r1.txid);
      // A third one through yet another input can never be admitted while r1 is finalized.
      try {
        pool.admit(register(7), 1n);
        expect.unreachable('a rival of a finalized registration was admitted');
      } catch (err) {
        expect(err).toBeInstanceOf(MempoolError);
        expect((err as MempoolError).code).toBe('CONFLICTS_FINALIZED');
        expect((err as MempoolError).details).toEqual({ payload: 'register' });
        expect((err as MempoolError).message).toBe(
          'CONFLICTS_FINALIZED: a finalized transaction already makes this register of the node key',
        );
      }
      // Once a block includes r1 the key is the chain's business (the ledger says MASTERNODE_EXISTS).
      pool.removeIncluded([r1.txid]);
      expect(pool.finalizedRegistryChange(r1.tx.payload!)).toBeUndefined();
    });

    it('a rival of an expired registration is refused by the registry key, and says so', () => {
      const c = { t: 0 };
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, () => c.t);
      pool.admit(register(4), 1n);
      c.t = 1_000;
      expect(pool.expireProcessing()).toHaveLength(1);
      try {
        pool.admit(register(5), 1n); // another input, the same node key
        expect.unreachable('a rival of an expired registration was admitted');
      } catch (err) {
        expect((err as MempoolError).code).toBe('CONFLICTS_EXPIRED');
        expect((err as MempoolError).details).toEqual({ payload: 'register' });
        expect((err as MempoolError).message).toBe(
          'CONFLICTS_EXPIRED: the register conflicts with a transaction that expired here undecided; ' +
            'no rival is admitted until a block uses it up',
        );
      }
    });

    it('two deregistrations of one node conflict; a registration and a deregistration of one key do not', () => {
      const pool = new Mempool();
      const [d1, d2] = [deregister(6), deregister(7)];
      pool.admit(d1, 1n);
      expect(pool.admit(d2, 1n).conflicts.map((t) => t.txid)).toEqual([d1.txid]);
      expect(pool.admit(deregister(8, node), 1n).conflicts).toEqual([]);
      expect(pool.admit(register(4), 1n).conflicts).toEqual([]);
    });
  });

  describe('what blocks make impossible, and expiry (issue 11)', () => {
    /** A clock the test moves by hand. */
    const clock = () => {
      const c = { t: 0, now: () => c.t };
      return c;
    };
    const two = (a: number, b: number, to: number) =>
      signTx(params, { inputs: [fundedOutpoint(a), fundedOutpoint(b)], outputs: [pay(key(to), time(2))] }, [
        key(a),
        key(b),
      ]);
    const codeOfAdmit = (pool: Mempool, etx: ReturnType<typeof spendFunded>) =>
      code(() => pool.admit(etx, 1n));

    it('a block spending an input of a processing transaction rejects it, releases its other locks and returns it', () => {
      const pool = new Mempool();
      const p = two(0, 1, 5); // spends outpoints 0 and 1
      const q = spendFunded(2, [pay(key(5), time(1))]);
      pool.admit(p, 1n);
      pool.admit(q, 1n);
      // The block's transaction was never in this pool.
      const blockTx = spendFunded(0, [pay(key(6), time(1))]);
      expect(pool.removeBlock([blockTx]).map((t) => t.txid)).toEqual([p.txid]);
      expect(pool.get(p.txid)).toBeUndefined();
      expect(pool.wasRejected(p.txid)).toBe(true);
      expect(pool.conflictSet(fundedOutpoint(1))).toEqual([]);
      expect(pool.admit(spendFunded(1, [pay(key(7), time(1))]), 1n).conflicts).toEqual([]);
      expect(pool.get(q.txid)?.status).toBe('processing');
      expect(pool.totalBytes).toBe(q.bytes.length + spendFunded(1, [pay(key(7), time(1))]).bytes.length);
    });

    it('a block holding a processing transaction itself rejects its rivals and removes it without a trace', () => {
      const pool = new Mempool();
      const a = spendFunded(0, [pay(key(1), time(1))]);
      const b = spendFunded(0, [pay(key(2), time(1))]);
      pool.admit(a, 1n);
      pool.admit(b, 1n);
      expect(pool.removeBlock([a]).map((t) => t.txid)).toEqual([b.txid]);
      expect(pool.count).toBe(0);
      expect(pool.wasRejected(a.txid)).toBe(false);
      expect(pool.finalizedSpender(fundedOutpoint(0))).toBeUndefined();
      expect(pool.totalBytes).toBe(0);
    });

    it('expires a processing transaction once processingExpiryMs have passed, not a millisecond before', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      pool.admit(a, 1n);
      c.t = 999;
      expect(pool.expireProcessing()).toEqual([]);
      c.t = 1_000;
      expect(pool.expireProcessing()).toEqual([a.txid]);
      expect(pool.get(a.txid)).toBeUndefined();
      expect(pool.isExpired(a.txid)).toBe(true);
      expect(pool.expiredCount).toBe(1);
      expect(pool.processing()).toEqual([]);
      expect(pool.expireProcessing()).toEqual([]);
    });

    it('an expired transaction keeps its keys: rivals are refused, it alone may come back', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      pool.admit(a, 1n);
      c.t = 5_000;
      pool.expireProcessing();
      // The record is compact: the txid and the keys, not the transaction.
      expect(pool.totalBytes).toBe(32 + 36);
      const rival = spendFunded(0, [pay(key(2), time(1))]);
      expect(codeOfAdmit(pool, rival)).toBe('CONFLICTS_EXPIRED');
      try {
        pool.admit(rival, 1n);
      } catch (err) {
        expect((err as MempoolError).details).toEqual({ input: 0 });
        expect((err as MempoolError).message).toBe(
          'CONFLICTS_EXPIRED: input 0 conflicts with a transaction that expired here undecided; ' +
            'no rival is admitted until a block uses it up',
        );
      }
      // A transaction sharing the key with another input also waits.
      expect(codeOfAdmit(pool, two(3, 0, 4))).toBe('CONFLICTS_EXPIRED');
      expect(pool.conflictSet(fundedOutpoint(3))).toEqual([]);
      // The expired one itself comes back (say a block holds it and it must be polled).
      expect(pool.admit(a, 1n).conflicts).toEqual([]);
      expect(pool.isExpired(a.txid)).toBe(false);
      expect(pool.get(a.txid)?.status).toBe('processing');
      expect(pool.totalBytes).toBe(a.bytes.length);
      // Processing again, it conflicts with newcomers normally (Snowball decides).
      expect(pool.admit(rival, 1n).conflicts.map((t) => t.txid)).toEqual([a.txid]);
    });

    it('expires a whole conflict component at once, so no preference moves to a rival', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      pool.admit(a, 1n);
      c.t = 900;
      const b = two(0, 1, 6); // conflicts with a on 0 and with c on 1
      const cc = spendFunded(1, [pay(key(7), time(1))]);
      const d = spendFunded(2, [pay(key(8), time(1))]);
      for (const t of [b, cc, d]) pool.admit(t, 1n);
      c.t = 1_000;
      expect(pool.expireProcessing().sort(compareBytes)).toEqual(
        [a.txid, b.txid, cc.txid].sort(compareBytes),
      );
      expect(pool.processing().map((t) => t.txid)).toEqual([d.txid]);
      c.t = 1_899;
      expect(pool.expireProcessing()).toEqual([]);
      c.t = 1_900;
      expect(pool.expireProcessing()).toEqual([d.txid]);
    });

    it('the lock goes when a block uses the key up; the expired transaction is then rejected', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = two(0, 1, 5);
      pool.admit(a, 1n);
      c.t = 1_000;
      pool.expireProcessing();
      expect(codeOfAdmit(pool, spendFunded(1, [pay(key(2), time(1))]))).toBe('CONFLICTS_EXPIRED');
      // The network decided otherwise: a block spends outpoint 0.
      expect(pool.removeBlock([spendFunded(0, [pay(key(6), time(1))])])).toEqual([]);
      expect(pool.isExpired(a.txid)).toBe(false);
      expect(pool.expiredCount).toBe(0);
      expect(pool.totalBytes).toBe(0);
      expect(codeOfAdmit(pool, a)).toBe('ALREADY_REJECTED');
      expect(codeOfAdmit(pool, spendFunded(1, [pay(key(2), time(1))]))).toBe('OK');
    });

    it('tells when a processing transaction shares a set with a rival that is only an expired record', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      const b = two(0, 1, 6); // spends coin 0 (a's rival) and coin 1
      const other = spendFunded(2, [pay(key(1), time(1))]);
      pool.admit(a, 1n);
      pool.admit(b, 1n);
      pool.admit(other, 1n);
      expect([a, b, other].map((t) => pool.hasExpiredRivalByKey(txKey(t.txid)))).toEqual([
        false,
        false,
        false,
      ]);
      c.t = 1_000;
      expect(pool.expireProcessing()).toHaveLength(3);
      pool.admit(a, 1n); // back alone: b is a record
      const later = spendFunded(3, [pay(key(1), time(1))]);
      pool.admit(later, 1n); // no rival at all
      expect(pool.hasExpiredRivalByKey(txKey(a.txid))).toBe(true);
      expect(pool.hasExpiredRivalByKey(txKey(later.txid))).toBe(false);
      // Not held (a record, or unknown): nothing to say.
      expect(pool.hasExpiredRivalByKey(txKey(b.txid))).toBe(false);
      expect(pool.hasExpiredRivalByKey(txKey(new Uint8Array(32)))).toBe(false);
      // b back too: neither is a record any more.
      pool.admit(b, 1n);
      expect([a, b].map((t) => pool.hasExpiredRivalByKey(txKey(t.txid)))).toEqual([false, false]);
      // A record in the second of its sets counts as well: d spends only coin 1, b's other input.
      const p2 = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const d = spendFunded(1, [pay(key(2), time(1))]);
      p2.admit(b, 1n);
      p2.admit(d, 1n);
      c.t = 5_000;
      expect(p2.expireProcessing()).toHaveLength(2);
      p2.admit(b, 1n);
      expect(p2.hasExpiredRivalByKey(txKey(b.txid))).toBe(true);
    });

    it('a conflicting transaction becoming final drops expired rivals (and frees their other keys)', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      const b = two(0, 1, 6);
      pool.admit(a, 1n);
      pool.admit(b, 1n);
      c.t = 1_000;
      expect(pool.expireProcessing()).toHaveLength(2);
      pool.admit(a, 1n); // back for polling; b stays expired
      expect(pool.finalize(a.txid).rejected).toEqual([]); // b was not processing
      expect(pool.wasRejected(b.txid)).toBe(true);
      expect(pool.isExpired(b.txid)).toBe(false);
      expect(codeOfAdmit(pool, spendFunded(1, [pay(key(2), time(1))]))).toBe('OK');
      // The same through restoreFinalized (a reorg returns a final rival).
      const x = spendFunded(3, [pay(key(1), time(1))]);
      pool.admit(x, 1n);
      c.t = 3_000;
      pool.expireProcessing();
      expect(pool.isExpired(x.txid)).toBe(true);
      const finalRival = spendFunded(3, [pay(key(2), time(1))]);
      expect(pool.restoreFinalized(finalRival, 1n)).toEqual([]);
      expect(pool.wasRejected(x.txid)).toBe(true);
      expect(pool.get(finalRival.txid)?.status).toBe('finalized');
    });

    it('expired records count against maxCount and maxBytes; expiry itself never needs room', () => {
      const c = clock();
      const pool = new Mempool({ maxCount: 2, maxBytes: 1e6, processingExpiryMs: 1_000 }, c.now);
      const a = spendFunded(0, [pay(key(1), time(1))]);
      pool.admit(a, 1n);
      pool.admit(spendFunded(1, [pay(key(1), time(1))]), 1n);
      c.t = 1_000;
      expect(pool.expireProcessing()).toHaveLength(2);
      expect(codeOfAdmit(pool, spendFunded(2, [pay(key(1), time(1))]))).toBe('MEMPOOL_FULL');
      // Coming back does not add to the count.
      expect(codeOfAdmit(pool, a)).toBe('OK');
      // The record's 68 bytes (txid + one outpoint key) count: one byte short refuses.
      for (const [slack, expected] of [
        [67, 'MEMPOOL_FULL'],
        [68, 'OK'],
      ] as const) {
        const byBytes = new Mempool(
          { maxCount: 10, maxBytes: a.bytes.length + slack, processingExpiryMs: 1 },
          c.now,
        );
        byBytes.admit(a, 1n);
        c.t += 1;
        byBytes.expireProcessing();
        expect(byBytes.totalBytes).toBe(68);
        expect(codeOfAdmit(byBytes, spendFunded(1, [pay(key(1), time(1))]))).toBe(expected);
      }
    });

    it('seeded random operations: only expired transactions ever share a key with an expired record; exact accounting', () => {
      for (let seed = 1; seed <= 8; seed++) {
        const rng = new SeededRandom(seed);
        const c = clock();
        const pool = new Mempool({ maxCount: 40, maxBytes: 1e9, processingExpiryMs: 100 }, c.now);
        const outpoints = Array.from({ length: 8 }, () => ({ txid: rng.bytes(32), vout: rng.below(3) }));
        const payee = key(1).addressPayload; // derived once: deriving a key pair is slow
        const everExpired = new Set<string>();
        const known: EncodedTx[] = [];
        const makeTx = (): EncodedTx => {
          const first = rng.below(outpoints.length);
          const inputs = [outpoints[first]!];
          if (rng.below(3) === 0)
            inputs.push(outpoints[(first + 1 + rng.below(outpoints.length - 1)) % outpoints.length]!);
          return encodeTx({
            version: 1,
            chainId: params.chainId,
            inputs,
            outputs: [{ value: BigInt(1_000 + rng.below(1e6)), address: payee }],
            lockTime: 0,
            payload: null,
            witnesses: [],
          });
        };
        const hex = (t: EncodedTx) => Buffer.from(t.txid).toString('hex');
        const keyCache = new Map<EncodedTx, string[]>();
        const keysOf = (t: EncodedTx) => {
          const cached = keyCache.get(t);
          if (cached) return cached;
          const keys = conflictKeysOf(t.tx);
          keyCache.set(t, keys);
          return keys;
        };
        const shares = (a: EncodedTx, b: EncodedTx) => keysOf(a).some((k) => keysOf(b).includes(k));
        for (let step = 0; step < 600; step++) {
          const op = rng.below(10);
          if (op < 4) {
            // A newcomer, or a transaction seen before (maybe expired) coming back.
            const tx = known.length > 0 && rng.below(3) === 0 ? known[rng.below(known.length)]! : makeTx();
            const lockedByExpired = known.some((e) => e !== tx && pool.isExpired(e.txid) && shares(e, tx));
            let admitted = false;
            try {
              pool.admit(tx, 1n);
              admitted = true;
            } catch (err) {
              if (!(err instanceof MempoolError)) throw err;
            }
            if (admitted && !everExpired.has(hex(tx)))
              expect(lockedByExpired, `seed ${seed} step ${step}`).toBe(false);
            if (!known.includes(tx)) known.push(tx);
          } else if (op < 6) {
            c.t += rng.below(80);
            for (const txid of pool.expireProcessing()) everExpired.add(Buffer.from(txid).toString('hex'));
          } else if (op === 6 || op === 7) {
            const processing = pool.processing();
            if (processing.length > 0) {
              const t = processing[rng.below(processing.length)]!;
              if (op === 6) pool.finalize(t.txid);
              else pool.reject(t.txid);
            }
          } else {
            // A block: a known transaction or a stranger spending one of the outpoints.
            const tx = known.length > 0 && rng.below(2) === 0 ? known[rng.below(known.length)]! : makeTx();
            const rejected = pool.removeBlock([tx]);
            for (const r of rejected)
              expect(conflictKeysOf(r.tx).some((k) => conflictKeysOf(tx.tx).includes(k))).toBe(true);
            // Outpoints are never reused after a block spends them.
            for (const input of tx.tx.inputs)
              outpoints[outpoints.indexOf(input)] = { txid: rng.bytes(32), vout: 0 };
          }
          // Expiry withdraws, never adds: a processing transaction sharing a key with an expired
          // record was itself expired (it was a rival when the component expired, and came back).
          const expiredNow = known.filter((t) => pool.isExpired(t.txid));
          const processing = pool.processing();
          for (const p of processing)
            if (!everExpired.has(hex(p)))
              expect(
                expiredNow.some((e) => shares(e, p)),
                `seed ${seed} step ${step}`,
              ).toBe(false);
          // Bytes: every transaction held, plus each expired record's txid and keys.
          let bytes = 0;
          for (const t of [...processing, ...pool.finalized()]) bytes += t.bytes.length;
          const records = expiredNow.length;
          for (const t of expiredNow) bytes += 32 + keysOf(t).reduce((sum, k) => sum + k.length, 0);
          expect(pool.expiredCount).toBe(records);
          expect(pool.totalBytes).toBe(bytes);
        }
      }
    });
  });
});

describe('a block includes a transaction this node still has processing (issue 15)', () => {
  it('removeIncluded of a processing transaction rejects its rivals and empties the conflict set', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    const rival = spendFunded(0, [pay(key(2), time(1))]);
    const bystander = spendFunded(1, [pay(key(3), time(1))]);
    pool.admit(a, 1n);
    pool.admit(rival, 1n);
    pool.admit(bystander, 1n);
    expect(pool.get(a.txid)?.status).toBe('processing');
    expect(pool.conflictSetSizes(rival.txid)).toEqual([2]);

    // The block is authoritative: `a` is in the chain, so the rival can never be valid again.
    pool.removeIncluded([a.txid]);
    expect(pool.get(a.txid)).toBeUndefined();
    expect(pool.get(rival.txid)).toBeUndefined();
    expect(pool.wasRejected(rival.txid)).toBe(true);
    expect(pool.conflictSet(fundedOutpoint(0))).toEqual([]);
    expect(code(() => pool.admit(rival, 1n))).toBe('ALREADY_REJECTED');
    // Nothing else is touched, and the byte count matches what is left.
    expect(pool.processing().map((t) => t.txid)).toEqual([bystander.txid]);
    expect(pool.count).toBe(1);
    expect(pool.totalBytes).toBe(bystander.bytes.length);
    // The chain, not the mempool, now records the spend of the outpoint.
    expect(pool.finalizedSpender(fundedOutpoint(0))).toBeUndefined();
  });

  it('removeIncluded releases the locks a rejected rival holds on its other inputs', () => {
    const pool = new Mempool();
    const a = spendFunded(0, [pay(key(1), time(1))]);
    // The rival also spends outpoint 1, contested by c: after `a` is included, c stands alone.
    const rival = signTx(
      params,
      { inputs: [fundedOutpoint(0), fundedOutpoint(1)], outputs: [pay(key(3), time(2))] },
      [key(0), key(1)],
    );
    const c = spendFunded(1, [pay(key(4), time(1))]);
    pool.admit(a, 1n);
    pool.admit(rival, 1n);
    pool.admit(c, 1n);
    expect(pool.conflictSetSizes(c.txid)).toEqual([2]);
    pool.removeIncluded([a.txid]);
    expect(pool.wasRejected(rival.txid)).toBe(true);
    expect(pool.conflictSetSizes(c.txid)).toEqual([1]);
    expect(pool.conflictSet(fundedOutpoint(1)).map((t) => t.txid)).toEqual([c.txid]);
  });
});

describe('mempool edges the mutation run found untested (issue 15)', () => {
  const sortedIds = (txs: readonly EncodedTx[]) => txs.map((t) => t.txid).sort(compareBytes);
  /** Three rivals for funded outpoint 0. */
  const rivals = () => [1, 2, 3].map((to) => spendFunded(0, [pay(key(to), time(1))]));

  it('conflict sets, finality and block rejections come back in txid order, whatever the admission order', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const txs = rivals();
      const pool = new Mempool();
      for (const i of order) pool.admit(txs[i]!, 1n);
      expect(pool.conflictSet(fundedOutpoint(0)).map((t) => t.txid)).toEqual(sortedIds(txs));
      const winner = txs[order[0]!]!;
      const losers = txs.filter((t) => t !== winner);
      expect(pool.finalize(winner.txid).rejected.map((t) => t.txid)).toEqual(sortedIds(losers));

      const byBlock = new Mempool();
      for (const i of order) byBlock.admit(txs[i]!, 1n);
      const other = spendFunded(0, [pay(key(9), time(1))]);
      expect(byBlock.removeBlock([other]).map((t) => t.txid)).toEqual(sortedIds(txs));
    }
  });

  it('names what it refuses', () => {
    const pool = new Mempool();
    const [a, b] = rivals();
    pool.admit(a!, 1n);
    expect(() => pool.admit(a!, 1n)).toThrow('ALREADY_KNOWN: transaction already in the mempool');
    pool.reject(a!.txid);
    expect(() => pool.admit(a!, 1n)).toThrow('ALREADY_REJECTED: transaction was rejected');
    expect(() => pool.reject(a!.txid)).toThrow('NOT_PROCESSING: not a processing transaction');
    expect(() => pool.finalize(b!.txid)).toThrow('NOT_PROCESSING: not a processing transaction');
    pool.admit(b!, 1n);
    pool.finalize(b!.txid);
    const late = spendFunded(0, [pay(key(7), time(1))]);
    expect(() => pool.admit(late, 1n)).toThrow(
      'CONFLICTS_FINALIZED: input 0 is spent by a finalized transaction',
    );
    const full = new Mempool({ maxCount: 1, maxBytes: 1e6 });
    full.admit(spendFunded(1, [pay(key(1), time(1))]), 1n);
    expect(() => full.admit(spendFunded(2, [pay(key(1), time(1))]), 1n)).toThrow(
      `MEMPOOL_FULL: mempool holds 1 transactions and 0 expired records / ${full.totalBytes} bytes (limits 1 / 1000000)`,
    );
  });

  it('a conflict with an expired transaction is named by its input', () => {
    let t = 0;
    const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 10 }, () => t);
    const [a, b] = rivals();
    pool.admit(a!, 1n);
    t = 10;
    pool.expireProcessing();
    expect(() => pool.admit(b!, 1n)).toThrow(
      'CONFLICTS_EXPIRED: input 0 conflicts with a transaction that expired here undecided; no rival is admitted until a block uses it up',
    );
    // An expired member is not a processing one: the conflict set lists none.
    expect(pool.conflictSet(fundedOutpoint(0))).toEqual([]);
  });

  it('asking about unknown transactions and outpoints answers nothing and throws nothing', () => {
    const pool = new Mempool();
    const stranger = spendFunded(5, [pay(key(1), time(1))]);
    expect(pool.conflictSetSizes(stranger.txid)).toEqual([]);
    expect(pool.finalizedSpender(fundedOutpoint(5))).toBeUndefined();
    expect(() => pool.removeIncluded([stranger.txid])).not.toThrow();
    expect(pool.count).toBe(0);
  });

  it('restoreFinalized counts each transaction once, whatever it was before', () => {
    let t = 0;
    const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 10 }, () => t);
    const [a] = rivals();
    const b = spendFunded(1, [pay(key(2), time(1))]);
    const c = spendFunded(2, [pay(key(2), time(1))]);
    // Unknown before: counted once; restoring it again changes nothing.
    expect(pool.restoreFinalized(a!, 1n)).toEqual([]);
    expect(pool.totalBytes).toBe(a!.bytes.length);
    expect(pool.restoreFinalized(a!, 1n)).toEqual([]);
    expect(pool.totalBytes).toBe(a!.bytes.length);
    expect(pool.get(a!.txid)?.status).toBe('finalized');
    // Processing before: finalized in place.
    pool.admit(b, 1n);
    pool.restoreFinalized(b, 1n);
    expect(pool.totalBytes).toBe(a!.bytes.length + b.bytes.length);
    expect(pool.count).toBe(2);
    // Expired before: its record goes.
    pool.admit(c, 1n);
    t = 10;
    expect(pool.expireProcessing()).toEqual([c.txid]);
    pool.restoreFinalized(c, 1n);
    expect(pool.expiredCount).toBe(0);
    expect(pool.isExpired(c.txid)).toBe(false);
    expect(pool.totalBytes).toBe(a!.bytes.length + b.bytes.length + c.bytes.length);
  });

  it('a block holding an expired transaction removes its record', () => {
    let t = 0;
    const pool = new Mempool({ maxCount: 10, maxBytes: 1e6, processingExpiryMs: 10 }, () => t);
    const [a] = rivals();
    pool.admit(a!, 1n);
    t = 10;
    pool.expireProcessing();
    pool.removeBlock([a!]);
    expect(pool.expiredCount).toBe(0);
    expect(pool.totalBytes).toBe(0);
    expect(pool.wasRejected(a!.txid)).toBe(false);
  });

  it('an expired transaction coming back is charged its bytes, not its bytes plus its record', () => {
    let t = 0;
    const [a] = rivals();
    const pool = new Mempool({ maxCount: 10, maxBytes: a!.bytes.length, processingExpiryMs: 10 }, () => t);
    pool.admit(a!, 1n);
    t = 10;
    pool.expireProcessing();
    expect(code(() => pool.admit(a!, 1n))).toBe('OK');
    expect(pool.totalBytes).toBe(a!.bytes.length);
  });

  it('a block of several transactions returns all the rivals it made impossible in txid order', () => {
    const pool = new Mempool();
    const rivalOf0 = spendFunded(0, [pay(key(5), time(1))]);
    const rivalOf1 = spendFunded(1, [pay(key(5), time(1))]);
    pool.admit(rivalOf0, 1n);
    pool.admit(rivalOf1, 1n);
    const spends = new Map([
      [rivalOf0, spendFunded(0, [pay(key(6), time(1))])],
      [rivalOf1, spendFunded(1, [pay(key(6), time(1))])],
    ]);
    // The block lists first the spend whose rival sorts last, so only a final sort orders them.
    const [first, second] = [rivalOf0, rivalOf1].sort((a, b) => compareBytes(b.txid, a.txid));
    const rejected = pool.removeBlock([spends.get(first!)!, spends.get(second!)!]);
    expect(rejected.map((t) => t.txid)).toEqual([second!.txid, first!.txid]);
  });
});
