import { afterEach, describe, expect, it } from 'vitest';
import { bytesEqual, compareBytes } from '../../../src/encoding/bytes.js';
import type { MasternodeRecord } from '../../../src/ledger/ledger-state.js';
import { DEVNET, TESTNET } from '../../../src/params/networks.js';
import { type Block, headerHash } from '../../../src/protocol/block.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { encodeTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { StoreWriteError } from '../../../src/storage/errors.js';
import { SyntheticChain } from '../../../src/storage/testing/synthetic-chain.js';
import { readUtxoKey, utxoKey } from '../../../src/storage/utxo-key.js';
import { addr, dbsOf, handBlock, handTx } from './hand-chain.js';
import { expectStoreMatches, ReplayModel, storedBlocks } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freshStore(seed = 1, allocations = 50) {
  const { dir, cleanup } = tempDir('store');
  const chain = SyntheticChain.create(DEVNET, seed, allocations);
  const genesis = chain.genesis();
  const store = await ChainStore.open(dir, DEVNET, genesis);
  cleanups.push(cleanup, () => store.close());
  return { dir, chain, genesis, store };
}

describe('ChainStore: genesis and applyBlock', () => {
  it('applies genesis at height 0 on a new directory; allocations are spendable, not coinbase', async () => {
    const { store, genesis } = await freshStore(1, 250);
    expect(store.tip()).toEqual({ height: 0, hash: headerHash(genesis.header), slot: 0 });
    expect(store.counts()).toMatchObject({ blocks: 1, utxos: 250, txs: 3, finalized: 0, masternodes: 0 });
    const first = genesis.txs[0]!;
    const entry = store.getUtxo({ txid: first.txid, vout: 7 })!;
    expect(entry).toEqual({
      value: 10n ** 15n,
      address: first.tx.outputs[7]!.address,
      height: 0,
      coinbase: false,
    });
    expect(store.getTxHeight(first.txid)).toBe(0);
    expect(store.getUtxo({ txid: first.txid, vout: 100 })).toBeUndefined();
  });

  it('tracks UTXOs, tx index, registry and collateral index exactly like a replay, block by block', async () => {
    const { store, chain, genesis } = await freshStore(2, 120);
    const model = ReplayModel.of(DEVNET, [genesis]);
    for (let i = 0; i < 15; i++) {
      const block = chain.nextBlock({ spends: 20, registrations: 3, deregistrations: i > 2 ? 2 : 0 });
      const tip = await store.applyBlock(block);
      model.apply(block);
      expect(tip).toEqual({ height: i + 1, hash: headerHash(block.header), slot: i + 1 });
      await expectStoreMatches(store, model);
    }
    // Deregistrations actually happened, with and without collateral, so the test means something.
    const records = store.masternodeRange(1000);
    expect(records.filter((m) => m.deregisteredHeight !== null).length).toBeGreaterThan(5);
    expect(records.some((m) => m.collateral !== null && m.tier > 0)).toBe(true);
    expect(records.some((m) => m.collateral === null && m.tier === 0)).toBe(true);
  });

  it('applies blocks issued back to back without awaiting each one', async () => {
    const { store, chain, genesis } = await freshStore(6, 60);
    const blocks = Array.from({ length: 5 }, () => chain.nextBlock({ spends: 6, registrations: 1 }));
    const tips = await Promise.all(blocks.map((b) => store.applyBlock(b)));
    expect(tips.map((t) => t.height)).toEqual([1, 2, 3, 4, 5]);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, ...blocks]));
  });

  it('handles a transaction spending an output created earlier in the same block, and reverts it', async () => {
    const { store, chain, genesis } = await freshStore(9, 20);
    const base = chain.nextBlock({ spends: 1 });
    const parent = base.txs[1]!;
    const child = encodeTx({
      ...parent.tx,
      inputs: [{ txid: parent.txid, vout: 0 }],
      outputs: [{ value: parent.tx.outputs[0]!.value - 1_000n, address: new Uint8Array(20).fill(4) }],
    });
    const txs = [...base.txs, child];
    const block: Block = {
      ...base,
      header: { ...base.header, txCount: txs.length, merkleRoot: merkleRoot(txs.map((t) => t.txid)) },
      txs,
    };
    await store.applyBlock(block);
    expect(store.getUtxo({ txid: parent.txid, vout: 0 })).toBeUndefined();
    expect(store.getUtxo({ txid: child.txid, vout: 0 })).toMatchObject({ height: 1, coinbase: false });
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, block]));
    await store.revertTip();
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis]));
    expect(store.getUtxo({ txid: parent.txid, vout: 0 })).toBeUndefined();
    await store.applyBlock(block);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, block]));
  });

  it('marks coinbase outputs above genesis as coinbase and indexes blocks by hash', async () => {
    const { store, chain } = await freshStore();
    const block = chain.nextBlock({ spends: 3 });
    await store.applyBlock(block);
    const cb = block.txs[0]!;
    expect(store.getUtxo({ txid: cb.txid, vout: 0 })).toMatchObject({ coinbase: true, height: 1 });
    const spend = block.txs[1]!;
    expect(store.getUtxo({ txid: spend.txid, vout: 1 })).toMatchObject({ coinbase: false, height: 1 });
    expect(store.getUtxo(spend.tx.inputs[0]!)).toBeUndefined();
    expect(store.getHeight(headerHash(block.header))).toBe(1);
    const again = store.getBlockByHash(headerHash(block.header))!;
    expect(bytesEqual(headerHash(again.header), headerHash(block.header))).toBe(true);
    expect(again.txs.map((t) => t.txid)).toEqual(block.txs.map((t) => t.txid));
  });

  it('answers activeMasternodes by height from its index, sorted by pubkey', async () => {
    const { store, chain } = await freshStore(3, 100);
    for (let i = 0; i < 6; i++) await store.applyBlock(chain.nextBlock({ spends: 1, registrations: 4 }));
    await store.applyBlock(chain.nextBlock({ spends: 1, deregistrations: 3 }));
    const all = store.masternodeRange(100);
    expect(all).toHaveLength(24);
    for (const h of [0, 1, 3, 6, 7]) {
      const active = store.activeMasternodes(h);
      // Fewer than 100 Free nodes: the cap does not bind, so this is plain "active at h".
      const expected = all.filter(
        (m) => m.registeredHeight <= h && (m.deregisteredHeight === null || m.deregisteredHeight > h),
      );
      expect(active).toEqual(expected);
      for (let i = 1; i < active.length; i++)
        expect(Buffer.compare(active[i - 1]!.nodePubkey, active[i]!.nodePubkey)).toBeLessThan(0);
    }
    expect(store.activeMasternodes(7)).toHaveLength(21);
    expect(() => store.activeMasternodes(8)).toThrow(RangeError);
    expect(() => store.activeMasternodes(8)).toThrow(/height 8 is above the tip 7/);
    for (const m of all) expect(store.getMasternode(m.nodePubkey)).toEqual(m);
    expect(store.getMasternode(new Uint8Array(32).fill(0xee))).toBeUndefined();
    const withCollateral = all.find((m) => m.collateral !== null && m.deregisteredHeight === null)!;
    expect(store.collateralOwner(withCollateral.collateral!)).toEqual(withCollateral.nodePubkey);
  });

  it('caps the Free tier at its most senior members, and a Free exit lets the next one in', async () => {
    const { dir, cleanup } = tempDir('store-cap');
    const params = Object.freeze({ ...DEVNET, maxActiveFreeMasternodes: 3 });
    const chain = SyntheticChain.create(params, 11, 200);
    const store = await ChainStore.open(dir, params, chain.genesis());
    cleanups.push(cleanup, () => store.close());
    const model = ReplayModel.of(params, [store.getBlock(0)!]);
    let capBound = false;
    let seniorLeft = false;
    for (let i = 0; i < 14; i++) {
      const block = chain.nextBlock({ spends: 2, registrations: 4, deregistrations: i > 3 ? 2 : 0 });
      await store.applyBlock(block);
      model.apply(block);
      await expectStoreMatches(store, model);
      const h = store.tip().height;
      const registry = store.masternodeRange(1000);
      const freeActive = registry
        .filter((m) => m.tier === 0 && m.registeredHeight <= h && m.deregisteredHeight === null)
        .sort(
          (a, b) => a.registeredHeight - b.registeredHeight || Buffer.compare(a.nodePubkey, b.nodePubkey),
        );
      const active = store.activeMasternodes(h);
      const activeFree = active.filter((m) => m.tier === 0);
      expect(activeFree.map((m) => Buffer.from(m.nodePubkey).toString('hex')).sort()).toEqual(
        freeActive
          .slice(0, 3)
          .map((m) => Buffer.from(m.nodePubkey).toString('hex'))
          .sort(),
      );
      // Widened (the fork point's set under a branch that deregisters): the next in line too.
      const hexes = (ms: readonly MasternodeRecord[]) =>
        ms.map((m) => Buffer.from(m.nodePubkey).toString('hex')).sort();
      expect(hexes(store.activeMasternodes(h, 5).filter((m) => m.tier === 0))).toEqual(
        hexes(freeActive.slice(0, 5)),
      );
      if (freeActive.length > 3) capBound = true;
      // A Free node registered at height 1 left while later ones wait: the line moved up.
      if (registry.some((m) => m.tier === 0 && m.registeredHeight === 1 && m.deregisteredHeight !== null))
        seniorLeft = true;
    }
    expect(capBound, 'more Free nodes registered than the cap').toBe(true);
    expect(seniorLeft, 'a senior Free node deregistered').toBe(true);
    // Reverting restores the indexes with the registry.
    for (let i = 0; i < 5; i++) await store.revertTip();
    await expectStoreMatches(store, ReplayModel.of(params, storedBlocks(store)));
  });

  it('refuses a block that does not extend the tip, and one spending a missing output, changing nothing', async () => {
    const { store, chain, genesis } = await freshStore();
    const b1 = chain.nextBlock({ spends: 5 });
    const b2 = chain.nextBlock({ spends: 5 });
    await expect(store.applyBlock(b2)).rejects.toMatchObject({ code: 'NOT_NEXT_BLOCK' });
    await store.applyBlock(b1);
    await expect(store.applyBlock(b1)).rejects.toBeInstanceOf(StoreWriteError);
    // b2 with one input pointing at an output nobody created: must abort the whole transaction.
    const bad = structuredClone(b2);
    const victim = bad.txs[3]!;
    (victim.tx.inputs as { txid: Uint8Array; vout: number }[])[0] = {
      txid: new Uint8Array(32).fill(9),
      vout: 0,
    };
    const before = store.counts();
    await expect(store.applyBlock(bad)).rejects.toMatchObject({ code: 'MISSING_UTXO' });
    expect(store.counts()).toEqual(before);
    expect(store.tip().height).toBe(1);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, b1]));
    await store.applyBlock(b2);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, b1, b2]));
  });
});

