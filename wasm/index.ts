// The WASM ABI: the only file with exports. Each area re-exports its functions here; JS reads the
// list of exports in src/crypto/wasm-instance.ts. No GC objects cross the boundary: functions take
// and return numbers and offsets into linear memory.

/** Bumped whenever an export's meaning changes, so a stale build/ is caught at load time. */
export const ABI_VERSION: u32 = 1;

export function abiVersion(): u32 {
  return ABI_VERSION;
}

// VDF kernel (issue 4): Montgomery arithmetic over RSA-2048, the squaring loop, exponentiation and
// the proof's bucket products. Typed in src/crypto/wasm-instance.ts, wrapped by src/vdf/wasm-vdf.ts.
export { vdfAlloc, vdfSetModulus } from './vdf/layout';
export { vdfMontMul, vdfSquarings } from './vdf/montgomery';
export { vdfPow, vdfPow2 } from './vdf/exponent';
export { vdfProveChunk, vdfWorkspace } from './vdf/proof';
export { vdfMillerRabin } from './vdf/prime';

// Crypto (issue 3): the I/O region JS writes inputs into, SHA-2, merkle, Ed25519.
export { ioCapacity, ioReserve } from './scratch';
export { sha512 } from './sha2/sha512';
export { sha256 } from './sha2/sha256';
export { merkleRoot } from './merkle';
export { ed25519BatchChecks, ed25519SingleChecks, ed25519Verify, ed25519VerifyBatch } from './ed25519/verify';
export { scalarMulAddModL, scalarReduce64 } from './ed25519/scalar';
