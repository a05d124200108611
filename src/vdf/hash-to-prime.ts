import { sha256 } from '../crypto/sha256.js';
import { asciiBytes } from '../encoding/bytes.js';
import { bytesToBigint, encodeElement } from './group.js';
import { isProbablePrime } from './miller-rabin.js';

/**
 * Domain tag of HashToPrime, `TIME:prime:1` + 0x00, built like src/protocol/domain-tags.ts builds
 * its tags (the protocol module's TAG table should adopt it; see docs/protocol.md).
 */
export const PRIME_TAG: Uint8Array = (() => {
  const a = asciiBytes('TIME:prime:1');
  const out = new Uint8Array(a.length + 1);
  out.set(a);
  return out;
})();

const TOP_BIT = 1n << 255n;

/** The preimage of HashToPrime's candidates with the counter field left at zero. */
function primePreimage(x: bigint, y: bigint): Uint8Array {
  const head = PRIME_TAG.length;
  const preimage = new Uint8Array(head + 256 + 256 + 4);
  preimage.set(PRIME_TAG);
  preimage.set(encodeElement(x), head);
  preimage.set(encodeElement(y), head + 256);
  return preimage;
}

function candidateOf(preimage: Uint8Array, counter: number): bigint {
  new DataView(preimage.buffer).setUint32(preimage.length - 4, counter, true);
  return bytesToBigint(sha256(preimage)) | TOP_BIT | 1n;
}

/** The candidate HashToPrime tests for `counter` (exported for tests and docs vectors). */
export function primeCandidate(x: bigint, y: bigint, counter: number): bigint {
  return candidateOf(primePreimage(x, y), counter);
}

/**
 * HashToPrime (DESIGN §6): for counter = 0, 1, …: c = SHA-256(`TIME:prime:1`\0 ‖ x ‖ y ‖
 * u32le(counter)) read big-endian, with bit 255 and bit 0 set; the first c that passes
 * isProbablePrime (fixed bases) is ℓ. x and y are 256-byte big-endian canonical elements, so ℓ is a
 * 256-bit prime bound to both. Returns ℓ and the counter used.
 */
export function hashToPrimeWithCounter(x: bigint, y: bigint): { prime: bigint; counter: number } {
  const preimage = primePreimage(x, y);
  // Primes have density ≈ 1/177 among 256-bit numbers, so 2^32 counters never run out in practice.
  for (let counter = 0; counter <= 0xffff_ffff; counter++) {
    const candidate = candidateOf(preimage, counter);
    if (isProbablePrime(candidate)) return { prime: candidate, counter };
  }
  throw new Error('unreachable: no prime in 2^32 candidates');
}

/** ℓ = HashToPrime(x, y). */
export function hashToPrime(x: bigint, y: bigint): bigint {
  return hashToPrimeWithCounter(x, y).prime;
}
