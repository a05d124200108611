// Arithmetic modulo the group order L = 2^252 + delta (delta ~ 2^124.4), on 21-bit limbs in i64s
// so products and sums never overflow. Reduction folds every limb above bit 252 down with
// 2^252 = -delta (mod L). Scalars are public in verification, so none of this is constant time.

/** L in little-endian bytes. */
const L_BYTES = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);
/** delta = L - 2^252 in base 2^21. */
const DELTA: StaticArray<i64> = [1430509, 1626855, 1442968, 997804, 1960495, 683900];

const MASK21: i64 = (1 << 21) - 1;
const LIMBS = memory.data(8 * 32, 8); // working limbs of the value being reduced
const BLIMBS = memory.data(8 * 16, 8);
const ALIMBS = memory.data(8 * 16, 8);
const PROD = memory.data(8 * 26, 8);
const PAD = memory.data(80, 8); // byte staging, padded for 8-byte loads

/** True when the 32-byte little-endian value is < L (ZIP-215 and RFC 8032 require S < L). */
export function scIsCanonical(s: usize): bool {
  for (let i = 31; i >= 0; i--) {
    const a = load<u8>(s + i);
    const b = load<u8>(L_BYTES + i);
    if (a !== b) return a < b;
  }
  return false;
}

/** Splits `nbytes` little-endian bytes into `n` 21-bit limbs at `dst`. */
function toLimbs(dst: usize, src: usize, nbytes: i32, n: i32): void {
  memory.fill(PAD, 0, 80);
  memory.copy(PAD, src, nbytes);
  for (let i = 0; i < n; i++) {
    const bit = 21 * i;
    store<i64>(dst + (i << 3), i64(load<u64>(PAD + (bit >> 3)) >> u64(bit & 7)) & MASK21);
  }
}

/** Carries limbs from..n-2 into [0, 2^21) (floor division), leaving the excess in limb n-1. */
function carry(s: usize, n: i32, from: i32 = 0): void {
  for (let i = from; i < n - 1; i++) {
    const p = s + (i << 3);
    const v = load<i64>(p);
    const c = v >> 21;
    store<i64>(p, v - (c << 21));
    store<i64>(p + 8, load<i64>(p + 8) + c);
  }
}

/** s[at..at+5] -= c * delta: adds c * 2^(21 at) * 2^252 (mod L) to the value. */
function foldInto(s: usize, at: i32, c: i64): void {
  for (let j = 0; j < 6; j++) {
    const p = s + ((at + j) << 3);
    store<i64>(p, load<i64>(p) - c * unchecked(DELTA[j]));
  }
}

/** Reduces the n-limb value at LIMBS (n <= 32) mod L and writes 32 canonical bytes to out. */
function reduce(out: usize, n: i32): void {
  carry(LIMBS, n);
  // Limbs below i - 12 are already in range and a fold never touches them: carry from there only.
  let highest = n - 1;
  while (highest >= 12 && load<i64>(LIMBS + (highest << 3)) === 0) highest--;
  for (let i = highest; i >= 12; i--) {
    const p = LIMBS + (i << 3);
    const c = load<i64>(p);
    store<i64>(p, 0);
    foldInto(LIMBS, i - 12, c);
    carry(LIMBS, i, i - 12);
  }
  // Now value = sum(s[0..11]) with s[0..10] in [0, 2^21) and s[11] unbounded; fold the excess above
  // bit 252 until it is 0 or 1 (the value is then in [0, 2^253)).
  let top: i64;
  for (;;) {
    carry(LIMBS, 12);
    const p = LIMBS + 88;
    const v = load<i64>(p);
    top = v >> 21;
    store<i64>(p, v - (top << 21));
    if (top === 0 || top === 1) break;
    foldInto(LIMBS, 0, top);
  }
  if (top === 1) {
    // value = 2^252 + rest; it is >= L exactly when rest >= delta, and then value - L = rest - delta.
    memory.copy(BLIMBS, LIMBS, 96);
    foldInto(BLIMBS, 0, 1);
    carry(BLIMBS, 12);
    const hi = load<i64>(BLIMBS + 88);
    if (hi >> 21 >= 0) {
      memory.copy(LIMBS, BLIMBS, 96);
      top = 0;
    }
  }
  memory.fill(PAD, 0, 40);
  for (let i = 0; i < 12; i++) {
    const bit = 21 * i;
    const at = PAD + (bit >> 3);
    store<u64>(at, load<u64>(at) | (u64(load<i64>(LIMBS + (i << 3))) << u64(bit & 7)));
  }
  if (top === 1) store<u8>(PAD + 31, load<u8>(PAD + 31) | 0x10);
  memory.copy(out, PAD, 32);
}

