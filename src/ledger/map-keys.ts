import { latin1Key } from '../encoding/bytes.js';
import type { OutPoint } from '../protocol/transaction.js';

/**
 * Map keys for byte identifiers. A latin1 string holds one byte per character, so equal bytes give
 * equal keys and lookups hash a compact string, never an object identity.
 */
export function bytesKey(bytes: Uint8Array): string {
  return latin1Key(bytes);
}

/** Where outpoint keys are assembled: one flat 36-byte string per key, never a concatenation. */
const outpointScratch = new Uint8Array(36);

/**
 * Map key of an outpoint: its 36-byte outpointKey() (txid ‖ vout u32 big-endian) as latin1, built
 * in a scratch array: this runs for every input of every transaction checked, and a concatenated
 * key would be a cons string that every map lookup flattens first.
 */
export function outpointStringKey(o: OutPoint): string {
  const v = o.vout;
  if (o.txid.length !== 32)
    // Not a txid (a caller's malformed outpoint): a key of its own length that matches no real one.
    return latin1Key(o.txid) + String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const k = outpointScratch;
  k.set(o.txid);
  k[32] = v >>> 24;
  k[33] = v >>> 16;
  k[34] = v >>> 8;
  k[35] = v;
  return latin1Key(k, 0, 36);
}
