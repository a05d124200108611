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

describe('public key policy: the boundaries of its two byte-level checks', () => {
  /** 32 bytes: `low` at byte 0, `fill` in bytes 1…30, `top` at byte 31. */
  const key = (low: number, fill: number, top: number, patch: Record<number, number> = {}) => {
    const k = new Uint8Array(32).fill(fill);
    k[0] = low;
    k[31] = top;
    for (const [i, v] of Object.entries(patch)) k[Number(i)] = v;
    return k;
  };

  it('a y just below p, or with any byte below the all-ones run, is canonical', () => {
    // y = p − 1 − 0x40 … canonical: low byte 0xeb < 0xed.
    expect(publicKeyFault(key(0xeb, 0xff, 0x7f))).toBeNull();
    // Top byte not 0x7f: y < 2^248, canonical whatever the rest.
    expect(publicKeyFault(key(0xff, 0xff, 0x3f))).toBeNull();
    // One byte in the run below 0xff (the last checked, index 1, and a middle one).
    expect(publicKeyFault(key(0xff, 0xff, 0x7f, { 1: 0xfe }))).toBeNull();
    expect(publicKeyFault(key(0xff, 0xff, 0x7f, { 15: 0x00 }))).toBeNull();
    expect(publicKeyFault(key(0xff, 0xff, 0x7f, { 30: 0xfe }))).toBeNull();
    // And at p itself it is not.
    expect(publicKeyFault(key(0xed, 0xff, 0x7f))).toBe('NON_CANONICAL');
  });

  it('a small-order y must match in all 32 bytes (the top byte without the sign bit too)', () => {
    // y = 0 and y = 1 are small order; the same low 31 bytes under another top byte are not.
    expect(publicKeyFault(key(0x00, 0x00, 0x00))).toBe('SMALL_ORDER');
    expect(publicKeyFault(key(0x00, 0x00, 0x80))).toBe('SMALL_ORDER'); // sign bit only
    expect(publicKeyFault(key(0x00, 0x00, 0x01))).toBeNull();
    expect(publicKeyFault(key(0x01, 0x00, 0x40))).toBeNull();
  });

  it('does not decode unless asked: a y with no point is refused only with decodes', () => {
    // Find a canonical, non-small-order y that is not on the curve (about half of all y).
    let off: Uint8Array | undefined;
    for (let y = 2; !off; y++) {
      const k = key(y, 0x00, 0x00);
      try {
        ed25519.Point.fromBytes(k, false);
      } catch {
        off = k;
      }
    }
    expect(publicKeyFault(off)).toBeNull();
    expect(publicKeyFault(off, {})).toBeNull();
    expect(publicKeyFault(off, { decodes: true })).toBe('NOT_ON_CURVE');
  });
});