/** out = (64-byte little-endian value) mod L: the challenge k = SHA-512(R || A || M) mod L. */
export function scReduce64(out: usize, src: usize): void {
  toLimbs(LIMBS, src, 64, 25);
  reduce(out, 25);
}

/** out = (a * b + c) mod L for 32-byte a, b, c (any values below 2^256). */
export function scMulAdd(out: usize, a: usize, b: usize, c: usize): void {
  toLimbs(BLIMBS, b, 32, 13);
  toLimbs(ALIMBS, a, 32, 13);
  const prod = PROD;
  memory.fill(prod, 0, 8 * 26);
  for (let i = 0; i < 13; i++) {
    const ai = load<i64>(ALIMBS + (i << 3));
    if (ai === 0) continue;
    for (let j = 0; j < 13; j++) {
      const p = prod + ((i + j) << 3);
      store<i64>(p, load<i64>(p) + ai * load<i64>(BLIMBS + (j << 3)));
    }
  }
  toLimbs(BLIMBS, c, 32, 13);
  for (let j = 0; j < 13; j++) {
    const p = prod + (j << 3);
    store<i64>(p, load<i64>(p) + load<i64>(BLIMBS + (j << 3)));
  }
  memory.copy(LIMBS, prod, 8 * 26);
  reduce(out, 26);
}

/**
 * Signed sliding-window digits of a 32-byte scalar (< 2^253): out[i] is 0 or an odd value with
 * |out[i]| <= 2^(w-1) - 1, and the scalar = sum(out[i] 2^i). Non-zero digits are at least w
 * positions apart, so a 253-bit scalar costs about 253 / (w + 1) additions.
 */
export function scSlide(out: usize, s: usize, w: i32): void {
  const limit: i32 = (1 << (w - 1)) - 1;
  for (let i = 0; i < 256; i++) store<i8>(out + i, i8((load<u8>(s + (i >> 3)) >> u8(i & 7)) & 1));
  for (let i = 0; i < 256; i++) {
    let ri: i32 = load<i8>(out + i);
    if (ri === 0) continue;
    for (let b = 1; b <= w + 1 && i + b < 256; b++) {
      const rb: i32 = load<i8>(out + i + b);
      if (rb === 0) continue;
      if (ri + (rb << b) <= limit) {
        ri += rb << b;
        store<i8>(out + i + b, 0);
      } else if (ri - (rb << b) >= -limit) {
        ri -= rb << b;
        for (let k = i + b; k < 256; k++) {
          if (load<i8>(out + k) === 0) {
            store<i8>(out + k, 1);
            break;
          }
          store<i8>(out + k, 0);
        }
      } else break;
      store<i8>(out + i, i8(ri));
    }
    store<i8>(out + i, i8(ri));
  }
}

/** out = (a * b + c) mod L, exported for tests against BigInt (32-byte little-endian operands). */
export function scalarMulAddModL(out: usize, a: usize, b: usize, c: usize): void {
  scMulAdd(out, a, b, c);
}

/** out = (64-byte little-endian value) mod L, exported for tests against BigInt. */
export function scalarReduce64(out: usize, src: usize): void {
  scReduce64(out, src);
}
