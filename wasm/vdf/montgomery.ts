// Montgomery multiplication over 74 × 28-bit limbs with R = 2^2072 (see layout.ts). Inputs below 2N
// give an output below 2N because 4N ≤ R: (a·b + m·N)/R < 4N²/R + N ≤ 2N. So the squaring loop
// never needs a final subtraction; only the conversion out of Montgomery form reduces fully.
//
// The product and the reduction are interleaved row by row (operand scanning), two rows per step:
// the scalar prologue finds the two reduction multipliers m_i, m_{i+1}; then one SIMD pass adds
// a_i·b + m_i·N + a_{i+1}·b·2^28 + m_{i+1}·N·2^28 into the u64 accumulator row, four columns per
// iteration, with `i64x2.extmul_{low,high}_i32x4_u` on splatted multipliers. Each accumulator
// column is loaded and stored once per two rows, and carries are resolved once per row.

import { getN0inv, LIMB_BITS, LIMB_MASK, LIMBS, modulusPadded } from './layout';

/** u64 accumulator: 2·74 columns plus room for the last vector chunk's overrun. */
const acc: usize = memory.data(8 * 168, 16);
/** b, padded like the modulus (slot 0 zero) so `b[j − 1]` is an unaligned load. */
const bPadded: usize = memory.data(4 * 96, 16);

/**
 * The product's upper half (columns 74 … 147 of the accumulator) carried into 28-bit limbs of
 * `out`; it fits: out < 2N < 2^2072. Shared by both kernels (small, two callers: binaryen's
 * -O3 inliner folds it back into each).
 */
function normalizeUpperHalf(out: usize): void {
  let carry: u64 = 0;
  for (let j = 0; j < LIMBS; j++) {
    const v = load<u64>(acc + ((<usize>(LIMBS + j)) << 3)) + carry;
    store<u32>(out + ((<usize>j) << 2), <u32>v & LIMB_MASK);
    carry = v >> LIMB_BITS;
  }
  store<u64>(out + ((<usize>LIMBS) << 2), 0);
}

/**
 * out = a·b·R⁻¹ mod N, with a, b < 2N and out < 2N (not fully reduced); out may alias a or b.
 * One separate function, called from several places, so binaryen keeps it out of line (no
 * `@noinline` here: biome cannot parse function decorators) and V8 tiers this one body up inside
 * a long squaring call.
 */
export function montMulKernel(out: usize, a: usize, b: usize): void {
  const n0inv = getN0inv();
  memory.fill(acc, 0, 8 * 168);
  memory.fill(bPadded, 0, 4 * 96);
  memory.copy(bPadded + 4, b, LIMBS * 4);
  const np = modulusPadded;
  const b0 = <u64>load<u32>(b);
  const b1 = <u64>load<u32>(b, 4);
  const n0 = <u64>load<u32>(np, 4);
  const n1 = <u64>load<u32>(np, 8);
  for (let i = 0; i < LIMBS; i += 2) {
    const ai = <u64>load<u32>(a + ((<usize>i) << 2));
    const ai1 = <u64>load<u32>(a + ((<usize>i) << 2), 4);
    const ti = acc + ((<usize>i) << 3);
    // Column i: fix m_i so the column becomes a multiple of 2^28, and carry it.
    let c0 = load<u64>(ti) + ai * b0;
    const mi = <u64>((<u32>c0 * n0inv) & LIMB_MASK);
    c0 += mi * n0;
    // Column i + 1: row i's second limb, row i+1's first limb, the carry; then m_{i+1}.
    let c1 = load<u64>(ti, 8) + ai * b1 + mi * n1 + ai1 * b0 + (c0 >> LIMB_BITS);
    const mi1 = <u64>((<u32>c1 * n0inv) & LIMB_MASK);
    c1 += mi1 * n0;
    store<u64>(ti, load<u64>(ti, 16) + (c1 >> LIMB_BITS), 16);
    // Columns i + 2 … i + 77 (the top ones get zero limbs): four columns per iteration.
    const vA = i32x4.splat(<i32>ai);
    const vM = i32x4.splat(<i32>mi);
    const vA1 = i32x4.splat(<i32>ai1);
    const vM1 = i32x4.splat(<i32>mi1);
    for (let j = 2; j < LIMBS + 2; j += 4) {
      const tp = ti + ((<usize>j) << 3);
      const bj = v128.load(bPadded + ((<usize>(j + 1)) << 2));
      const bjm = v128.load(bPadded + ((<usize>j) << 2));
      const nj = v128.load(np + ((<usize>(j + 1)) << 2));
      const njm = v128.load(np + ((<usize>j) << 2));
      let lo = v128.load(tp);
      let hi = v128.load(tp, 16);
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA, bj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA, bj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM, nj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM, nj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA1, bjm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA1, bjm));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM1, njm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM1, njm));
      v128.store(tp, lo);
      v128.store(tp, hi, 16);
    }
  }
  normalizeUpperHalf(out);
}

/**
 * The doubled limbs 2·a_j (< 2^29), revealed two per step, padded like bPadded (slot 0 is zero,
 * e_j lives in slot j + 1). Slots not yet revealed are zero, so a row that reads past the prefix
 * multiplies by zero.
 */
