import { canonical, checkDelay, isCanonical, modPow } from './group.js';
import { hashToPrime } from './hash-to-prime.js';
import { RSA_2048 } from './rsa2048.js';

/**
 * The plain JS BigInt implementation of the VDF: the test oracle for the WASM path and the
 * benchmark baseline. Same functions, same results, no shortcuts; O(T) BigInt steps each, so only
 * for small T (tests) and for timing single squarings.
 */

/** y = x^(2^T) in Z_N^×/{±1}. */
export function evaluateBigint(x: bigint, t: number, n: bigint = RSA_2048): bigint {
  checkDelay(t);
  let v = x;
  for (let i = 0; i < t; i++) v = (v * v) % n;
  return canonical(v, n);
}

/** One 2048-bit modular squaring (the benchmark's unit of work). */
export function squareBigint(v: bigint, n: bigint = RSA_2048): bigint {
  return (v * v) % n;
}

/**
 * π = x^⌊2^T/ℓ⌋ by long division of 2^T by ℓ, one bit per step (Wesolowski's on-the-fly
 * algorithm): r ← 2r, b ← [r ≥ ℓ], r ← r − bℓ, π ← π²·x^b.
 */
export function proveBigint(x: bigint, y: bigint, t: number, n: bigint = RSA_2048): bigint {
  checkDelay(t);
  const l = hashToPrime(x, y, t, { oracle: true });
  let pi = 1n;
  let r = 1n;
  for (let i = 0; i < t; i++) {
    r *= 2n;
    const bit = r >= l;
    if (bit) r -= l;
    pi = (pi * pi) % n;
    if (bit) pi = (pi * x) % n;
  }
  return canonical(pi, n);
}

/** π^ℓ · x^r = y in Z_N^×/{±1} with ℓ = HashToPrime(x, y), r = 2^T mod ℓ; false on any bad input. */
export function verifyBigint(x: bigint, y: bigint, pi: bigint, t: number, n: bigint = RSA_2048): boolean {
  if (!Number.isSafeInteger(t) || t < 1) return false;
  if (!isCanonical(x, n) || !isCanonical(y, n) || !isCanonical(pi, n)) return false;
  const l = hashToPrime(x, y, t, { oracle: true });
  const r = modPow(2n, BigInt(t), l);
  return canonical(modPow(pi, l, n) * modPow(x, r, n), n) === y;
}
