import { ByteReader } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { copyBytes } from '../encoding/bytes.js';
import type { UtxoEntry } from '../ledger/ledger-state.js';
import { ADDRESS_PAYLOAD_BYTES } from '../protocol/transaction.js';

/** The shared ledger type (src/ledger/ledger-state.ts); this file only defines its stored layout. */
export type { UtxoEntry };

/** value u64 LE ‖ address 20 B ‖ height u32 LE ‖ flags u8 (bit 0 = coinbase): 33 bytes. */
export const UTXO_ENTRY_BYTES = 8 + ADDRESS_PAYLOAD_BYTES + 4 + 1;

export function writeUtxoEntry(w: ByteWriter, e: UtxoEntry): ByteWriter {
  return w
    .u64(e.value)
    .fixed(e.address, ADDRESS_PAYLOAD_BYTES)
    .u32(e.height)
    .u8(e.coinbase ? 1 : 0);
}

export function encodeUtxoEntry(e: UtxoEntry): Uint8Array {
  return writeUtxoEntry(new ByteWriter(UTXO_ENTRY_BYTES), e).finish();
}

export function readUtxoEntry(r: ByteReader): UtxoEntry {
  const value = r.u64('utxo value');
  const address = r.fixed(ADDRESS_PAYLOAD_BYTES, 'utxo address');
  const height = r.u32('utxo height');
  const flags = r.u8('utxo flags');
  return { value, address, height, coinbase: (flags & 1) === 1 };
}

/**
 * Throws DecodeError on a malformed or over-long value. The result shares no memory with `bytes`
 * (the chain store decodes straight out of lmdb-js's reused read buffer).
 */
export function decodeUtxoEntry(bytes: Uint8Array): UtxoEntry {
  if (bytes.length === UTXO_ENTRY_BYTES) {
    // Every stored entry: read in place, without a reader object per UTXO lookup.
    const view = new DataView(bytes.buffer, bytes.byteOffset, UTXO_ENTRY_BYTES);
    return {
      value: view.getBigUint64(0, true),
      address: copyBytes(bytes, 8, 8 + ADDRESS_PAYLOAD_BYTES),
      height: view.getUint32(8 + ADDRESS_PAYLOAD_BYTES, true),
      coinbase: (bytes[UTXO_ENTRY_BYTES - 1]! & 1) === 1,
    };
  }
  // Any other length fails in the reader, which names what is missing or left over.
  const r = new ByteReader(bytes);
  const e = readUtxoEntry(r);
  r.done('utxo entry');
  return e;
}
