import { dependencyOrder } from '../ledger/dependency-order.js';
import type { ChainParams } from '../params/chain-params.js';
import { tierIndexOfCollateral } from '../params/networks.js';
import { type Block, decodeBlock } from '../protocol/block.js';
import { NO_COLLATERAL, type Transaction, TXID_BYTES } from '../protocol/transaction.js';
import { type EncodedTx, outpointKey } from '../protocol/tx-codec.js';
import { reindexMasternode } from './active-set-index.js';
import { AddressIndexDelta } from './address-index.js';
import type { ChainTip } from './chain-tip.js';
import { type ChainDatabases, read, readU32Bytes, u32Bytes } from './databases.js';
import { StoreWriteError } from './errors.js';
import {
  decodeMasternodeRecord,
  encodeMasternodeRecord,
  type MasternodeRecord,
} from './masternode-record.js';
import type { RecentTxHeights } from './recent-tx-heights.js';
import { decodeUndoRecord, type PriorCollateral, type PriorMasternode, UndoWriter } from './undo-record.js';
import { encodeUtxoEntry, UTXO_ENTRY_BYTES } from './utxo-entry.js';
import { scratchUtxoKey } from './utxo-key.js';

/*
 * The writes of applying and reverting one block. Both functions run INSIDE one synchronous LMDB
 * write transaction opened by ChainStore: they read through that transaction (so a block may spend
 * an output an earlier transaction of the same block created) and any throw aborts the whole
 * transaction, so a refused block leaves nothing behind.
 */

/** A transaction without inputs is a coinbase above genesis; at height 0 it is an allocation. */
export function isCoinbaseAt(tx: Transaction, height: number): boolean {
  return tx.inputs.length === 0 && height > 0;
}

/**
 * Writes every effect of `block` (already validated by the caller) on top of `previousTip`
 * (null for genesis) and returns the new tip. `order` is `dependencyOrder(block.txs)` when the
 * caller has it (validation derived it); otherwise it is derived here.
 */
