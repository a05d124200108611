// Edwards point formats and formulas (the ref10 set, whose limb bounds field-mul.ts relies on):
//   P3     extended (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z          160 bytes
//   P1P1   "completed" ((X:Z), (Y:T)), the output of add/double    160 bytes
//   P2     projective (X:Y:Z), enough for doubling                 the first 120 bytes of a P3
//   CACHED (Y+X, Y-X, Z, 2dT), a P3 prepared as an addend          160 bytes
//   PRECOMP (y+x, y-x, 2dxy), an affine CACHED (Z = 1)             120 bytes (base-point table)
import { FE_D, FE_D2, FE_SQRTM1 } from './curve-constants';
import {
  FE,
  feAdd,
  feCopy,
  feEqual,
  feFromBytes,
  feIsNegative,
  feIsZero,
  feMul,
  feNeg,
  feOne,
  fePow22523,
  feSq,
  feSq2,
  feSub,
  feZero,
} from './field';

export const POINT: usize = 4 * FE;
export const PRECOMP: usize = 3 * FE;
const X: usize = 0;
const Y: usize = FE;
const Z: usize = 2 * FE;
const T: usize = 3 * FE;

const F0 = memory.data(i32(FE), 8);
const F1 = memory.data(i32(FE), 8);
const F2 = memory.data(i32(FE), 8);
const F3 = memory.data(i32(FE), 8);

export function p3Identity(p: usize): void {
  feZero(p + X);
  feOne(p + Y);
  feOne(p + Z);
  feZero(p + T);
}

/**
 * Decodes a point under the ZIP-215 rules: y may be non-canonical (>= p), and x = 0 with the sign
 * bit set is accepted (it decodes to x = 0). Writes -P instead of P when `negate` is set (what the
 * verification equation needs). Returns false when y is not on the curve.
 */
export function p3Decode(out: usize, bytes: usize, negate: bool): bool {
  const y = out + Y;
  feFromBytes(y, bytes);
  feOne(out + Z);
  feSq(F0, y); // y^2
  feMul(F1, F0, FE_D); // d y^2
  feSub(F0, F0, out + Z); // u = y^2 - 1
  feAdd(F1, F1, out + Z); // v = d y^2 + 1
  feSq(F2, F1);
  feMul(F2, F2, F1); // v^3
  feSq(F3, F2);
  feMul(F3, F3, F1);
  feMul(F3, F3, F0); // u v^7
  fePow22523(F3, F3); // (u v^7)^((p-5)/8)
  feMul(F3, F3, F2);
  const x = out + X;
  feMul(x, F3, F0); // x = u v^3 (u v^7)^((p-5)/8)
  feSq(F2, x);
  feMul(F2, F2, F1); // v x^2
  if (!feEqual(F2, F0)) {
    feAdd(F2, F2, F0);
    if (!feIsZero(F2)) return false; // v x^2 is neither u nor -u: not a square
    feMul(x, x, FE_SQRTM1);
  }
  const signBit = load<u8>(bytes + 31) >> 7 !== 0;
  if (feIsNegative(x) !== (signBit !== negate)) feNeg(x, x);
  feMul(out + T, x, y);
  return true;
}

/** A P3 as an addend. */
export function p3ToCached(out: usize, p: usize): void {
  feAdd(out + X, p + Y, p + X);
  feSub(out + Y, p + Y, p + X);
  feCopy(out + Z, p + Z);
  feMul(out + T, p + T, FE_D2);
}

export function p1p1ToP2(out: usize, p: usize): void {
  feMul(out + X, p + X, p + T);
  feMul(out + Y, p + Y, p + Z);
  feMul(out + Z, p + Z, p + T);
}

export function p1p1ToP3(out: usize, p: usize): void {
  feMul(out + X, p + X, p + T);
  feMul(out + Y, p + Y, p + Z);
  feMul(out + Z, p + Z, p + T);
  feMul(out + T, p + X, p + Y);
}

/** out(P1P1) = 2 p(P2). out must not alias p. */
export function p2Double(out: usize, p: usize): void {
  feSq(out + X, p + X);
  feSq(out + Z, p + Y);
  feSq2(out + T, p + Z);
  feAdd(out + Y, p + X, p + Y);
  feSq(F0, out + Y);
  feAdd(out + Y, out + Z, out + X);
  feSub(out + Z, out + Z, out + X);
  feSub(out + X, F0, out + Y);
  feSub(out + T, out + T, out + Z);
}

/** out(P1P1) = p(P3) + q(CACHED). out must not alias p. */
export function p3AddCached(out: usize, p: usize, q: usize): void {
  feAdd(out + X, p + Y, p + X);
  feSub(out + Y, p + Y, p + X);
  feMul(out + Z, out + X, q + X);
  feMul(out + Y, out + Y, q + Y);
  feMul(out + T, q + T, p + T);
  feMul(out + X, p + Z, q + Z);
  feAdd(F0, out + X, out + X);
  feSub(out + X, out + Z, out + Y);
  feAdd(out + Y, out + Z, out + Y);
  feAdd(out + Z, F0, out + T);
  feSub(out + T, F0, out + T);
}

/** out(P1P1) = p(P3) - q(CACHED). */
export function p3SubCached(out: usize, p: usize, q: usize): void {
  feAdd(out + X, p + Y, p + X);
  feSub(out + Y, p + Y, p + X);
  feMul(out + Z, out + X, q + Y);
  feMul(out + Y, out + Y, q + X);
  feMul(out + T, q + T, p + T);
  feMul(out + X, p + Z, q + Z);
  feAdd(F0, out + X, out + X);
  feSub(out + X, out + Z, out + Y);
  feAdd(out + Y, out + Z, out + Y);
  feSub(out + Z, F0, out + T);
  feAdd(out + T, F0, out + T);
}

/** out(P1P1) = p(P3) + q(PRECOMP). */
export function p3AddPrecomp(out: usize, p: usize, q: usize): void {
  feAdd(out + X, p + Y, p + X);
  feSub(out + Y, p + Y, p + X);
  feMul(out + Z, out + X, q + X);
  feMul(out + Y, out + Y, q + Y);
  feMul(out + T, q + Z, p + T);
  feAdd(F0, p + Z, p + Z);
  feSub(out + X, out + Z, out + Y);
  feAdd(out + Y, out + Z, out + Y);
  feAdd(out + Z, F0, out + T);
  feSub(out + T, F0, out + T);
}

/** out(P1P1) = p(P3) - q(PRECOMP). */
export function p3SubPrecomp(out: usize, p: usize, q: usize): void {
  feAdd(out + X, p + Y, p + X);
  feSub(out + Y, p + Y, p + X);
  feMul(out + Z, out + X, q + Y);
  feMul(out + Y, out + Y, q + X);
  feMul(out + T, q + Z, p + T);
  feAdd(F0, p + Z, p + Z);
  feSub(out + X, out + Z, out + Y);
  feAdd(out + Y, out + Z, out + Y);
  feSub(out + Z, F0, out + T);
  feAdd(out + T, F0, out + T);
}

/** True when p (P2 or P3) is the identity: X = 0 and Y = Z. */
export function p2IsIdentity(p: usize): bool {
  return feIsZero(p + X) && feEqual(p + Y, p + Z);
}

export { feCopy };
