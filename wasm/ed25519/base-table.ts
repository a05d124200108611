// The fixed-base table: odd multiples B, 3B, ..., 127B of the base point in affine PRECOMP form,
// for signed digits of width 8 (|d| <= 127). Built once per instance on first use (64
// inversions, well under a millisecond). A wider window than the 5 used for variable points pays
// here because the table is built once and reused by every verification: about 253/9 = 28 base
// additions per verification instead of 42.
import { BASE_BYTES, FE_D2 } from './curve-constants';
import { FE, feAdd, feInvert, feMul, feSub } from './field';
import { POINT, PRECOMP, p1p1ToP3, p2Double, p3AddCached, p3Decode, p3ToCached } from './point';

export const BASE_WINDOW: i32 = 8;
const ENTRIES: i32 = 1 << (BASE_WINDOW - 2);

/** ENTRIES PRECOMP points: entry j = (2j + 1) B. */
export const BASE_TABLE = memory.data(ENTRIES * i32(PRECOMP), 8);

let built = false;
const P = memory.data(i32(POINT), 8);
const TWO_B = memory.data(i32(POINT), 8);
const TWO_B_CACHED = memory.data(i32(POINT), 8);
const SUM = memory.data(i32(POINT), 8);
const ZINV = memory.data(i32(FE), 8);
const AX = memory.data(i32(FE), 8);
const AY = memory.data(i32(FE), 8);

function storeAffine(entry: usize, p: usize): void {
  feInvert(ZINV, p + 2 * FE);
  feMul(AX, p, ZINV);
  feMul(AY, p + FE, ZINV);
  feAdd(entry, AY, AX);
  feSub(entry + FE, AY, AX);
  feMul(entry + 2 * FE, AX, AY);
  feMul(entry + 2 * FE, entry + 2 * FE, FE_D2);
}

export function ensureBaseTable(): void {
  if (built) return;
  p3Decode(P, BASE_BYTES, false);
  p2Double(SUM, P);
  p1p1ToP3(TWO_B, SUM);
  p3ToCached(TWO_B_CACHED, TWO_B);
  storeAffine(BASE_TABLE, P);
  for (let j = 1; j < ENTRIES; j++) {
    p3AddCached(SUM, P, TWO_B_CACHED);
    p1p1ToP3(P, SUM);
    storeAffine(BASE_TABLE + usize(j) * PRECOMP, P);
  }
  built = true;
}
