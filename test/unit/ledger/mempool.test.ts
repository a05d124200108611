import { describe, expect, it } from 'vitest';
import { DEVNET_SEED, devnetMasternodes } from '../../../src/chain/genesis.js';
import { conflictKeysOf, registryConflictKeyBytes } from '../../../src/ledger/conflict-keys.js';
import { Mempool } from '../../../src/ledger/mempool.js';
import { MempoolError } from '../../../src/ledger/mempool-errors.js';
import { time } from '../../../src/params/units.js';
import { NO_COLLATERAL } from '../../../src/protocol/transaction.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';
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
      }
      // Once a block includes r1 the key is the chain's business (the ledger says MASTERNODE_EXISTS).
      pool.removeIncluded([r1.txid]);
      expect(pool.finalizedRegistryChange(r1.tx.payload!)).toBeUndefined();
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
});
