import { ed25519 } from '@noble/curves/ed25519.js';

/**
 * Which Ed25519 public keys the node accepts as a key (a witness key, a registered node key, a peer
 * identity), on top of ZIP-215 signature verification.
 *
 * ZIP-215 verification accepts small-order A: with A of small order and (R = identity, S = 0) the
 * cofactored equation [8](S·B − k·A − R) = identity holds for EVERY message, so such a key "signs"
 * anything for anyone. An honestly generated key (A = a·B with a clamped scalar) is never small
 * order and is always canonically encoded, so refusing these keys costs honest users nothing.
 *
 * The check is by encoding, O(1), no field arithmetic (it runs once per transaction input):
 * - the encoded y (the low 255 bits, little-endian) must be < p = 2^255 − 19 (canonical);
 * - y must not be the y of one of the 8 small-order points: 0, 1, p − 1, and ±y8 (the order-8
 *   points). Every point with such a y is small order whatever its sign bit, which also covers the
 *   non-canonical "x = 0 with the sign bit set" encodings of y = ±1.
 * `decodes: true` additionally requires the encoding to be a curve point (a square root exists);
 * use it where keys are registered or announced (rare), since a witness key that does not decode
 * fails signature verification anyway.
 */

export type PublicKeyFault = 'LENGTH' | 'NON_CANONICAL' | 'SMALL_ORDER' | 'NOT_ON_CURVE';

const P_MINUS_1_LOW = 0xec;
/** y values (little-endian, 32 bytes, sign bit clear) of the small-order points. */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4 (x = ±√−1)
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2 (y = p − 1)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8 (y = p − y8)
].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));

/** True when the 255-bit little-endian y of `pk` is ≥ p = 2^255 − 19. */
function yNotCanonical(pk: Uint8Array): boolean {
  if ((pk[31]! & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (pk[i] !== 0xff) return false;
  return pk[0]! >= P_MINUS_1_LOW + 1;
}

function hasSmallOrderY(pk: Uint8Array): boolean {
  for (const y of SMALL_ORDER_Y) {
    let same = (pk[31]! & 0x7f) === y[31];
    for (let i = 0; same && i < 31; i++) same = pk[i] === y[i];
    if (same) return true;
  }
  return false;
}

/** Why `pk` is not an acceptable public key, or null when it is. */
export function publicKeyFault(pk: Uint8Array, opts: { decodes?: boolean } = {}): PublicKeyFault | null {
  if (!(pk instanceof Uint8Array) || pk.length !== 32) return 'LENGTH';
  if (yNotCanonical(pk)) return 'NON_CANONICAL';
  if (hasSmallOrderY(pk)) return 'SMALL_ORDER';
  if (opts.decodes) {
    try {
      ed25519.Point.fromBytes(pk, false);
    } catch {
      return 'NOT_ON_CURVE';
    }
  }
  return null;
}

export function isAcceptablePublicKey(pk: Uint8Array, opts: { decodes?: boolean } = {}): boolean {
  return publicKeyFault(pk, opts) === null;
}
