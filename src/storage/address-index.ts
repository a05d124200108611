import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';
import { latin1Key } from '../encoding/bytes.js';
import type { OutPoint } from '../protocol/transaction.js';
import { ADDRESS_PAYLOAD_BYTES, TXID_BYTES } from '../protocol/transaction.js';
import { type ChainTip, decodeChainTip, encodeChainTip } from './chain-tip.js';
import { type BinaryDb, LMDB_MAP_BYTES } from './databases.js';
import { decodeUtxoEntry } from './utxo-entry.js';
import { readUtxoKey } from './utxo-key.js';

/*
 * The address index: every unspent output of the main chain, keyed by the address it pays, and a
 * running total per address. getbalance / listunspent read it.
 *
 * It lives in an LMDB environment of its own (addresses.mdb), written by a thread of its own
 * (address-index-worker.ts) after each block commits, not in the block's transaction: it is an RPC
 * convenience, derived from the chain and rebuilt from the UTXO set whenever it is not at the chain's
 * tip, and its random-keyed writes (an output's address decides where it lands) doubled the cost of
 * applying a full block and grew with the index (figures in docs/architecture.md, Storage). `tip` in its meta database
 * names the block it reflects, written in the same transaction as that block's entries.
 *
 *   addressUtxos:  address payload 20 B ‖ height u32 BE ‖ txid 32 B ‖ vout u32 BE  (60 B)
 *                  → value u64 LE ‖ flags u8 (bit 0 = coinbase)                     (9 B)
 *   addressTotals: address payload 20 B → sat u64 LE ‖ outputs u32 LE              (12 B)
 *
 * The height sits in the key, before the outpoint, so one address's outputs read oldest first (the
 * order a wallet spends in) and its coinbase outputs still maturing are one short range at the end
 * of its keys, read without scanning a reward address's whole history. The totals make the
 * confirmed balance one read however many outputs an address holds.
 */

export const ADDRESS_UTXO_KEY_BYTES = ADDRESS_PAYLOAD_BYTES + 4 + TXID_BYTES + 4;
const ADDRESS_UTXO_VALUE_BYTES = 9;
const TOTALS_BYTES = 12;

/** The environment file of the index inside the data directory. */
export const ADDRESS_INDEX_FILE = 'addresses.mdb';

/** Bump on any change to a layout here: an index of another version is rebuilt, not read. */
export const ADDRESS_INDEX_VERSION = 1;

const META_TIP = 'tip';
const META_VERSION = 'version';

/** The index's environment and its databases. */
export interface AddressIndexDatabases {
  readonly env: RootDatabase;
  readonly addressUtxos: BinaryDb<Uint8Array>;
  readonly addressTotals: BinaryDb<Uint8Array>;
  readonly meta: Database<Uint8Array, string>;
}

/** Opens (creating) the index environment in `dataDir`; every thread that uses it opens it. */
export function openAddressIndex(dataDir: string): AddressIndexDatabases {
  mkdirSync(dataDir, { recursive: true });
  const env = open<Uint8Array, string>({
    path: join(dataDir, ADDRESS_INDEX_FILE),
    maxDbs: 4,
    mapSize: LMDB_MAP_BYTES,
    encoding: 'binary',
  });
  const bytesKeyed = (name: string): BinaryDb<Uint8Array> =>
    env.openDB<Uint8Array, Uint8Array>({ name, keyEncoding: 'binary', encoding: 'binary' });
  return {
    env,
    addressUtxos: bytesKeyed('addressUtxos'),
    addressTotals: bytesKeyed('addressTotals'),
    meta: env.openDB<Uint8Array, string>({ name: 'meta', encoding: 'binary' }),
  };
}

/**
 * The chain block the index reflects, or null when it reflects none: a new file, another layout
 * version, or a tip record that does not decode.
 */
export function readIndexTip(dbs: AddressIndexDatabases): ChainTip | null {
  const version = dbs.meta.get(META_VERSION);
  if (version === undefined || version.length !== 4) return null;
  if (new DataView(version.buffer, version.byteOffset, 4).getUint32(0, true) !== ADDRESS_INDEX_VERSION)
    return null;
  const raw = dbs.meta.get(META_TIP);
  if (raw === undefined) return null;
  try {
    return decodeChainTip(raw);
  } catch {
    return null;
  }
}

/** Inside the caller's write transaction: the index now reflects `tip`. */
export function writeIndexTip(dbs: AddressIndexDatabases, tip: ChainTip): void {
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, ADDRESS_INDEX_VERSION, true);
  dbs.meta.putSync(META_VERSION, version);
  dbs.meta.putSync(META_TIP, encodeChainTip(tip));
}

/** One indexed output. */
export interface AddressUtxo {
  readonly outpoint: OutPoint;
  readonly value: bigint;
  readonly height: number;
  readonly coinbase: boolean;
}

