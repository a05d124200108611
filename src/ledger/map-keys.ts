import type { OutPoint } from '../protocol/transaction.js';

/**
 * Map keys for byte identifiers. A latin1 string holds one byte per character, so equal bytes give
 * equal keys and lookups hash a compact string, never an object identity.
 */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Map key of an outpoint: its 36-byte outpointKey() (txid ‖ vout u32 big-endian) as latin1, built
 * without allocating the 36-byte array: this runs for every input of every transaction checked.
 */
export function outpointStringKey(o: OutPoint): string {
  const v = o.vout;
  return bytesKey(o.txid) + String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}