export function writeBlockEffects(
  dbs: ChainDatabases,
  params: ChainParams,
  block: Block,
  blockBytes: Uint8Array,
  hash: Uint8Array,
  previousTip: ChainTip | null,
  order: readonly EncodedTx[] = dependencyOrder(block.txs),
  recent?: RecentTxHeights,
): BlockEffects {
  const height = block.header.height;
  const heightBytes = u32Bytes(height);
  let spendCount = 0;
  let outputCount = 0;
  for (const { tx } of block.txs) {
    spendCount += tx.inputs.length;
    outputCount += tx.outputs.length;
  }
  const undo = previousTip === null ? null : new UndoWriter(previousTip, spendCount);
  const addresses = new AddressIndexDelta(spendCount + outputCount);
  const masternodes: PriorMasternode[] = [];
  const collateral: PriorCollateral[] = [];

  const setMasternode = (record: MasternodeRecord, prior: MasternodeRecord | null): void => {
    masternodes.push({ nodePubkey: record.nodePubkey, prior });
    dbs.masternodes.putSync(record.nodePubkey, encodeMasternodeRecord(record));
    reindexMasternode(dbs, prior, record);
  };
  const setCollateralOwner = (key: Uint8Array, owner: Uint8Array | null): void => {
    const prior = read(dbs.collateral, key);
    collateral.push({ key, prior: prior ?? null });
    if (owner === null) dbs.collateral.removeSync(key);
    else dbs.collateral.putSync(key, owner);
  };

  // Dependency order, not body order: the body is sorted by txid, so a child may precede the parent
  // whose output it spends. Revert walks the same order backwards to line up with the undo record.
  // A caller's order must be exactly dependencyOrder(block.txs) (validateBlock's): revert derives it
  // again to read the undo record back. The cheap check below catches an order of another body.
  if (order.length !== block.txs.length || order[0] !== block.txs[0])
    throw new StoreWriteError('BAD_ORDER', `the order given for block ${height} is not of its body`, {
      height,
    });
  for (const { tx, txid } of order) {
    for (const input of tx.inputs) {
      // The spent output's key starts with its creating height (utxo-key.ts): from the recent
      // blocks' txids, else from txIndex (where a transaction earlier in this block is already:
      // this is its write transaction).
      const createdAt = recent?.get(input.txid) ?? txIndexHeight(dbs, input.txid);
      // getBinaryFast's buffer is only valid until the next read: the undo writer copies it at once.
      const key = createdAt === undefined ? undefined : scratchUtxoKey(createdAt, input.txid, input.vout);
      const raw = key === undefined ? undefined : dbs.utxo.getBinaryFast(key);
      if (raw === undefined)
        throw new StoreWriteError(
          'MISSING_UTXO',
          `block ${height} spends an output the store does not hold`,
          {
            height,
            vout: input.vout,
          },
        );
      // Its `length` is patched to the value size over a larger array, so cut a true view.
      const entry = raw.subarray(0, raw.length);
      undo?.spentRaw(scratchOutpointKey(input.txid, input.vout), entry);
      addresses.removedRaw(entry, input.txid, input.vout);
      // `key` is still this spend's: nothing below built another UTXO key.
      dbs.utxo.removeSync(key!);
    }
    const flags = isCoinbaseAt(tx, height) ? 1 : 0;
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      const { value, address } = tx.outputs[vout]!;
      dbs.utxo.putSync(scratchUtxoKey(height, txid, vout), scratchUtxoEntry(value, address, height, flags));
      addresses.added(address, height, txid, vout, value, flags === 1);
    }
    dbs.txIndex.putSync(txid, heightBytes);
    // A transaction leaves the finalized pool with its block (a coinbase was never in it: a no-op).
    dbs.finalized.removeSync(txid);

    const p = tx.payload;
    if (p?.kind === 'register') {
      let tier = 0;
      let collateralOutpoint = null;
      if (p.collateralVout !== NO_COLLATERAL) {
        const out = tx.outputs[p.collateralVout];
        if (!out)
          throw new StoreWriteError(
            'BAD_COLLATERAL_VOUT',
            `collateral vout ${p.collateralVout} does not exist`,
            {
              height,
            },
          );
        tier = tierIndexOfCollateral(params, out.value);
        collateralOutpoint = { txid, vout: p.collateralVout };
      }
      const priorRaw = read(dbs.masternodes, p.nodePubkey);
      const record: MasternodeRecord = {
        nodePubkey: p.nodePubkey,
        tier,
        collateral: collateralOutpoint,
        rewardAddress: p.rewardAddress,
        registeredHeight: height,
        deregisteredHeight: null,
      };
      setMasternode(record, priorRaw === undefined ? null : decodeMasternodeRecord(priorRaw));
      if (collateralOutpoint) setCollateralOwner(outpointKey(collateralOutpoint), p.nodePubkey);
    } else if (p?.kind === 'deregister') {
      const priorRaw = read(dbs.masternodes, p.nodePubkey);
      if (priorRaw === undefined)
        throw new StoreWriteError('UNKNOWN_MASTERNODE', `block ${height} deregisters an unknown node`, {
          height,
        });
      const prior = decodeMasternodeRecord(priorRaw);
      setMasternode({ ...prior, deregisteredHeight: height }, prior);
      if (prior.collateral) setCollateralOwner(outpointKey(prior.collateral), null);
    }
  }

  if (undo !== null) dbs.undo.putSync(height, undo.finish(masternodes, collateral));
  dbs.blocks.putSync(height, blockBytes);
  dbs.blockIndex.putSync(hash, heightBytes);
  return { tip: { height, hash, slot: block.header.slot }, indexDelta: addresses.finish() };
}

/** What applying a block wrote, for what follows the commit. */
export interface BlockEffects {
  readonly tip: ChainTip;
  /** The block's address index changes, for the index thread (address-index.ts). */
  readonly indexDelta: Uint8Array<ArrayBuffer>;
}

/*
 * Reused key and value buffers for the UTXO hot path. Inside a synchronous write transaction
 * lmdb-js copies keys and values into LMDB before put/remove/get return, so one buffer of each
 * serves every call; allocating ~30,000 small typed arrays per full block (each needing its
 * backing-store address) cost more than the LMDB writes themselves.
 */
const KEY = new Uint8Array(new ArrayBuffer(TXID_BYTES + 4));
const KEY_VIEW = new DataView(KEY.buffer);
const VALUE = new Uint8Array(new ArrayBuffer(UTXO_ENTRY_BYTES));
const VALUE_VIEW = new DataView(VALUE.buffer);

/**
 * outpointKey() layout (txid ‖ vout u32 BE) written into the shared key buffer: a spend's key in
 * the undo record (copied at once) and the key of ChainStore's collateral reads, each used before
 * the next key is built (UTXO keys are utxo-key.ts's). A malformed
 * txid (a caller's outpoint, not a stored one) gets a key of its own length, which matches
 * nothing: every stored key is 36 bytes. (Not outpointKey(): its fixed 36-byte key would give a
 * 33-byte txid the key of the output named by its first 32 bytes.)
 */
export function scratchOutpointKey(txid: Uint8Array, vout: number): Uint8Array {
  if (txid.length !== TXID_BYTES) {
    const key = new Uint8Array(txid.length + 4);
    key.set(txid);
    new DataView(key.buffer).setUint32(txid.length, vout, false);
    return key;
  }
  KEY.set(txid);
  KEY_VIEW.setUint32(TXID_BYTES, vout, false);
  return KEY;
}

