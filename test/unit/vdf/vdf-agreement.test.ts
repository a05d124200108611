import { checkPrimeSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { instantiateWasm } from '../../../src/crypto/wasm-instance.js';
import { evaluateBigint, proveBigint, verifyBigint } from '../../../src/vdf/bigint-vdf.js';
import { bigintToBytes, canonical, encodeElement, modPow } from '../../../src/vdf/group.js';
import { hashToPrime, hashToPrimeWithCounter, primeCandidate } from '../../../src/vdf/hash-to-prime.js';
import { planProof, proofDigits } from '../../../src/vdf/proof-plan.js';
import { RSA_2048 as N } from '../../../src/vdf/rsa2048.js';
import { vdfVerify } from '../../../src/vdf/vdf.js';
import { WasmVdf } from '../../../src/vdf/wasm-vdf.js';

const vdf = new WasmVdf(instantiateWasm('release'));
const randomElement = (): bigint => canonical(BigInt(`0x${randomBytes(260).toString('hex')}`) % N) || 1n;

describe('WASM Montgomery kernel against BigInt', () => {
  it('multiplies 300 random pairs and the edge values exactly', () => {
    const pairs: [bigint, bigint][] = [
      [N - 1n, N - 1n],
      [1n, 1n],
      [0n, N - 1n],
      [(1n << 2047n) + 1n, N - 2n],
    ];
    for (let i = 0; i < 300; i++)
      pairs.push([randomElement(), BigInt(`0x${randomBytes(256).toString('hex')}`) % N]);
    for (const [a, b] of pairs) expect(vdf.mulMod(a, b)).toBe((a * b) % N);
  });

  it('debug and release builds agree', () => {
    const debug = new WasmVdf(instantiateWasm('debug'));
    const a = randomElement();
    expect(debug.squareLoop(a, 50)).toBe(vdf.squareLoop(a, 50));
  });

  it('exponentiates like BigInt modPow for 256-bit and 2048-bit exponents and 0, 1', () => {
    for (const bits of [0, 1, 8, 255, 256, 2048]) {
      const base = randomElement();
      const e =
        bits === 0
          ? 0n
          : BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) >> BigInt((8 - (bits % 8)) % 8);
      expect(vdf.powMod(base, e)).toBe(modPow(base, e, N));
    }
  });
});

describe('HashToPrime', () => {
  it('returns a 256-bit prime (checked by OpenSSL) and is deterministic', () => {
    for (let i = 0; i < 8; i++) {
      const x = randomElement();
      const y = randomElement();
      const t = 1000 + i;
      const { prime, counter } = hashToPrimeWithCounter(x, y, t);
      expect(prime.toString(2).length).toBe(256);
      expect(checkPrimeSync(bigintToBytes(prime, 32), { checks: 64 })).toBe(true);
      expect(hashToPrime(x, y, t)).toBe(prime);
      expect(primeCandidate(x, y, t, counter)).toBe(prime);
      // It is the first prime candidate: every earlier counter's candidate is composite.
      for (let c = 0; c < counter; c++)
        expect(checkPrimeSync(bigintToBytes(primeCandidate(x, y, t, c), 32), { checks: 32 })).toBe(false);
      // ℓ is bound to the order of (x, y) and to T (Fiat–Shamir over the whole statement).
      expect(hashToPrime(y, x, t)).not.toBe(prime);
      expect(hashToPrime(x, y, t + 1)).not.toBe(prime);
    }
  });
});

describe('proof digits', () => {
  it('are the κ-bit digits of ⌊2^T/ℓ⌋', () => {
    const l = hashToPrime(3n, 5n, 1000);
    for (const [t, kappa] of [
      [1000, 7],
      [777, 10],
      [300, 14],
      [64, 3],
    ] as const) {
      const q = (1n << BigInt(t)) / l;
      const m = Math.ceil(t / kappa) + 3;
      const digits = proofDigits(t, l, kappa, 0, m);
      for (let j = 0; j < m; j++)
        expect(BigInt(digits[j] as number)).toBe((q >> BigInt(j * kappa)) & ((1n << BigInt(kappa)) - 1n));
      // A window starting mid-way gives the same digits.
      expect(Array.from(proofDigits(t, l, kappa, 5, m - 5))).toEqual(Array.from(digits.subarray(5)));
    }
  });
});

