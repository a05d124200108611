import { latin1Key } from '../encoding/bytes.js';
import type { OutPoint } from '../protocol/transaction.js';
import { ADDRESS_PAYLOAD_BYTES, TXID_BYTES } from '../protocol/transaction.js';
import type { ChainDatabases } from './databases.js';

/*
 * The address index: every unspent output of the main chain, keyed by the address it pays, and a
 * running total per address. getbalance / listunspent read it; block-effects.ts writes it inside the
 * very LMDB transaction that applies or reverts the block, so it commits or aborts with the UTXO set
 * and can never disagree with it.
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

/**
 * The index writes of one block (apply or revert), inside the caller's write transaction. Outputs
 * are added and removed one by one as the block walks its transactions; the per-address totals are
 * summed in memory and written once per address at `finish`, so a block paying one address ten
 * thousand times costs one totals write, not ten thousand.
 */
export class AddressIndexWriter {
  private readonly deltas = new Map<string, { address: Uint8Array; sat: bigint; outputs: number }>();
  /** Reused key and value buffers: lmdb-js copies both before a synchronous put/remove returns. */
  private readonly key = new Uint8Array(ADDRESS_UTXO_KEY_BYTES);
  private readonly value = new Uint8Array(ADDRESS_UTXO_VALUE_BYTES);
  private readonly valueView = new DataView(this.value.buffer);

  constructor(private readonly dbs: ChainDatabases) {}

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
    // Everything is read from `address` before the write: it may be a view of lmdb-js's shared read
    // buffer (removedRaw), which the next database call may reuse.
    this.delta(address, -value, -1);
    writeKey(this.key, address, height, txid, vout);
    this.dbs.addressUtxos.removeSync(this.key);
  }

  /**
   * A spent output given as its raw stored UtxoEntry (value u64 LE ‖ address 20 ‖ height u32 LE ‖
   * flags): the block path has exactly these bytes in hand, so nothing is decoded.
   */
  removedRaw(rawEntry: Uint8Array, txid: Uint8Array, vout: number): void {
    const view = new DataView(rawEntry.buffer, rawEntry.byteOffset, rawEntry.byteLength);
    const value = view.getBigUint64(0, true);
    const height = view.getUint32(8 + ADDRESS_PAYLOAD_BYTES, true);
    this.removed(rawEntry.subarray(8, 8 + ADDRESS_PAYLOAD_BYTES), height, txid, vout, value);
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

export function readTotals(dbs: ChainDatabases, address: Uint8Array): AddressTotals {
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
  dbs: ChainDatabases,
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
 * Builds the index from the UTXO set: the migration of a schema-2 data directory (written before the
 * index existed). The caller runs it inside the write transaction that also sets the new schema
 * version, so a crash leaves the directory at version 2 with no index, and the next start redoes it.
 */
export function buildAddressIndex(dbs: ChainDatabases): number {
  const writer = new AddressIndexWriter(dbs);
  let n = 0;
  for (const { key, value } of dbs.utxo.getRange({})) {
    const k = new Uint8Array(key as Uint8Array);
    const e = new Uint8Array(value);
    const v = new DataView(e.buffer, e.byteOffset, e.byteLength);
    const txid = k.subarray(0, TXID_BYTES);
    const vout = new DataView(k.buffer, k.byteOffset, k.byteLength).getUint32(TXID_BYTES, false);
    const address = e.subarray(8, 8 + ADDRESS_PAYLOAD_BYTES);
    const height = v.getUint32(8 + ADDRESS_PAYLOAD_BYTES, true);
    writer.added(
      address,
      height,
      txid,
      vout,
      v.getBigUint64(0, true),
      (e[8 + ADDRESS_PAYLOAD_BYTES + 4]! & 1) === 1,
    );
    n++;
  }
  writer.finish();
  return n;
}

/** Entry counts of the two databases (tests compare them with the UTXO set). */
export function addressIndexCounts(dbs: ChainDatabases): { outputs: number; addresses: number } {
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
