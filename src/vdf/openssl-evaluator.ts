import { createDiffieHellman } from 'node:crypto';
import {
  bigintToBytes,
  bytesToBigint,
  canonical,
  checkDelay,
  decodeElement,
  encodeElement,
} from './group.js';
import { ELEMENT_BYTES, RSA_2048 } from './rsa2048.js';

/**
 * The fastest VDF evaluator we know, as a yardstick for T (issue 12): OpenSSL's native
 * constant-time Montgomery modexp, reached through node:crypto's Diffie–Hellman. With modulus N,
 * generator x and private key 2^T, `generateKeys()` computes x^(2^T) mod N: T squarings (plus the
 * fixed-window multiplications a constant-time ladder does anyway). OpenSSL does not check that N
 * is prime for this. Not a consensus path: it keeps no checkpoints and proves nothing; the node's
 * evaluator is the WASM kernel. `timecoin vdf calibrate` measures both.
 */

const MODULUS = Buffer.from(bigintToBytes(RSA_2048, ELEMENT_BYTES));

/** 2^t as big-endian bytes (a private key of t + 1 bits). */
function powerOfTwo(t: number): Buffer {
  const key = Buffer.alloc(Math.floor(t / 8) + 1);
  key[0] = 1 << (t % 8);
  return key;
}

/** x^(2^t) mod N, not yet canonical; x is any element 1 ≤ x < N. */
function modexpPowerOfTwo(x: Uint8Array, t: number): bigint {
  const dh = createDiffieHellman(MODULUS, Buffer.from(x));
  dh.setPrivateKey(powerOfTwo(t));
  return bytesToBigint(dh.generateKeys());
}

/** y = canonical(x^(2^T) mod N), the same value as vdfEvaluate's y; x must be a canonical element. */
export function opensslEvaluate(x: Uint8Array, t: number): Uint8Array {
  decodeElement(x, 'x');
  checkDelay(t);
  return encodeElement(canonical(modexpPowerOfTwo(x, t)));
}

/**
 * OpenSSL's sequential squaring rate on this machine: runs of `chunk` squarings, chained, for at
 * least `sampleSeconds`. Each run pays the modulus set-up once (a few microseconds against
 * ~0.1 s of squarings at the default chunk).
 */
export function opensslSquaringsPerSecond(sampleSeconds: number, chunk = 1 << 16): number {
  let v = encodeElement(canonical(123_456_789n));
  modexpPowerOfTwo(v, 1 << 12); // warm-up
  let done = 0;
  const start = performance.now();
  while ((performance.now() - start) / 1000 < sampleSeconds) {
    v = encodeElement(canonical(modexpPowerOfTwo(v, chunk)));
    done += chunk;
  }
  return done / ((performance.now() - start) / 1000);
}
