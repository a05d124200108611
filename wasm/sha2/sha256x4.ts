// 4-way multi-buffer SHA-256 with v128 SIMD: the four lanes of every i32x4 carry the same step
// of four independent messages. Merkle levels are thousands of equal-length inputs (33-byte
// leaves, 65-byte nodes), exactly the shape where lanes never diverge. Callers hand over four
// already padded messages of the same number of blocks, lane l at blocks + l * stride.
import { IV256, K256 } from './sha256-constants';

const W = memory.data(64 * 16, 16);
const STATE = memory.data(8 * 16, 16);

function rotr4(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

/** The big-endian word `word` of block `block` of each lane, as one vector. */
function loadWord(blocks: usize, stride: usize, offset: usize): v128 {
  let v = i32x4.splat(bswap<u32>(load<u32>(blocks + offset)));
  v = i32x4.replace_lane(v, 1, bswap<u32>(load<u32>(blocks + stride + offset)));
  v = i32x4.replace_lane(v, 2, bswap<u32>(load<u32>(blocks + 2 * stride + offset)));
  v = i32x4.replace_lane(v, 3, bswap<u32>(load<u32>(blocks + 3 * stride + offset)));
  return v;
}

function compress4(blocks: usize, stride: usize, blockOffset: usize): void {
  for (let i = 0; i < 16; i++) v128.store(W + (i << 4), loadWord(blocks, stride, blockOffset + (i << 2)));
  for (let i = 16; i < 64; i++) {
    const w15 = v128.load(W + ((i - 15) << 4));
    const w2 = v128.load(W + ((i - 2) << 4));
    const s0 = v128.xor(v128.xor(rotr4(w15, 7), rotr4(w15, 18)), i32x4.shr_u(w15, 3));
    const s1 = v128.xor(v128.xor(rotr4(w2, 17), rotr4(w2, 19)), i32x4.shr_u(w2, 10));
    const w = i32x4.add(
      i32x4.add(v128.load(W + ((i - 16) << 4)), s0),
      i32x4.add(v128.load(W + ((i - 7) << 4)), s1),
    );
    v128.store(W + (i << 4), w);
  }
  let a = v128.load(STATE, 0);
  let b = v128.load(STATE, 16);
  let c = v128.load(STATE, 32);
  let d = v128.load(STATE, 48);
  let e = v128.load(STATE, 64);
  let f = v128.load(STATE, 80);
  let g = v128.load(STATE, 96);
  let h = v128.load(STATE, 112);
  for (let i = 0; i < 64; i++) {
    const S1 = v128.xor(v128.xor(rotr4(e, 6), rotr4(e, 11)), rotr4(e, 25));
    const ch = v128.bitselect(f, g, e);
    const kw = i32x4.add(i32x4.splat(unchecked(K256[i])), v128.load(W + (i << 4)));
    const t1 = i32x4.add(i32x4.add(h, S1), i32x4.add(ch, kw));
    const S0 = v128.xor(v128.xor(rotr4(a, 2), rotr4(a, 13)), rotr4(a, 22));
    const maj = v128.bitselect(a, c, v128.xor(b, c)); // b == c ? c : a  ==  majority
    h = g;
    g = f;
    f = e;
    e = i32x4.add(d, t1);
    d = c;
    c = b;
    b = a;
    a = i32x4.add(t1, i32x4.add(S0, maj));
  }
  v128.store(STATE, i32x4.add(v128.load(STATE, 0), a), 0);
  v128.store(STATE, i32x4.add(v128.load(STATE, 16), b), 16);
  v128.store(STATE, i32x4.add(v128.load(STATE, 32), c), 32);
  v128.store(STATE, i32x4.add(v128.load(STATE, 48), d), 48);
  v128.store(STATE, i32x4.add(v128.load(STATE, 64), e), 64);
  v128.store(STATE, i32x4.add(v128.load(STATE, 80), f), 80);
  v128.store(STATE, i32x4.add(v128.load(STATE, 96), g), 96);
  v128.store(STATE, i32x4.add(v128.load(STATE, 112), h), 112);
}

/**
 * Hashes four padded messages of `nblocks` 64-byte blocks each (lane l at blocks + l * stride)
 * and writes lane l's digest to out + l * 32.
 */
export function sha256x4(blocks: usize, stride: usize, nblocks: i32, out: usize): void {
  for (let i = 0; i < 8; i++) v128.store(STATE + (i << 4), i32x4.splat(unchecked(IV256[i])));
  for (let b = 0; b < nblocks; b++) compress4(blocks, stride, usize(b) << 6);
  for (let lane = 0; lane < 4; lane++) {
    for (let i = 0; i < 8; i++) {
      store<u32>(out + (lane << 5) + (i << 2), bswap<u32>(load<u32>(STATE + (i << 4) + (lane << 2))));
    }
  }
}
