// Scalar SHA-256 (FIPS 180-4) over linear memory: a one-shot function for arbitrary lengths. Bulk
// hashing of many short independent inputs (merkle levels) uses sha256x4.ts instead.
import { IV256, K256 } from './sha256-constants';

const STATE = memory.data(32, 8);
const W = memory.data(64 * 4, 8);
const TAIL = memory.data(128, 8);

/** Compresses one 64-byte block at `block` into STATE. */
function compress(block: usize): void {
  for (let i = 0; i < 16; i++) store<u32>(W + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  for (let i = 16; i < 64; i++) {
    const w15 = load<u32>(W + ((i - 15) << 2));
    const w2 = load<u32>(W + ((i - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(W + (i << 2), load<u32>(W + ((i - 16) << 2)) + s0 + load<u32>(W + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(STATE, 0);
  let b = load<u32>(STATE, 4);
  let c = load<u32>(STATE, 8);
  let d = load<u32>(STATE, 12);
  let e = load<u32>(STATE, 16);
  let f = load<u32>(STATE, 20);
  let g = load<u32>(STATE, 24);
  let h = load<u32>(STATE, 28);
  for (let i = 0; i < 64; i++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + S1 + ch + unchecked(K256[i]) + load<u32>(W + (i << 2));
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + S0 + maj;
  }
  store<u32>(STATE, load<u32>(STATE, 0) + a, 0);
  store<u32>(STATE, load<u32>(STATE, 4) + b, 4);
  store<u32>(STATE, load<u32>(STATE, 8) + c, 8);
  store<u32>(STATE, load<u32>(STATE, 12) + d, 12);
  store<u32>(STATE, load<u32>(STATE, 16) + e, 16);
  store<u32>(STATE, load<u32>(STATE, 20) + f, 20);
  store<u32>(STATE, load<u32>(STATE, 24) + g, 24);
  store<u32>(STATE, load<u32>(STATE, 28) + h, 28);
}

/** SHA-256 of len bytes at ptr, 32-byte digest to out (out may overlap the input). */
export function sha256(ptr: usize, len: usize, out: usize): void {
  for (let i = 0; i < 8; i++) store<u32>(STATE + (i << 2), unchecked(IV256[i]));
  let at = ptr;
  let left = len;
  while (left >= 64) {
    compress(at);
    at += 64;
    left -= 64;
  }
  // Padding: 0x80, zeros, then the bit length in the last 8 bytes of the final block.
  memory.fill(TAIL, 0, 128);
  memory.copy(TAIL, at, left);
  store<u8>(TAIL + left, 0x80);
  const tailBlocks: usize = left < 56 ? 1 : 2;
  store<u64>(TAIL + tailBlocks * 64 - 8, bswap<u64>(u64(len) << 3));
  compress(TAIL);
  if (tailBlocks === 2) compress(TAIL + 64);
  for (let i = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(STATE + (i << 2))));
}
