import { realpathSync } from 'node:fs';
import { bytesEqual, compareBytes, toHex } from '../encoding/bytes.js';
import type { LedgerView } from '../ledger/ledger-state.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, decodeBlock, encodeBlock, headerHash } from '../protocol/block.js';
import type { OutPoint } from '../protocol/transaction.js';
import { decodeTx, type EncodedTx, outpointFromKey } from '../protocol/tx-codec.js';
import { readActiveSet } from './active-set-index.js';
import type { AddressTotals, AddressUtxo } from './address-index.js';
import { AddressIndexer } from './address-indexer.js';
import { scratchOutpointKey, txIndexHeight, writeBlockEffects, writeRevertEffects } from './block-effects.js';
import { type ChainTip, encodeChainTip } from './chain-tip.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import {
  type ChainDatabases,
  META_KEYS,
  openDatabases,
  read,
  readU32Bytes,
  SCHEMA_VERSION,
  type StoreCounts,
  storeCounts,
  u32Bytes,
} from './databases.js';
import { DoubleSignStore } from './double-sign-store.js';
import { StoreOpenError, StoreWriteError } from './errors.js';
import { decodeMasternodeRecord, type MasternodeRecord } from './masternode-record.js';
import { PeerBanStore } from './peer-ban-store.js';
import { RecentTxHeights } from './recent-tx-heights.js';
import {
  checkNetwork,
  checkTipConsistent,
  decodeStored,
  readStoredMeta,
  readStoredTip,
} from './store-checks.js';
import { decodeUtxoEntry, type UtxoEntry } from './utxo-entry.js';
import { readUtxoKey, scratchUtxoKey, utxoKey } from './utxo-key.js';

export type { AddressTotals, AddressUtxo } from './address-index.js';
export { AddressIndexError } from './address-indexer.js';
export type { StoreCounts } from './databases.js';

/**
 * The chain state on disk (DESIGN §8): blocks, UTXO set, indexes, undo records, masternode registry
 * and the finalized-transaction pool in one LMDB environment. It is the committed `LedgerView`
 * that validation reads.
 *
 * Mechanical by design: `applyBlock` trusts that validation passed and derives every effect from the
 * block. Each block is applied or reverted in ONE synchronous write transaction committed with
 * fdatasync, and the returned promise resolves only after that (plus `env.flushed`). We use
 * lmdb-js `transactionSync`, not the async `transaction` callback: async callbacks depend on
 * N-API thread-safe calls that never fire on some hosts (they hang here), and the synchronous form
 * aborts cleanly on a throw, which a refused block relies on.
 *
 * So the fdatasync of each commit runs on the coordinator (~1 ms on an idle disk). Plain async puts
 * do work here (only `transaction` callbacks hang) and would move it to lmdb-js's write thread, so
 * putFinalized, the most frequent write, was tried that way: in A/B runs of 5 validators at
 * 20 tx/s on the 2-core box it cut CPU per node by 20 % but raised finality p50 from 120-140 ms to
 * ~215 ms and did not lower the event-loop delay (the hand-offs to the thread pool and back wait for
 * a core). Re-measure on a host with slow fsyncs before changing it.
 *
 * Moving whole block and revert transactions to a block-writer thread (a worker_threads thread
 * opening this same environment, sent the block's bytes; reads stay here) was prototyped too, with
 * no gain on the 2-core box. A/B, 5 validators at 300 tx/s with 2 s slots, two seeds each: finality
 * p50 255/277 ms (thread) vs 247/342 ms (here), p99 1,454/2,184 vs 1,086/1,135 ms, event-loop p99
 * 93/132 vs 127/141 ms; chain.produce 904/748 vs 722/704 ms, its longest event-loop stall 342/226
 * vs 249/311 ms. The thread decodes the block a second time and, with every core busy, waits for
 * one like everything else; the stall that remained was validation and assembly, not the write
 * (since then both yield every TXS_PER_TURN transactions, and a full block's write, 190-240 ms, is
 * the longest stretch left). A second attempt (on a host with idle cores) must reset this
 * thread's lmdb-js read snapshot (`env.resetReadTxn()`) when a commit is reported, or `tip()` names
 * a block reads cannot see yet, and must keep every other write here out of a block's window
 * (LMDB's write lock would block this thread until the block commits).
 */
