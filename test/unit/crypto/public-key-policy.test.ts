import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { isAcceptablePublicKey, publicKeyFault } from '../../../src/crypto/public-key-policy.js';

const P = ed25519.Point;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** The 8 small-order points, derived by @noble (the oracle): the torsion parts of random points. */
function smallOrderPoints(): Set<string> {
  const L = P.Fn.ORDER;
  const out = new Set<string>();
  for (let i = 1; out.size < 8 && i < 256; i++) {
    const b = new Uint8Array(32);
    b[0] = i;
    let pt: InstanceType<typeof P>;
    try {
      pt = P.fromBytes(b, true);
    } catch {
      continue;
    }
    const torsion = pt.multiplyUnsafe(L - 1n).add(pt); // L·pt: kills the prime-order part
    for (let k = 0n; k < 8n; k++) out.add(hex((k === 0n ? P.ZERO : torsion.multiplyUnsafe(k)).toBytes()));
  }
  return out;
}

/** Every 32-byte encoding noble (ZIP-215 decoding) reads as a small-order point, from a list. */
function nobleSmallOrder(pk: Uint8Array): boolean {
  try {
    return P.fromBytes(pk, true).isSmallOrder();
  } catch {
    return false;
  }
}

function nobleCanonical(pk: Uint8Array): boolean {
  try {
    P.fromBytes(pk, false);
    return true;
  } catch {
    return false;
  }
}

describe('public key policy', () => {
  it('refuses all 8 small-order points (canonical encodings), found independently by @noble', () => {
    const pts = smallOrderPoints();
    expect(pts.size).toBe(8);
    for (const h of pts) expect(publicKeyFault(bytes(h)), h).toBe('SMALL_ORDER');
  });

  it('refuses every non-canonical y (y = p … 2^255 − 1) with either sign bit', () => {
    for (let low = 0xed; low <= 0xff; low++) {
      for (const sign of [0x7f, 0xff]) {
        const pk = new Uint8Array(32).fill(0xff);
        pk[0] = low;
        pk[31] = sign;
        expect(publicKeyFault(pk)).toBe('NON_CANONICAL');
        expect(nobleCanonical(pk)).toBe(false);
      }
    }
    // p − 1 itself is canonical (it is the order-2 point), so the boundary is exact.
    const pMinus1 = bytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(publicKeyFault(pMinus1)).toBe('SMALL_ORDER');
  });

  it('agrees with @noble on the ZIP-215 and edge-case vector keys', () => {
    const zip = JSON.parse(readFileSync('../shared/vectors/ed25519/zip215.json', 'utf8')) as {
      vk_bytes: string;
    }[];
    const edge = JSON.parse(readFileSync('../shared/vectors/ed25519/edge-cases.json', 'utf8')) as {
      pub_key: string;
    }[];
    const keys = new Set([...zip.map((v) => v.vk_bytes), ...edge.map((v) => v.pub_key)]);
    expect(keys.size).toBeGreaterThan(10);
    let refused = 0;
    for (const h of keys) {
      const pk = bytes(h);
      const oracleOk = nobleCanonical(pk) && !nobleSmallOrder(pk);
      expect(isAcceptablePublicKey(pk, { decodes: true }), h).toBe(oracleOk);
      if (!oracleOk) refused++;
    }
    expect(refused).toBeGreaterThan(5);
  });

  it('accepts honestly generated keys and refuses a non-point only when asked to decode', () => {
    for (let i = 0; i < 200; i++) {
      const pk = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
      expect(publicKeyFault(pk, { decodes: true })).toBeNull();
    }
    // y = 2 is not the y of any curve point (no square root).
    const notOnCurve = new Uint8Array(32);
    notOnCurve[0] = 2;
    expect(nobleCanonical(notOnCurve)).toBe(false);
    expect(publicKeyFault(notOnCurve)).toBeNull();
    expect(publicKeyFault(notOnCurve, { decodes: true })).toBe('NOT_ON_CURVE');
    expect(publicKeyFault(new Uint8Array(31))).toBe('LENGTH');
  });
});
