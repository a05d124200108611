import { createPublicKey, type KeyObject, verify } from 'node:crypto';

// SubjectPublicKeyInfo DER prefix for a raw 32-byte Ed25519 key (RFC 8410).
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const CACHE_LIMIT = 4096;
const keys = new Map<string, KeyObject>();

/** OpenSSL's KeyObject for a raw key, cached (parsing costs about as much as a verification). */
export function nodeKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
  let key = keys.get(id);
  if (!key) {
    const der = new Uint8Array(SPKI_PREFIX.length + 32);
    der.set(SPKI_PREFIX);
    der.set(publicKey, SPKI_PREFIX.length);
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    if (keys.size >= CACHE_LIMIT) keys.clear();
    keys.set(id, key);
  }
  return key;
}

/**
 * Ed25519 verification by OpenSSL (node:crypto). NOT the consensus rule: OpenSSL rejects
 * non-canonical encodings that ZIP-215 accepts. It is the native anchor of the benchmarks and
 * agrees with ZIP-215 on every honestly made signature.
 */
export function nodeCryptoVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, nodeKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