export class ChainStore implements LedgerView {
  private closed = false;
  /** txIndex's entries of the newest blocks, in memory (recent-tx-heights.ts). */
  private readonly recent = new RecentTxHeights(RECENT_TX_BLOCKS);

  private constructor(
    private readonly dbs: ChainDatabases,
    readonly params: ChainParams,
    private currentTip: ChainTip,
    /** The lock this store took itself (released on close); null when the caller holds it. */
    private readonly ownLock: DataDirLock | null,
    /** The address index (its own environment and thread), handed each block after it commits. */
    readonly addressIndex: AddressIndexer,
  ) {}

  /**
   * Opens the store in `dataDir` under its data directory lock: `options.lock` when the caller
   * took it (lockDataDir, before anything else touches the directory; the caller releases it),
   * otherwise the store takes it now and releases it on close. Another process holding it is a
   * StoreOpenError DATADIR_LOCKED. A new directory gets `genesis` applied at height 0; an existing
   * one must have our schema version, network and genesis hash and a consistent tip, or this
   * rejects with a StoreOpenError (nothing is ever wiped).
   */
  static async open(
    dataDir: string,
    params: ChainParams,
    genesis: Block,
    options: { readonly lock?: DataDirLock } = {},
  ): Promise<ChainStore> {
    const ownLock = options.lock ? null : await lockDataDir(dataDir);
    if (options.lock) checkLockCovers(options.lock, dataDir);
    let dbs: ChainDatabases;
    try {
      dbs = openDatabases(dataDir);
    } catch (err) {
      await ownLock?.release();
      throw err;
    }
    let indexer: AddressIndexer | undefined;
    try {
      const genesisHash = headerHash(genesis.header);
      let tip: ChainTip;
      if (read(dbs.meta, META_KEYS.schema) === undefined) {
        tip = createStore(dbs, params, genesis, genesisHash);
      } else {
        // Whose directory it is first, the upgrade after: a directory refused here is left as it
        // was (another network's node, or the open probe for one, must not upgrade it).
        const meta = readStoredMeta(dbs, MIGRATABLE_SCHEMAS);
        checkNetwork(meta, params);
        if (!bytesEqual(meta.genesisHash, genesisHash))
          throw new StoreOpenError(
            'GENESIS_MISMATCH',
            `the data directory's genesis is ${toHex(meta.genesisHash)}, expected ${toHex(genesisHash)}`,
            { found: toHex(meta.genesisHash), expected: toHex(genesisHash) },
          );
        checkTipConsistent(dbs, params, meta.tip);
        if (meta.schema !== SCHEMA_VERSION) migrateToCurrent(dbs, meta.schema);
        tip = meta.tip;
      }
      await dbs.env.flushed;
      indexer = AddressIndexer.open(dataDir, dbs.utxo, tip);
      return new ChainStore(dbs, params, tip, ownLock, indexer);
    } catch (err) {
      await indexer?.close();
      await dbs.env.close();
      await ownLock?.release();
      throw err;
    }
  }

  tip(): ChainTip {
    return this.currentTip;
  }

  /** LedgerView: validation reads the committed state through this store directly. */
  tipHeight(): number {
    return this.currentTip.height;
  }

