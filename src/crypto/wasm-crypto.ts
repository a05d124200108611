import { randomFillSync } from 'node:crypto';
import { decodeLeafRootsTask } from './leaf-roots-codec.js';
import { decodeSignatureBatch, encodeSignatureBatch } from './signature-batch-codec.js';
import type { SignatureItem } from './signature-verifier.js';
import { instantiateWasm, type WasmExports } from './wasm-instance.js';

/** Fills a buffer with the batch coefficients' randomness; injectable so tests can fix it. */
export type RandomFill = (into: Uint8Array) => void;

const osRandom: RandomFill = (into) => {
  randomFillSync(into);
};

/**
 * Thin typed functions over one WASM instance. Inputs are copied into the instance's I/O region
 * with a single `set` per call and outputs read back from it; the region only grows, so steady
 * state allocates nothing inside WASM.
 */
export class WasmCrypto {
  private bytes: Uint8Array;

  constructor(
    readonly wasm: WasmExports = instantiateWasm('release'),
    private readonly random: RandomFill = osRandom,
  ) {
    this.bytes = new Uint8Array(wasm.memory.buffer);
  }

  /** Reserves `size` bytes of I/O region and returns its offset, with a fresh view if memory grew. */
  private reserve(size: number): number {
    const at = this.wasm.ioReserve(size);
    if (this.bytes.buffer !== this.wasm.memory.buffer) this.bytes = new Uint8Array(this.wasm.memory.buffer);
    return at;
  }

  /** ZIP-215 Ed25519 verification of one signature. Wrong-length keys or signatures are false. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    const at = this.reserve(96 + message.length);
    const mem = this.bytes;
    mem.set(publicKey, at);
    mem.set(signature, at + 32);
    mem.set(message, at + 96);
    return this.wasm.ed25519Verify(at, at + 32, at + 96, message.length) === 1;
  }

  /**
   * Verifies a batch encoded by signature-batch-codec.ts; returns one byte per item (1 valid).
   * The batch equation is randomized with fresh coefficients per call. A buffer whose lengths do
   * not add up throws BadSignatureBatchError.
   */
  verifyEncodedBatch(encoded: Uint8Array): Uint8Array {
    // Validate the layout first: WASM trusts every offset it is given.
    const { count } = decodeSignatureBatch(encoded);
    const randAt = alignUp(encoded.length);
    const outAt = randAt + 16 * count;
    const at = this.reserve(outAt + count);
    const mem = this.bytes;
    mem.set(encoded, at);
    this.random(mem.subarray(at + randAt, at + outAt));
    this.wasm.ed25519VerifyBatch(at, at + randAt, at + outAt);
    return mem.slice(at + outAt, at + outAt + count);
  }

  /** What the last batch call did: batch-equation checks and single-signature checks. */
  lastBatchWork(): { batchChecks: number; singleChecks: number } {
    return { batchChecks: this.wasm.ed25519BatchChecks(), singleChecks: this.wasm.ed25519SingleChecks() };
  }

  /** (a * b + c) mod L on 32-byte little-endian scalars (exposed for tests). */
  scalarMulAdd(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
    const at = this.reserve(128);
    this.bytes.set(a, at);
    this.bytes.set(b, at + 32);
    this.bytes.set(c, at + 64);
    this.wasm.scalarMulAddModL(at + 96, at, at + 32, at + 64);
    return this.bytes.slice(at + 96, at + 128);
  }

  /** (64-byte little-endian value) mod L (exposed for tests). */
  scalarReduce64(wide: Uint8Array): Uint8Array {
    const at = this.reserve(96);
    this.bytes.set(wide, at);
    this.wasm.scalarReduce64(at + 64, at);
    return this.bytes.slice(at + 64, at + 96);
  }

  verifyBatch(items: readonly SignatureItem[]): boolean[] {
    return Array.from(this.verifyEncodedBatch(encodeSignatureBatch(items)), (b) => b === 1);
  }

  sha256(data: Uint8Array): Uint8Array {
    const outAt = alignUp(data.length);
    const at = this.reserve(outAt + 32);
    this.bytes.set(data, at);
    this.wasm.sha256(at, data.length, at + outAt);
    return this.bytes.slice(at + outAt, at + outAt + 32);
  }

  /** RFC 6962 merkle root of 32-byte txids (see src/protocol/merkle.ts for the rules). */
  merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
    const packed = new Uint8Array(32 * txids.length);
    txids.forEach((id, i) => {
      if (id.length !== 32) throw new RangeError(`txid ${i} is ${id.length} bytes, expected 32`);
      packed.set(id, 32 * i);
    });
    return this.merkleRootPacked(packed);
  }

  /** Merkle root of txids packed back to back (32 bytes each), as they cross threads. */
  merkleRootPacked(packed: Uint8Array): Uint8Array {
    if (packed.length % 32 !== 0) throw new RangeError('packed txids must be a multiple of 32 bytes');
    const n = packed.length / 32;
    const at = this.reserve(packed.length + 32);
    this.bytes.set(packed, at);
    // The txids are a copy, so the tree is hashed in place over them.
    this.wasm.merkleRoot(at, n, at, at + packed.length);
    return this.bytes.slice(at + packed.length, at + packed.length + 32);
  }

  /**
   * Both roots of an encoded leaf-roots task (leaf-roots-codec.ts): merkle root of the ids ‖
   * merkle root of SHA-256(prefix ‖ item) per item, 64 bytes.
   */
  leafRootsPacked(task: Uint8Array): Uint8Array {
    const { prefix, ids, items } = decodeLeafRootsTask(task);
    const out = new Uint8Array(64);
    out.set(this.merkleRootPacked(ids), 0);
    const leaves = new Uint8Array(32 * items.length);
    let longest = 0;
    for (const it of items) longest = Math.max(longest, it.length);
    const preimage = new Uint8Array(prefix.length + longest);
    preimage.set(prefix);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      preimage.set(item, prefix.length);
      leaves.set(this.sha256(preimage.subarray(0, prefix.length + item.length)), 32 * i);
    }
    out.set(this.merkleRootPacked(leaves), 32);
    return out;
  }

  sha512(data: Uint8Array): Uint8Array {
    const outAt = alignUp(data.length);
    const at = this.reserve(outAt + 64);
    this.bytes.set(data, at);
    this.wasm.sha512(at, data.length, at + outAt);
    return this.bytes.slice(at + outAt, at + outAt + 64);
  }
}

function alignUp(n: number): number {
  return (n + 7) & ~7;
}
