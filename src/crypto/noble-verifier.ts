import { ed25519 } from '@noble/curves/ed25519.js';
import type { SignatureItem, SignatureVerifier } from './signature-verifier.js';

/** ZIP-215 Ed25519 verification with @noble/curves on the calling thread (reference and fallback). */
export function nobleVerify(item: SignatureItem): boolean {
  try {
    return ed25519.verify(item.signature, item.message, item.publicKey, { zip215: true });
  } catch {
    return false;
  }
}

export class NobleVerifier implements SignatureVerifier {
  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    return items.map(nobleVerify);
  }
}
