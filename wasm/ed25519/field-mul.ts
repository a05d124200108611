// GF(2^255 - 19) arithmetic in radix 2^25.5: ten signed limbs of 26/25 bits, stored as i32 in
// 40 bytes of linear memory (the "ref10" representation). WASM has no 64x64->128 multiply, so the
// 51-bit radix of native code is out; 10 limbs make every limb product fit an i64 with headroom
// for the 19x wrap-around reduction. Limbs may be unreduced (sums of a few reduced values), as
// the ref10 point formulas allow; every mul/sq output is carried back to |limb| < ~2^25.
// mul/sq/sq2 bodies are generated (products f_i*g_j land in limb (i+j) mod 10, doubled when both
// i and j are odd, times 19 when they wrap); do not hand-edit the product lines.

/** Bytes per field element. */
export const FE: usize = 40;

/** out = a * b (out may alias a or b). */
export function feMul(out: usize, a: usize, b: usize): void {
  const f0 = i64(load<i32>(a, 0));
  const f1 = i64(load<i32>(a, 4));
  const f2 = i64(load<i32>(a, 8));
  const f3 = i64(load<i32>(a, 12));
  const f4 = i64(load<i32>(a, 16));
  const f5 = i64(load<i32>(a, 20));
  const f6 = i64(load<i32>(a, 24));
  const f7 = i64(load<i32>(a, 28));
  const f8 = i64(load<i32>(a, 32));
  const f9 = i64(load<i32>(a, 36));
  const g0 = i64(load<i32>(b, 0));
  const g1 = i64(load<i32>(b, 4));
  const g2 = i64(load<i32>(b, 8));
  const g3 = i64(load<i32>(b, 12));
  const g4 = i64(load<i32>(b, 16));
  const g5 = i64(load<i32>(b, 20));
  const g6 = i64(load<i32>(b, 24));
  const g7 = i64(load<i32>(b, 28));
  const g8 = i64(load<i32>(b, 32));
  const g9 = i64(load<i32>(b, 36));
  const g1_19 = g1 * 19;
  const g2_19 = g2 * 19;
  const g3_19 = g3 * 19;
  const g4_19 = g4 * 19;
  const g5_19 = g5 * 19;
  const g6_19 = g6 * 19;
  const g7_19 = g7 * 19;
  const g8_19 = g8 * 19;
  const g9_19 = g9 * 19;
  const f1_2 = f1 << 1;
  const f3_2 = f3 << 1;
  const f5_2 = f5 << 1;
  const f7_2 = f7 << 1;
  const f9_2 = f9 << 1;
  let h0 =
    f0 * g0 +
    f1_2 * g9_19 +
    f2 * g8_19 +
    f3_2 * g7_19 +
    f4 * g6_19 +
    f5_2 * g5_19 +
    f6 * g4_19 +
    f7_2 * g3_19 +
    f8 * g2_19 +
    f9_2 * g1_19;
  let h1 =
    f0 * g1 +
    f1 * g0 +
    f2 * g9_19 +
    f3 * g8_19 +
    f4 * g7_19 +
    f5 * g6_19 +
    f6 * g5_19 +
    f7 * g4_19 +
    f8 * g3_19 +
    f9 * g2_19;
  let h2 =
    f0 * g2 +
    f1_2 * g1 +
    f2 * g0 +
    f3_2 * g9_19 +
    f4 * g8_19 +
    f5_2 * g7_19 +
    f6 * g6_19 +
    f7_2 * g5_19 +
    f8 * g4_19 +
    f9_2 * g3_19;
  let h3 =
    f0 * g3 +
    f1 * g2 +
    f2 * g1 +
    f3 * g0 +
    f4 * g9_19 +
    f5 * g8_19 +
    f6 * g7_19 +
    f7 * g6_19 +
    f8 * g5_19 +
    f9 * g4_19;
  let h4 =
    f0 * g4 +
    f1_2 * g3 +
    f2 * g2 +
    f3_2 * g1 +
    f4 * g0 +
    f5_2 * g9_19 +
    f6 * g8_19 +
    f7_2 * g7_19 +
    f8 * g6_19 +
    f9_2 * g5_19;
  let h5 =
    f0 * g5 +
    f1 * g4 +
    f2 * g3 +
    f3 * g2 +
    f4 * g1 +
    f5 * g0 +
    f6 * g9_19 +
    f7 * g8_19 +
    f8 * g7_19 +
    f9 * g6_19;
  let h6 =
    f0 * g6 +
    f1_2 * g5 +
    f2 * g4 +
    f3_2 * g3 +
    f4 * g2 +
    f5_2 * g1 +
    f6 * g0 +
    f7_2 * g9_19 +
    f8 * g8_19 +
    f9_2 * g7_19;
  let h7 =
    f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
  let h8 =
    f0 * g8 +
    f1_2 * g7 +
    f2 * g6 +
    f3_2 * g5 +
    f4 * g4 +
    f5_2 * g3 +
    f6 * g2 +
    f7_2 * g1 +
    f8 * g0 +
    f9_2 * g9_19;
  let h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
  let c: i64;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25;
  h2 += c;
  h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25;
  h6 += c;
  h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26;
  h3 += c;
  h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26;
  h7 += c;
  h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25;
  h4 += c;
  h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25;
  h8 += c;
  h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26;
  h9 += c;
  h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25;
  h0 += c * 19;
  h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  store<i32>(out, i32(h0), 0);
  store<i32>(out, i32(h1), 4);
  store<i32>(out, i32(h2), 8);
  store<i32>(out, i32(h3), 12);
  store<i32>(out, i32(h4), 16);
  store<i32>(out, i32(h5), 20);
  store<i32>(out, i32(h6), 24);
  store<i32>(out, i32(h7), 28);
  store<i32>(out, i32(h8), 32);
  store<i32>(out, i32(h9), 36);
}