/** The height txIndex holds for `txid` (read through the caller's transaction, if any). */
export function txIndexHeight(dbs: ChainDatabases, txid: Uint8Array): number | undefined {
  const v = dbs.txIndex.getBinaryFast(scratchTxidKey(txid));
  return v === undefined ? undefined : readU32Bytes(v);
}

const TXID_KEY = new Uint8Array(new ArrayBuffer(TXID_BYTES));

/**
 * A txid copied into a shared 32-byte key buffer (a txIndex read's key, used before the next is
 * built), as the other scratch keys here. Measured, 30 synthetic full blocks applied to one store:
 * 8.13 s of apply with this copy against 8.59 s handing lmdb-js each transaction's own txid array
 * (the profile put the difference in lmdb-js's key write; an isolated copy of either array takes
 * ~0.02 µs, so the cause is not established). A txid of another length is returned as it is: it
 * matches no stored key.
 */
export function scratchTxidKey(txid: Uint8Array): Uint8Array {
  if (txid.length !== TXID_BYTES) return txid;
  TXID_KEY.set(txid);
  return TXID_KEY;
}

/** encodeUtxoEntry() layout written into the shared value buffer. */
function scratchUtxoEntry(value: bigint, address: Uint8Array, height: number, flags: number): Uint8Array {
  VALUE_VIEW.setBigUint64(0, value, true);
  VALUE.set(address, 8);
  VALUE_VIEW.setUint32(28, height, true);
  VALUE[32] = flags;
  return VALUE;
}

/**
 * Undoes the tip block from its undo record and returns it with the tip before it. Spends and
 * creations are undone in reverse order, so outputs created and spent inside the block come out right.
 */
export function writeRevertEffects(
  dbs: ChainDatabases,
  params: ChainParams,
  tip: ChainTip,
): { block: Block; previousTip: ChainTip; indexDelta: Uint8Array<ArrayBuffer> } {
  const height = tip.height;
  if (height === 0) throw new StoreWriteError('REVERT_GENESIS', 'the genesis block cannot be reverted');
  const blockBytes = read(dbs.blocks, height);
  const undoBytes = read(dbs.undo, height);
  if (blockBytes === undefined || undoBytes === undefined)
    throw new StoreWriteError('UNDO_MISSING', `no block or undo record stored for tip height ${height}`, {
      height,
    });
  const block = decodeBlock(blockBytes, params.maxBlockBytes);
  const undo = decodeUndoRecord(undoBytes);

  let next = undo.spent.length;
  let outputCount = 0;
  for (const { tx } of block.txs) outputCount += tx.outputs.length;
  const addresses = new AddressIndexDelta(undo.spent.length + outputCount);
  const ordered = dependencyOrder(block.txs);
  for (let t = ordered.length - 1; t >= 0; t--) {
    const { tx, txid } = ordered[t]!;
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      const { address, value } = tx.outputs[vout]!;
      dbs.utxo.removeSync(scratchUtxoKey(height, txid, vout));
      addresses.removed(address, height, txid, vout, value);
    }
    for (let i = tx.inputs.length - 1; i >= 0; i--) {
      const s = undo.spent[--next];
      if (!s)
        throw new StoreWriteError('UNDO_MISSING', `undo record of block ${height} lists too few spends`);
      const input = tx.inputs[i]!;
      dbs.utxo.putSync(scratchUtxoKey(s.entry.height, input.txid, input.vout), encodeUtxoEntry(s.entry));
      addresses.added(
        s.entry.address,
        s.entry.height,
        input.txid,
        input.vout,
        s.entry.value,
        s.entry.coinbase,
      );
    }
    dbs.txIndex.removeSync(txid);
  }
  for (let i = undo.masternodes.length - 1; i >= 0; i--) {
    const m = undo.masternodes[i]!;
    const currentRaw = read(dbs.masternodes, m.nodePubkey);
    reindexMasternode(dbs, currentRaw === undefined ? null : decodeMasternodeRecord(currentRaw), m.prior);
    if (m.prior === null) dbs.masternodes.removeSync(m.nodePubkey);
    else dbs.masternodes.putSync(m.nodePubkey, encodeMasternodeRecord(m.prior));
  }
  for (let i = undo.collateral.length - 1; i >= 0; i--) {
    const c = undo.collateral[i]!;
    if (c.prior === null) dbs.collateral.removeSync(c.key);
    else dbs.collateral.putSync(c.key, c.prior);
  }
  // Reverted transactions stay final (DESIGN lesson 14): back to the pool for the next block.
  for (const { tx, txid, bytes } of block.txs) if (tx.inputs.length > 0) dbs.finalized.putSync(txid, bytes);
  dbs.blocks.removeSync(height);
  dbs.blockIndex.removeSync(tip.hash);
  dbs.undo.removeSync(height);
  return { block, previousTip: undo.previousTip, indexDelta: addresses.finish() };
}
