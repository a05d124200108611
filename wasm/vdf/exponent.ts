// Fixed-window (4-bit) modular exponentiation in Montgomery form, for the verifier's two 256-bit
// exponents and for tests. The exponent is little-endian bytes in linear memory.

import { ELEM_BYTES, oneMont } from './layout';
import { montMulKernel, montSquareKernel } from './montgomery';

const WINDOW: i32 = 4;
/** base^0 … base^15. */
const table: usize = memory.data(ELEM_BYTES * 16, 16);
const accum: usize = memory.data(ELEM_BYTES, 16);

/** out = base^exp (Montgomery form in and out, < 2N); exp is `expBytes` little-endian bytes. */
export function vdfPow(out: usize, base: usize, exp: usize, expBytes: u32): void {
  memory.copy(table, oneMont, ELEM_BYTES);
  memory.copy(table + ELEM_BYTES, base, ELEM_BYTES);
  for (let k = 2; k < 16; k++) {
    const slot = table + <usize>(k * ELEM_BYTES);
    montMulKernel(slot, slot - ELEM_BYTES, base);
  }
  memory.copy(accum, oneMont, ELEM_BYTES);
  let started = false;
  for (let byte = <i32>expBytes - 1; byte >= 0; byte--) {
    const v = <i32>load<u8>(exp + <usize>byte);
    for (let half = 1; half >= 0; half--) {
      const nibble = (v >> (half * WINDOW)) & 15;
      if (started) for (let s = 0; s < WINDOW; s++) montSquareKernel(accum, accum);
      if (nibble !== 0) {
        montMulKernel(accum, accum, table + <usize>(nibble * ELEM_BYTES));
        started = true;
      }
    }
  }
  memory.copy(out, accum, ELEM_BYTES);
}

/** b1^i · b2^j for i, j < 4, at index 4i + j. */
const jointTable: usize = memory.data(ELEM_BYTES * 16, 16);

/**
 * out = b1^e1 · b2^e2 (Montgomery form, < 2N) by Shamir's trick with a joint 2-bit window: one
 * shared chain of squarings instead of two, which is what makes verification π^ℓ · x^r cheap.
 * Both exponents are `expBytes` little-endian bytes.
 */
export function vdfPow2(out: usize, b1: usize, e1: usize, b2: usize, e2: usize, expBytes: u32): void {
  memory.copy(jointTable, oneMont, ELEM_BYTES);
  memory.copy(jointTable + ELEM_BYTES, b2, ELEM_BYTES);
  for (let j = 2; j < 4; j++) {
    const slot = jointTable + <usize>(j * ELEM_BYTES);
    montMulKernel(slot, slot - ELEM_BYTES, b2);
  }
  for (let i = 1; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const slot = jointTable + <usize>((4 * i + j) * ELEM_BYTES);
      montMulKernel(slot, slot - <usize>(4 * ELEM_BYTES), b1);
    }
  }
  memory.copy(accum, oneMont, ELEM_BYTES);
  let started = false;
  for (let byte = <i32>expBytes - 1; byte >= 0; byte--) {
    const v1 = <i32>load<u8>(e1 + <usize>byte);
    const v2 = <i32>load<u8>(e2 + <usize>byte);
    for (let q = 3; q >= 0; q--) {
      const d = (((v1 >> (2 * q)) & 3) << 2) | ((v2 >> (2 * q)) & 3);
      if (started) {
        montSquareKernel(accum, accum);
        montSquareKernel(accum, accum);
      }
      if (d !== 0) {
        montMulKernel(accum, accum, jointTable + <usize>(d * ELEM_BYTES));
        started = true;
      }
    }
  }
  memory.copy(out, accum, ELEM_BYTES);
}