describe('evaluate / prove / verify: WASM agrees with the BigInt oracle', () => {
  const cases: [number, number][] = [
    [1, 1],
    [2, 1],
    [37, 1],
    [256, 2],
    [1000, 1],
    [1000, 4],
    [2049, 2],
  ];
  it.each(cases)('T = %i, %i worker share(s)', (t, workers) => {
    for (let rep = 0; rep < 3; rep++) {
      const x = randomElement();
      const y = evaluateBigint(x, t);
      const pi = proveBigint(x, y, t);
      expect(verifyBigint(x, y, pi, t)).toBe(true);

      const plan = planProof(t, workers, 8);
      const e = vdf.evaluate(x, t, plan, { chunk: 7 });
      expect(e.y).toBe(y);
      // Split the checkpoints across `workers` shares exactly as the pool does.
      const count = e.checkpoints.length / 76;
      const l = hashToPrime(x, y, t);
      let product = 1n;
      const per = Math.ceil(count / workers);
      for (let first = 0; first < count; first += per) {
        const n = Math.min(per, count - first);
        product =
          (product *
            vdf.provePartial(e.checkpoints.slice(first * 76, (first + n) * 76), first, n, t, l, plan)) %
          N;
      }
      expect(canonical(product)).toBe(pi);
      expect(vdf.prove(x, e)).toBe(pi);
      expect(vdf.verify(x, y, pi, t)).toBe(true);
    }
  });

  it('rejects a wrong y, a wrong π, a wrong T, x outside the group and non-canonical y/π', () => {
    const t = 500;
    const x = randomElement();
    const y = evaluateBigint(x, t);
    const pi = proveBigint(x, y, t);
    const other = randomElement();
    for (const check of [
      vdf.verify.bind(vdf),
      (a: bigint, b: bigint, c: bigint, d: number) => verifyBigint(a, b, c, d),
    ]) {
      expect(check(x, y, pi, t)).toBe(true);
      expect(check(x, other, pi, t)).toBe(false);
      expect(check(x, y, other, t)).toBe(false);
      expect(check(x, y, pi, t + 1)).toBe(false);
      expect(check(x, y, pi, t - 1)).toBe(false);
      expect(check(x, y, pi, 0)).toBe(false);
      expect(check(x, y, pi, 1.5)).toBe(false);
      expect(check(0n, y, pi, t)).toBe(false);
      expect(check(N, y, pi, t)).toBe(false);
      expect(check(N + x, y, pi, t)).toBe(false);
      expect(check(N - x, y, pi, t)).toBe(false);
      expect(check(x, N - y, pi, t)).toBe(false);
      expect(check(x, y, N - pi, t)).toBe(false);
      expect(check(x, y, -pi, t)).toBe(false);
    }
  });

  it('π from the bucket method equals the naive long-division π for a larger T (4096)', () => {
    const x = randomElement();
    const t = 4096;
    const e = vdf.evaluate(x, t, planProof(t, 2, 16));
    expect(vdf.prove(x, e)).toBe(proveBigint(x, e.y, t));
  });
});

describe('joint exponentiation (Shamir) used by verify', () => {
  it('b1^e1 · b2^e2 matches BigInt for 256-bit, unequal and zero exponents', () => {
    const rnd = (bytes: number) => (bytes === 0 ? 0n : BigInt(`0x${randomBytes(bytes).toString('hex')}`));
    for (const [l1, l2] of [
      [32, 32],
      [32, 5],
      [1, 32],
      [0, 32],
      [32, 0],
      [0, 0],
    ] as const) {
      const b1 = randomElement();
      const b2 = randomElement();
      const e1 = rnd(l1);
      const e2 = rnd(l2);
      expect(vdf.powMod2(b1, e1, b2, e2)).toBe((modPow(b1, e1, N) * modPow(b2, e2, N)) % N);
    }
  });
});

describe('T = 0 is refused even with a proof that satisfies the equation (issue 15)', () => {
  // For T = 0: y = x^(2^0) = x and r = 2^0 mod ℓ = 1, so π = 1 gives π^ℓ · x^r = x = y: only the
  // T ≥ 1 rule refuses it (verify must answer false, not throw from HashToPrime's own T check).
  // T = 1 is the control: y = x², π = x^⌊2/ℓ⌋ = 1 is an honest proof.
  const x = randomElement();
  const one = 1n;

  it('the fixture: π = 1 satisfies the verification equation for T = 0, whatever the prime ℓ', () => {
    // HashToPrime refuses T = 0 itself, so take the ℓ of T = 1 (any odd prime gives r = 1).
    const l = hashToPrime(x, x, 1);
    const r = modPow(2n, 0n, l);
    expect(r).toBe(1n);
    expect(canonical((modPow(one, l, N) * modPow(x, r, N)) % N)).toBe(x);
  });

  it('WASM, BigInt and the byte-level vdfVerify all answer false for (x, y = x, π = 1, T = 0)', () => {
    expect(vdf.verify(x, x, one, 0)).toBe(false);
    expect(verifyBigint(x, x, one, 0)).toBe(false);
    expect(vdfVerify(encodeElement(x), encodeElement(x), encodeElement(one), 0)).toBe(false);
  });

  it('the T = 1 control with the same trivial proof is valid in all three', () => {
    const y = evaluateBigint(x, 1);
    expect(y).toBe(canonical((x * x) % N));
    expect(proveBigint(x, y, 1)).toBe(one);
    expect(vdf.verify(x, y, one, 1)).toBe(true);
    expect(verifyBigint(x, y, one, 1)).toBe(true);
    expect(vdfVerify(encodeElement(x), encodeElement(y), encodeElement(one), 1)).toBe(true);
  });
});