const doubled: usize = memory.data(4 * 96, 16);

/**
 * out = a²·R⁻¹ mod N (a < 2N, out < 2N), fused: the same two-rows-per-step pass as
 * montMulKernel, but the "b" operand is the prefix e_0 … e_(i+1) of 2·a, so row i contributes
 * Σ_{j ≤ i+1} 2·a_i·a_j — the lower triangle of a² — and only for the first ⌈(i+2)/4⌉ column
 * chunks; the remaining chunks carry the reduction alone. That needs 1,480 instead of 2,738 vector
 * multiplies for the product half, and each accumulator column is loaded and stored once per two
 * rows for both halves. The triangle overcounts three terms per step, subtracted first:
 * a_i² at column 2i, 2·a_i·a_(i+1) at 2i + 1 and a_(i+1)² at 2i + 2. Columns are u64 and only
 * shifted once complete, so the wrap-around of an early subtraction is exact (ring arithmetic);
 * complete columns hold ≤ 38 products < 2^57 from the square plus ≤ 74 < 2^56 from the reduction.
 */
export function montSquareKernel(out: usize, a: usize): void {
  const n0inv = getN0inv();
  memory.fill(acc, 0, 8 * 168);
  memory.fill(doubled, 0, 4 * 96);
  const np = modulusPadded;
  const n0 = <u64>load<u32>(np, 4);
  const n1 = <u64>load<u32>(np, 8);
  for (let i = 0; i < LIMBS; i += 2) {
    const ai = <u64>load<u32>(a + ((<usize>i) << 2));
    const ai1 = <u64>load<u32>(a + ((<usize>i) << 2), 4);
    store<u32>(doubled + ((<usize>(i + 1)) << 2), (<u32>ai) << 1);
    store<u32>(doubled + ((<usize>(i + 2)) << 2), (<u32>ai1) << 1);
    const t2i = acc + ((<usize>(2 * i)) << 3);
    store<u64>(t2i, load<u64>(t2i) - ai * ai);
    store<u64>(t2i, load<u64>(t2i, 8) - ((ai * ai1) << 1), 8);
    store<u64>(t2i, load<u64>(t2i, 16) - ai1 * ai1, 16);
    const b0 = <u64>load<u32>(doubled, 4);
    const b1 = <u64>load<u32>(doubled, 8);
    const ti = acc + ((<usize>i) << 3);
    let c0 = load<u64>(ti) + ai * b0;
    const mi = <u64>((<u32>c0 * n0inv) & LIMB_MASK);
    c0 += mi * n0;
    let c1 = load<u64>(ti, 8) + ai * b1 + mi * n1 + ai1 * b0 + (c0 >> LIMB_BITS);
    const mi1 = <u64>((<u32>c1 * n0inv) & LIMB_MASK);
    c1 += mi1 * n0;
    store<u64>(ti, load<u64>(ti, 16) + (c1 >> LIMB_BITS), 16);
    const vA = i32x4.splat(<i32>ai);
    const vM = i32x4.splat(<i32>mi);
    const vA1 = i32x4.splat(<i32>ai1);
    const vM1 = i32x4.splat(<i32>mi1);
    let j = 2;
    // Chunks that still meet the revealed prefix: square and reduction terms.
    for (; j <= i + 2; j += 4) {
      const tp = ti + ((<usize>j) << 3);
      const bj = v128.load(doubled + ((<usize>(j + 1)) << 2));
      const bjm = v128.load(doubled + ((<usize>j) << 2));
      const nj = v128.load(np + ((<usize>(j + 1)) << 2));
      const njm = v128.load(np + ((<usize>j) << 2));
      let lo = v128.load(tp);
      let hi = v128.load(tp, 16);
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA, bj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA, bj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM, nj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM, nj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA1, bjm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA1, bjm));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM1, njm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM1, njm));
      v128.store(tp, lo);
      v128.store(tp, hi, 16);
    }
    // The rest: reduction only.
    for (; j < LIMBS + 2; j += 4) {
      const tp = ti + ((<usize>j) << 3);
      const nj = v128.load(np + ((<usize>(j + 1)) << 2));
      const njm = v128.load(np + ((<usize>j) << 2));
      let lo = v128.load(tp);
      let hi = v128.load(tp, 16);
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM, nj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM, nj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vM1, njm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vM1, njm));
      v128.store(tp, lo);
      v128.store(tp, hi, 16);
    }
  }
  normalizeUpperHalf(out);
}

/**
 * Squares the element at `ptr` (Montgomery form, < 2N) `count` times in place: the sequential
 * VDF loop. JS calls it in chunks between checkpoints.
 */
export function vdfSquarings(ptr: usize, count: u32): void {
  for (let k: u32 = 0; k < count; k++) montSquareKernel(ptr, ptr);
}

/** out = a·b·R⁻¹ mod N (all Montgomery form, < 2N). */
export function vdfMontMul(out: usize, a: usize, b: usize): void {
  montMulKernel(out, a, b);
}