/** What the totals database holds for one address. */
export interface AddressTotals {
  readonly sat: bigint;
  readonly outputs: number;
}

export function addressUtxoKey(
  address: Uint8Array,
  height: number,
  txid: Uint8Array,
  vout: number,
): Uint8Array {
  const key = new Uint8Array(ADDRESS_UTXO_KEY_BYTES);
  writeKey(key, address, height, txid, vout);
  return key;
}

function writeKey(
  key: Uint8Array,
  address: Uint8Array,
  height: number,
  txid: Uint8Array,
  vout: number,
): void {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  key.set(address.subarray(0, ADDRESS_PAYLOAD_BYTES), 0);
  view.setUint32(ADDRESS_PAYLOAD_BYTES, height, false);
  key.set(txid, ADDRESS_PAYLOAD_BYTES + 4);
  view.setUint32(ADDRESS_PAYLOAD_BYTES + 4 + TXID_BYTES, vout, false);
}

function decodeAddressUtxo(key: Uint8Array, value: Uint8Array): AddressUtxo {
  if (key.length !== ADDRESS_UTXO_KEY_BYTES || value.length !== ADDRESS_UTXO_VALUE_BYTES)
    throw new RangeError(`address index entry of ${key.length}/${value.length} bytes`);
  const kv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const vv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const o = ADDRESS_PAYLOAD_BYTES + 4;
  return {
    outpoint: { txid: key.slice(o, o + TXID_BYTES), vout: kv.getUint32(o + TXID_BYTES, false) },
    height: kv.getUint32(ADDRESS_PAYLOAD_BYTES, false),
    value: vv.getBigUint64(0, true),
    coinbase: (value[8]! & 1) === 1,
  };
}

/** Where a block's walk reports the outputs it adds to and removes from the index. */
export interface AddressIndexSink {
  added(
    address: Uint8Array,
    height: number,
    txid: Uint8Array,
    vout: number,
    value: bigint,
    coinbase: boolean,
  ): void;
  removed(address: Uint8Array, height: number, txid: Uint8Array, vout: number, value: bigint): void;
}

/**
 * One delta record: added u8 (1 added, 0 removed) ‖ address 20 ‖ height u32 LE ‖ txid 32 ‖
 * vout u32 LE ‖ value u64 LE ‖ coinbase u8. Field offsets within a record, shared by the writer
 * (AddressIndexDelta) and the reader (replayDelta):
 */
const AT_ADDRESS = 1;
const AT_HEIGHT = AT_ADDRESS + ADDRESS_PAYLOAD_BYTES;
const AT_TXID = AT_HEIGHT + 4;
const AT_VOUT = AT_TXID + TXID_BYTES;
const AT_VALUE = AT_VOUT + 4;
const AT_COINBASE = AT_VALUE + 8;
const DELTA_RECORD_BYTES = AT_COINBASE + 1;

/**
 * A block's index changes recorded as bytes, in the order its walk made them (block-effects.ts, on
 * the coordinator, inside the block's transaction), for the index thread to replay into an
 * AddressIndexWriter (`replayDelta`). Recording costs a few milliseconds for a full block; the LMDB
 * writes it stands for cost the index thread ~100-200 ms. Sized for `records` up front (every
 * input and output of the block), so nothing grows while the block's transaction is open.
 */
export class AddressIndexDelta implements AddressIndexSink {
  private readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private n = 0;

  constructor(records: number) {
    this.bytes = new Uint8Array(records * DELTA_RECORD_BYTES);
    this.view = new DataView(this.bytes.buffer);
  }

  added(
    address: Uint8Array,
    height: number,
    txid: Uint8Array,
    vout: number,
    value: bigint,
    coinbase: boolean,
  ): void {
    this.record(1, address, height, txid, vout, value, coinbase);
  }

  removed(address: Uint8Array, height: number, txid: Uint8Array, vout: number, value: bigint): void {
    this.record(0, address, height, txid, vout, value, false);
  }

  /** A spent output as its raw stored UtxoEntry (value u64 LE ‖ address 20 ‖ height u32 LE ‖ flags). */
  removedRaw(rawEntry: Uint8Array, txid: Uint8Array, vout: number): void {
    // Byte copies, no views or BigInt: this runs for every input of a block, inside its transaction.
    // The entry's address ‖ height (24 bytes, height LE) is the record's address ‖ height as is.
    const o = this.next(txid);
    const b = this.bytes;
    b[o] = 0;
    for (let i = 0; i < ADDRESS_PAYLOAD_BYTES + 4; i++) b[o + AT_ADDRESS + i] = rawEntry[8 + i]!;
    this.copyTxid(o, txid, vout);
    for (let i = 0; i < 8; i++) b[o + AT_VALUE + i] = rawEntry[i]!;
    b[o + AT_COINBASE] = 0;
  }

