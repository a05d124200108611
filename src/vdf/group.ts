import { VdfError } from './errors.js';
import { ELEMENT_BYTES, RSA_2048 } from './rsa2048.js';

/**
 * Elements of the quotient group Z_N^× / {±1}: v and N − v are the same element, represented by
 * min(v, N − v). Working in the quotient removes the one element of known order (−1) that would
 * otherwise let a prover forge a proof for −y.
 */

/** min(v mod N, N − (v mod N)). */
export function canonical(v: bigint, n: bigint = RSA_2048): bigint {
  const r = ((v % n) + n) % n;
  const neg = n - r;
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints
  return neg < r ? neg : r;
}

/** True when 1 ≤ v ≤ (N − 1)/2, i.e. v is a canonical, non-zero representative. */
export function isCanonical(v: bigint, n: bigint = RSA_2048): boolean {
  return v >= 1n && v <= (n - 1n) / 2n;
}

/** Big-endian unsigned bytes → bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
}

/** bigint → big-endian unsigned bytes of exactly `length` bytes. */
export function bigintToBytes(v: bigint, length: number): Uint8Array {
  if (v < 0n) throw new RangeError('negative');
  const hex = v.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Encodes a group element as 256 big-endian bytes. */
export function encodeElement(v: bigint): Uint8Array {
  return bigintToBytes(v, ELEMENT_BYTES);
}

/**
 * Decodes 256 big-endian bytes into a canonical group element; anything else (wrong length, zero,
 * not in min(v, N − v) form) is a typed error, never a silent reduction.
 */
export function decodeElement(bytes: Uint8Array, what = 'element', n: bigint = RSA_2048): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ELEMENT_BYTES)
    throw new VdfError('VDF_BAD_ELEMENT', `${what} must be ${ELEMENT_BYTES} bytes`, { what });
  const v = bytesToBigint(bytes);
  if (!isCanonical(v, n))
    throw new VdfError('VDF_BAD_ELEMENT', `${what} is not a canonical group element`, { what });
  return v;
}

/** base^exp mod m (square-and-multiply, left to right); exp ≥ 0. */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  let result = 1n;
  let b = ((base % m) + m) % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** a⁻¹ mod m (extended Euclid); throws when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}

/** Checks T: a safe integer ≥ 1 (the number of sequential squarings). */
export function checkDelay(t: number): void {
  if (!Number.isSafeInteger(t) || t < 1)
    throw new VdfError('VDF_BAD_DELAY', `T must be a safe integer ≥ 1`, { t });
}