  /**
   * Applies the next block (height tip+1, prevHash = tip hash); resolves once durable. `order`:
   * the body in dependency order when validation already derived it (ValidatedBlock.order).
   */
  async applyBlock(block: Block, order?: readonly EncodedTx[]): Promise<ChainTip> {
    this.assertOpen();
    const { height, prevHash } = block.header;
    const tip = this.currentTip;
    if (height !== tip.height + 1 || !bytesEqual(prevHash, tip.hash))
      throw new StoreWriteError(
        'NOT_NEXT_BLOCK',
        `block at height ${height} does not extend tip ${tip.height} ${toHex(tip.hash)}`,
        { height, tipHeight: tip.height },
      );
    const bytes = encodeBlock(block);
    const hash = headerHash(block.header);
    const { tip: next, indexDelta } = this.dbs.env.transactionSync(() => {
      this.requireStoredTip(tip);
      const t = writeBlockEffects(this.dbs, this.params, block, bytes, hash, tip, order, this.recent);
      this.dbs.meta.putSync(META_KEYS.tip, encodeChainTip(t.tip));
      return t;
    });
    // Committed with fdatasync already: publish the tip now, so a second applyBlock issued before
    // this promise settles sees it; the recent txids in the same turn as the commit.
    this.currentTip = next;
    this.recent.added(height, txidsOf(block));
    const indexing = this.addressIndex.applied(tip, next, indexDelta);
    await this.dbs.env.flushed;
    // Durable already; this waits only while the index thread is MAX_INDEX_LAG blocks behind.
    await indexing;
    return next;
  }

  /** Reverts the tip block (never genesis); its non-coinbase transactions return to the finalized pool. */
  async revertTip(): Promise<Block> {
    this.assertOpen();
    const tip = this.currentTip;
    const { block, previousTip, indexDelta } = this.dbs.env.transactionSync(() => {
      this.requireStoredTip(tip);
      const r = writeRevertEffects(this.dbs, this.params, tip);
      this.dbs.meta.putSync(META_KEYS.tip, encodeChainTip(r.previousTip));
      return r;
    });
    this.currentTip = previousTip;
    this.recent.reverted(tip.height);
    this.addressIndex.reverted(tip, previousTip, indexDelta);
    await this.dbs.env.flushed;
    return block;
  }

  /** Adds final transactions to the pool; resolves once durable. */
  async putFinalized(...txs: EncodedTx[]): Promise<void> {
    this.assertOpen();
    this.dbs.env.transactionSync(() => {
      for (const t of txs) this.dbs.finalized.putSync(t.txid, t.bytes);
    });
    await this.dbs.env.flushed;
  }

  async deleteFinalized(...txids: Uint8Array[]): Promise<void> {
    this.assertOpen();
    this.dbs.env.transactionSync(() => {
      for (const id of txids) this.dbs.finalized.removeSync(id);
    });
    await this.dbs.env.flushed;
  }

  getFinalized(txid: Uint8Array): EncodedTx | undefined {
    const bytes = read(this.dbs.finalized, txid);
    return bytes === undefined ? undefined : decodeTx(bytes, this.params.maxTxBytes);
  }

  /** Up to `limit` finalized transactions in txid order, starting after `afterTxid` when given. */
  listFinalized(limit: number, afterTxid?: Uint8Array): EncodedTx[] {
    return this.range(this.dbs.finalized, limit, afterTxid).map(([, v]) =>
      decodeTx(v, this.params.maxTxBytes),
    );
  }

  getBlockBytes(height: number): Uint8Array | undefined {
    return read(this.dbs.blocks, height);
  }

  getBlock(height: number): Block | undefined {
    const bytes = read(this.dbs.blocks, height);
    return bytes === undefined ? undefined : decodeBlock(bytes, this.params.maxBlockBytes);
  }

  getHeight(hash: Uint8Array): number | undefined {
    const v = read(this.dbs.blockIndex, hash);
    return v === undefined ? undefined : readU32Bytes(v);
  }

  getBlockByHash(hash: Uint8Array): Block | undefined {
    const h = this.getHeight(hash);
    return h === undefined ? undefined : this.getBlock(h);
  }

