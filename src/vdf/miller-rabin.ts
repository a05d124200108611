import { modPow } from './group.js';

/** Odd primes below 1,000, for trial division before any modular exponentiation. */
export const SMALL_PRIMES: readonly bigint[] = (() => {
  const out: bigint[] = [];
  for (let p = 3; p < 1000; p += 2) {
    let prime = true;
    for (let d = 3; d * d <= p; d += 2) if (p % d === 0) prime = false;
    if (prime) out.push(BigInt(p));
  }
  return out;
})();

/**
 * The fixed Miller–Rabin bases: the first 12 primes. They make the test exact below
 * 3.18 × 10^23; for the 256-bit hash outputs HashToPrime feeds it, a composite passing all 12
 * bases is far below 2^-100 (Damgård–Landrock–Pomerance average-case bound). Fixed bases make
 * the answer — and so ℓ — the same on every node. Changing them is a consensus change.
 */
export const MILLER_RABIN_BASES: readonly bigint[] = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];

/** Deterministic primality test: trial division by SMALL_PRIMES, then Miller–Rabin with fixed bases. */
export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  if (n % 2n === 0n) return n === 2n;
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  next: for (const a of MILLER_RABIN_BASES) {
    if (a % n === 0n) continue;
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue next;
    }
    return false;
  }
  return true;
}
