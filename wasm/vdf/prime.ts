// Miller–Rabin for HashToPrime's 256-bit candidates, entirely in WASM: BigInt needs ~100 µs per
// round, which made HashToPrime (≈ 15 first rounds on composites + 12 on the prime) the slowest
// part of verification. Numbers are 10 limbs of 28 bits; R = 2^280 ≥ 4n for n < 2^256, so, as in
// the 2048-bit kernel, Montgomery products of values < 2n stay < 2n.

const L: i32 = 10;
const BITS: u32 = 28;
const MASK: u32 = (1 << BITS) - 1;
const BYTES: i32 = 48; // 12 u32 slots per number

const modN: usize = memory.data(BYTES, 16);
const one: usize = memory.data(BYTES, 16); // R mod n
const minusOne: usize = memory.data(BYTES, 16); // −R mod n
const r2: usize = memory.data(BYTES, 16); // R² mod n
const x: usize = memory.data(BYTES, 16);
const base: usize = memory.data(BYTES, 16);
const tmp: usize = memory.data(BYTES, 16);
/** base^0 … base^15 for the 4-bit window over d. */
const window: usize = memory.data(BYTES * 16, 16);
let negInv: u32 = 0;
let n0: u64 = 0;
let n1: u64 = 0;
let n2: u64 = 0;
let n3: u64 = 0;
let n4: u64 = 0;
let n5: u64 = 0;
let n6: u64 = 0;
let n7: u64 = 0;
let n8: u64 = 0;
let n9: u64 = 0;

function limb(p: usize, i: i32): u64 {
  return <u64>load<u32>(p + ((<usize>i) << 2));
}

/**
 * out = a·b·R⁻¹ mod n (inputs < 2n, output < 2n): product scanning with the reduction
 * interleaved (Koç's FIPS). Column k sums a_i·b_(k−i) and m_i·n_(k−i) into one u64 (≤ 20 products
 * < 2^56); for k < 10 it then fixes m_k = (c·(−n⁻¹)) mod 2^28 so the column's low 28 bits vanish;
 * columns 10 … 18 are the output limbs. Fully unrolled with every operand in a local (written out
 * by a generator; the loop form was 2.5× slower). out may alias a or b: both are read first.
 */
