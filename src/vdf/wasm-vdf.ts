import type { WasmExports } from '../crypto/wasm-instance.js';
import { VdfError } from './errors.js';
import { canonical, checkDelay, isCanonical, modInverse, modPow } from './group.js';
import { hashToPrime } from './hash-to-prime.js';
import { checkPlan, checkpointCount, type ProofPlan, proofDigits } from './proof-plan.js';
import { RSA_2048 } from './rsa2048.js';

/** u32 slots per element in WASM memory (74 limbs of 28 bits, two zero slots). */
export const ELEM_SLOTS = 76;
const ELEM_BYTES = ELEM_SLOTS * 4;
const LIMBS = 74;
const HEX_PER_LIMB = 7; // 28 bits
const R_BITS = 2072n;

/** Scratch element slots of the wrapper. */
const SLOTS = { a: 0, b: 1, c: 2, d: 3 } as const;

/** The result of an evaluation: y, and the checkpoints the prover needs (Montgomery form, opaque). */
export interface Evaluation {
  readonly y: bigint;
  readonly t: number;
  readonly plan: ProofPlan;
  /** checkpointCount(t, plan.interval) elements of ELEM_SLOTS u32 each: x^(2^(i·interval)). */
  readonly checkpoints: Uint32Array;
}

export interface EvaluateOptions {
  /** Called between chunks with the squarings done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Squarings per call into WASM when no checkpoint is due sooner (progress granularity). */
  readonly chunk?: number;
}

/**
 * The VDF on one WASM instance: Montgomery arithmetic in WASM, conversions and hashing in JS.
 * Numbers cross the boundary as 74 × 28-bit limbs (7 hex digits each, so conversion is string
 * slicing). One wrapper per instance and modulus; not re-entrant.
 */
export class WasmVdf {
  readonly n: bigint;
  private readonly rInv: bigint;
  private readonly scratch: number;

  constructor(
    private readonly wasm: WasmExports,
    n: bigint = RSA_2048,
  ) {
    if (n % 2n === 0n || n < 3n || 4n * n > 1n << R_BITS)
      throw new VdfError('VDF_BAD_MODULUS', 'modulus must be odd with 4N ≤ 2^2072');
    this.n = n;
    const m28 = 1n << 28n;
    const negInv = Number((m28 - modInverse(n % m28, m28)) % m28);
    const rModN = (1n << R_BITS) % n;
    this.rInv = modInverse(rModN, n);
    this.scratch = wasm.vdfAlloc(ELEM_BYTES * 4);
    this.writeLimbs(this.slot(SLOTS.a), n);
    this.writeLimbs(this.slot(SLOTS.b), rModN);
    wasm.vdfSetModulus(this.slot(SLOTS.a), negInv, this.slot(SLOTS.b));
  }

  private slot(i: number): number {
    return this.scratch + i * ELEM_BYTES;
  }

  private u32(): Uint32Array {
    return new Uint32Array(this.wasm.memory.buffer);
  }

  /** Writes v (0 ≤ v < 2^2072) as limbs at ptr. */
  writeLimbs(ptr: number, v: bigint): void {
    const hex = v.toString(16).padStart(LIMBS * HEX_PER_LIMB, '0');
    const mem = this.u32();
    const base = ptr >>> 2;
    const top = hex.length;
    for (let i = 0; i < LIMBS; i++)
      mem[base + i] = Number.parseInt(hex.slice(top - HEX_PER_LIMB * (i + 1), top - HEX_PER_LIMB * i), 16);
    mem[base + LIMBS] = 0;
    mem[base + LIMBS + 1] = 0;
  }

  /** Reads limbs at ptr (or from a copied element) as a bigint. */
  readLimbs(ptr: number, from: Uint32Array = this.u32()): bigint {
    const base = ptr >>> 2;
    let hex = '';
    for (let i = LIMBS - 1; i >= 0; i--)
      hex += (from[base + i] as number).toString(16).padStart(HEX_PER_LIMB, '0');
    return BigInt(`0x${hex}`);
  }

  toMont(v: bigint): bigint {
    return (v << R_BITS) % this.n;
  }