describe('ChainStore: refusals inside the write transaction', () => {
  it('aborts a block that deregisters an unknown node or names a missing collateral output', async () => {
    const { store, chain, genesis } = await freshStore(8, 60);
    const b1 = chain.nextBlock({ spends: 2, registrations: 2 });
    await store.applyBlock(b1);
    const before = store.counts();

    const unknown = structuredClone(chain.fork().nextBlock({ spends: 2, deregistrations: 1 }));
    const dereg = unknown.txs.find((t) => t.tx.payload?.kind === 'deregister')!;
    (dereg.tx.payload as { nodePubkey: Uint8Array }).nodePubkey = new Uint8Array(32).fill(0xee);
    await expect(store.applyBlock(unknown)).rejects.toMatchObject({ code: 'UNKNOWN_MASTERNODE' });

    const badVout = structuredClone(chain.fork().nextBlock({ spends: 1, registrations: 4 }));
    for (const t of badVout.txs)
      if (t.tx.payload?.kind === 'register') (t.tx.payload as { collateralVout: number }).collateralVout = 9;
    await expect(store.applyBlock(badVout)).rejects.toMatchObject({ code: 'BAD_COLLATERAL_VOUT' });

    expect(store.counts()).toEqual(before);
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis, b1]));
  });
});

describe('ChainStore: finalized pool and revertTip', () => {
  it('keeps finalized txs durably, lists them in txid order with a limit, and drops them when included', async () => {
    const { store, chain, dir, genesis } = await freshStore();
    const block = chain.nextBlock({ spends: 6 });
    const txs = block.txs.slice(1);
    await store.putFinalized(...txs);
    expect(store.counts().finalized).toBe(6);
    const sortedIds = txs.map((t) => Buffer.from(t.txid)).sort(Buffer.compare);
    expect(store.listFinalized(4).map((t) => Buffer.from(t.txid))).toEqual(sortedIds.slice(0, 4));
    expect(store.listFinalized(10, sortedIds[3]).map((t) => Buffer.from(t.txid))).toEqual(sortedIds.slice(4));
    expect(store.getFinalized(txs[2]!.txid)!.bytes).toEqual(txs[2]!.bytes);
    await store.deleteFinalized(txs[0]!.txid);
    expect(store.getFinalized(txs[0]!.txid)).toBeUndefined();
    await store.close();
    const reopened = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => reopened.close());
    expect(reopened.counts().finalized).toBe(5);
    await reopened.applyBlock(block);
    expect(reopened.counts().finalized).toBe(0);
  });

  it('reverts the tip exactly, returns its txs (not the coinbase) to the finalized pool, and refuses genesis', async () => {
    const { store, chain, genesis } = await freshStore(4, 80);
    const blocks = [genesis];
    for (let i = 0; i < 4; i++) {
      const b = chain.nextBlock({ spends: 8, registrations: 2, deregistrations: i > 0 ? 1 : 0 });
      await store.applyBlock(b);
      blocks.push(b);
    }
    const top = blocks[4]!;
    const reverted = await store.revertTip();
    expect(headerHash(reverted.header)).toEqual(headerHash(top.header));
    expect(store.tip()).toEqual({ height: 3, hash: headerHash(blocks[3]!.header), slot: 3 });
    await expectStoreMatches(store, ReplayModel.of(DEVNET, blocks.slice(0, 4)));
    expect(store.getBlock(4)).toBeUndefined();
    expect(store.getHeight(headerHash(top.header))).toBeUndefined();
    expect(store.counts().finalized).toBe(top.txs.length - 1);
    expect(store.getFinalized(top.txs[0]!.txid)).toBeUndefined();
    for (let h = 3; h >= 1; h--) await store.revertTip();
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis]));
    await expect(store.revertTip()).rejects.toMatchObject({
      code: 'REVERT_GENESIS',
      message: expect.stringMatching(/genesis block cannot be reverted/),
    });
    expect(store.counts().masternodes).toBe(0);
  });

  it('reopens at the same tip; refuses another network or another genesis', async () => {
    const { store, chain, dir, genesis } = await freshStore();
    await store.applyBlock(chain.nextBlock({ spends: 2 }));
    const tip = store.tip();
    await store.close();
    await expect(ChainStore.open(dir, TESTNET, genesis)).rejects.toMatchObject({ code: 'NETWORK_MISMATCH' });
    const other = SyntheticChain.create(DEVNET, 999, 10).genesis();
    await expect(ChainStore.open(dir, DEVNET, other)).rejects.toMatchObject({ code: 'GENESIS_MISMATCH' });
    const again = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => again.close());
    expect(again.tip()).toEqual(tip);
  });
});

