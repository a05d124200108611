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
  // The result is columns 74 … 147: normalize to 28-bit limbs (it fits: out < 2N < 2^2072).
  let carry: u64 = 0;
  for (let j = 0; j < LIMBS; j++) {
    const v = load<u64>(acc + ((<usize>(LIMBS + j)) << 3)) + carry;
    store<u32>(out + ((<usize>j) << 2), <u32>v & LIMB_MASK);
    carry = v >> LIMB_BITS;
  }
  store<u64>(out + ((<usize>LIMBS) << 2), 0);
}

/** 2·a, padded with zero slots so row loops may read past limb 73. Only slots 0 … 73 are written. */
const doubled: usize = memory.data(4 * 96, 16);

/**
 * out = a²·R⁻¹ mod N (a < 2N, out < 2N). Squaring needs only the 2701 products a_i·a_j with i < j
 * (doubled) plus 74 squares, against 5476 for a general product: phase 1 accumulates them row by
 * row, two rows per step, and phase 2 is the same two-rows-per-step reduction as montMulKernel.
 * Column bounds: ≤ 37 products < 2^57 plus one < 2^56 from phase 1 and ≤ 74 < 2^56 from phase 2,
 * so every u64 column stays below 2^64.
 */
export function montSquareKernel(out: usize, a: usize): void {
  const n0inv = getN0inv();
  memory.fill(acc, 0, 8 * 168);
  for (let j = 0; j < LIMBS; j++)
    store<u32>(doubled + ((<usize>j) << 2), load<u32>(a + ((<usize>j) << 2)) << 1);
  // Phase 1: t = a².
  for (let i = 0; i < LIMBS; i += 2) {
    const ai = <u64>load<u32>(a + ((<usize>i) << 2));
    const ai1 = <u64>load<u32>(a + ((<usize>i) << 2), 4);
    const dp = doubled + ((<usize>i) << 2);
    const d1 = <u64>load<u32>(dp, 4);
    const d2 = <u64>load<u32>(dp, 8);
    const d3 = <u64>load<u32>(dp, 12);
    const d4 = <u64>load<u32>(dp, 16);
    const t2i = acc + ((<usize>(2 * i)) << 3);
    store<u64>(t2i, load<u64>(t2i) + ai * ai);
    store<u64>(t2i, load<u64>(t2i, 8) + ai * d1, 8);
    store<u64>(t2i, load<u64>(t2i, 16) + ai * d2 + ai1 * ai1, 16);
    store<u64>(t2i, load<u64>(t2i, 24) + ai * d3 + ai1 * d2, 24);
    store<u64>(t2i, load<u64>(t2i, 32) + ai * d4 + ai1 * d3, 32);
    const vA = i32x4.splat(<i32>ai);
    const vA1 = i32x4.splat(<i32>ai1);
    // Columns k = 2i+5 … i+73: row i takes d[k − i], row i+1 takes d[k − i − 1].
    for (let k = 2 * i + 5; k <= i + LIMBS; k += 4) {
      const tp = acc + ((<usize>k) << 3);
      const dj = v128.load(doubled + ((<usize>(k - i)) << 2));
      const djm = v128.load(doubled + ((<usize>(k - i - 1)) << 2));
      let lo = v128.load(tp);
      let hi = v128.load(tp, 16);
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA, dj));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA, dj));
      lo = i64x2.add(lo, i64x2.extmul_low_i32x4_u(vA1, djm));
      hi = i64x2.add(hi, i64x2.extmul_high_i32x4_u(vA1, djm));
      v128.store(tp, lo);
      v128.store(tp, hi, 16);
    }
  }
  // Phase 2: add m·N so the low 74 columns vanish, two multipliers per step.
  const np = modulusPadded;
  const n0 = <u64>load<u32>(np, 4);
  const n1 = <u64>load<u32>(np, 8);
  for (let i = 0; i < LIMBS; i += 2) {
    const ti = acc + ((<usize>i) << 3);
    let c0 = load<u64>(ti);
    const mi = <u64>((<u32>c0 * n0inv) & LIMB_MASK);
    c0 += mi * n0;
    let c1 = load<u64>(ti, 8) + mi * n1 + (c0 >> LIMB_BITS);
    const mi1 = <u64>((<u32>c1 * n0inv) & LIMB_MASK);
    c1 += mi1 * n0;
    store<u64>(ti, load<u64>(ti, 16) + (c1 >> LIMB_BITS), 16);
    const vM = i32x4.splat(<i32>mi);
    const vM1 = i32x4.splat(<i32>mi1);
    for (let j = 2; j < LIMBS + 2; j += 4) {
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
  let carry: u64 = 0;
  for (let j = 0; j < LIMBS; j++) {
    const v = load<u64>(acc + ((<usize>(LIMBS + j)) << 3)) + carry;
    store<u32>(out + ((<usize>j) << 2), <u32>v & LIMB_MASK);
    carry = v >> LIMB_BITS;
  }
  store<u64>(out + ((<usize>LIMBS) << 2), 0);
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
