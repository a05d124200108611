import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluateBigint } from '../../../src/vdf/bigint-vdf.js';
import { canonical, decodeElement, encodeElement } from '../../../src/vdf/group.js';
import { opensslEvaluate, opensslSquaringsPerSecond } from '../../../src/vdf/openssl-evaluator.js';
import { RSA_2048 } from '../../../src/vdf/rsa2048.js';
import { vdfEvaluate } from '../../../src/vdf/vdf.js';

const randomElement = () =>
  encodeElement(canonical(BigInt(`0x${randomBytes(256).toString('hex')}`) % RSA_2048));

describe('OpenSSL reference evaluator (node:crypto Diffie–Hellman with private key 2^T)', () => {
  it('agrees with our VDF (WASM) and the BigInt oracle on small T, including every T mod 8', () => {
    for (const t of [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1000, 4096]) {
      const x = randomElement();
      const y = opensslEvaluate(x, t);
      expect(Buffer.from(y).toString('hex'), `T = ${t}`).toBe(
        Buffer.from(vdfEvaluate(x, t).y).toString('hex'),
      );
      if (t <= 1000) expect(decodeElement(y)).toBe(evaluateBigint(decodeElement(x), t));
    }
  });

  it('refuses non-canonical inputs and a bad T like the VDF does', () => {
    expect(() => opensslEvaluate(new Uint8Array(256), 10)).toThrow(/VDF_BAD_ELEMENT/);
    expect(() => opensslEvaluate(randomElement(), 0)).toThrow(/VDF_BAD_DELAY/);
  });

  it('measures a positive squaring rate', () => {
    expect(opensslSquaringsPerSecond(0.05, 1 << 10)).toBeGreaterThan(1_000);
  });
});