  fromMont(v: bigint): bigint {
    return (v * this.rInv) % this.n;
  }

  /** a·b mod N through the WASM kernel (for tests of the kernel itself). */
  mulMod(a: bigint, b: bigint): bigint {
    this.writeLimbs(this.slot(SLOTS.a), this.toMont(a));
    this.writeLimbs(this.slot(SLOTS.b), this.toMont(b));
    this.wasm.vdfMontMul(this.slot(SLOTS.c), this.slot(SLOTS.a), this.slot(SLOTS.b));
    return this.fromMont(this.readLimbs(this.slot(SLOTS.c)));
  }

  /** base^exp mod N (exp ≥ 0) through the WASM windowed exponentiation. */
  powMod(base: bigint, exp: bigint): bigint {
    return this.fromMont(this.powMont(this.toMont(base), exp));
  }

  private powMont(baseMont: bigint, exp: bigint): bigint {
    const expBytes = Math.max(1, Math.ceil(exp.toString(16).length / 2));
    const expPtr = this.wasm.vdfWorkspace(expBytes);
    this.writeExponent(expPtr, exp, expBytes);
    this.writeLimbs(this.slot(SLOTS.a), baseMont);
    this.wasm.vdfPow(this.slot(SLOTS.c), this.slot(SLOTS.a), expPtr, expBytes);
    return this.readLimbs(this.slot(SLOTS.c));
  }

  private writeExponent(ptr: number, exp: bigint, length: number): void {
    const hex = exp.toString(16).padStart(length * 2, '0');
    const bytes = new Uint8Array(this.wasm.memory.buffer, ptr, length);
    for (let i = 0; i < length; i++)
      bytes[i] = Number.parseInt(hex.slice(hex.length - 2 * i - 2, hex.length - 2 * i), 16);
  }

  /** b1^e1 · b2^e2 mod N (e1, e2 ≥ 0) with one shared squaring chain (Shamir's trick). */
  powMod2(b1: bigint, e1: bigint, b2: bigint, e2: bigint): bigint {
    return this.fromMont(this.pow2Mont(this.toMont(b1), e1, this.toMont(b2), e2));
  }

  private pow2Mont(b1Mont: bigint, e1: bigint, b2Mont: bigint, e2: bigint): bigint {
    const longest = e1 > e2 ? e1 : e2;
    const expBytes = Math.max(1, Math.ceil(longest.toString(16).length / 2));
    const ptr = this.wasm.vdfWorkspace(2 * expBytes);
    this.writeExponent(ptr, e1, expBytes);
    this.writeExponent(ptr + expBytes, e2, expBytes);
    this.writeLimbs(this.slot(SLOTS.a), b1Mont);
    this.writeLimbs(this.slot(SLOTS.b), b2Mont);
    this.wasm.vdfPow2(
      this.slot(SLOTS.c),
      this.slot(SLOTS.a),
      ptr,
      this.slot(SLOTS.b),
      ptr + expBytes,
      expBytes,
    );
    return this.readLimbs(this.slot(SLOTS.c));
  }

  /** A single squaring loop step count in place on slot d (benchmarks drive the kernel directly). */
  squareLoop(v: bigint, count: number): bigint {
    this.writeLimbs(this.slot(SLOTS.d), this.toMont(v));
    this.wasm.vdfSquarings(this.slot(SLOTS.d), count);
    return this.fromMont(this.readLimbs(this.slot(SLOTS.d)));
  }

