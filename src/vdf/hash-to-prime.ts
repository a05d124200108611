import { createHash } from 'node:crypto';
import { sha256 } from '../crypto/sha256.js';
import { TAG } from '../protocol/domain-tags.js';
import { bytesToBigint, checkDelay, encodeElement } from './group.js';
import { isProbablePrime } from './miller-rabin.js';
import { sharedPrimality, WasmPrimality } from './wasm-prime.js';

/** Domain tag of HashToPrime (`TIME:prime:1` + 0x00), from the protocol's one tag table. */
export const PRIME_TAG: Uint8Array = TAG.prime;

/**
 * The preimage of HashToPrime's candidates, `TIME:prime:1`\0 ‖ x ‖ y ‖ u64le(T) ‖ u32le(counter),
 * with the counter left at zero. T is in the preimage so the challenge ℓ binds the whole statement
 * "y = x^(2^T)" (Fiat–Shamir over every public input): without it, a proof would be safe only
 * because T happens to be a chain constant.
 */
function primePreimage(x: bigint, y: bigint, t: number): Uint8Array {
  checkDelay(t);
  const head = PRIME_TAG.length;
  const preimage = new Uint8Array(head + 256 + 256 + 8 + 4);
  preimage.set(PRIME_TAG);
  preimage.set(encodeElement(x), head);
  preimage.set(encodeElement(y), head + 256);
  new DataView(preimage.buffer).setBigUint64(head + 512, BigInt(t), true);
  return preimage;
}

function candidateBytes(preimage: Uint8Array, counter: number): Uint8Array {
  new DataView(preimage.buffer).setUint32(preimage.length - 4, counter, true);
  const h = new Uint8Array(sha256(preimage));
  h[0] = (h[0] as number) | 0x80; // bit 255
  h[31] = (h[31] as number) | 1; // bit 0
  return h;
}

/** The candidate HashToPrime tests for `counter` (exported for tests and docs vectors). */
export function primeCandidate(x: bigint, y: bigint, t: number, counter: number): bigint {
  return bytesToBigint(candidateBytes(primePreimage(x, y, t), counter));
}

/**
 * HashToPrime (DESIGN §6): for counter = 0, 1, …: c = SHA-256(`TIME:prime:1`\0 ‖ x ‖ y ‖ u64le(T) ‖
 * u32le(counter)) read big-endian, with bit 255 and bit 0 set; the first c that passes
 * isProbablePrime (trial division by odd primes < 1,000, then Miller–Rabin with the 12 fixed
 * bases) is ℓ. x and y are 256-byte big-endian canonical elements, so ℓ is a 256-bit prime bound
 * to both. `oracle: true` runs the plain BigInt test instead of the WASM fast path (same answer).
 */
export function hashToPrimeWithCounter(
  x: bigint,
  y: bigint,
  t: number,
  opts: { oracle?: boolean } = {},
): { prime: bigint; counter: number } {
  const preimage = primePreimage(x, y, t);
  const fast = opts.oracle ? undefined : sharedPrimality();
  // The 533 bytes before the counter are hashed once; each candidate only finishes the hash.
  const prefix = createHash('sha256').update(preimage.subarray(0, preimage.length - 4));
  const counterBytes = new Uint8Array(4);
  const counterView = new DataView(counterBytes.buffer);
  // Primes have density ≈ 1/177 among 256-bit numbers, so 2^32 counters never run out in practice.
  for (let counter = 0; counter <= 0xffff_ffff; counter++) {
    let bytes: Uint8Array;
    if (fast) {
      counterView.setUint32(0, counter, true);
      bytes = prefix.copy().update(counterBytes).digest();
      bytes[0] = (bytes[0] as number) | 0x80;
      bytes[31] = (bytes[31] as number) | 1;
    } else bytes = candidateBytes(preimage, counter);
    if (fast) {
      if (!WasmPrimality.passesTrialDivision(bytes)) continue;
      const candidate = bytesToBigint(bytes);
      if (fast.millerRabin(candidate)) return { prime: candidate, counter };
    } else {
      const candidate = bytesToBigint(bytes);
      if (isProbablePrime(candidate)) return { prime: candidate, counter };
    }
  }
  throw new Error('unreachable: no prime in 2^32 candidates');
}

/** ℓ = HashToPrime(x, y, T). */
export function hashToPrime(x: bigint, y: bigint, t: number, opts: { oracle?: boolean } = {}): bigint {
  return hashToPrimeWithCounter(x, y, t, opts).prime;
}
