import { copyBytes } from '../encoding/bytes.js';
import { type OutPoint, TXID_BYTES } from '../protocol/transaction.js';

/**
 * The key of an unspent output in the `utxoByHeight` database (schema 5): the height of the block
 * that created it, then the outpoint.
 *
 *   height u32 BE ‖ txid 32 B ‖ vout u32 BE   (40 B)
 *
 * Why height first: a txid is uniformly random, so under a txid-first key a full block's ~28,000
 * UTXO puts and removes land on as many random B-tree pages, and LMDB copies and writes out every
 * page a transaction touches. Once the set outgrew the block, every block rewrote nearly the whole
 * table: the apply time of a full block grew without bound with the UTXO set (raw lmdb-js, 9,300
 * spends + 18,600 outputs a block: 60 → 530 ms over 100 blocks). Height first, a block's outputs
 * are appended at the right edge of the tree and the spends of recent outputs (most spends) fall on
 * the few pages of their creating block (55 → 233 ms over the same 100 blocks, the rest being the
 * random txid-keyed `txIndex` puts). A lookup by outpoint reads its creating height from
 * `txIndex` first (txid → height of its main-chain block): every output's transaction is there.
 */
export const UTXO_KEY_BYTES = 4 + TXID_BYTES + 4;

/** A fresh key (for keys that outlive the next write: undo, migration, tests). */
export function utxoKey(height: number, txid: Uint8Array, vout: number): Uint8Array {
  const out = new Uint8Array(UTXO_KEY_BYTES);
  return writeUtxoKey(out, new DataView(out.buffer), height, txid, vout);
}

const SCRATCH = new Uint8Array(UTXO_KEY_BYTES);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/**
 * The key written into one shared buffer, valid until the next call: the hot path of a block's
 * writes and of every UTXO read (lmdb-js copies a key into LMDB before put/remove/get return).
 */
export function scratchUtxoKey(height: number, txid: Uint8Array, vout: number): Uint8Array {
  return writeUtxoKey(SCRATCH, SCRATCH_VIEW, height, txid, vout);
}

/** `view` is over `out`'s whole buffer (one DataView per key cost ~13 ms a full block). */
function writeUtxoKey(
  out: Uint8Array,
  view: DataView,
  height: number,
  txid: Uint8Array,
  vout: number,
): Uint8Array {
  if (txid.length !== TXID_BYTES) throw new RangeError(`a txid is ${TXID_BYTES} bytes, got ${txid.length}`);
  view.setUint32(0, height, false);
  out.set(txid, 4);
  view.setUint32(4 + TXID_BYTES, vout, false);
  return out;
}

/**
 * The height and outpoint a stored key names; the txid is a copy (copyBytes: `slice` of a Buffer,
 * as lmdb-js hands keys out, would be a view of its reused key buffer).
 */
export function readUtxoKey(key: Uint8Array): { height: number; outpoint: OutPoint } {
  if (key.length !== UTXO_KEY_BYTES)
    throw new RangeError(`a UTXO key is ${UTXO_KEY_BYTES} bytes, got ${key.length}`);
  const view = new DataView(key.buffer, key.byteOffset, UTXO_KEY_BYTES);
  return {
    height: view.getUint32(0, false),
    outpoint: { txid: copyBytes(key, 4, 4 + TXID_BYTES), vout: view.getUint32(4 + TXID_BYTES, false) },
  };
}
