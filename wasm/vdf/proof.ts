// One worker's share of a Wesolowski proof π = x^⌊2^T/ℓ⌋ (src/vdf/proof-plan.ts explains the
// algebra). Write q = ⌊2^T/ℓ⌋ in κ-bit digits d_j; with checkpoints c_i = x^(2^(i·γ·κ)),
//   π = Π_t (Π_i c_i^{d_{iγ+t}})^(2^(tκ)),
// and the inner product over i is computed by bucketing: Y_b = Π_{i: d = b} c_i, then
// Π_b Y_b^b from running suffix products (2 multiplications per bucket). The outer product is a
// Horner scheme over t with κ squarings per step. Workers take disjoint ranges of i; their
// partial results multiply together.

import { ELEM_BYTES, oneMont } from './layout';
import { montMulKernel, montSquareKernel } from './montgomery';

const acc: usize = memory.data(ELEM_BYTES, 16);
const suffix: usize = memory.data(ELEM_BYTES, 16);
const total: usize = memory.data(ELEM_BYTES, 16);

let workspace: usize = 0;
let workspaceBytes: usize = 0;

/**
 * A scratch region of at least `bytes` bytes (16-aligned) that JS fills with inputs. It is reused
 * across calls and only reallocated when a bigger one is needed (the stub runtime never frees, so
 * a worker's footprint is its largest task).
 */
export function vdfWorkspace(bytes: usize): usize {
  if (bytes > workspaceBytes) {
    workspace = (heap.alloc(bytes + 16) + 15) & ~(<usize>15);
    workspaceBytes = bytes;
  }
  return workspace;
}

/**
 * out = Π_t (Π_{i<count} c_i^{d[i·γ + t]})^(2^(tκ)) for t < γ, in Montgomery form.
 * `checkpoints`: count elements of ELEM_BYTES; `digits`: count·γ u16 values < 2^κ;
 * `buckets`: 2^κ elements of scratch; `used`: 2^κ bytes of scratch.
 */
export function vdfProveChunk(
  out: usize,
  checkpoints: usize,
  count: u32,
  digits: usize,
  gamma: u32,
  kappa: u32,
  buckets: usize,
  used: usize,
): void {
  const nb: u32 = 1 << kappa;
  memory.copy(acc, oneMont, ELEM_BYTES);
  for (let t = <i32>gamma - 1; t >= 0; t--) {
    if (t !== <i32>gamma - 1) for (let s: u32 = 0; s < kappa; s++) montSquareKernel(acc, acc);
    memory.fill(used, 0, nb);
    for (let i: u32 = 0; i < count; i++) {
      const d = <u32>load<u16>(digits + ((<usize>i * gamma + <usize>t) << 1));
      if (d === 0) continue;
      const y = buckets + <usize>d * ELEM_BYTES;
      const c = checkpoints + <usize>i * ELEM_BYTES;
      if (load<u8>(used + d)) montMulKernel(y, y, c);
      else {
        memory.copy(y, c, ELEM_BYTES);
        store<u8>(used + d, 1);
      }
    }
    // Π_b Y_b^b = Π_b S_b with S_b = Π_{b' ≥ b} Y_b' (suffix products).
    let haveSuffix = false;
    let haveTotal = false;
    for (let b = nb - 1; b >= 1; b--) {
      if (load<u8>(used + b)) {
        const y = buckets + <usize>b * ELEM_BYTES;
        if (haveSuffix) montMulKernel(suffix, suffix, y);
        else {
          memory.copy(suffix, y, ELEM_BYTES);
          haveSuffix = true;
        }
      }
      if (!haveSuffix) continue;
      if (haveTotal) montMulKernel(total, total, suffix);
      else {
        memory.copy(total, suffix, ELEM_BYTES);
        haveTotal = true;
      }
    }
    if (haveTotal) montMulKernel(acc, acc, total);
  }
  memory.copy(out, acc, ELEM_BYTES);
}
