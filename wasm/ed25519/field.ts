// Field element helpers over the radix-2^25.5 representation of field-mul.ts (generated, with
// field-sq.ts, by generate-field.mjs): add/sub/neg, byte
// encodings, inversion and the (p-5)/8 power used by square roots. Variable time is fine here:
// everything this module verifies is public data.
import { FE, feCarry, feMul } from './field-mul';
import { feSq } from './field-sq';

export { FE, feCarry, feMul } from './field-mul';
export { feSq, feSq2 } from './field-sq';

/** Limb i starts at bit ceil(25.5 i) and is 26 bits wide for even i, 25 for odd i. */
const LIMB_SHIFT: StaticArray<u32> = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];

// Staging areas so 8-byte loads/stores near the end of a 32-byte encoding stay in bounds.
const BYTES_TMP = memory.data(40, 8);
const ENC_TMP = memory.data(32, 8);
const T0 = memory.data(40, 8);
const T1 = memory.data(40, 8);
const T2 = memory.data(40, 8);
const T3 = memory.data(40, 8);

/** out = a + b (no carry: callers follow the ref10 bounds). */
export function feAdd(out: usize, a: usize, b: usize): void {
  store<i32>(out, load<i32>(a, 0) + load<i32>(b, 0), 0);
  store<i32>(out, load<i32>(a, 4) + load<i32>(b, 4), 4);
  store<i32>(out, load<i32>(a, 8) + load<i32>(b, 8), 8);
  store<i32>(out, load<i32>(a, 12) + load<i32>(b, 12), 12);
  store<i32>(out, load<i32>(a, 16) + load<i32>(b, 16), 16);
  store<i32>(out, load<i32>(a, 20) + load<i32>(b, 20), 20);
  store<i32>(out, load<i32>(a, 24) + load<i32>(b, 24), 24);
  store<i32>(out, load<i32>(a, 28) + load<i32>(b, 28), 28);
  store<i32>(out, load<i32>(a, 32) + load<i32>(b, 32), 32);
  store<i32>(out, load<i32>(a, 36) + load<i32>(b, 36), 36);
}

/** out = a - b (no carry). */
export function feSub(out: usize, a: usize, b: usize): void {
  store<i32>(out, load<i32>(a, 0) - load<i32>(b, 0), 0);
  store<i32>(out, load<i32>(a, 4) - load<i32>(b, 4), 4);
  store<i32>(out, load<i32>(a, 8) - load<i32>(b, 8), 8);
  store<i32>(out, load<i32>(a, 12) - load<i32>(b, 12), 12);
  store<i32>(out, load<i32>(a, 16) - load<i32>(b, 16), 16);
  store<i32>(out, load<i32>(a, 20) - load<i32>(b, 20), 20);
  store<i32>(out, load<i32>(a, 24) - load<i32>(b, 24), 24);
  store<i32>(out, load<i32>(a, 28) - load<i32>(b, 28), 28);
  store<i32>(out, load<i32>(a, 32) - load<i32>(b, 32), 32);
  store<i32>(out, load<i32>(a, 36) - load<i32>(b, 36), 36);
}

/** out = -a. */
export function feNeg(out: usize, a: usize): void {
  for (let i: usize = 0; i < 40; i += 4) store<i32>(out + i, -load<i32>(a + i));
}

export function feCopy(out: usize, a: usize): void {
  memory.copy(out, a, FE);
}

export function feZero(out: usize): void {
  memory.fill(out, 0, FE);
}

export function feOne(out: usize): void {
  memory.fill(out, 0, FE);
  store<i32>(out, 1);
}

/**
 * Decodes 32 little-endian bytes, ignoring bit 255. Values >= p are accepted unreduced (they are
 * congruent to the right element): ZIP-215 allows non-canonical point encodings.
 */
export function feFromBytes(out: usize, bytes: usize): void {
  memory.copy(BYTES_TMP, bytes, 32);
  store<u64>(BYTES_TMP + 32, 0);
  store<u8>(BYTES_TMP + 31, load<u8>(BYTES_TMP + 31) & 0x7f);
  for (let i = 0; i < 10; i++) {
    const shift = unchecked(LIMB_SHIFT[i]);
    const width: u64 = i & 1 ? 25 : 26;
    const word = load<u64>(BYTES_TMP + (shift >> 3)) >> u64(shift & 7);
    store<i32>(out + (i << 2), i32(word & ((u64(1) << width) - 1)));
  }
}

