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
