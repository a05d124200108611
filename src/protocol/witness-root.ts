import { sha256 } from '../crypto/sha256.js';
import { TAG } from './domain-tags.js';
import { merkleRoot } from './merkle.js';

/**
 * The header's commitment to the full transactions. A txid leaves witnesses out (so re-signing
 * cannot change it), which means the merkle root over txids says nothing about signatures: a relay
 * could swap a witness inside a valid block and make it fail under the same header hash. The
 * witness root closes that: every byte of every transaction is under the header hash, so a body
 * either is the one the producer signed or does not match its header.
 */

/** wtxid = SHA-256(TAG.wtx ‖ full serialized transaction, witnesses included). */
export function witnessHash(txBytes: Uint8Array): Uint8Array {
  const pre = new Uint8Array(TAG.wtx.length + txBytes.length);
  pre.set(TAG.wtx);
  pre.set(txBytes, TAG.wtx.length);
  return sha256(pre);
}

/** RFC 6962 merkle root (the same tree as the txid root) over the wtxids in block order. */
export function witnessRoot(txs: readonly { readonly bytes: Uint8Array }[]): Uint8Array {
  return merkleRoot(txs.map((t) => witnessHash(t.bytes)));
}