  /** The records so far, as one buffer of its own (transferable to the index thread). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.n * DELTA_RECORD_BYTES === this.bytes.length
      ? this.bytes
      : this.bytes.slice(0, this.n * DELTA_RECORD_BYTES);
  }

  private record(
    added: number,
    address: Uint8Array,
    height: number,
    txid: Uint8Array,
    vout: number,
    value: bigint,
    coinbase: boolean,
  ): void {
    if (address.length !== ADDRESS_PAYLOAD_BYTES)
      throw new RangeError(`an address of ${address.length} bytes in an index delta`);
    const o = this.next(txid);
    this.bytes[o] = added;
    this.bytes.set(address, o + AT_ADDRESS);
    this.view.setUint32(o + AT_HEIGHT, height, true);
    this.copyTxid(o, txid, vout);
    this.view.setBigUint64(o + AT_VALUE, value, true);
    this.bytes[o + AT_COINBASE] = coinbase ? 1 : 0;
  }

  /**
   * The offset of a new record, checked first: fields are fixed-size, and a longer view would spill
   * into the next field (a shorter one leave stale bytes).
   */
  private next(txid: Uint8Array): number {
    if (txid.length !== TXID_BYTES) throw new RangeError(`a txid of ${txid.length} bytes in an index delta`);
    const o = this.n * DELTA_RECORD_BYTES;
    if (o + DELTA_RECORD_BYTES > this.bytes.length) throw new RangeError('address index delta is full');
    this.n++;
    return o;
  }

  /** Writes the record's txid and vout. */
  private copyTxid(o: number, txid: Uint8Array, vout: number): void {
    this.bytes.set(txid, o + AT_TXID);
    this.view.setUint32(o + AT_VOUT, vout, true);
  }
}

/** Replays a delta (AddressIndexDelta.finish) into `sink`, record by record, in order. */
export function replayDelta(delta: Uint8Array, sink: AddressIndexSink): void {
  if (delta.length % DELTA_RECORD_BYTES !== 0)
    throw new RangeError(`an address index delta of ${delta.length} bytes is not whole records`);
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  for (let o = 0; o < delta.length; o += DELTA_RECORD_BYTES) {
    const address = delta.subarray(o + AT_ADDRESS, o + AT_HEIGHT);
    const height = view.getUint32(o + AT_HEIGHT, true);
    const txid = delta.subarray(o + AT_TXID, o + AT_VOUT);
    const vout = view.getUint32(o + AT_VOUT, true);
    const value = view.getBigUint64(o + AT_VALUE, true);
    if (delta[o] === 1) sink.added(address, height, txid, vout, value, delta[o + AT_COINBASE] === 1);
    else sink.removed(address, height, txid, vout, value);
  }
}

/**
 * The index writes of one block (apply or revert), inside the caller's write transaction. Outputs
 * are added and removed one by one as the block walks its transactions; the per-address totals are
 * summed in memory and written once per address at `finish`, so a block paying one address ten
 * thousand times costs one totals write, not ten thousand.
 */
export class AddressIndexWriter implements AddressIndexSink {
  private readonly deltas = new Map<string, { address: Uint8Array; sat: bigint; outputs: number }>();
  /** Reused key and value buffers: lmdb-js copies both before a synchronous put/remove returns. */
  private readonly key = new Uint8Array(ADDRESS_UTXO_KEY_BYTES);
  private readonly value = new Uint8Array(ADDRESS_UTXO_VALUE_BYTES);
  private readonly valueView = new DataView(this.value.buffer);

  constructor(private readonly dbs: AddressIndexDatabases) {}

  added(
    address: Uint8Array,
    height: number,
    txid: Uint8Array,
    vout: number,
    value: bigint,
    coinbase: boolean,
  ): void {
    writeKey(this.key, address, height, txid, vout);
    this.valueView.setBigUint64(0, value, true);
    this.value[8] = coinbase ? 1 : 0;
    this.dbs.addressUtxos.putSync(this.key, this.value);
    this.delta(address, value, 1);
  }

  removed(address: Uint8Array, height: number, txid: Uint8Array, vout: number, value: bigint): void {
    this.delta(address, -value, -1);
    writeKey(this.key, address, height, txid, vout);
    this.dbs.addressUtxos.removeSync(this.key);
  }

  /** Writes the summed totals; an address left without outputs loses its totals record. */
  finish(): void {
    const out = new Uint8Array(TOTALS_BYTES);
    const view = new DataView(out.buffer);
    for (const d of this.deltas.values()) {
      if (d.sat === 0n && d.outputs === 0) continue;
      const prior = readTotals(this.dbs, d.address);
      const sat = prior.sat + d.sat;
      const outputs = prior.outputs + d.outputs;
      if (sat < 0n || outputs < 0)
        throw new RangeError('address totals would go negative: the index disagrees with the UTXO set');
      if (outputs === 0) {
        this.dbs.addressTotals.removeSync(d.address);
        continue;
      }
      view.setBigUint64(0, sat, true);
      view.setUint32(8, outputs, true);
      this.dbs.addressTotals.putSync(d.address, out);
    }
    this.deltas.clear();
  }

