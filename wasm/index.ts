// The WASM ABI: the only file with exports. Each area re-exports its functions here; JS reads the
// list of exports in src/crypto/wasm-instance.ts. No GC objects cross the boundary: functions take
// and return numbers and offsets into linear memory.

/** Bumped whenever an export's meaning changes, so a stale build/ is caught at load time. */
export const ABI_VERSION: u32 = 1;

export function abiVersion(): u32 {
  return ABI_VERSION;
}

// Exports are listed in module order (biome sorts them); each group says who wraps it in JS.

// Crypto (issue 3), wrapped by src/crypto/wasm-crypto.ts: Ed25519 scalars and verification
// (ZIP-215, single and batch), the RFC 6962 merkle root, the I/O region JS writes inputs into, SHA-2.
export { scalarMulAddModL, scalarReduce64 } from './ed25519/scalar';
export { ed25519BatchChecks, ed25519SingleChecks, ed25519Verify, ed25519VerifyBatch } from './ed25519/verify';
export { merkleRoot } from './merkle';
export { ioCapacity, ioReserve } from './scratch';
export { sha256 } from './sha2/sha256';
export { sha512 } from './sha2/sha512';
// VDF kernel (issue 4), wrapped by src/vdf/wasm-vdf.ts: Montgomery arithmetic over RSA-2048, the
// squaring loop, exponentiation, the proof's bucket products and Miller–Rabin.
export { vdfPow, vdfPow2 } from './vdf/exponent';
export { vdfAlloc, vdfSetModulus } from './vdf/layout';
export { vdfMontMul, vdfSquarings } from './vdf/montgomery';
export { vdfMillerRabin } from './vdf/prime';
export { vdfProveChunk, vdfWorkspace } from './vdf/proof';
