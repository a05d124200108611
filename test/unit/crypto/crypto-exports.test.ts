import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import * as api from '../../../src/crypto/index.js';
import { merkleRoot as jsMerkleRoot } from '../../../src/protocol/merkle.js';

describe('timecoin/crypto inline exports', () => {
  const sk = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(sk);
  const message = new TextEncoder().encode('TIME:sig:1 test');
  const signature = ed25519.sign(message, sk);

  it('ed25519Verify accepts a good signature and rejects a tampered one or bad lengths', () => {
    expect(api.ed25519Verify(publicKey, message, signature)).toBe(true);
    expect(api.ed25519Verify(publicKey, message.subarray(1), signature)).toBe(false);
    expect(api.ed25519Verify(publicKey.subarray(1), message, signature)).toBe(false);
  });

  it('ed25519Verify handles multi-megabyte messages (the I/O region grows)', () => {
    const big = new Uint8Array(3_000_000).map((_, i) => i * 31);
    const sig = ed25519.sign(big, sk);
    expect(api.ed25519Verify(publicKey, big, sig)).toBe(true);
    big[2_999_999] = (big[2_999_999] as number) ^ 1;
    expect(api.ed25519Verify(publicKey, big, sig)).toBe(false);
    expect(api.ed25519Verify(publicKey, message, signature)).toBe(true);
  });

  it('merkleRoot matches the protocol reference', () => {
    const ids = Array.from({ length: 13 }, (_, i) => new Uint8Array(32).fill(i));
    expect(api.merkleRoot(ids)).toEqual(jsMerkleRoot(ids));
  });

  it('WasmVerifier answers like NobleVerifier through the SignatureVerifier interface', async () => {
    const items = [
      { publicKey, message, signature },
      { publicKey, message: new Uint8Array(0), signature },
    ];
    expect(await new api.WasmVerifier().verifyBatch(items)).toEqual(
      await new api.NobleVerifier().verifyBatch(items),
    );
  });

  it('exports the pool factory', () => {
    expect(typeof api.createCryptoPool).toBe('function');
  });
});
