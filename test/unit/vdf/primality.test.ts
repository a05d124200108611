import { checkPrimeSync, generatePrimeSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { instantiateWasm } from '../../../src/crypto/wasm-instance.js';
import { bigintToBytes, canonical } from '../../../src/vdf/group.js';
import { hashToPrimeWithCounter } from '../../../src/vdf/hash-to-prime.js';
import { isProbablePrime, SMALL_PRIMES } from '../../../src/vdf/miller-rabin.js';
import { RSA_2048 } from '../../../src/vdf/rsa2048.js';
import { WasmPrimality } from '../../../src/vdf/wasm-prime.js';

const fast = new WasmPrimality(instantiateWasm('release'));
const fastIsPrime = (n: bigint) =>
  WasmPrimality.passesTrialDivision(bigintToBytes(n, 32)) && fast.millerRabin(n);
const odd256 = () => BigInt(`0x${randomBytes(32).toString('hex')}`) | (1n << 255n) | 1n;
const openssl = (n: bigint) => checkPrimeSync(bigintToBytes(n, 32), { checks: 40 });

describe('primality: WASM fast path against the BigInt isProbablePrime and OpenSSL', () => {
  it('agrees on 2,000 random odd 256-bit numbers', () => {
    let primes = 0;
    for (let i = 0; i < 2000; i++) {
      const n = odd256();
      const expected = isProbablePrime(n);
      expect(fastIsPrime(n)).toBe(expected);
      if (expected) {
        primes++;
        expect(openssl(n)).toBe(true);
      }
    }
    expect(primes).toBeGreaterThan(5); // ≈ 2000 / 88.7 ≈ 22 expected
  });

  it('accepts generated primes and rejects products of two primes and multiples of small primes', () => {
    for (let i = 0; i < 20; i++) {
      const p = generatePrimeSync(256, { bigint: true });
      expect(fastIsPrime(p)).toBe(true);
      expect(isProbablePrime(p)).toBe(true);
      const q1 = generatePrimeSync(128, { bigint: true });
      const q2 = generatePrimeSync(128, { bigint: true });
      const c = q1 * q2;
      if (c % 2n === 1n && c < 1n << 256n) {
        expect(fast.millerRabin(c)).toBe(false);
        expect(isProbablePrime(c)).toBe(false);
      }
    }
    for (const p of SMALL_PRIMES.slice(0, 20)) {
      const c = (odd256() / p) * p;
      if (c % 2n === 1n) expect(fastIsPrime(c)).toBe(false);
    }
  });

  it('handles strong pseudoprimes exactly as the BigInt test (fixed bases 2 … 37)', () => {
    // A014233: smallest strong pseudoprimes to the first k prime bases.
    const spsp = [3215031751n, 2152302898747n, 3474749660383n, 341550071728321n, 3825123056546413051n];
    for (const n of spsp) {
      expect(checkPrimeSync(bigintToBytes(n, 32), { checks: 40 })).toBe(false);
      expect(fast.millerRabin(n)).toBe(isProbablePrime(n));
      expect(isProbablePrime(n)).toBe(false);
    }
    // The first composites that pass all twelve fixed bases (A014233(12) and (13)): both
    // implementations accept them — the known, documented limit of a fixed-base test, which is
    // why it is "exact below 3.18 × 10^23" only (HashToPrime inputs are 256-bit hash outputs).
    for (const liar of [318665857834031151167461n, 3317044064679887385961981n]) {
      expect(checkPrimeSync(bigintToBytes(liar, 32), { checks: 40 })).toBe(false);
      expect(isProbablePrime(liar)).toBe(true);
      expect(fast.millerRabin(liar)).toBe(true);
    }
  });

  it('HashToPrime gives the same ℓ and counter on the fast path and the oracle path', () => {
    for (let i = 0; i < 30; i++) {
      const x = canonical(BigInt(`0x${randomBytes(256).toString('hex')}`) % RSA_2048);
      const y = canonical(BigInt(`0x${randomBytes(256).toString('hex')}`) % RSA_2048);
      expect(hashToPrimeWithCounter(x, y, 4096 + i)).toEqual(
        hashToPrimeWithCounter(x, y, 4096 + i, { oracle: true }),
      );
    }
  });
});
