import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, encodeBlock, headerHash } from '../../../src/protocol/block.js';
import type { TxPayload } from '../../../src/protocol/transaction.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';
import { readActiveSet } from '../../../src/storage/active-set-index.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { encodeChainTip } from '../../../src/storage/chain-tip.js';
import { META_KEYS } from '../../../src/storage/databases.js';
import { StoreWriteError } from '../../../src/storage/errors.js';
import type { MasternodeRecord } from '../../../src/storage/masternode-record.js';
import { decodeUndoRecord, encodeUndoRecord } from '../../../src/storage/undo-record.js';
import { utxoKey } from '../../../src/storage/utxo-key.js';
import { addr, dbsOf, handBlock, handTx } from './hand-chain.js';
import { expectStoreMatches, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = DEVNET;
const ALLOC = 10n ** 15n;
const FEE = 1_000n;
const TIER1 = P.tiers[1]!.collateral;
const X = new Uint8Array(32).fill(0x5a);
const SIG = new Uint8Array(64);

/** Genesis: one allocation tx paying ALLOC to addr(1), addr(2), addr(3). */
async function handStore() {
  const { dir, cleanup } = tempDir('effects');
  const g0 = handTx(
    P,
    [],
    [1, 2, 3].map((b) => ({ value: ALLOC, address: addr(b) })),
  );
  const genesis = handBlock(P, null, [g0]);
  const store = await ChainStore.open(dir, P, genesis);
  cleanups.push(cleanup, () => store.close());
  return { dir, store, genesis, g0 };
}

const register = (rewardByte: number, collateralVout = 0): TxPayload => ({
  kind: 'register',
  nodePubkey: X,
  collateralVout,
  rewardAddress: addr(rewardByte),
  nodeSignature: SIG,
});
const deregister: TxPayload = { kind: 'deregister', nodePubkey: X, nodeSignature: SIG };

async function expectWriteError(p: Promise<unknown>, code: string): Promise<StoreWriteError> {
  const err = await p.then(
    () => {
      throw new Error(`resolved, expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreWriteError);
  expect((err as StoreWriteError).code).toBe(code);
  return err as StoreWriteError;
}

describe('block effects: refusals carry their details and change nothing', () => {
  it('NOT_NEXT_BLOCK names the height and tip, also for the right height on the wrong parent', async () => {
    const { store, genesis, g0 } = await handStore();
    const tipHash = toHex(headerHash(genesis.header));
    const b1 = handBlock(P, genesis, [
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 5n, address: addr(7) }]),
    ]);
    const b2 = handBlock(P, b1, [handTx(P, [], [{ value: 1n, address: addr(8) }], { lockTime: 2 })]);
    const skip = await expectWriteError(store.applyBlock(b2), 'NOT_NEXT_BLOCK');
    expect(skip.details).toEqual({ height: 2, tipHeight: 0 });
    expect(skip.message).toContain(`height 2 does not extend tip 0 ${tipHash}`);
    // Height 1 but a parent that is not the tip.
    const orphan: Block = { ...b1, header: { ...b1.header, prevHash: new Uint8Array(32).fill(3) } };
    const wrongParent = await expectWriteError(store.applyBlock(orphan), 'NOT_NEXT_BLOCK');
    expect(wrongParent.details).toEqual({ height: 1, tipHeight: 0 });
    // The tip as parent but a height that skips one: the height alone refuses it.
    const skipping: Block = { ...b1, header: { ...b1.header, height: 2 } };
    const wrongHeight = await expectWriteError(store.applyBlock(skipping), 'NOT_NEXT_BLOCK');
    expect(wrongHeight.details).toEqual({ height: 2, tipHeight: 0 });
    expect(store.tipHeight()).toBe(0);
    await store.applyBlock(b1);
    expect(store.tipHeight()).toBe(1);
    expect(store.tip().height).toBe(1);
  });

  it('MISSING_UTXO, BAD_COLLATERAL_VOUT and UNKNOWN_MASTERNODE name the block height (and the vout)', async () => {
    const { store, genesis, g0 } = await handStore();
    const before = store.counts();
    const missing = handBlock(P, genesis, [
      handTx(P, [{ txid: new Uint8Array(32).fill(9), vout: 5 }], [{ value: 1n, address: addr(7) }]),
    ]);
    const missingErr = await expectWriteError(store.applyBlock(missing), 'MISSING_UTXO');
    expect(missingErr.details).toEqual({ height: 1, vout: 5 });
    expect(missingErr.message).toMatch(/block 1 spends an output/);
    const badVout = handBlock(P, genesis, [
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: TIER1, address: addr(4) }], {
        payload: register(9, 3),
      }),
    ]);
    const badVoutErr = await expectWriteError(store.applyBlock(badVout), 'BAD_COLLATERAL_VOUT');
    expect(badVoutErr.details).toEqual({ height: 1 });
    expect(badVoutErr.message).toMatch(/collateral vout 3 does not exist/);
    const unknown = handBlock(P, genesis, [
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 1n, address: addr(4) }], { payload: deregister }),
    ]);
    const unknownErr = await expectWriteError(store.applyBlock(unknown), 'UNKNOWN_MASTERNODE');
    expect(unknownErr.details).toEqual({ height: 1 });
    expect(unknownErr.message).toMatch(/block 1 deregisters an unknown node/);
    expect(store.counts()).toEqual(before);
    expect(store.tipHeight()).toBe(0);
  });

  it('BAD_ORDER: an order handed in that is not of this body is refused before anything is written', async () => {
    const { store, genesis, g0 } = await handStore();
    const before = store.counts();
    const coinbase = handTx(P, [], [{ value: 1n, address: addr(8) }], { lockTime: 1 });
    const b1 = handBlock(P, genesis, [
      coinbase,
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 5n, address: addr(7) }]),
    ]);
    const other = handBlock(P, genesis, [
      handTx(P, [], [{ value: 2n, address: addr(8) }], { lockTime: 1 }),
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 4n, address: addr(7) }]),
    ]);
    // Another body's order (same length), and this body's order cut short.
    for (const order of [other.txs, b1.txs.slice(0, 1)]) {
      const err = await expectWriteError(store.applyBlock(b1, order), 'BAD_ORDER');
      expect(err.details).toEqual({ height: 1 });
      expect(err.message).toMatch(/order given for block 1 is not of its body/);
    }
    expect(store.counts()).toEqual(before);
    await store.applyBlock(b1, b1.txs);
    expect(store.tipHeight()).toBe(1);
  });
});

describe('UTXO reads by a malformed outpoint', () => {
  // The store builds UTXO keys in one shared buffer; a caller's txid of another length must get a
  // key of its own, or it would be read against what the previous key left in that buffer.
  it('a txid of 31 or 33 bytes matches no output, even right after a read of the real one', async () => {
    const { store, g0 } = await handStore();
    for (const txid of [g0.txid.subarray(0, 31), Uint8Array.from([...g0.txid, 0])]) {
      expect(store.getUtxo({ txid: g0.txid, vout: 1 })?.value).toBe(ALLOC);
      expect(store.getUtxo({ txid, vout: 1 })).toBeUndefined();
    }
  });
});

describe('block effects: genesis', () => {
  it('a genesis transaction may spend an output of an earlier genesis transaction (genesis keeps no undo record)', async () => {
    const { dir, cleanup } = tempDir('effects-genesis');
    cleanups.push(cleanup);
    const g0 = handTx(P, [], [{ value: ALLOC, address: addr(1) }]);
    const g1 = handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: ALLOC, address: addr(2) }]);
    const genesis = handBlock(P, null, [g0, g1]);
    const store = await ChainStore.open(dir, P, genesis);
    cleanups.push(() => store.close());
    expect(store.getUtxo({ txid: g0.txid, vout: 0 })).toBeUndefined();
    expect(store.getUtxo({ txid: g1.txid, vout: 0 })).toEqual({
      value: ALLOC,
      address: addr(2),
      height: 0,
      coinbase: false,
    });
    expect(dbsOf(store).undo.get(0)).toBeUndefined();
    await expectStoreMatches(store, ReplayModel.of(P, [genesis]));
  });
});

describe('block effects: register, deregister, re-register and revert', () => {
  it('a re-registration keeps the prior record in the undo record; reverts restore records, owners and indexes', async () => {
    const { store, genesis, g0 } = await handStore();
    const r1 = handTx(
      P,
      [{ txid: g0.txid, vout: 0 }],
      [
        { value: TIER1, address: addr(4) },
        { value: ALLOC - TIER1 - FEE, address: addr(1) },
      ],
      { payload: register(9) },
    );
    const b1 = handBlock(P, genesis, [r1]);
    const d2 = handTx(P, [{ txid: g0.txid, vout: 1 }], [{ value: ALLOC - FEE, address: addr(2) }], {
      payload: deregister,
    });
    const b2 = handBlock(P, b1, [d2]);
    const r3 = handTx(
      P,
      [{ txid: g0.txid, vout: 2 }],
      [
        { value: TIER1, address: addr(5) },
        { value: ALLOC - TIER1 - FEE, address: addr(3) },
      ],
      { payload: register(8) },
    );
    const b3 = handBlock(P, b2, [r3]);

    const rec1: MasternodeRecord = {
      nodePubkey: X,
      tier: 1,
      collateral: { txid: r1.txid, vout: 0 },
      rewardAddress: addr(9),
      registeredHeight: 1,
      deregisteredHeight: null,
    };
    const gone1 = { ...rec1, deregisteredHeight: 2 };
    const rec3: MasternodeRecord = {
      ...rec1,
      collateral: { txid: r3.txid, vout: 0 },
      rewardAddress: addr(8),
      registeredHeight: 3,
    };
    const c1 = { txid: r1.txid, vout: 0 };
    const c3 = { txid: r3.txid, vout: 0 };

    await store.applyBlock(b1);
    await store.applyBlock(b2);
    await store.applyBlock(b3);
    expect(store.getMasternode(X)).toEqual(rec3);
    expect(store.collateralOwner(c3)).toEqual(X);
    expect(store.collateralOwner(c1)).toBeUndefined();
    // The undo record of block 3 holds the deregistered record it overwrote, not "absent".
    const undo3 = decodeUndoRecord(dbsOf(store).undo.get(3)!);
    expect(undo3.masternodes).toEqual([{ nodePubkey: X, prior: gone1 }]);
    expect(undo3.collateral).toEqual([{ key: outpointKey(c3), prior: null }]);
    expect(store.activeMasternodes(3)).toEqual([rec3]);
    expect(store.activeMasternodes(2)).toEqual([]);
    await expectStoreMatches(store, ReplayModel.of(P, [genesis, b1, b2, b3]));

    await store.revertTip();
    expect(store.getMasternode(X)).toEqual(gone1);
    expect(store.collateralOwner(c3)).toBeUndefined();
    expect(store.collateralOwner(c1)).toBeUndefined();
    expect(store.activeMasternodes(1)).toEqual([gone1]);
    expect(store.activeMasternodes(2)).toEqual([]);
    expect(store.masternodeRange(10)).toEqual([gone1]);
    await expectStoreMatches(store, ReplayModel.of(P, [genesis, b1, b2]));

    // Block 2's undo record holds the prior collateral owner, and its revert puts it back.
    expect(decodeUndoRecord(dbsOf(store).undo.get(2)!).collateral).toEqual([
      { key: outpointKey(c1), prior: X },
    ]);
    await store.revertTip();
    expect(store.getMasternode(X)).toEqual(rec1);
    expect(store.collateralOwner(c1)).toEqual(X);
    expect(store.activeMasternodes(1)).toEqual([rec1]);
    await expectStoreMatches(store, ReplayModel.of(P, [genesis, b1]));

    await store.revertTip();
    expect(store.getMasternode(X)).toBeUndefined();
    expect(store.collateralOwner(c1)).toBeUndefined();
    expect(store.activeMasternodes(0)).toEqual([]);
    await expectStoreMatches(store, ReplayModel.of(P, [genesis]));
  });
});

describe('block effects: revert refuses a damaged undo record', () => {
  async function twoBlocks() {
    const s = await handStore();
    const t1 = handTx(
      P,
      [{ txid: s.g0.txid, vout: 0 }],
      [
        { value: 5n, address: addr(6) },
        { value: ALLOC - 5n - FEE, address: addr(7) },
      ],
    );
    const b1 = handBlock(P, s.genesis, [t1]);
    await s.store.applyBlock(b1);
    return { ...s, b1, t1 };
  }

  it('UNDO_MISSING (with the height) when the tip block or its undo record is gone; nothing changes', async () => {
    const { store, genesis, b1 } = await twoBlocks();
    const dbs = dbsOf(store);
    const undo = new Uint8Array(dbs.undo.get(1)!);
    const blockBytes = encodeBlock(b1);
    dbs.env.transactionSync(() => dbs.undo.removeSync(1));
    const noUndo = await expectWriteError(store.revertTip(), 'UNDO_MISSING');
    expect(noUndo.details).toEqual({ height: 1 });
    expect(noUndo.message).toMatch(/tip height 1/);
    dbs.env.transactionSync(() => {
      dbs.undo.putSync(1, undo);
      dbs.blocks.removeSync(1);
    });
    expect((await expectWriteError(store.revertTip(), 'UNDO_MISSING')).details).toEqual({ height: 1 });
    expect(store.tip().height).toBe(1);
    dbs.env.transactionSync(() => dbs.blocks.putSync(1, blockBytes));
    await expectStoreMatches(store, ReplayModel.of(P, [genesis, b1]));
    await store.revertTip();
    await expectStoreMatches(store, ReplayModel.of(P, [genesis]));
  });

  it('UNDO_MISSING when the undo record lists fewer spends than the block has inputs', async () => {
    const { store, genesis, b1 } = await twoBlocks();
    const dbs = dbsOf(store);
    const undo = decodeUndoRecord(dbs.undo.get(1)!);
    expect(undo.spent).toHaveLength(1);
    dbs.env.transactionSync(() => dbs.undo.putSync(1, encodeUndoRecord({ ...undo, spent: [] })));
    const err = await expectWriteError(store.revertTip(), 'UNDO_MISSING');
    expect(err.message).toMatch(/block 1 lists too few spends/);
    expect(store.tip().height).toBe(1);
    await expectStoreMatches(store, ReplayModel.of(P, [genesis, b1]));
  });
});

describe('ChainStore: the stored tip must be the one this store wrote', () => {
  it('TIP_CHANGED when another writer moved the tip (same height, other hash; or another height)', async () => {
    const { store, genesis, g0 } = await handStore();
    const b1 = handBlock(P, genesis, [
      handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 5n, address: addr(7) }]),
    ]);
    const dbs = dbsOf(store);
    const real = store.tip();
    dbs.env.transactionSync(() =>
      dbs.meta.putSync(META_KEYS.tip, encodeChainTip({ ...real, hash: new Uint8Array(32).fill(1) })),
    );
    const err = await expectWriteError(store.applyBlock(b1), 'TIP_CHANGED');
    expect(err.details).toEqual({ storedHeight: 0, expectedHeight: 0 });
    // The operator is told both tips, hashes included: here only the hash tells them apart.
    expect(err.message).toContain(`stored tip is 0 ${'01'.repeat(32)}, not 0 ${toHex(real.hash)}`);
    expect(err.message).toMatch(/another process wrote to this data directory/);
    dbs.env.transactionSync(() => dbs.meta.putSync(META_KEYS.tip, encodeChainTip({ ...real, height: 7 })));
    expect((await expectWriteError(store.applyBlock(b1), 'TIP_CHANGED')).details).toEqual({
      storedHeight: 7,
      expectedHeight: 0,
    });
    expect(store.getBlock(1)).toBeUndefined();
    dbs.env.transactionSync(() => dbs.meta.putSync(META_KEYS.tip, encodeChainTip(real)));
    await store.applyBlock(b1);
    dbs.env.transactionSync(() =>
      dbs.meta.putSync(META_KEYS.tip, encodeChainTip({ ...store.tip(), hash: headerHash(genesis.header) })),
    );
    await expectWriteError(store.revertTip(), 'TIP_CHANGED');
    expect(store.getBlock(1)).toBeDefined();
  });
});

describe('block effects: outpoint keys of the undo record and the collateral index (txid ‖ vout BE)', () => {
  it('a spend of vout 258 is named by its big-endian key in the undo record, and restored by revert', async () => {
    const { store, genesis } = await handStore();
    // A genesis allocation with 259 outputs, so vout 258 is two bytes wide (LE would read 0x02010000).
    const wide = handTx(
      P,
      [],
      Array.from({ length: 259 }, (_, i) => ({ value: ALLOC, address: addr(i & 0xff) })),
    );
    const b1 = handBlock(P, genesis, [wide]);
    await store.applyBlock(b1);
    const spent = { txid: wide.txid, vout: 258 };
    const t2 = handTx(P, [spent], [{ value: ALLOC - FEE, address: addr(4) }]);
    await store.applyBlock(handBlock(P, b1, [t2]));
    const undo = decodeUndoRecord(dbsOf(store).undo.get(2)!);
    expect(undo.spent.map((s) => s.key)).toEqual([outpointKey(spent)]);
    expect(undo.spent[0]!.entry).toMatchObject({ value: ALLOC, height: 1, address: addr(258 & 0xff) });
    await store.revertTip();
    expect(store.getUtxo(spent)).toEqual({
      value: ALLOC,
      address: addr(258 & 0xff),
      height: 1,
      coinbase: true,
    });
  });

  it('a collateral at vout 1 is found by its owner lookup; a 33-byte txid extending it is not', async () => {
    const { store, genesis, g0 } = await handStore();
    const r = handTx(
      P,
      [{ txid: g0.txid, vout: 0 }],
      [
        { value: ALLOC - TIER1 - FEE, address: addr(3) },
        { value: TIER1, address: addr(5) },
      ],
      { payload: register(8, 1) },
    );
    await store.applyBlock(handBlock(P, genesis, [r]));
    expect(store.collateralOwner({ txid: r.txid, vout: 1 })).toEqual(X);
    expect(store.collateralOwner({ txid: r.txid, vout: 0 })).toBeUndefined();
    // Its first 32 bytes name the collateral; a key built by overwriting byte 32 with the vout would
    // find it, so a malformed txid must get a key of its own length.
    expect(store.collateralOwner({ txid: new Uint8Array([...r.txid, 0]), vout: 1 })).toBeUndefined();
  });
});

describe('ChainStore: reads', () => {
  it('answers by height, hash and txid, undefined for what it does not hold', async () => {
    const { store, genesis, g0 } = await handStore();
    const t1 = handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 5n, address: addr(7) }]);
    const b1 = handBlock(P, genesis, [t1]);
    await store.applyBlock(b1);
    expect(store.getBlockBytes(1)).toEqual(encodeBlock(b1));
    expect(store.getBlockBytes(0)).toEqual(encodeBlock(genesis));
    expect(store.getBlockBytes(2)).toBeUndefined();
    expect(store.getBlockByHash(new Uint8Array(32).fill(0xab))).toBeUndefined();
    expect(store.getHeight(new Uint8Array(32).fill(0xab))).toBeUndefined();
    expect(store.getTxHeight(t1.txid)).toBe(1);
    expect(store.getTxHeight(new Uint8Array(32).fill(0xab))).toBeUndefined();
  });

  it('range reads return exactly `limit` rows after a key that is not stored', async () => {
    const { store, g0 } = await handStore();
    // A key below every stored one and absent itself: nothing to skip, the limit alone bounds the page.
    const low = new Uint8Array(40);
    expect(store.utxoRange(2, low).map((r) => r.key)).toEqual(
      [0, 1].map((vout) => utxoKey(0, g0.txid, vout)),
    );
    expect(store.utxoRange(3, low)).toHaveLength(3);
    // After a stored key: that key is skipped.
    expect(store.utxoRange(1, utxoKey(0, g0.txid, 0)).map((r) => r.outpoint)).toEqual([
      { txid: g0.txid, vout: 1 },
    ]);
    expect(store.txIndexRange(1, new Uint8Array(32))).toEqual([{ txid: g0.txid, height: 0 }]);
  });

  it('close is idempotent: a second close leaves a store reopened on the same directory working', async () => {
    const { dir, store, genesis, g0 } = await handStore();
    await store.close();
    const closed = await expectWriteError(store.applyBlock(handBlock(P, null, [])), 'STORE_CLOSED');
    expect(closed.message).toMatch(/chain store is closed/);
    const again = await ChainStore.open(dir, P, genesis);
    cleanups.push(() => again.close());
    await store.close();
    await again.applyBlock(
      handBlock(P, genesis, [handTx(P, [{ txid: g0.txid, vout: 0 }], [{ value: 5n, address: addr(7) }])]),
    );
    expect(again.tip().height).toBe(1);
    expect(again.getBlock(1)).toBeDefined();
  });
});

describe('active set: only stored block heights', () => {
  it('refuses a negative, fractional or NaN height, and one past the u32 key range', async () => {
    const { store } = await handStore();
    expect(store.activeMasternodes(0)).toEqual([]);
    for (const h of [-1, Number.NaN])
      expect(() => store.activeMasternodes(h)).toThrow(/not a stored block height/);
    const dbs = dbsOf(store);
    expect(() => readActiveSet(dbs, 0.5, P)).toThrow(/not a stored block height/);
    expect(() => readActiveSet(dbs, 0xffff_ffff, P)).toThrow(/not a stored block height/);
    expect(readActiveSet(dbs, 0xffff_fffe, P)).toEqual([]);
  });
});
