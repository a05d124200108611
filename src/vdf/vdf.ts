import { instantiateWasm } from '../crypto/wasm-instance.js';
import { bytesToBigint, decodeElement, encodeElement, isCanonical } from './group.js';
import { type ProofPlan, planProof } from './proof-plan.js';
import { ELEMENT_BYTES } from './rsa2048.js';
import { type WasmVdf, wasmVdfFor } from './wasm-vdf.js';

/**
 * The VDF on the calling thread (DESIGN §6), byte-level API: group elements are 256-byte big-endian
 * canonical encodings. Use the CryptoPool methods to keep long evaluations off the event loop;
 * verification takes milliseconds and is fine inline.
 */

/** An evaluation: y plus the checkpoints `vdfProve` needs (opaque Montgomery-form limbs). */
export interface VdfOutput {
  readonly y: Uint8Array;
  readonly t: number;
  readonly plan: ProofPlan;
  readonly checkpoints: Uint32Array;
}

export interface VdfEvaluateOptions {
  /** Default: planProof(t, 1). Pass planProof(t, pool.threads) when the pool will prove. */
  readonly plan?: ProofPlan;
  readonly onProgress?: (done: number, total: number) => void;
}

let inline: WasmVdf | undefined;

/** This thread's WASM VDF (the release build, instantiated on first use). */
export function inlineVdf(): WasmVdf {
  inline ??= wasmVdfFor(instantiateWasm('release'));
  return inline;
}

/** y = x^(2^T) in Z_N^×/{±1}; x must be a canonical element (typed VdfError otherwise). */
export function vdfEvaluate(x: Uint8Array, t: number, opts: VdfEvaluateOptions = {}): VdfOutput {
  const xv = decodeElement(x, 'x');
  const plan = opts.plan ?? planProof(t, 1);
  const e = inlineVdf().evaluate(xv, t, plan, opts.onProgress ? { onProgress: opts.onProgress } : {});
  return { y: encodeElement(e.y), t: e.t, plan: e.plan, checkpoints: e.checkpoints };
}

/** π for an evaluation of x (single thread). */
export function vdfProve(x: Uint8Array, output: VdfOutput): Uint8Array {
  const xv = decodeElement(x, 'x');
  const yv = decodeElement(output.y, 'y');
  return encodeElement(inlineVdf().prove(xv, { ...output, y: yv }));
}

/**
 * True iff π proves y = x^(2^T). Never throws: wrong lengths, out-of-group or non-canonical
 * values and a bad T are all just `false`.
 */
export function vdfVerify(x: Uint8Array, y: Uint8Array, proof: Uint8Array, t: number): boolean {
  return vdfVerifyWith(inlineVdf(), x, y, proof, t);
}

/** vdfVerify on a given WASM wrapper (workers use their own instance); inputs are untrusted. */
export function vdfVerifyWith(vdf: WasmVdf, x: unknown, y: unknown, proof: unknown, t: unknown): boolean {
  if (typeof t !== 'number') return false;
  const parsed = [x, y, proof].map((b) =>
    b instanceof Uint8Array && b.length === ELEMENT_BYTES ? bytesToBigint(b) : -1n,
  );
  if (!parsed.every((v) => isCanonical(v, vdf.n))) return false;
  const [xv, yv, pv] = parsed as [bigint, bigint, bigint];
  return vdf.verify(xv, yv, pv, t);
}
