import type { SignatureItem, SignatureVerifier } from './signature-verifier.js';
import { WasmCrypto } from './wasm-crypto.js';

/**
 * The WASM verifier on the calling thread, behind the same interface as the pool: for the CLI,
 * tests and small tools that should not start worker threads.
 */
export class WasmVerifier implements SignatureVerifier {
  constructor(private readonly crypto: WasmCrypto = new WasmCrypto()) {}

  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    return this.crypto.verifyBatch(items);
  }
}
