import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateBigint, proveBigint } from '../../src/vdf/bigint-vdf.js';
import { canonical, decodeElement, encodeElement } from '../../src/vdf/group.js';
import { hashToPrime } from '../../src/vdf/hash-to-prime.js';
import { RSA_2048 } from '../../src/vdf/rsa2048.js';
import { vdfEvaluate, vdfProve, vdfVerify } from '../../src/vdf/vdf.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';

const randomX = (): Uint8Array =>
  encodeElement(canonical(BigInt(`0x${randomBytes(260).toString('hex')}`) % RSA_2048));

// Runs the compiled worker from dist/ (`npm test` builds first).
describe('VDF on the crypto pool (real piscina workers)', () => {
  let pool: CryptoPool;
  beforeAll(() => {
    pool = new CryptoPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('evaluates, proves across workers and verifies; agrees with the BigInt oracle and the inline API', async () => {
    for (const t of [1, 300, 5000]) {
      const x = randomX();
      const out = await pool.vdfEvaluate(x, t);
      const xv = decodeElement(x);
      const y = evaluateBigint(xv, t);
      expect(decodeElement(out.y)).toBe(y);
      const proof = await pool.vdfProve(x, out);
      if (t <= 300) expect(decodeElement(proof)).toBe(proveBigint(xv, y, t));
      expect(await pool.vdfVerify(x, out.y, proof, t)).toBe(true);
      expect(vdfVerify(x, out.y, proof, t)).toBe(true);
      // The inline path gives the same y and π.
      const inline = vdfEvaluate(x, t);
      expect(inline.y).toEqual(out.y);
      expect(vdfProve(x, inline)).toEqual(proof);
      // And the pool rejects what it should.
      expect(await pool.vdfVerify(x, out.y, proof, t + 1)).toBe(false);
      expect(await pool.vdfVerify(x, randomX(), proof, t)).toBe(false);
      expect(await pool.vdfVerify(x, out.y, new Uint8Array(255), t)).toBe(false);
    }
  });

  it('computes the proof challenge ℓ in a worker, as the BigInt oracle does', async () => {
    for (const t of [1, 77, 5000]) {
      const [x, y] = [randomX(), randomX()];
      const oracle = hashToPrime(decodeElement(x), decodeElement(y), t, { oracle: true });
      expect(await pool.run('vdf.challenge', { x, y, t })).toBe(oracle);
    }
  });

  it('a malformed task payload is a typed error, and the worker survives it', async () => {
    await expect(
      pool.run('vdf.evaluate', { x: new Uint8Array(3), t: 5, plan: { kappa: 1, gamma: 1, interval: 1 } }),
    ).rejects.toThrow(/VDF_BAD_ELEMENT/);
    await expect(pool.run('vdf.provePartial', { nonsense: true })).rejects.toThrow(/VDF_BAD_CHECKPOINTS/);
    expect(await pool.run('vdf.verify', null)).toBe(false);
    const y = randomX();
    await expect(pool.run('vdf.challenge', { x: new Uint8Array(3), y, t: 5 })).rejects.toThrow(
      /VDF_BAD_ELEMENT/,
    );
    await expect(pool.run('vdf.challenge', { x: y, y, t: 0 })).rejects.toThrow(/VDF_BAD_DELAY/);
    await expect(pool.run('vdf.challenge', { x: y, y, t: '5' })).rejects.toThrow(/VDF_BAD_DELAY/);
    await expect(pool.run('vdf.challenge', 7)).rejects.toThrow(/VDF_BAD_CHECKPOINTS/);
    const x = randomX();
    const out = await pool.vdfEvaluate(x, 10);
    expect(decodeElement(out.y)).toBe(evaluateBigint(decodeElement(x), 10));
  });

  it('a cancelled evaluation stops promptly and the pool keeps working', async () => {
    const controller = new AbortController();
    const x = randomX();
    const running = pool.vdfEvaluate(x, 2_000_000_000, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    const abortedAt = performance.now();
    controller.abort();
    await expect(running).rejects.toThrow(/abort/i);
    const stopMs = performance.now() - abortedAt;
    console.log(`vdf cancel: rejected ${stopMs.toFixed(1)} ms after abort()`);
    // Not a performance assertion (bench/suites/vdf.bench.ts measures it): only that it did stop
    // rather than run its 2e9 squarings.
    expect(stopMs).toBeLessThan(10_000);
    const out = await pool.vdfEvaluate(x, 100);
    expect(decodeElement(out.y)).toBe(evaluateBigint(decodeElement(x), 100));
  });
});
