import { instantiateWasm, type WasmExports } from '../crypto/wasm-instance.js';
import { MILLER_RABIN_BASES, SMALL_PRIMES } from './miller-rabin.js';

const LIMBS = 10;
const HEX_PER_LIMB = 7;
const SMALL = SMALL_PRIMES.map(Number);
/** 2^(32·(7 − i)) mod p for each small prime: a residue is then Σ word_i · table_i (< 2^46, exact). */
const WORD_WEIGHTS: readonly (readonly number[])[] = SMALL.map((p) => {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((1n << BigInt(32 * i)) % BigInt(p)));
  return w;
});

/**
 * The fast path of isProbablePrime for HashToPrime's 256-bit candidates: the same trial division
 * (on 32-bit words, in plain integer arithmetic exact below 2^53) and the same fixed-base
 * Miller–Rabin, in WASM. Tests check it against the BigInt isProbablePrime.
 */
export class WasmPrimality {
  private readonly nPtr: number;
  private readonly basesPtr: number;

  constructor(private readonly wasm: WasmExports) {
    this.nPtr = wasm.vdfAlloc(48 + 4 * MILLER_RABIN_BASES.length);
    this.basesPtr = this.nPtr + 48;
    new Uint32Array(wasm.memory.buffer, this.basesPtr, MILLER_RABIN_BASES.length).set(
      MILLER_RABIN_BASES.map(Number),
    );
  }

  /** Trial division of a 32-byte big-endian number by the odd primes below 1,000. */
  static passesTrialDivision(bytes: Uint8Array): boolean {
    const view = new DataView(bytes.buffer, bytes.byteOffset, 32);
    const w0 = view.getUint32(0);
    const w1 = view.getUint32(4);
    const w2 = view.getUint32(8);
    const w3 = view.getUint32(12);
    const w4 = view.getUint32(16);
    const w5 = view.getUint32(20);
    const w6 = view.getUint32(24);
    const w7 = view.getUint32(28);
    for (let k = 0; k < SMALL.length; k++) {
      const t = WORD_WEIGHTS[k] as readonly number[];
      const r =
        w0 * (t[0] as number) +
        w1 * (t[1] as number) +
        w2 * (t[2] as number) +
        w3 * (t[3] as number) +
        w4 * (t[4] as number) +
        w5 * (t[5] as number) +
        w6 * (t[6] as number) +
        w7;
      if (r % (SMALL[k] as number) === 0) return false;
    }
    return true;
  }

  /** Fixed-base Miller–Rabin of an odd n with 1,000 < n < 2^256. */
  millerRabin(n: bigint): boolean {
    const hex = n.toString(16).padStart(LIMBS * HEX_PER_LIMB, '0');
    const mem = new Uint32Array(this.wasm.memory.buffer, this.nPtr, LIMBS);
    const top = hex.length;
    for (let i = 0; i < LIMBS; i++)
      mem[i] = Number.parseInt(hex.slice(top - HEX_PER_LIMB * (i + 1), top - HEX_PER_LIMB * i), 16);
    return this.wasm.vdfMillerRabin(this.nPtr, this.basesPtr, MILLER_RABIN_BASES.length) === 1;
  }
}

let shared: WasmPrimality | undefined;

/** This thread's primality tester (own small WASM instance, created on first use). */
export function sharedPrimality(): WasmPrimality {
  shared ??= new WasmPrimality(instantiateWasm('release'));
  return shared;
}
