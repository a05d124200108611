import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '../crypto/sha256.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { addressPayloadOfPubkey } from '../protocol/address.js';
import { TAG } from '../protocol/domain-tags.js';

/** An Ed25519 key pair: the 32-byte secret seed (RFC 8032) and its public key. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** SHA-256(publicKey)[0..20], the payload outputs pay to. */
  readonly addressPayload: Uint8Array;
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== 32) throw new RangeError('an Ed25519 secret key is 32 bytes');
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, addressPayload: addressPayloadOfPubkey(publicKey) };
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(new Uint8Array(randomBytes(32)));
}

/**
 * Deterministic devnet keys: secret_i = SHA-256(TAG.devKey ‖ u32-prefixed UTF-8 phrase ‖ u32 i).
 * For devnets and tests only: anyone who knows the phrase has the keys.
 */
export function devnetKeyPair(seedPhrase: string, index: number): KeyPair {
  const w = new ByteWriter(64).raw(TAG.devKey).varBytes(new TextEncoder().encode(seedPhrase)).u32(index);
  return keyPairFromSecret(sha256(w.finish()));
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}