  /** y = x^(2^T) in Z_N^×/{±1}, saving a checkpoint every plan.interval squarings. */
  evaluate(x: bigint, t: number, plan: ProofPlan, opts: EvaluateOptions = {}): Evaluation {
    checkDelay(t);
    checkPlan(plan);
    if (!isCanonical(x, this.n)) throw new VdfError('VDF_BAD_ELEMENT', 'x is not a canonical group element');
    const count = checkpointCount(t, plan.interval);
    const checkpoints = new Uint32Array(count * ELEM_SLOTS);
    const ptr = this.slot(SLOTS.d);
    this.writeLimbs(ptr, this.toMont(x));
    const chunk = Math.max(1, opts.chunk ?? 1 << 14);
    let done = 0;
    let saved = 0;
    const save = () => {
      const at = ptr >>> 2;
      checkpoints.set(this.u32().subarray(at, at + ELEM_SLOTS), saved * ELEM_SLOTS);
      saved++;
    };
    save();
    while (done < t) {
      const nextCheckpoint = saved * plan.interval;
      const step = Math.min(chunk, t - done, nextCheckpoint - done);
      this.wasm.vdfSquarings(ptr, step);
      done += step;
      if (done === nextCheckpoint) save();
      opts.onProgress?.(done, t);
    }
    const y = canonical(this.fromMont(this.readLimbs(ptr)), this.n);
    return { y, t, plan, checkpoints };
  }

  /**
   * One worker's share of π: checkpoints c_first … c_(first+count−1) (Montgomery form, as
   * `evaluate` saved them) raised to their digits. Returns the partial product in normal form.
   */
  provePartial(
    checkpoints: Uint32Array,
    first: number,
    count: number,
    t: number,
    l: bigint,
    plan: ProofPlan,
  ): bigint {
    checkDelay(t);
    checkPlan(plan);
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(count) ||
      first < 0 ||
      count < 0 ||
      checkpoints.length !== count * ELEM_SLOTS
    )
      throw new VdfError('VDF_BAD_CHECKPOINTS', 'checkpoint slice does not match its count');
    if (count === 0) return 1n;
    const { kappa, gamma } = plan;
    const digits = proofDigits(t, l, kappa, first * gamma, count * gamma);
    const buckets = (1 << kappa) * ELEM_BYTES;
    const cpBytes = count * ELEM_BYTES;
    const digitBytes = (digits.length * 2 + 15) & ~15;
    const usedBytes = ((1 << kappa) + 15) & ~15;
    const ws = this.wasm.vdfWorkspace(buckets + cpBytes + digitBytes + usedBytes);
    const cpPtr = ws + buckets;
    const digitPtr = cpPtr + cpBytes;
    const usedPtr = digitPtr + digitBytes;
    new Uint32Array(this.wasm.memory.buffer, cpPtr, checkpoints.length).set(checkpoints);
    new Uint16Array(this.wasm.memory.buffer, digitPtr, digits.length).set(digits);
    this.wasm.vdfProveChunk(this.slot(SLOTS.c), cpPtr, count, digitPtr, gamma, kappa, ws, usedPtr);
    return this.fromMont(this.readLimbs(this.slot(SLOTS.c)));
  }

  /** π for an evaluation, on this thread (the pool splits the same work across workers). */
  prove(x: bigint, evaluation: Evaluation): bigint {
    const l = hashToPrime(x, evaluation.y, evaluation.t);
    const count = evaluation.checkpoints.length / ELEM_SLOTS;
    const partial = this.provePartial(evaluation.checkpoints, 0, count, evaluation.t, l, evaluation.plan);
    return canonical(partial, this.n);
  }

  /** π^ℓ · x^r = y in Z_N^×/{±1}; false for any non-canonical or out-of-group input or bad T. */
  verify(x: bigint, y: bigint, pi: bigint, t: number): boolean {
    if (!Number.isSafeInteger(t) || t < 1) return false;
    if (!isCanonical(x, this.n) || !isCanonical(y, this.n) || !isCanonical(pi, this.n)) return false;
    const l = hashToPrime(x, y, t);
    const r = modPow(2n, BigInt(t), l);
    const v = this.pow2Mont(this.toMont(pi), l, this.toMont(x), r);
    return canonical(this.fromMont(v), this.n) === y;
  }
}

const perInstance = new WeakMap<WasmExports, WasmVdf>();

/** The RSA-2048 wrapper of a WASM instance, created once (each worker owns one instance). */
export function wasmVdfFor(wasm: WasmExports): WasmVdf {
  let vdf = perInstance.get(wasm);
  if (!vdf) {
    vdf = new WasmVdf(wasm);
    perInstance.set(wasm, vdf);
  }
  return vdf;
}
