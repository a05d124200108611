import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** Every export of wasm/index.ts, typed. Keep in step with the ABI file. */
export interface WasmExports {
  readonly memory: WebAssembly.Memory;
  abiVersion(): number;
  // Crypto (issue 3): byte offsets into `memory`; inputs go into the I/O region (wasm/scratch.ts).
  ioReserve(size: number): number;
  ioCapacity(): number;
  sha512(ptr: number, len: number, out: number): void;
  sha256(ptr: number, len: number, out: number): void;
  merkleRoot(txids: number, n: number, work: number, out: number): void;
  ed25519Verify(pub: number, sig: number, msg: number, msgLen: number): number;
  ed25519VerifyBatch(batch: number, rand: number, out: number): void;
  ed25519BatchChecks(): number;
  ed25519SingleChecks(): number;
  scalarMulAddModL(out: number, a: number, b: number, c: number): void;
  scalarReduce64(out: number, src: number): void;
  // VDF kernel (wasm/vdf/): pointers into `memory`; elements are 76 u32 slots (74 × 28-bit limbs).
  vdfSetModulus(nPtr: number, negInv: number, onePtr: number): void;
  vdfAlloc(bytes: number): number;
  vdfMontMul(out: number, a: number, b: number): void;
  vdfSquarings(ptr: number, count: number): void;
  vdfPow(out: number, base: number, exp: number, expBytes: number): void;
  vdfPow2(out: number, b1: number, e1: number, b2: number, e2: number, expBytes: number): void;
  vdfWorkspace(bytes: number): number;
  vdfMillerRabin(nPtr: number, basesPtr: number, count: number): number;
  vdfProveChunk(
    out: number,
    checkpoints: number,
    count: number,
    digits: number,
    gamma: number,
    kappa: number,
    buckets: number,
    used: number,
  ): void;
}

/** The ABI version this JS expects; a mismatch means build/ is stale (run `npm run build`). */
export const EXPECTED_ABI_VERSION = 1;

export type WasmTarget = 'debug' | 'release';

const modules = new Map<WasmTarget, WebAssembly.Module>();

/** Where `npm run build` writes the module of `target`. */
export function wasmBuildPath(target: WasmTarget): string {
  return join(packageRoot(), 'build', 'wasm', `${target}.wasm`);
}

/** Compiles a module file; a missing file is an error that says how to make it. */
export function compileWasmFile(path: string): WebAssembly.Module {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new Error(`WASM build missing at ${path}: run \`npm run build\``);
  }
  return new WebAssembly.Module(bytes);
}

/** Compiles the module once per thread and target; instances are cheap to make from it. */
export function wasmModule(target: WasmTarget): WebAssembly.Module {
  let mod = modules.get(target);
  if (!mod) {
    mod = compileWasmFile(wasmBuildPath(target));
    modules.set(target, mod);
  }
  return mod;
}

/**
 * An instance of `mod` whose ABI version matches this JS. An `abort` inside WASM (an assertion of
 * the AssemblyScript runtime, such as an allocation too large) becomes a JS Error naming its place.
 */
export function instantiateModule(mod: WebAssembly.Module): WasmExports {
  const instance = new WebAssembly.Instance(mod, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new Error(`WASM abort at ${line}:${col}`);
      },
    },
  });
  const exports = instance.exports as unknown as WasmExports;
  const abi = exports.abiVersion();
  if (abi !== EXPECTED_ABI_VERSION) {
    throw new Error(
      `WASM ABI ${abi} != expected ${EXPECTED_ABI_VERSION}: stale build, run \`npm run build\``,
    );
  }
  return exports;
}

/** A fresh instance; each worker (and the inline verifier) owns one. */
export function instantiateWasm(target: WasmTarget = 'release'): WasmExports {
  return instantiateModule(wasmModule(target));
}