  /**
   * Read for every input of every transaction checked (twice per input of a produced block), so
   * the key is built in a scratch array and the value decoded straight out of lmdb-js's reused
   * read buffer (decodeUtxoEntry copies what it keeps) instead of copied first.
   */
  getUtxo(outpoint: OutPoint): UtxoEntry | undefined {
    // Keys start with the creating block's height (utxo-key.ts): txIndex names it. A txid of
    // another length than 32 bytes (a caller's, never a stored one) is not in txIndex.
    const height = this.getTxHeight(outpoint.txid);
    if (height === undefined) return undefined;
    const v = this.dbs.utxo.getBinaryFast(scratchUtxoKey(height, outpoint.txid, outpoint.vout));
    // Its `length` is patched to the value's size over a larger array: cut a true view.
    return v === undefined ? undefined : decodeUtxoEntry(v.subarray(0, v.length));
  }

  /**
   * The height of the main-chain block holding `txid`. Read from lmdb-js's shared read buffer and
   * decoded at once, without the two copies `read` makes: every vote the node answers for a
   * transaction that has left its mempool asks this.
   */
  getTxHeight(txid: Uint8Array): number | undefined {
    return this.recent.get(txid) ?? txIndexHeight(this.dbs, txid);
  }

  getMasternode(nodePubkey: Uint8Array): MasternodeRecord | undefined {
    const v = read(this.dbs.masternodes, nodePubkey);
    return v === undefined ? undefined : decodeMasternodeRecord(v);
  }

  /** Node pubkey holding `outpoint` as collateral, if any. */
  collateralOwner(outpoint: OutPoint): Uint8Array | undefined {
    const v = read(this.dbs.collateral, scratchOutpointKey(outpoint.txid, outpoint.vout));
    return v === undefined ? undefined : new Uint8Array(v);
  }

  /**
   * The active set as of `asOfHeight` (0 … tip), sorted by node pubkey: every collateral-tier
   * masternode active then plus the senior `maxActiveFreeMasternodes` Free ones (the rule of
   * src/chain/active-set.ts), read from the active-set indexes without scanning the registry.
   * `freeCap` widens the Free cap (activeSetOnBranch: the fork point's set under a branch).
   */
  activeMasternodes(asOfHeight: number, freeCap = this.params.maxActiveFreeMasternodes): MasternodeRecord[] {
    if (asOfHeight > this.currentTip.height)
      throw new RangeError(`height ${asOfHeight} is above the tip ${this.currentTip.height}`);
    return readActiveSet(this.dbs, asOfHeight, { maxActiveFreeMasternodes: freeCap });
  }

  /**
   * Up to `limit` UTXOs in key order ((height, txid, vout), utxo-key.ts), after `afterKey` (a
   * previous row's `key`) when given.
   */
  utxoRange(
    limit: number,
    afterKey?: Uint8Array,
  ): Array<{ key: Uint8Array; outpoint: OutPoint; entry: UtxoEntry }> {
    return this.range(this.dbs.utxo, limit, afterKey).map(([key, v]) => ({
      key,
      outpoint: readUtxoKey(key).outpoint,
      entry: decodeUtxoEntry(v),
    }));
  }

  /** Up to `limit` (txid, height) pairs in txid order. */
  txIndexRange(limit: number, afterTxid?: Uint8Array): Array<{ txid: Uint8Array; height: number }> {
    return this.range(this.dbs.txIndex, limit, afterTxid).map(([txid, v]) => ({
      txid,
      height: readU32Bytes(v),
    }));
  }

  /** Up to `limit` registry records (active or not) in pubkey order. */
  masternodeRange(limit: number, afterPubkey?: Uint8Array): MasternodeRecord[] {
    return this.range(this.dbs.masternodes, limit, afterPubkey).map(([, v]) => decodeMasternodeRecord(v));
  }

  /** Up to `limit` (collateral outpoint key, owner pubkey) pairs in key order. */
  collateralRange(limit: number, afterKey?: Uint8Array): Array<{ key: Uint8Array; owner: Uint8Array }> {
    return this.range(this.dbs.collateral, limit, afterKey).map(([key, owner]) => ({ key, owner }));
  }

