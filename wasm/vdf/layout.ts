// Shared layout of the VDF kernel: 2048-bit numbers as 74 little-endian limbs of 28 bits, each limb
// in a u32 slot. 28-bit limbs leave 8 bits of headroom in a u64 so a whole column of 148 products
// (74 from the multiplication, 74 from the reduction) accumulates without a carry per product.

/** Limbs in use: 74 × 28 = 2072 bits, so R = 2^2072 ≥ 4N for any N < 2^2049 / 4. */
export const LIMBS: i32 = 74;
export const LIMB_BITS: u32 = 28;
export const LIMB_MASK: u32 = (1 << LIMB_BITS) - 1;
/**
 * u32 slots per element as JS sees it (limbs 74 and 75 are always zero), so vector loops that read
 * four limbs at a time never need a tail case.
 */
export const ELEM_SLOTS: i32 = 76;
export const ELEM_BYTES: i32 = ELEM_SLOTS * 4;

/** The modulus, padded: slot 0 is zero so `N[j − 1]` is a plain unaligned load at j = 0. */
export const modulusPadded: usize = memory.data(4 * 96, 16);
/** Montgomery form of 1 (R mod N), set with the modulus. */
export const oneMont: usize = memory.data(ELEM_BYTES, 16);
/** −N⁻¹ mod 2^28. */
let n0inv: u32 = 0;

export function getN0inv(): u32 {
  return n0inv;
}

/**
 * Installs the modulus (74 limbs at `nPtr`), −N⁻¹ mod 2^28 and R mod N (74 limbs at `onePtr`). The
 * caller (src/vdf/wasm-vdf.ts) computes both constants with BigInt and checks 4N ≤ R.
 */
export function vdfSetModulus(nPtr: usize, negInv: u32, onePtr: usize): void {
  memory.fill(modulusPadded, 0, 4 * 96);
  memory.copy(modulusPadded + 4, nPtr, LIMBS * 4);
  memory.fill(oneMont, 0, ELEM_BYTES);
  memory.copy(oneMont, onePtr, LIMBS * 4);
  n0inv = negInv;
}

/** Permanent scratch (16-aligned) for the JS wrapper's element slots; never freed (stub runtime). */
export function vdfAlloc(bytes: usize): usize {
  return (heap.alloc(bytes + 16) + 15) & ~(<usize>15);
}