describe('UTXO keys', () => {
  it('are (creating height, txid, vout): the outputs of a block sort after every older output, whatever their txids', async () => {
    const { store, chain, genesis } = await freshStore(5, 3);
    const g = genesis.txs[0]!;
    expect(store.utxoRange(10).map((r) => r.key)).toEqual([0, 1, 2].map((vout) => utxoKey(0, g.txid, vout)));
    const b1 = chain.nextBlock({ spends: 1 });
    await store.applyBlock(b1);
    const b2 = chain.nextBlock({ spends: 1 });
    await store.applyBlock(b2);
    const rows = store.utxoRange(100);
    const heights = rows.map((r) => readUtxoKey(r.key).height);
    // Grouped by height in ascending order, each row's key naming its own outpoint and entry height.
    expect(heights).toEqual([...heights].sort((a, b) => a - b));
    expect(new Set(heights)).toEqual(new Set([0, 1, 2]));
    for (const r of rows) {
      expect(r.key).toEqual(utxoKey(r.entry.height, r.outpoint.txid, r.outpoint.vout));
      expect(store.getUtxo(r.outpoint)).toEqual(r.entry);
    }
    // Every output of block 2 is stored under height 2, and only those.
    const fromB2 = b2.txs.flatMap((t) => t.tx.outputs.map((_, vout) => utxoKey(2, t.txid, vout)));
    expect(rows.filter((r) => readUtxoKey(r.key).height === 2).map((r) => r.key)).toEqual(
      fromB2.sort((a, b) => compareBytes(a, b)),
    );
  });

  it("the newest blocks' txid heights are answered from memory, older ones from the tx index", async () => {
    const { store, chain } = await freshStore(6, 200);
    const blocks: Block[] = [];
    for (let i = 0; i < 8; i++) {
      const b = chain.nextBlock({ spends: 3 });
      await store.applyBlock(b);
      blocks.push(b);
    }
    // Behind the store's back, the tx index loses every entry: what still answers is the memory.
    const dbs = dbsOf(store);
    dbs.env.transactionSync(() => {
      for (const b of blocks) for (const t of b.txs) dbs.txIndex.removeSync(t.txid);
    });
    blocks.forEach((b, i) => {
      const height = i + 1;
      // Six blocks are kept (RECENT_TX_BLOCKS): heights 3-8 answer, 1-2 went to the index.
      for (const t of b.txs) expect(store.getTxHeight(t.txid)).toBe(height >= 3 ? height : undefined);
    });
    // A kept block's outputs are found through the memorised height, and a block spending one
    // applies (its write reads the height from memory too, or it would find no such output).
    const t = blocks[7]!.txs[1]!;
    const spent = store.getUtxo({ txid: t.txid, vout: 0 })!;
    expect(spent.height).toBe(8);
    const spend = handTx(
      DEVNET,
      [{ txid: t.txid, vout: 0 }],
      [{ value: spent.value - 1_000n, address: addr(3) }],
    );
    await store.applyBlock(handBlock(DEVNET, blocks[7]!, [spend]));
    expect(store.getUtxo({ txid: t.txid, vout: 0 })).toBeUndefined();
    expect(store.getUtxo({ txid: spend.txid, vout: 0 })?.height).toBe(9);
  });

  it('a lookup takes the height from the tx index: an outpoint of an unknown txid or a 33-byte txid finds nothing', async () => {
    const { store, genesis } = await freshStore(5, 3);
    const g = genesis.txs[0]!;
    expect(store.getUtxo({ txid: g.txid, vout: 2 })).toBeDefined();
    expect(store.getUtxo({ txid: g.txid, vout: 3 })).toBeUndefined();
    expect(store.getUtxo({ txid: new Uint8Array([...g.txid, 0]), vout: 2 })).toBeUndefined();
    expect(store.getUtxo({ txid: new Uint8Array(32).fill(0xee), vout: 0 })).toBeUndefined();
  });
});