  /**
   * Sum and count of the unspent main-chain outputs paying `address` (a 20-byte payload): one read,
   * once the index has every block this store committed (AddressIndexer.synced).
   */
  async addressTotals(address: Uint8Array): Promise<AddressTotals> {
    await this.addressIndex.synced();
    return this.addressIndex.totals(address);
  }

  /**
   * Up to `limit` unspent main-chain outputs paying `address`, oldest first ((height, txid, vout)
   * order), from `minHeight` on, after a previous page's last entry when `after` is given.
   */
  async addressUtxos(
    address: Uint8Array,
    opts: { limit: number; minHeight?: number; after?: { height: number; outpoint: OutPoint } },
  ): Promise<AddressUtxo[]> {
    await this.addressIndex.synced();
    return this.addressIndex.utxos(address, opts);
  }

  /** Entries in the address index and addresses with outputs (tests check them against the UTXO set). */
  async addressIndexCounts(): Promise<{ outputs: number; addresses: number }> {
    await this.addressIndex.synced();
    return this.addressIndex.counts();
  }

  /** Peer bans in a named database of this same environment (DESIGN §8: one environment). */
  peerBans(): PeerBanStore {
    this.assertOpen();
    return new PeerBanStore(this.dbs.env);
  }

  /** Double-sign evidence in a named database of this same environment. */
  doubleSigns(): DoubleSignStore {
    this.assertOpen();
    return new DoubleSignStore(this.dbs.env);
  }

  counts(): StoreCounts {
    return storeCounts(this.dbs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.addressIndex.close();
    await this.dbs.env.flushed;
    await this.dbs.env.close();
    await this.ownLock?.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreWriteError('STORE_CLOSED', 'the chain store is closed');
  }

  /**
   * Inside a write transaction: the tip on disk must be the one this store last wrote. The data
   * directory lock keeps other writers out; this is the defence behind it (a tool or an older
   * binary writing without the lock), and throwing here aborts the transaction.
   */
  private requireStoredTip(expected: ChainTip): void {
    const stored = readStoredTip(this.dbs);
    if (stored.height !== expected.height || !bytesEqual(stored.hash, expected.hash))
      throw new StoreWriteError(
        'TIP_CHANGED',
        `the stored tip is ${stored.height} ${toHex(stored.hash)}, not ${expected.height} ` +
          `${toHex(expected.hash)}: another process wrote to this data directory; restart the node`,
        { storedHeight: stored.height, expectedHeight: expected.height },
      );
  }

  /** Copies keys and values out, since LMDB may hand out buffers it reuses. */
  private range(
    db: ChainDatabases['utxo'],
    limit: number,
    after: Uint8Array | undefined,
  ): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    const options = after === undefined ? { limit } : { start: after, limit: limit + 1 };
    for (const { key, value } of db.getRange(options)) {
      if (after !== undefined && compareBytes(key, after) === 0) continue;
      if (out.length >= limit) break;
      out.push([new Uint8Array(key), new Uint8Array(value)]);
    }
    return out;
  }
}

/** A lock handed to open must be held and name this directory. */
function checkLockCovers(lock: DataDirLock, dataDir: string): void {
  let real: string | undefined;
  try {
    real = realpathSync(dataDir);
  } catch {
    real = undefined;
  }
  if (!lock.held || real !== lock.dataDir)
    throw new StoreOpenError(
      'NOT_LOCKED',
      `the lock passed to open is ${lock.held ? `for ${lock.dataDir}` : 'released'}, not held for ${dataDir}`,
      { dataDir, lockDir: lock.dataDir },
    );
}

/**
 * Blocks whose txids RecentTxHeights keeps: most spends name young outputs, and a sync validates
 * each block against the one before. Six full blocks of the bench's payments are ~56,000 entries,
 * ~6 MB; the block size limit bounds it.
 */