  private delta(address: Uint8Array, sat: bigint, outputs: number): void {
    // latin1 keeps one char per byte: a cheap exact map key for 20 bytes.
    const k = latin1Key(address, 0, ADDRESS_PAYLOAD_BYTES);
    const d = this.deltas.get(k);
    if (d) {
      d.sat += sat;
      d.outputs += outputs;
    } else {
      // A copy, never `slice`: on a Node Buffer (lmdb-js hands them out) slice is a view.
      const copy = new Uint8Array(ADDRESS_PAYLOAD_BYTES);
      copy.set(address.subarray(0, ADDRESS_PAYLOAD_BYTES));
      this.deltas.set(k, { address: copy, sat, outputs });
    }
  }
}

export function readTotals(dbs: AddressIndexDatabases, address: Uint8Array): AddressTotals {
  const raw = dbs.addressTotals.get(address);
  if (raw === undefined) return { sat: 0n, outputs: 0 };
  if (raw.length !== TOTALS_BYTES) throw new RangeError(`address totals of ${raw.length} bytes`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return { sat: view.getBigUint64(0, true), outputs: view.getUint32(8, true) };
}

/**
 * Up to `limit` outputs of `address` in (height, txid, vout) order, from height `minHeight` on,
 * strictly after `after` (a previous page's last outpoint and height) when given.
 */
export function readAddressUtxos(
  dbs: AddressIndexDatabases,
  address: Uint8Array,
  opts: { limit: number; minHeight?: number; after?: { height: number; outpoint: OutPoint } },
): AddressUtxo[] {
  // Strictly after a cursor: its key with one 0x00 byte appended is the smallest key above it
  // (every real key has the same 60 bytes, so none sits between the two).
  const start = opts.after
    ? justAbove(
        addressUtxoKey(address, opts.after.height, opts.after.outpoint.txid, opts.after.outpoint.vout),
      )
    : addressUtxoKey(address, opts.minHeight ?? 0, new Uint8Array(TXID_BYTES), 0);
  // The end bound: the first key of the next address (payload + 1), or the index's end.
  const end = nextPrefix(address.subarray(0, ADDRESS_PAYLOAD_BYTES));
  const out: AddressUtxo[] = [];
  for (const { key, value } of dbs.addressUtxos.getRange({ start, ...(end ? { end } : {}) })) {
    if (out.length >= opts.limit) break;
    out.push(decodeAddressUtxo(new Uint8Array(key), new Uint8Array(value)));
  }
  return out;
}

/**
 * Rebuilds the index from the chain's UTXO set as of `tip`, in one write transaction of the index
 * that clears it first and records `tip`: a crash leaves the old index (not at the chain's tip, so
 * rebuilt again) or the new one. The caller reads `utxo` at `tip` (the chain store at open, before
 * anything writes). Returns the outputs indexed.
 */
export function rebuildAddressIndex(
  utxo: BinaryDb<Uint8Array>,
  dbs: AddressIndexDatabases,
  tip: ChainTip,
): number {
  return dbs.env.transactionSync(() => {
    dbs.addressUtxos.clearSync();
    dbs.addressTotals.clearSync();
    const n = indexUtxoSet(utxo, dbs);
    writeIndexTip(dbs, tip);
    return n;
  });
}

/** Adds every entry of the UTXO set to an empty index, inside the caller's write transaction. */
function indexUtxoSet(utxo: BinaryDb<Uint8Array>, dbs: AddressIndexDatabases): number {
  const writer = new AddressIndexWriter(dbs);
  let n = 0;
  for (const { key, value } of utxo.getRange({})) {
    const { outpoint } = readUtxoKey(key as Uint8Array);
    const e = decodeUtxoEntry(value);
    writer.added(e.address, e.height, outpoint.txid, outpoint.vout, e.value, e.coinbase);
    n++;
  }
  writer.finish();
  return n;
}

/** Entry counts of the two databases (tests compare them with the UTXO set). */
export function addressIndexCounts(dbs: AddressIndexDatabases): { outputs: number; addresses: number } {
  const n = (db: { getStats(): unknown }): number => (db.getStats() as { entryCount: number }).entryCount;
  return { outputs: n(dbs.addressUtxos), addresses: n(dbs.addressTotals) };
}

function justAbove(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/** The smallest byte string greater than every string starting with `prefix` (undefined: none). */
function nextPrefix(prefix: Uint8Array): Uint8Array | undefined {
  const out = prefix.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}
