import { describe, expect, it } from 'vitest';
import { instantiateWasm } from '../../../src/crypto/wasm-instance.js';
import { evaluateBigint, proveBigint, squareBigint, verifyBigint } from '../../../src/vdf/bigint-vdf.js';
import { VdfError } from '../../../src/vdf/errors.js';
import {
  bigintToBytes,
  bytesToBigint,
  canonical,
  checkDelay,
  decodeElement,
  encodeElement,
  isCanonical,
  modInverse,
  modPow,
} from '../../../src/vdf/group.js';
import { hashToGroup } from '../../../src/vdf/hash-to-group.js';
import { isProbablePrime, SMALL_PRIMES } from '../../../src/vdf/miller-rabin.js';
import { opensslEvaluate } from '../../../src/vdf/openssl-evaluator.js';
import { RSA_2048 as N } from '../../../src/vdf/rsa2048.js';
import { vdfEvaluate, vdfProve, vdfVerify, vdfVerifyWith } from '../../../src/vdf/vdf.js';
import { WasmVdf } from '../../../src/vdf/wasm-vdf.js';
import { thrownAs } from '../../support/thrown.js';

/** Sieve of Eratosthenes: isPrime[n] for 0 ≤ n < limit. */
function sieve(limit: number): Uint8Array {
  const isPrime = new Uint8Array(limit).fill(1);
  isPrime[0] = 0;
  isPrime[1] = 0;
  for (let p = 2; p * p < limit; p++) if (isPrime[p]) for (let m = p * p; m < limit; m += p) isPrime[m] = 0;
  return isPrime;
}

/** Plain BigInt trial division (the slow, obviously-correct oracle). */
function trialDivisionIsPrime(n: bigint): boolean {
  if (n < 2n) return false;
  if (n % 2n === 0n) return n === 2n;
  for (let d = 3n; d * d <= n; d += 2n) if (n % d === 0n) return false;
  return true;
}

/** A deterministic 64-bit xorshift, so failures reproduce. */
function rng(seed: bigint): () => bigint {
  let s = seed;
  const mask = (1n << 64n) - 1n;
  return () => {
    s ^= (s << 13n) & mask;
    s ^= s >> 7n;
    s ^= (s << 17n) & mask;
    return s;
  };
}

describe('isProbablePrime is exact (consensus: HashToPrime must pick the same ℓ everywhere)', () => {
  it('answers false for every n < 2 (negatives first, then 0 and 1) and true for 2', () => {
    for (let n = -50n; n < 0n; n++) expect(isProbablePrime(n), `n = ${n}`).toBe(false);
    expect(isProbablePrime(-(2n ** 255n) - 1n)).toBe(false);
    expect(isProbablePrime(2n)).toBe(true);
    expect(isProbablePrime(0n)).toBe(false);
    expect(isProbablePrime(1n)).toBe(false);
  });

  it('agrees with a sieve for every n below 60,000', () => {
    const limit = 60_000;
    const isPrime = sieve(limit);
    const wrong: number[] = [];
    for (let n = 2; n < limit; n++) if (isProbablePrime(BigInt(n)) !== (isPrime[n] === 1)) wrong.push(n);
    expect(wrong).toEqual([]);
  });

  it('SMALL_PRIMES (the trial divisors both primality paths share) are exactly the odd primes below 1,000', () => {
    const isPrime = sieve(1000);
    const expected: bigint[] = [];
    for (let p = 3; p < 1000; p += 2) if (isPrime[p]) expected.push(BigInt(p));
    expect(expected.length).toBe(167);
    expect([...SMALL_PRIMES]).toEqual(expected);
  });

  it('rejects Carmichael numbers and strong pseudoprimes to subsets of the bases', () => {
    const carmichael = [
      561n,
      1105n,
      1729n,
      2465n,
      2821n,
      6601n,
      8911n,
      10585n,
      15841n,
      29341n,
      41041n,
      46657n,
      52633n,
      62745n,
      63973n,
      75361n,
      101101n,
      115921n,
      126217n,
      162401n,
      172081n,
      188461n,
      252601n,
      278545n,
      294409n,
      314821n,
      334153n,
      340561n,
      399001n,
      410041n,
      449065n,
      488881n,
      512461n,
      // 3-factor Carmichael numbers with all factors > 1,000 (only Miller–Rabin can reject them).
      1171n * 2341n * 3511n, // Chernick (6k + 1)(12k + 1)(18k + 1), k = 195
    ];
    const strongPseudoprimes = [
      // Base 2 (A001262).
      2047n,
      3277n,
      4033n,
      4681n,
      8321n,
      15841n,
      29341n,
      42799n,
      49141n,
      52633n,
      // A014233: smallest strong pseudoprimes to the first k prime bases, k = 1 … 11.
      2047n,
      1373653n,
      25326001n,
      3215031751n,
      2152302898747n,
      3474749660383n,
      341550071728321n,
      341550071728321n,
      3825123056546413051n,
      3825123056546413051n,
      3825123056546413051n,
    ];
    for (const n of [...carmichael, ...strongPseudoprimes]) {
      if (n < 10n ** 11n) expect(trialDivisionIsPrime(n), `oracle ${n}`).toBe(false);
      expect(isProbablePrime(n), `n = ${n}`).toBe(false);
    }
  });

  it('agrees with BigInt trial division on random numbers up to 2^34 and on products of two 24-bit primes', () => {
    const next = rng(0x9e3779b97f4a7c15n);
    for (let i = 0; i < 300; i++) {
      const n = next() % (1n << 34n);
      expect(isProbablePrime(n), `n = ${n}`).toBe(trialDivisionIsPrime(n));
    }
    const primes24: bigint[] = [];
    for (let c = (1n << 23n) + 1n; primes24.length < 12; c += 2n)
      if (trialDivisionIsPrime(c)) primes24.push(c);
    for (const p of primes24) {
      expect(isProbablePrime(p)).toBe(true);
      for (const q of primes24) expect(isProbablePrime(p * q), `${p} · ${q}`).toBe(false);
    }
  });
});

