import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { NobleVerifier, nobleVerify } from '../../../src/crypto/noble-verifier.js';
import { supercopCases, zip215Cases } from './ed25519-vectors.js';

// The in-thread verifier is the fallback the node uses where no pool runs and the reference the
// WASM verifier is compared with, so it must apply the consensus rule (ZIP-215), not RFC 8032's
// stricter decoding, which noble applies when asked to.

describe('nobleVerify: the ZIP-215 rule on the calling thread', () => {
  it('accepts all 196 ZIP-215 vectors, which RFC 8032 decoding partly refuses', () => {
    const cases = zip215Cases();
    expect(cases.length).toBe(196);
    for (const c of cases) expect(nobleVerify(c), c.label).toBe(c.expected);
    // The vectors tell the two rules apart: strict decoding refuses some of them.
    const strict = cases.filter((c) =>
      ed25519.verify(c.signature, c.message, c.publicKey, { zip215: false }),
    );
    expect(strict.length).toBeLessThan(cases.length);
  });

  it('answers false, without throwing, for a key or signature of the wrong length', () => {
    const [c] = supercopCases();
    expect(nobleVerify(c!)).toBe(true);
    expect(nobleVerify({ ...c!, publicKey: c!.publicKey.subarray(0, 31) })).toBe(false);
    expect(nobleVerify({ ...c!, signature: Uint8Array.from([...c!.signature, 0]) })).toBe(false);
  });

  it('NobleVerifier answers a batch item by item, in order', async () => {
    const [a, b] = supercopCases();
    const forged = { ...b!, message: Uint8Array.of(9) };
    expect(await new NobleVerifier().verifyBatch([a!, forged, b!])).toEqual([true, false, true]);
  });
});