function mul(out: usize, a: usize, b: usize): void {
  const a0 = <u64>load<u32>(a, 0);
  const a1 = <u64>load<u32>(a, 4);
  const a2 = <u64>load<u32>(a, 8);
  const a3 = <u64>load<u32>(a, 12);
  const a4 = <u64>load<u32>(a, 16);
  const a5 = <u64>load<u32>(a, 20);
  const a6 = <u64>load<u32>(a, 24);
  const a7 = <u64>load<u32>(a, 28);
  const a8 = <u64>load<u32>(a, 32);
  const a9 = <u64>load<u32>(a, 36);
  const b0 = <u64>load<u32>(b, 0);
  const b1 = <u64>load<u32>(b, 4);
  const b2 = <u64>load<u32>(b, 8);
  const b3 = <u64>load<u32>(b, 12);
  const b4 = <u64>load<u32>(b, 16);
  const b5 = <u64>load<u32>(b, 20);
  const b6 = <u64>load<u32>(b, 24);
  const b7 = <u64>load<u32>(b, 28);
  const b8 = <u64>load<u32>(b, 32);
  const b9 = <u64>load<u32>(b, 36);
  let c: u64 = 0;
  c += a0 * b0;
  const m0 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m0 * n0) >> BITS;
  c += a0 * b1 + a1 * b0 + m0 * n1;
  const m1 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m1 * n0) >> BITS;
  c += a0 * b2 + a1 * b1 + a2 * b0 + m0 * n2 + m1 * n1;
  const m2 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m2 * n0) >> BITS;
  c += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + m0 * n3 + m1 * n2 + m2 * n1;
  const m3 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m3 * n0) >> BITS;
  c += a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0 + m0 * n4 + m1 * n3 + m2 * n2 + m3 * n1;
  const m4 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m4 * n0) >> BITS;
  c +=
    a0 * b5 +
    a1 * b4 +
    a2 * b3 +
    a3 * b2 +
    a4 * b1 +
    a5 * b0 +
    m0 * n5 +
    m1 * n4 +
    m2 * n3 +
    m3 * n2 +
    m4 * n1;
  const m5 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m5 * n0) >> BITS;
  c +=
    a0 * b6 +
    a1 * b5 +
    a2 * b4 +
    a3 * b3 +
    a4 * b2 +
    a5 * b1 +
    a6 * b0 +
    m0 * n6 +
    m1 * n5 +
    m2 * n4 +
    m3 * n3 +
    m4 * n2 +
    m5 * n1;
  const m6 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m6 * n0) >> BITS;
  c +=
    a0 * b7 +
    a1 * b6 +
    a2 * b5 +
    a3 * b4 +
    a4 * b3 +
    a5 * b2 +
    a6 * b1 +
    a7 * b0 +
    m0 * n7 +
    m1 * n6 +
    m2 * n5 +
    m3 * n4 +
    m4 * n3 +
    m5 * n2 +
    m6 * n1;
  const m7 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m7 * n0) >> BITS;
  c +=
    a0 * b8 +
    a1 * b7 +
    a2 * b6 +
    a3 * b5 +
    a4 * b4 +
    a5 * b3 +
    a6 * b2 +
    a7 * b1 +
    a8 * b0 +
    m0 * n8 +
    m1 * n7 +
    m2 * n6 +
    m3 * n5 +
    m4 * n4 +
    m5 * n3 +
    m6 * n2 +
    m7 * n1;
  const m8 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m8 * n0) >> BITS;
  c +=
    a0 * b9 +
    a1 * b8 +
    a2 * b7 +
    a3 * b6 +
    a4 * b5 +
    a5 * b4 +
    a6 * b3 +
    a7 * b2 +
    a8 * b1 +
    a9 * b0 +
    m0 * n9 +
    m1 * n8 +
    m2 * n7 +
    m3 * n6 +
    m4 * n5 +
    m5 * n4 +
    m6 * n3 +
    m7 * n2 +
    m8 * n1;
  const m9 = <u64>((<u32>c * negInv) & MASK);
  c = (c + m9 * n0) >> BITS;
  c +=
    a1 * b9 +
    m1 * n9 +
    a2 * b8 +
    m2 * n8 +
    a3 * b7 +
    m3 * n7 +
    a4 * b6 +
    m4 * n6 +
    a5 * b5 +
    m5 * n5 +
    a6 * b4 +
    m6 * n4 +
    a7 * b3 +
    m7 * n3 +
    a8 * b2 +
    m8 * n2 +
    a9 * b1 +
    m9 * n1;
  store<u32>(out, <u32>c & MASK, 0);
  c >>= BITS;
  c +=
    a2 * b9 +
    m2 * n9 +
    a3 * b8 +
    m3 * n8 +
    a4 * b7 +
    m4 * n7 +
    a5 * b6 +
    m5 * n6 +
    a6 * b5 +
    m6 * n5 +
    a7 * b4 +
    m7 * n4 +
    a8 * b3 +
    m8 * n3 +
    a9 * b2 +
    m9 * n2;
  store<u32>(out, <u32>c & MASK, 4);
  c >>= BITS;
  c +=
    a3 * b9 +
    m3 * n9 +
    a4 * b8 +
    m4 * n8 +
    a5 * b7 +
    m5 * n7 +
    a6 * b6 +
    m6 * n6 +
    a7 * b5 +
    m7 * n5 +
    a8 * b4 +
    m8 * n4 +
    a9 * b3 +
    m9 * n3;
  store<u32>(out, <u32>c & MASK, 8);
  c >>= BITS;
  c +=
    a4 * b9 +
    m4 * n9 +
    a5 * b8 +
    m5 * n8 +
    a6 * b7 +
    m6 * n7 +
    a7 * b6 +
    m7 * n6 +
    a8 * b5 +
    m8 * n5 +
    a9 * b4 +
    m9 * n4;
  store<u32>(out, <u32>c & MASK, 12);
  c >>= BITS;
  c += a5 * b9 + m5 * n9 + a6 * b8 + m6 * n8 + a7 * b7 + m7 * n7 + a8 * b6 + m8 * n6 + a9 * b5 + m9 * n5;
  store<u32>(out, <u32>c & MASK, 16);
  c >>= BITS;
  c += a6 * b9 + m6 * n9 + a7 * b8 + m7 * n8 + a8 * b7 + m8 * n7 + a9 * b6 + m9 * n6;
  store<u32>(out, <u32>c & MASK, 20);
  c >>= BITS;
  c += a7 * b9 + m7 * n9 + a8 * b8 + m8 * n8 + a9 * b7 + m9 * n7;
  store<u32>(out, <u32>c & MASK, 24);
  c >>= BITS;
  c += a8 * b9 + m8 * n9 + a9 * b8 + m9 * n8;
  store<u32>(out, <u32>c & MASK, 28);
  c >>= BITS;
  c += a9 * b9 + m9 * n9;
  store<u32>(out, <u32>c & MASK, 32);
  c >>= BITS;
  store<u32>(out, <u32>c, 36);
}

/** a ≥ n ? */
function geqN(a: usize): bool {
  for (let i = L - 1; i >= 0; i--) {
    const ai = load<u32>(a + ((<usize>i) << 2));
    const ni = load<u32>(modN + ((<usize>i) << 2));
    if (ai !== ni) return ai > ni;
  }
  return true;
}

/** a −= n (caller checked a ≥ n). */
function subN(a: usize): void {
  let borrow: i64 = 0;
  for (let i = 0; i < L; i++) {
    const p = a + ((<usize>i) << 2);
    const v = <i64>load<u32>(p) - <i64>load<u32>(modN + ((<usize>i) << 2)) - borrow;
    borrow = v < 0 ? 1 : 0;
    store<u32>(p, <u32>(v & <i64>MASK));
  }
}

