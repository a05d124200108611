import { sha256 } from '../crypto/sha256.js';
import { VdfError } from './errors.js';
import { bytesToBigint, canonical } from './group.js';
import { RSA_2048 } from './rsa2048.js';

/** SHA-256 blocks expanded: 9 × 256 = 2,304 bits, 256 more than N so the reduction bias is ≤ 2^-256. */
export const HASH_TO_GROUP_BLOCKS = 9;

/**
 * HashToGroup (DESIGN §6): the 288 bytes H(m ‖ u32le(0)) ‖ … ‖ H(m ‖ u32le(8)) read as one
 * big-endian integer, reduced mod N, mapped to min(v, N − v). `message` already starts with its
 * domain tag (e.g. TAG.beacon). A zero result (probability 2^-2047) is a typed error.
 */
export function hashToGroup(message: Uint8Array, n: bigint = RSA_2048): bigint {
  const preimage = new Uint8Array(message.length + 4);
  preimage.set(message);
  const view = new DataView(preimage.buffer);
  const expanded = new Uint8Array(32 * HASH_TO_GROUP_BLOCKS);
  for (let i = 0; i < HASH_TO_GROUP_BLOCKS; i++) {
    view.setUint32(message.length, i, true);
    expanded.set(sha256(preimage), 32 * i);
  }
  const v = canonical(bytesToBigint(expanded), n);
  if (v === 0n) throw new VdfError('VDF_HASH_TO_GROUP_ZERO', 'HashToGroup reached 0 (mod N)');
  return v;
}
