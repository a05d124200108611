import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NODE_KEY_CACHE_LIMIT,
  nodeCryptoVerify,
  nodeKeyCacheSize,
  nodeKeyObject,
} from '../../../src/crypto/node-crypto-verify.js';
import { nobleZip215, supercopCases, zip215Cases } from './ed25519-vectors.js';

// OpenSSL's Ed25519 verifier checks handshake signatures and is the benchmarks' native anchor.
// Its keys are imported as JWKs (cheaper than DER on Node 20), so these tests pin that the raw key
// reaches OpenSSL unchanged and that the verdicts agree with the vectors and with @noble.

const SPKI_ED25519_PREFIX = '302a300506032b6570032100';

describe('nodeKeyObject', () => {
  it('holds exactly the raw 32-byte key, as JWK and as SubjectPublicKeyInfo DER', () => {
    for (const c of supercopCases().slice(0, 16)) {
      const key = nodeKeyObject(c.publicKey);
      expect(key.type).toBe('public');
      expect(key.asymmetricKeyType).toBe('ed25519');
      expect(Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url')).toEqual(Buffer.from(c.publicKey));
      expect(key.export({ format: 'der', type: 'spki' }).toString('hex')).toBe(
        SPKI_ED25519_PREFIX + Buffer.from(c.publicKey).toString('hex'),
      );
    }
  });

  it('reuses one KeyObject per key, reading the key from a view at any offset', () => {
    const [a, b] = supercopCases();
    const padded = new Uint8Array(40);
    padded.set(a!.publicKey, 5);
    const view = padded.subarray(5, 37);
    expect(nodeKeyObject(view)).toBe(nodeKeyObject(a!.publicKey));
    expect(nodeKeyObject(b!.publicKey)).not.toBe(nodeKeyObject(a!.publicKey));
  });

  it('keeps the earlier key when a second one is added (the cache is not one entry deep)', () => {
    const [, , c, d] = supercopCases();
    const first = nodeKeyObject(c!.publicKey);
    nodeKeyObject(d!.publicKey);
    expect(nodeKeyObject(c!.publicKey)).toBe(first);
  });

  it('never holds more than NODE_KEY_CACHE_LIMIT keys, however many identities pass through', () => {
    // Every new peer identity adds a key: the bound is what keeps a stream of fresh ones from
    // growing the map without end. Raw bytes import fine (OpenSSL checks the point at verify).
    let largest = 0;
    for (let i = 0; i < 2 * NODE_KEY_CACHE_LIMIT + 3; i++) {
      nodeKeyObject(new Uint8Array(randomBytes(32)));
      largest = Math.max(largest, nodeKeyCacheSize());
    }
    expect(largest).toBe(NODE_KEY_CACHE_LIMIT);
    expect(nodeKeyCacheSize()).toBeGreaterThan(0);
  });
});

describe('nodeCryptoVerify', () => {
  it('accepts all 1,024 SUPERCOP vectors and refuses each one with its message changed', () => {
    const cases = supercopCases();
    for (const c of cases) expect(nodeCryptoVerify(c.publicKey, c.message, c.signature), c.label).toBe(true);
    for (const c of cases.filter((_, i) => i % 8 === 0)) {
      const changed = new Uint8Array(c.message.length + 1);
      changed.set(c.message);
      changed[c.message.length] = 1;
      expect(nodeCryptoVerify(c.publicKey, changed, c.signature), c.label).toBe(false);
    }
  });

  it('refuses a flipped bit in the signature or the key, as @noble does', () => {
    for (const c of supercopCases().slice(0, 64)) {
      const sig = c.signature.slice();
      sig[c.label.length % 64]! ^= 1;
      const pk = c.publicKey.slice();
      pk[7]! ^= 0x10;
      for (const item of [
        { ...c, signature: sig },
        { ...c, publicKey: pk },
      ]) {
        expect(nodeCryptoVerify(item.publicKey, item.message, item.signature)).toBe(nobleZip215(item));
        expect(nodeCryptoVerify(item.publicKey, item.message, item.signature)).toBe(false);
      }
    }
  });

  it('is never looser than ZIP-215 on the small-order and non-canonical vectors', () => {
    for (const c of zip215Cases()) {
      if (nodeCryptoVerify(c.publicKey, c.message, c.signature)) expect(c.expected, c.label).toBe(true);
    }
  });

  it('answers false, without throwing, for keys and signatures of the wrong length', () => {
    const [c] = supercopCases();
    expect(nodeCryptoVerify(c!.publicKey.subarray(0, 31), c!.message, c!.signature)).toBe(false);
    expect(nodeCryptoVerify(new Uint8Array(33), c!.message, c!.signature)).toBe(false);
    expect(nodeCryptoVerify(c!.publicKey, c!.message, c!.signature.subarray(0, 63))).toBe(false);
    expect(nodeCryptoVerify(c!.publicKey, c!.message, new Uint8Array(65))).toBe(false);
  });

  it('refuses a valid key or signature with one byte appended (no prefix is read as the whole)', () => {
    for (const c of supercopCases().slice(0, 8)) {
      const longKey = Uint8Array.from([...c.publicKey, 0]);
      const longSig = Uint8Array.from([...c.signature, 0]);
      expect(nodeCryptoVerify(c.publicKey, c.message, c.signature)).toBe(true);
      expect(nodeCryptoVerify(longKey, c.message, c.signature)).toBe(false);
      expect(nodeCryptoVerify(c.publicKey, c.message, longSig)).toBe(false);
    }
  });
});