/** a < 2n → a mod n. */
function reduce(a: usize): void {
  if (geqN(a)) subN(a);
}

function equal(a: usize, b: usize): bool {
  for (let i = 0; i < L; i++)
    if (load<u32>(a + ((<usize>i) << 2)) !== load<u32>(b + ((<usize>i) << 2))) return false;
  return true;
}

/** a = 2a mod n (a < n). */
function double(a: usize): void {
  let carry: u32 = 0;
  for (let i = 0; i < L; i++) {
    const p = a + ((<usize>i) << 2);
    const v = (load<u32>(p) << 1) | carry;
    carry = v >> BITS;
    store<u32>(p, v & MASK);
  }
  reduce(a);
}

/** Bit `i` of n − 1 (n is odd, so n − 1 is n with bit 0 cleared). */
function bitOfNMinus1(i: i32): u32 {
  if (i === 0) return 0;
  return (load<u32>(modN + ((<usize>(i / BITS)) << 2)) >> <u32>(i % BITS)) & 1;
}

/**
 * Strong probable-prime test of the odd n (10 limbs at nPtr, 3 < n < 2^256) to each of the
 * `count` u32 bases at basesPtr (each < n). Returns 1 if n passes every base, else 0.
 */
export function vdfMillerRabin(nPtr: usize, basesPtr: usize, count: u32): u32 {
  memory.copy(modN, nPtr, L * 4);
  n0 = limb(modN, 0);
  n1 = limb(modN, 1);
  n2 = limb(modN, 2);
  n3 = limb(modN, 3);
  n4 = limb(modN, 4);
  n5 = limb(modN, 5);
  n6 = limb(modN, 6);
  n7 = limb(modN, 7);
  n8 = limb(modN, 8);
  n9 = limb(modN, 9);
  // −n⁻¹ mod 2^28 by Newton's iteration (each step doubles the correct low bits: 1→2→4→…→32).
  const low = load<u32>(modN);
  let inv: u32 = 1;
  for (let k = 0; k < 5; k++) inv = inv * (2 - low * inv);
  negInv = (0 - inv) & MASK;
  // R mod n and R² mod n by doubling (280 + 280 modular doublings: microseconds).
  memory.fill(one, 0, BYTES);
  store<u32>(one, 1);
  for (let k = 0; k < L * <i32>BITS; k++) double(one);
  memory.copy(r2, one, BYTES);
  for (let k = 0; k < L * <i32>BITS; k++) double(r2);
  // −R mod n = n − (R mod n).
  memory.copy(minusOne, modN, BYTES);
  let borrow: i64 = 0;
  for (let i = 0; i < L; i++) {
    const p = minusOne + ((<usize>i) << 2);
    const v = <i64>load<u32>(p) - <i64>load<u32>(one + ((<usize>i) << 2)) - borrow;
    borrow = v < 0 ? 1 : 0;
    store<u32>(p, <u32>(v & <i64>MASK));
  }
  // n − 1 = d·2^s with d odd.
  let s = 1;
  while (bitOfNMinus1(s) === 0) s++;
  let top = L * <i32>BITS - 1;
  while (top > 0 && bitOfNMinus1(top) === 0) top--;
  for (let b: u32 = 0; b < count; b++) {
    memory.fill(tmp, 0, BYTES);
    const a = load<u32>(basesPtr + ((<usize>b) << 2));
    store<u32>(tmp, a & MASK);
    store<u32>(tmp, a >> BITS, 4);
    mul(base, tmp, r2); // a·R mod n
    // x = a^d with a 4-bit window over d = bits s … top of n − 1 (4-bit digits from the top).
    memory.copy(window, one, BYTES);
    memory.copy(window + BYTES, base, BYTES);
    for (let k = 2; k < 16; k++) mul(window + <usize>(k * BYTES), window + <usize>((k - 1) * BYTES), base);
    const dBits = top - s + 1;
    memory.copy(x, one, BYTES);
    for (let pos = ((dBits + 3) >> 2) * 4 - 4; pos >= 0; pos -= 4) {
      for (let q = 0; q < 4; q++) mul(x, x, x);
      let digit = 0;
      for (let q = 3; q >= 0; q--)
        digit = (digit << 1) | (pos + q < dBits ? <i32>bitOfNMinus1(s + pos + q) : 0);
      if (digit !== 0) mul(x, x, window + <usize>(digit * BYTES));
    }
    reduce(x);
    if (equal(x, one) || equal(x, minusOne)) continue;
    let witness = true;
    for (let r = 1; r < s; r++) {
      mul(x, x, x);
      reduce(x);
      if (equal(x, minusOne)) {
        witness = false;
        break;
      }
    }
    if (witness) return 0;
  }
  return 1;
}
