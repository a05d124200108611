/**
 * `timecoin/crypto`: Ed25519 (ZIP-215), SHA-2 and merkle roots in WASM, inline on the calling
 * thread or in the worker pool.
 */
import { WasmCrypto } from './wasm-crypto.js';

// VDF beacon (issue 4): inline evaluate / prove / verify; the pool has the same three methods.
export { type VdfOutput, vdfEvaluate, vdfProve, vdfVerify } from '../vdf/vdf.js';
export { CryptoPool, type CryptoPoolOptions, createCryptoPool } from '../workers/crypto-pool.js';
export { MAX_BATCH_SIZE, MAX_BATCH_WAIT_MS } from '../workers/signature-batcher.js';
export { NobleVerifier } from './noble-verifier.js';
export type { SignatureItem, SignatureVerifier } from './signature-verifier.js';
export { WasmCrypto } from './wasm-crypto.js';
export { WasmVerifier } from './wasm-verifier.js';

let inline: WasmCrypto | undefined;
/** The calling thread's WASM instance, created on first use. */
function inlineCrypto(): WasmCrypto {
  inline ??= new WasmCrypto();
  return inline;
}

/** ZIP-215 Ed25519 verification in WASM on the calling thread. Never throws for bad input. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return inlineCrypto().ed25519Verify(publicKey, message, signature);
}

/** RFC 6962 merkle root of 32-byte txids in WASM on the calling thread. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return inlineCrypto().merkleRoot(leaves);
}

/** SHA-256 / SHA-512 in WASM on the calling thread (small inputs: prefer node:crypto's `hash`). */
export function wasmSha256(data: Uint8Array): Uint8Array {
  return inlineCrypto().sha256(data);
}
export function wasmSha512(data: Uint8Array): Uint8Array {
  return inlineCrypto().sha512(data);
}
