import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignatureItem } from '../../src/crypto/signature-verifier.js';
import { EXPECTED_ABI_VERSION } from '../../src/crypto/wasm-instance.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';

// Runs the compiled worker from dist/ (`npm test` builds first).
describe('CryptoPool (real piscina workers)', () => {
  let pool: CryptoPool;
  beforeAll(() => {
    pool = new CryptoPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('runs a named task in a worker that loaded the current WASM build', async () => {
    expect(await pool.run<number>('crypto.abiVersion', null)).toBe(EXPECTED_ABI_VERSION);
  });

  it('rejects an unknown task name with a typed error', async () => {
    await expect(pool.run('crypto.noSuchTask', null)).rejects.toThrow(/UNKNOWN_TASK/);
  });

  it('verifies a batch, one answer per item, including malformed and tampered items', async () => {
    const items: SignatureItem[] = Array.from({ length: 20 }, (_, i) => {
      const sk = ed25519.utils.randomSecretKey();
      const message = new Uint8Array(i * 7).fill(i);
      return { publicKey: ed25519.getPublicKey(sk), message, signature: ed25519.sign(message, sk) };
    });
    const expected = items.map(() => true);
    items[3] = { ...items[3]!, message: new Uint8Array([1, 2, 3]) };
    expected[3] = false;
    items[7] = { ...items[7]!, signature: items[7]!.signature.subarray(0, 63) };
    expected[7] = false;
    items[11] = { ...items[11]!, publicKey: items[12]!.publicKey };
    expected[11] = false;
    expect(await pool.verifyBatch(items)).toEqual(expected);
    expect(await pool.verifyBatch([])).toEqual([]);
  });

  it('reports back-pressure through canAcceptWork', () => {
    expect(pool.canAcceptWork()).toBe(true);
  });
});