/** out = a^2. */
export function feSq(out: usize, a: usize): void {
  const f0 = i64(load<i32>(a, 0));
  const f1 = i64(load<i32>(a, 4));
  const f2 = i64(load<i32>(a, 8));
  const f3 = i64(load<i32>(a, 12));
  const f4 = i64(load<i32>(a, 16));
  const f5 = i64(load<i32>(a, 20));
  const f6 = i64(load<i32>(a, 24));
  const f7 = i64(load<i32>(a, 28));
  const f8 = i64(load<i32>(a, 32));
  const f9 = i64(load<i32>(a, 36));
  const f5_19 = f5 * 19;
  const f6_19 = f6 * 19;
  const f7_19 = f7 * 19;
  const f8_19 = f8 * 19;
  const f9_19 = f9 * 19;
  let h0 =
    f0 * f0 +
    ((f1 * f9_19) << 2) +
    ((f2 * f8_19) << 1) +
    ((f3 * f7_19) << 2) +
    ((f4 * f6_19) << 1) +
    ((f5 * f5_19) << 1);
  let h1 =
    ((f0 * f1) << 1) + ((f2 * f9_19) << 1) + ((f3 * f8_19) << 1) + ((f4 * f7_19) << 1) + ((f5 * f6_19) << 1);
  let h2 =
    ((f0 * f2) << 1) +
    ((f1 * f1) << 1) +
    ((f3 * f9_19) << 2) +
    ((f4 * f8_19) << 1) +
    ((f5 * f7_19) << 2) +
    f6 * f6_19;
  let h3 =
    ((f0 * f3) << 1) + ((f1 * f2) << 1) + ((f4 * f9_19) << 1) + ((f5 * f8_19) << 1) + ((f6 * f7_19) << 1);
  let h4 =
    ((f0 * f4) << 1) +
    ((f1 * f3) << 2) +
    f2 * f2 +
    ((f5 * f9_19) << 2) +
    ((f6 * f8_19) << 1) +
    ((f7 * f7_19) << 1);
  let h5 = ((f0 * f5) << 1) + ((f1 * f4) << 1) + ((f2 * f3) << 1) + ((f6 * f9_19) << 1) + ((f7 * f8_19) << 1);
  let h6 =
    ((f0 * f6) << 1) +
    ((f1 * f5) << 2) +
    ((f2 * f4) << 1) +
    ((f3 * f3) << 1) +
    ((f7 * f9_19) << 2) +
    f8 * f8_19;
  let h7 = ((f0 * f7) << 1) + ((f1 * f6) << 1) + ((f2 * f5) << 1) + ((f3 * f4) << 1) + ((f8 * f9_19) << 1);
  let h8 =
    ((f0 * f8) << 1) + ((f1 * f7) << 2) + ((f2 * f6) << 1) + ((f3 * f5) << 2) + f4 * f4 + ((f9 * f9_19) << 1);
  let h9 = ((f0 * f9) << 1) + ((f1 * f8) << 1) + ((f2 * f7) << 1) + ((f3 * f6) << 1) + ((f4 * f5) << 1);
  let c: i64;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25;
  h2 += c;
  h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25;
  h6 += c;
  h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26;
  h3 += c;
  h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26;
  h7 += c;
  h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25;
  h4 += c;
  h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25;
  h8 += c;
  h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26;
  h9 += c;
  h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25;
  h0 += c * 19;
  h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  store<i32>(out, i32(h0), 0);
  store<i32>(out, i32(h1), 4);
  store<i32>(out, i32(h2), 8);
  store<i32>(out, i32(h3), 12);
  store<i32>(out, i32(h4), 16);
  store<i32>(out, i32(h5), 20);
  store<i32>(out, i32(h6), 24);
  store<i32>(out, i32(h7), 28);
  store<i32>(out, i32(h8), 32);
  store<i32>(out, i32(h9), 36);
}