const RECENT_TX_BLOCKS = 6;

function txidsOf(block: Block): Uint8Array[] {
  return block.txs.map((t) => t.txid);
}

/** Schema versions `open` accepts: the current one, and those `migrateToCurrent` upgrades. */
const MIGRATABLE_SCHEMAS: readonly number[] = [2, 3, 4, SCHEMA_VERSION];

/** The UTXO set's database at schema 2-4: outpoint key (txid ‖ vout u32 BE, 36 B) → UtxoEntry. */
const SCHEMA_4_UTXO_DB = 'utxo';

/**
 * The address index's databases inside chain.mdb at schema 3; since schema 4 the index has an
 * environment of its own (address-index.ts), built by AddressIndexer.open.
 */
const SCHEMA_3_INDEX_DBS = ['addressUtxos', 'addressTotals'] as const;

/**
 * Upgrades a schema-2, -3 or -4 data directory in place, in one write transaction that also records
 * the current version (a crash leaves the old directory or the new one). All three keep the UTXO
 * set keyed by outpoint: each entry moves to its height-first key (utxo-key.ts; the height is the
 * entry's own) and the old database is dropped. Schema 3 also kept the address index inside this
 * environment: its two databases are dropped (the index is rebuilt in its own environment right
 * after). Run only on a directory `open` has accepted as this network's.
 */
function migrateToCurrent(dbs: ChainDatabases, from: number): void {
  const binaryDb = (name: string) =>
    dbs.env.openDB<Uint8Array, Uint8Array>({ name, keyEncoding: 'binary', encoding: 'binary' });
  dbs.env.transactionSync(() => {
    if (from === 3) for (const name of SCHEMA_3_INDEX_DBS) binaryDb(name).dropSync();
    if (from < 5) {
      const legacy = binaryDb(SCHEMA_4_UTXO_DB);
      for (const { key, value } of legacy.getRange({})) {
        const k = new Uint8Array(key);
        const entry = new Uint8Array(value);
        // A record that does not decode aborts the upgrade: the directory stays at its schema.
        const { outpoint, height } = decodeStored('UTXO_CORRUPT', 'a UTXO entry', { key: toHex(k) }, () => ({
          outpoint: outpointFromKey(k),
          height: decodeUtxoEntry(entry).height,
        }));
        dbs.utxo.putSync(utxoKey(height, outpoint.txid, outpoint.vout), entry);
      }
      legacy.dropSync();
    }
    dbs.meta.putSync(META_KEYS.schema, u32Bytes(SCHEMA_VERSION));
  });
}

/** New environment: meta and the genesis block in one transaction, so a crash leaves it empty or whole. */
function createStore(
  dbs: ChainDatabases,
  params: ChainParams,
  genesis: Block,
  genesisHash: Uint8Array,
): ChainTip {
  if ((dbs.blocks.getStats() as { entryCount: number }).entryCount > 0)
    throw new StoreOpenError('META_MISSING', 'the data directory holds blocks but no schema version');
  if (genesis.header.height !== 0 || genesis.header.chainId !== params.chainId)
    throw new StoreOpenError(
      'BAD_GENESIS',
      `genesis must have height 0 and chain id ${params.chainId}, got height ${genesis.header.height} ` +
        `and chain id ${genesis.header.chainId}`,
    );
  const bytes = encodeBlock(genesis);
  return dbs.env.transactionSync(() => {
    dbs.meta.putSync(META_KEYS.schema, u32Bytes(SCHEMA_VERSION));
    dbs.meta.putSync(META_KEYS.network, new TextEncoder().encode(params.network));
    dbs.meta.putSync(META_KEYS.chainId, u32Bytes(params.chainId));
    dbs.meta.putSync(META_KEYS.genesis, genesisHash);
    const { tip } = writeBlockEffects(dbs, params, genesis, bytes, genesisHash, null);
    dbs.meta.putSync(META_KEYS.tip, encodeChainTip(tip));
    return tip;
  });
}
