import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** At most this many KeyObjects are kept (each peer identity adds one); the cache then starts over. */
export const NODE_KEY_CACHE_LIMIT = 4096;
const keys = new Map<string, KeyObject>();

/** How many keys the cache holds now (its bound is NODE_KEY_CACHE_LIMIT). */
export function nodeKeyCacheSize(): number {
  return keys.size;
}

/**
 * OpenSSL's KeyObject for a raw key, cached. Imported as a JWK, not as SubjectPublicKeyInfo DER:
 * Node hands a JWK's raw bytes straight to OpenSSL, while DER goes through OpenSSL 3.0's decoder
 * framework, which took 83 µs a key on Node 20 against 8 µs for the JWK (a verification is ~75 µs).
 * Every inbound handshake from a new identity pays this once.
 */
export function nodeKeyObject(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url');
  let key = keys.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size >= NODE_KEY_CACHE_LIMIT) keys.clear();
    keys.set(x, key);
  }
  return key;
}

/**
 * Ed25519 verification by OpenSSL (node:crypto). NOT the consensus rule: OpenSSL rejects
 * non-canonical encodings that ZIP-215 accepts. It is the native anchor of the benchmarks and
 * agrees with ZIP-215 on every honestly made signature. A key or signature of the wrong length is
 * refused by OpenSSL (the JWK import or the verify throws) and answered false like any bad one.
 */
export function nodeCryptoVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, message, nodeKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