/** out = 2 * a^2 (used by point doubling). */
export function feSq2(out: usize, a: usize): void {
  const f0 = i64(load<i32>(a, 0));
  const f1 = i64(load<i32>(a, 4));
  const f2 = i64(load<i32>(a, 8));
  const f3 = i64(load<i32>(a, 12));
  const f4 = i64(load<i32>(a, 16));
  const f5 = i64(load<i32>(a, 20));
  const f6 = i64(load<i32>(a, 24));
  const f7 = i64(load<i32>(a, 28));
  const f8 = i64(load<i32>(a, 32));
  const f9 = i64(load<i32>(a, 36));
  const f5_19 = f5 * 19;
  const f6_19 = f6 * 19;
  const f7_19 = f7 * 19;
  const f8_19 = f8 * 19;
  const f9_19 = f9 * 19;
  let h0 =
    (f0 * f0 +
      ((f1 * f9_19) << 2) +
      ((f2 * f8_19) << 1) +
      ((f3 * f7_19) << 2) +
      ((f4 * f6_19) << 1) +
      ((f5 * f5_19) << 1)) <<
    1;
  let h1 =
    (((f0 * f1) << 1) +
      ((f2 * f9_19) << 1) +
      ((f3 * f8_19) << 1) +
      ((f4 * f7_19) << 1) +
      ((f5 * f6_19) << 1)) <<
    1;
  let h2 =
    (((f0 * f2) << 1) +
      ((f1 * f1) << 1) +
      ((f3 * f9_19) << 2) +
      ((f4 * f8_19) << 1) +
      ((f5 * f7_19) << 2) +
      f6 * f6_19) <<
    1;
  let h3 =
    (((f0 * f3) << 1) + ((f1 * f2) << 1) + ((f4 * f9_19) << 1) + ((f5 * f8_19) << 1) + ((f6 * f7_19) << 1)) <<
    1;
  let h4 =
    (((f0 * f4) << 1) +
      ((f1 * f3) << 2) +
      f2 * f2 +
      ((f5 * f9_19) << 2) +
      ((f6 * f8_19) << 1) +
      ((f7 * f7_19) << 1)) <<
    1;
  let h5 =
    (((f0 * f5) << 1) + ((f1 * f4) << 1) + ((f2 * f3) << 1) + ((f6 * f9_19) << 1) + ((f7 * f8_19) << 1)) << 1;
  let h6 =
    (((f0 * f6) << 1) +
      ((f1 * f5) << 2) +
      ((f2 * f4) << 1) +
      ((f3 * f3) << 1) +
      ((f7 * f9_19) << 2) +
      f8 * f8_19) <<
    1;
  let h7 =
    (((f0 * f7) << 1) + ((f1 * f6) << 1) + ((f2 * f5) << 1) + ((f3 * f4) << 1) + ((f8 * f9_19) << 1)) << 1;
  let h8 =
    (((f0 * f8) << 1) +
      ((f1 * f7) << 2) +
      ((f2 * f6) << 1) +
      ((f3 * f5) << 2) +
      f4 * f4 +
      ((f9 * f9_19) << 1)) <<
    1;
  let h9 =
    (((f0 * f9) << 1) + ((f1 * f8) << 1) + ((f2 * f7) << 1) + ((f3 * f6) << 1) + ((f4 * f5) << 1)) << 1;
  let c: i64;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25;
  h2 += c;
  h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25;
  h6 += c;
  h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26;
  h3 += c;
  h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26;
  h7 += c;
  h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25;
  h4 += c;
  h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25;
  h8 += c;
  h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26;
  h9 += c;
  h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25;
  h0 += c * 19;
  h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  store<i32>(out, i32(h0), 0);
  store<i32>(out, i32(h1), 4);
  store<i32>(out, i32(h2), 8);
  store<i32>(out, i32(h3), 12);
  store<i32>(out, i32(h4), 16);
  store<i32>(out, i32(h5), 20);
  store<i32>(out, i32(h6), 24);
  store<i32>(out, i32(h7), 28);
  store<i32>(out, i32(h8), 32);
  store<i32>(out, i32(h9), 36);
}

/** Brings unreduced limbs (after several additions) back to |limb| < ~2^25. */
export function feCarry(out: usize, a: usize): void {
  let h0 = i64(load<i32>(a, 0));
  let h1 = i64(load<i32>(a, 4));
  let h2 = i64(load<i32>(a, 8));
  let h3 = i64(load<i32>(a, 12));
  let h4 = i64(load<i32>(a, 16));
  let h5 = i64(load<i32>(a, 20));
  let h6 = i64(load<i32>(a, 24));
  let h7 = i64(load<i32>(a, 28));
  let h8 = i64(load<i32>(a, 32));
  let h9 = i64(load<i32>(a, 36));
  let c: i64;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25;
  h2 += c;
  h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25;
  h6 += c;
  h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26;
  h3 += c;
  h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26;
  h7 += c;
  h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25;
  h4 += c;
  h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25;
  h8 += c;
  h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26;
  h5 += c;
  h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26;
  h9 += c;
  h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25;
  h0 += c * 19;
  h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26;
  h1 += c;
  h0 -= c << 26;
  store<i32>(out, i32(h0), 0);
  store<i32>(out, i32(h1), 4);
  store<i32>(out, i32(h2), 8);
  store<i32>(out, i32(h3), 12);
  store<i32>(out, i32(h4), 16);
  store<i32>(out, i32(h5), 20);
  store<i32>(out, i32(h6), 24);
  store<i32>(out, i32(h7), 28);
  store<i32>(out, i32(h8), 32);
  store<i32>(out, i32(h9), 36);
}
