import { CodedError } from '../util/coded-error.js';
import type { SignatureItem } from './signature-verifier.js';

/** An encoded batch whose lengths do not add up (corrupt or truncated buffer). */
export class BadSignatureBatchError extends CodedError<'BAD_SIGNATURE_BATCH'> {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BAD_SIGNATURE_BATCH', message, details);
  }
}

/**
 * The byte layout of a signature batch as it crosses threads: one ArrayBuffer per batch, so the
 * coordinator transfers (not copies) it and the worker copies it into WASM memory in one go.
 *
 *   u32 count                                    (little-endian, like every field below)
 *   count × u32 message length, or MALFORMED     (MALFORMED: key or signature has a wrong length)
 *   count × (32-byte public key ‖ 64-byte signature)
 *   the messages, concatenated in order
 */
export const MALFORMED = 0xffff_ffff;
export const KEY_BYTES = 32;
export const SIG_BYTES = 64;
export const PAIR_BYTES = KEY_BYTES + SIG_BYTES;

/** Wrong-length keys or signatures can never verify; they travel as a MALFORMED marker only. */
function isWellFormed(it: SignatureItem): boolean {
  return it.publicKey.length === KEY_BYTES && it.signature.length === SIG_BYTES;
}

export function encodeSignatureBatch(items: readonly SignatureItem[]): Uint8Array<ArrayBuffer> {
  const n = items.length;
  let msgBytes = 0;
  for (const it of items) if (isWellFormed(it)) msgBytes += it.message.length;
  const out = new Uint8Array(4 + 4 * n + PAIR_BYTES * n + msgBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n, true);
  let pairAt = 4 + 4 * n;
  let msgAt = pairAt + PAIR_BYTES * n;
  for (let i = 0; i < n; i++) {
    const it = items[i] as SignatureItem;
    const ok = isWellFormed(it);
    dv.setUint32(4 + 4 * i, ok ? it.message.length : MALFORMED, true);
    if (ok) {
      out.set(it.publicKey, pairAt);
      out.set(it.signature, pairAt + KEY_BYTES);
    }
    pairAt += PAIR_BYTES;
    if (ok) {
      out.set(it.message, msgAt);
      msgAt += it.message.length;
    }
  }
  return out;
}

/** Typed views into an encoded batch (no copies), for the side that verifies it. */
export interface DecodedSignatureBatch {
  readonly count: number;
  /** Message length per item, or MALFORMED. */
  readonly lengths: Uint32Array;
  /** The count × 96 bytes of key ‖ signature pairs. */
  readonly pairs: Uint8Array;
  /** All messages, concatenated. */
  readonly messages: Uint8Array;
}

export function decodeSignatureBatch(bytes: Uint8Array): DecodedSignatureBatch {
  if (bytes.length < 4)
    throw new BadSignatureBatchError('shorter than its count field', { length: bytes.length });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(0, true);
  const pairsAt = 4 + 4 * count;
  const msgAt = pairsAt + PAIR_BYTES * count;
  if (msgAt > bytes.length)
    throw new BadSignatureBatchError('count exceeds the buffer', { count, length: bytes.length });
  const lengths = new Uint32Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = dv.getUint32(4 + 4 * i, true);
    lengths[i] = len;
    if (len !== MALFORMED) total += len;
  }
  if (msgAt + total !== bytes.length) {
    throw new BadSignatureBatchError('message lengths do not match the buffer', {
      count,
      length: bytes.length,
    });
  }
  return {
    count,
    lengths,
    pairs: bytes.subarray(pairsAt, msgAt),
    messages: bytes.subarray(msgAt),
  };
}