describe('group encoding rules', () => {
  const half = (N - 1n) / 2n;

  it('canonical representatives are exactly 1 … (N − 1)/2', () => {
    expect(isCanonical(half)).toBe(true);
    expect(isCanonical(half + 1n)).toBe(false);
    expect(isCanonical(1n)).toBe(true);
    expect(isCanonical(0n)).toBe(false);
    expect(canonical(half + 1n)).toBe(half);
    expect(canonical(N - 5n)).toBe(5n);
    expect(canonical(-5n)).toBe(5n);
  });

  it('decodeElement accepts the largest canonical element and refuses its other encoding N − v', () => {
    expect(decodeElement(encodeElement(half))).toBe(half);
    // (N + 1)/2 = N − (N − 1)/2 is the same group element: a second encoding must be an error.
    const other = thrownAs(() => decodeElement(encodeElement(half + 1n)), VdfError);
    expect(other).toMatchObject({ code: 'VDF_BAD_ELEMENT', details: { what: 'element' } });
    expect(other.message).toMatch(/element is not a canonical group element/);
  });

  it('decodeElement refuses wrong lengths (even with only a leading zero added) and wrong types', () => {
    const v = 0x1234_5678n;
    const good = encodeElement(v);
    expect(decodeElement(good)).toBe(v);
    const longer = new Uint8Array(257);
    longer.set(good, 1);
    for (const bad of [good.subarray(1), longer, new Uint8Array(0)]) {
      const e = thrownAs(() => decodeElement(bad, 'proof'), VdfError);
      expect(e).toMatchObject({ code: 'VDF_BAD_ELEMENT', details: { what: 'proof' } });
      expect(e.message).toMatch(/proof must be 256 bytes/);
    }
    const e = thrownAs(() => decodeElement(Array.from(good) as unknown as Uint8Array), VdfError);
    expect(e).toMatchObject({ code: 'VDF_BAD_ELEMENT', details: { what: 'element' } });
    expect(e.message).toMatch(/element must be 256 bytes/);
  });

  it('bytes ↔ bigint: empty reads as 0, zero encodes as zeros, negatives and overflow are refused', () => {
    expect(bytesToBigint(new Uint8Array(0))).toBe(0n);
    expect(bytesToBigint(new Uint8Array([1, 0]))).toBe(256n);
    expect(Array.from(bigintToBytes(0n, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(bigintToBytes(0x0102n, 3))).toEqual([0, 1, 2]);
    expect(Array.from(bigintToBytes(0xffff_ffffn, 4))).toEqual([255, 255, 255, 255]);
    expect(() => bigintToBytes(-1n, 4)).toThrow(new RangeError('negative'));
    expect(() => encodeElement(-5n)).toThrow(RangeError);
    expect(() => bigintToBytes(1n << 32n, 4)).toThrow(new RangeError('value does not fit in 4 bytes'));
    expect(() => encodeElement(1n << 2048n)).toThrow(RangeError);
  });

  it('modPow and modInverse: everything is 0 mod 1; a non-invertible value is an error, not garbage', () => {
    expect(modPow(5n, 0n, 1n)).toBe(0n);
    expect(modPow(5n, 3n, 1n)).toBe(0n);
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(3n, 5n, 7n)).toBe(5n);
    expect(modInverse(3n, 7n)).toBe(5n);
    expect(modInverse(-3n, 7n)).toBe(2n);
    expect(() => modInverse(6n, 9n)).toThrow(new RangeError('not invertible'));
    expect(() => modInverse(0n, 7n)).toThrow(RangeError);
  });

  it('checkDelay refuses T < 1 and non-safe-integers with a typed error carrying T', () => {
    checkDelay(1);
    checkDelay(Number.MAX_SAFE_INTEGER);
    for (const t of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      const e = thrownAs(() => checkDelay(t), VdfError);
      expect(e).toMatchObject({ code: 'VDF_BAD_DELAY', details: { t } });
      expect(e.message).toMatch(/T must be a safe integer ≥ 1/);
    }
  });

  it('squareBigint is one modular squaring', () => {
    const v = N - 12_345n;
    expect(squareBigint(v)).toBe((v * v) % N);
    expect(squareBigint(7n, 10n)).toBe(9n);
  });
});

describe('HashToGroup', () => {
  it('a zero result is a typed error, never the element 0', () => {
    // With a toy modulus a zero reduction is easy to hit; with RSA-2048 its probability is 2^-2047.
    const n = 15n;
    let zeroSeen = false;
    for (let i = 0; i < 200 && !zeroSeen; i++) {
      const msg = new TextEncoder().encode(`toy ${i}`);
      let v: bigint | undefined;
      try {
        v = hashToGroup(msg, n);
      } catch (e) {
        zeroSeen = true;
        expect(e).toBeInstanceOf(VdfError);
        expect(e).toMatchObject({ code: 'VDF_HASH_TO_GROUP_ZERO' });
        expect((e as Error).message).toMatch(/HashToGroup reached 0 \(mod N\)/);
      }
      if (v !== undefined) {
        expect(v).not.toBe(0n);
        expect(v <= 7n).toBe(true);
      }
    }
    expect(zeroSeen).toBe(true);
  });
});

describe('verifiers refuse every non-canonical or malformed input; the honest proof verifies', () => {
  const vdf = new WasmVdf(instantiateWasm('release'));
  const t = 64;
  const x = canonical(0x5eed_1234_5678_9abc_def0n ** 37n);
  const y = evaluateBigint(x, t);
  const pi = proveBigint(x, y, t);
  const [xb, yb, pb] = [encodeElement(x), encodeElement(y), encodeElement(pi)];
  const withLeadingZero = (b: Uint8Array) => {
    const out = new Uint8Array(b.length + 1);
    out.set(b, 1);
    return out;
  };

  it('the honest proof verifies on all three verifiers', () => {
    expect(vdfVerify(xb, yb, pb, t)).toBe(true);
    expect(vdfVerifyWith(vdf, xb, yb, pb, t)).toBe(true);
    expect(verifyBigint(x, y, pi, t)).toBe(true);
  });

  it('the largest canonical element (N − 1)/2 is a valid input', () => {
    const hx = (N - 1n) / 2n;
    const hy = evaluateBigint(hx, t);
    const hp = proveBigint(hx, hy, t);
    expect(vdfVerify(encodeElement(hx), encodeElement(hy), encodeElement(hp), t)).toBe(true);
    expect(verifyBigint(hx, hy, hp, t)).toBe(true);
  });

  it('x given as its other encoding N − x, with a proof computed for that encoding, is refused', () => {
    // N − x is the same element as x, and y = (N − x)^(2^T) up to sign: a verifier that does not
    // insist on the canonical form would accept a second (x, π) pair for the same statement.
    const xAlt = N - x;
    const piAlt = proveBigint(xAlt, y, t);
    expect(verifyBigint(xAlt, y, piAlt, t)).toBe(false);
    expect(vdfVerify(encodeElement(xAlt), yb, encodeElement(piAlt), t)).toBe(false);
    expect(verifyBigint(x, N - y, pi, t)).toBe(false);
    expect(verifyBigint(x, y, N - pi, t)).toBe(false);
  });

  it('byte-level: wrong lengths (including a leading zero byte), wrong types and out-of-range values are false', () => {
    const bad: unknown[] = [
      withLeadingZero(xb),
      xb.subarray(1),
      new Uint8Array(0),
      Array.from(xb),
      Buffer.from(xb).toString('hex'),
      x,
      undefined,
      null,
      encodeElement(N - x),
      encodeElement(0n),
      encodeElement(N),
      new Uint8Array(256).fill(255),
    ];
    for (const [i, b] of bad.entries()) {
      expect(vdfVerifyWith(vdf, b, yb, pb, t), `x #${i}`).toBe(false);
      expect(vdfVerifyWith(vdf, xb, b, pb, t), `y #${i}`).toBe(false);
      expect(vdfVerifyWith(vdf, xb, yb, b, t), `π #${i}`).toBe(false);
    }
    expect(vdfVerify(withLeadingZero(xb), withLeadingZero(yb), withLeadingZero(pb), t)).toBe(false);
    // The trivial statement 1^(2^T) = 1 with π = 1 holds: malformed inputs must not read as 1.
    const one = encodeElement(1n);
    expect(vdfVerifyWith(vdf, one, one, one, t)).toBe(true);
    expect(vdfVerifyWith(vdf, 'x', 'y', 'π', t)).toBe(false);
    expect(vdfVerifyWith(vdf, new Uint8Array(3), one, one, t)).toBe(false);
    expect(vdfVerifyWith(vdf, one, [1], one, t)).toBe(false);
  });

  it('T out of bounds or not a number is false, on the byte and the BigInt verifier', () => {
    for (const bt of [
      0,
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      '64',
      64n,
      null,
      undefined,
    ]) {
      expect(vdfVerifyWith(vdf, xb, yb, pb, bt), `T = ${String(bt)}`).toBe(false);
      if (typeof bt === 'number') expect(verifyBigint(x, y, pi, bt)).toBe(false);
    }
    expect(vdfVerify(xb, yb, pb, t + 1)).toBe(false);
  });
});

describe('evaluate / prove / OpenSSL errors name the bad input; progress is reported', () => {
  const t = 40;
  const x = encodeElement(canonical(987_654_321n ** 11n));

  it('vdfEvaluate reports progress up to T and gives the BigInt y', () => {
    const calls: [number, number][] = [];
    const out = vdfEvaluate(x, t, { onProgress: (done, total) => calls.push([done, total]) });
    expect(decodeElement(out.y)).toBe(evaluateBigint(decodeElement(x), t));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.at(-1)).toEqual([t, t]);
    expect(decodeElement(vdfProve(x, out))).toBe(proveBigint(decodeElement(x), decodeElement(out.y), t));
  });

  it('a non-canonical x or y is a VDF_BAD_ELEMENT error that says which one', () => {
    const notCanonical = encodeElement(N - 3n);
    const good = vdfEvaluate(x, t);
    const cases: [() => unknown, string][] = [
      [() => vdfEvaluate(notCanonical, t), 'x'],
      [() => vdfProve(notCanonical, good), 'x'],
      [() => vdfProve(x, { ...good, y: notCanonical }), 'y'],
      [() => opensslEvaluate(notCanonical, t), 'x'],
    ];
    for (const [fn, what] of cases) {
      const e = thrownAs(fn, VdfError);
      expect(e).toMatchObject({ code: 'VDF_BAD_ELEMENT', details: { what } });
      expect(e.message).toMatch(new RegExp(`^VDF_BAD_ELEMENT: ${what} is not a canonical group element`));
    }
  });
});