/** The canonical 32-byte encoding (value reduced mod p). */
export function feToBytes(out: usize, a: usize): void {
  feCarry(T0, a);
  let h0 = i64(load<i32>(T0, 0));
  let h1 = i64(load<i32>(T0, 4));
  let h2 = i64(load<i32>(T0, 8));
  let h3 = i64(load<i32>(T0, 12));
  let h4 = i64(load<i32>(T0, 16));
  let h5 = i64(load<i32>(T0, 20));
  let h6 = i64(load<i32>(T0, 24));
  let h7 = i64(load<i32>(T0, 28));
  let h8 = i64(load<i32>(T0, 32));
  let h9 = i64(load<i32>(T0, 36));
  // q = floor(h / p) in {0, 1} (h is within (-p, 2p) after the carry), computed from the top.
  let q = (19 * h9 + (i64(1) << 24)) >> 25;
  q = (h0 + q) >> 26;
  q = (h1 + q) >> 25;
  q = (h2 + q) >> 26;
  q = (h3 + q) >> 25;
  q = (h4 + q) >> 26;
  q = (h5 + q) >> 25;
  q = (h6 + q) >> 26;
  q = (h7 + q) >> 25;
  q = (h8 + q) >> 26;
  q = (h9 + q) >> 25;
  h0 += 19 * q;
  let c: i64;
  c = h0 >> 26;
  h1 += c;
  h0 -= c << 26;
  c = h1 >> 25;
  h2 += c;
  h1 -= c << 25;
  c = h2 >> 26;
  h3 += c;
  h2 -= c << 26;
  c = h3 >> 25;
  h4 += c;
  h3 -= c << 25;
  c = h4 >> 26;
  h5 += c;
  h4 -= c << 26;
  c = h5 >> 25;
  h6 += c;
  h5 -= c << 25;
  c = h6 >> 26;
  h7 += c;
  h6 -= c << 26;
  c = h7 >> 25;
  h8 += c;
  h7 -= c << 25;
  c = h8 >> 26;
  h9 += c;
  h8 -= c << 26;
  c = h9 >> 25;
  h9 -= c << 25;
  store<i32>(T0, i32(h0), 0);
  store<i32>(T0, i32(h1), 4);
  store<i32>(T0, i32(h2), 8);
  store<i32>(T0, i32(h3), 12);
  store<i32>(T0, i32(h4), 16);
  store<i32>(T0, i32(h5), 20);
  store<i32>(T0, i32(h6), 24);
  store<i32>(T0, i32(h7), 28);
  store<i32>(T0, i32(h8), 32);
  store<i32>(T0, i32(h9), 36);
  memory.fill(BYTES_TMP, 0, 40);
  for (let i = 0; i < 10; i++) {
    const shift = unchecked(LIMB_SHIFT[i]);
    const at = BYTES_TMP + (shift >> 3);
    store<u64>(at, load<u64>(at) | (u64(load<u32>(T0 + (i << 2))) << u64(shift & 7)));
  }
  memory.copy(out, BYTES_TMP, 32);
}

/** True when a == 0 mod p. */
export function feIsZero(a: usize): bool {
  feToBytes(ENC_TMP, a);
  return (load<u64>(ENC_TMP) | load<u64>(ENC_TMP, 8) | load<u64>(ENC_TMP, 16) | load<u64>(ENC_TMP, 24)) === 0;
}

/** The "sign" of a field element: the low bit of its canonical encoding. */
export function feIsNegative(a: usize): bool {
  feToBytes(ENC_TMP, a);
  return (load<u8>(ENC_TMP) & 1) !== 0;
}

/** True when a == b mod p. */
export function feEqual(a: usize, b: usize): bool {
  feSub(T1, a, b);
  return feIsZero(T1);
}

function feSqN(out: usize, a: usize, n: i32): void {
  feSq(out, a);
  for (let i = 1; i < n; i++) feSq(out, out);
}

/** out = a^(2^250 - 1), and T0..: shared prefix of inversion and the square-root power. */
function pow2250m1(out: usize, a: usize, z11: usize): void {
  // z2 = a^2, z9 = a^9, z11 = a^11, then chains of squarings (standard addition chain).
  feSq(T1, a); // 2
  feSqN(T2, T1, 2); // 8
  feMul(T2, a, T2); // 9
  feMul(z11, T1, T2); // 11
  feSq(T1, z11); // 22
  feMul(T2, T2, T1); // 2^5 - 1
  feSqN(T1, T2, 5);
  feMul(T2, T1, T2); // 2^10 - 1
  feSqN(T1, T2, 10);
  feMul(T1, T1, T2); // 2^20 - 1
  feSqN(T3, T1, 20);
  feMul(T1, T3, T1); // 2^40 - 1
  feSqN(T1, T1, 10);
  feMul(T2, T1, T2); // 2^50 - 1
  feSqN(T1, T2, 50);
  feMul(T1, T1, T2); // 2^100 - 1
  feSqN(T3, T1, 100);
  feMul(T1, T3, T1); // 2^200 - 1
  feSqN(T1, T1, 50);
  feMul(out, T1, T2); // 2^250 - 1
}

const Z11 = memory.data(40, 8);
const P250 = memory.data(40, 8);

/** out = a^(p-2) = 1/a (0 maps to 0). */
export function feInvert(out: usize, a: usize): void {
  pow2250m1(P250, a, Z11);
  feSqN(P250, P250, 5); // 2^255 - 2^5
  feMul(out, P250, Z11); // 2^255 - 21 = p - 2
}

/** out = a^((p-5)/8) = a^(2^252 - 3), the core of the square root in point decompression. */
export function fePow22523(out: usize, a: usize): void {
  pow2250m1(P250, a, Z11);
  feSqN(P250, P250, 2); // 2^252 - 4
  feMul(out, P250, a); // 2^252 - 3
}
