import type { OutPoint } from '../protocol/transaction.js';
import { outpointKey } from '../protocol/tx-codec.js';

/**
 * Map keys for byte identifiers. A latin1 string holds one byte per character, so equal bytes give
 * equal keys and lookups hash a compact string, never an object identity.
 */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Map key of an outpoint: its 36-byte outpointKey() as latin1. */
export function outpointStringKey(o: OutPoint): string {
  return bytesKey(outpointKey(o));
}
