import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { instantiateWasm } from '../../../src/crypto/wasm-instance.js';
import { VdfError } from '../../../src/vdf/errors.js';
import { hashToPrime } from '../../../src/vdf/hash-to-prime.js';
import { isProbablePrime } from '../../../src/vdf/miller-rabin.js';
import {
  checkpointCount,
  MAX_CHECKPOINTS,
  type ProofPlan,
  planProof,
  proofDigits,
} from '../../../src/vdf/proof-plan.js';
import { RSA_2048 } from '../../../src/vdf/rsa2048.js';
import { sharedPrimality, WasmPrimality } from '../../../src/vdf/wasm-prime.js';
import { ELEM_SLOTS, WasmVdf, wasmVdfFor } from '../../../src/vdf/wasm-vdf.js';
import { thrownAs } from '../../support/thrown.js';

// Plain BigInt oracles, written out here so the test does not lean on the code under test.
const modPow = (base: bigint, exp: bigint, m: bigint): bigint => {
  let result = 1n % m;
  let b = ((base % m) + m) % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
};
const canonical = (v: bigint, n: bigint = RSA_2048): bigint => {
  const r = ((v % n) + n) % n;
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints
  return n - r < r ? n - r : r;
};
const evaluateBigint = (x: bigint, t: number, n: bigint = RSA_2048): bigint =>
  canonical(modPow(x, 1n << BigInt(t), n), n);
/** π = x^⌊2^T/ℓ⌋ with ℓ from the BigInt HashToPrime path. */
const proveBigint = (x: bigint, y: bigint, t: number, n: bigint = RSA_2048): bigint =>
  canonical(modPow(x, (1n << BigInt(t)) / hashToPrime(x, y, t, { oracle: true }), n), n);
const verifyBigint = (x: bigint, y: bigint, pi: bigint, t: number, n: bigint = RSA_2048): boolean => {
  const half = (n - 1n) / 2n;
  if ([x, y, pi].some((v) => v < 1n || v > half)) return false;
  const l = hashToPrime(x, y, t, { oracle: true });
  return canonical(modPow(pi, l, n) * modPow(x, modPow(2n, BigInt(t), l), n), n) === y;
};
const SMALL_PRIMES: bigint[] = [];
for (let p = 3n; p < 1000n; p += 2n) if (SMALL_PRIMES.every((q) => p % q !== 0n)) SMALL_PRIMES.push(p);
const bigintToBytes = (v: bigint, length: number): Uint8Array =>
  Uint8Array.from(Buffer.from(v.toString(16).padStart(length * 2, '0'), 'hex'));

/** A small RSA-like modulus: the product of the Mersenne primes 2^127 − 1 and 2^89 − 1. */
const SMALL_N = ((1n << 127n) - 1n) * ((1n << 89n) - 1n);
const rsa = new WasmVdf(instantiateWasm('release'));
const small = new WasmVdf(instantiateWasm('release'), SMALL_N);

const plan = (kappa: number, gamma: number, interval = kappa * gamma): ProofPlan => ({
  kappa,
  gamma,
  interval,
});
const rand = (bytes: number): bigint => BigInt(`0x${randomBytes(bytes).toString('hex')}`);
const randomElement = (n: bigint): bigint => canonical(rand(260) % n, n) || 1n;
/** Elements at both ends of the canonical range, plus random ones. */
const elements = (n: bigint): bigint[] => [
  1n,
  2n,
  (n - 1n) / 2n,
  (n - 3n) / 2n,
  randomElement(n),
  randomElement(n),
];

describe('WasmVdf modulus rules', () => {
  const wasm = instantiateWasm('release');
  it.each([
    ['even', 1_000_000n],
    ['even and large', (1n << 2047n) + 2n],
    ['zero', 0n],
    ['one', 1n],
    ['negative odd', -3n],
    ['too large for R (4N > 2^2072)', (1n << 2070n) + 1n],
    ['far too large', (1n << 2100n) + 1n],
  ])('refuses a %s modulus with VDF_BAD_MODULUS', (_what, n) => {
    const e = thrownAs(() => new WasmVdf(wasm, n), VdfError);
    expect(e.code).toBe('VDF_BAD_MODULUS');
    expect(e.message).toBe('VDF_BAD_MODULUS: modulus must be odd with 4N ≤ 2^2072');
  });

  it('accepts the smallest modulus, 3, and the largest odd one that fits R, 2^2070 − 1', () => {
    const three = new WasmVdf(instantiateWasm('release'), 3n);
    expect(three.mulMod(2n, 2n)).toBe(1n);
    expect(three.powMod(2n, 5n)).toBe(2n);
    const big = (1n << 2070n) - 1n;
    const top = new WasmVdf(instantiateWasm('release'), big);
    for (const [a, b] of [
      [big - 1n, big - 1n],
      [big - 2n, (1n << 2069n) + 12345n],
      [rand(259) % big, rand(259) % big],
    ] as const)
      expect(top.mulMod(a, b)).toBe((a * b) % big);
    const x = rand(200) % big;
    expect(top.powMod(x, 0xfffn)).toBe(modPow(x, 0xfffn, big));
  });
});

describe('WasmVdf arithmetic against BigInt', () => {
  const exponents = [0n, 1n, 2n, 0xfn, 0xabcn, 0x1_0000n, rand(31) | (1n << 247n), rand(32), rand(33)];

  it('powMod agrees with modPow for odd- and even-length exponents and bases near the modulus', () => {
    for (const [vdf, n] of [
      [rsa, RSA_2048],
      [small, SMALL_N],
    ] as const)
      for (const base of [2n, n - 1n, (n - 1n) / 2n, randomElement(n)])
        for (const e of exponents) expect(vdf.powMod(base, e), `${base}^${e}`).toBe(modPow(base, e, n));
  });

  it('powMod2 agrees with two modPows for equal, unequal and zero exponents', () => {
    for (const [vdf, n] of [
      [rsa, RSA_2048],
      [small, SMALL_N],
    ] as const)
      for (let i = 0; i < exponents.length; i++) {
        const e1 = exponents[i] as bigint;
        const e2 = exponents[(i * 7 + 3) % exponents.length] as bigint;
        const b1 = i % 2 ? n - 1n - BigInt(i) : randomElement(n);
        const b2 = randomElement(n);
        expect(vdf.powMod2(b1, e1, b2, e2)).toBe((modPow(b1, e1, n) * modPow(b2, e2, n)) % n);
        expect(vdf.powMod2(b1, e1, b2, e1)).toBe((modPow(b1, e1, n) * modPow(b2, e1, n)) % n);
      }
  });

  it('a fresh instance gets the first exponentiations right (nothing lands on live memory)', () => {
    for (const [e1, e2] of [
      [rand(32), rand(31)],
      [rand(256), 3n],
      [rand(300), rand(100)],
    ] as const) {
      const fresh = new WasmVdf(instantiateWasm('release'));
      const b1 = randomElement(RSA_2048);
      const b2 = randomElement(RSA_2048);
      expect(fresh.powMod2(b1, e1, b2, e2)).toBe(
        (modPow(b1, e1, RSA_2048) * modPow(b2, e2, RSA_2048)) % RSA_2048,
      );
      expect(fresh.mulMod(b1, b2)).toBe((b1 * b2) % RSA_2048);
      expect(fresh.powMod(b2, e2)).toBe(modPow(b2, e2, RSA_2048));
    }
  });
});

describe('WasmVdf evaluate / prove / verify against the BigInt oracle', () => {
  const cases: [WasmVdf, bigint][] = [
    [small, SMALL_N],
    [rsa, RSA_2048],
  ];

  it('evaluates, saves the checkpoints and proves exactly like the BigInt implementation', () => {
    const plans = (t: number) => [planProof(t), plan(1, 1), plan(3, 2), plan(2, 5), plan(5, 1), plan(4, 64)];
    for (const [vdf, n] of cases)
      for (const t of [1, 7, 30])
        for (const [k, x] of elements(n).entries()) {
          const p = plans(t)[(k + t) % 6] as ProofPlan;
          const e = vdf.evaluate(x, t, p);
          const y = evaluateBigint(x, t, n);
          expect(e.y).toBe(y);
          expect(e.t).toBe(t);
          expect(e.plan).toEqual(p);
          const count = checkpointCount(t, p.interval);
          expect(e.checkpoints.length).toBe(count * ELEM_SLOTS);
          for (let i = 0; i < count; i++) {
            const c = vdf.fromMont(vdf.readLimbs(i * ELEM_SLOTS * 4, e.checkpoints));
            expect(c).toBe(modPow(x, 1n << BigInt(i * p.interval), n));
          }
          const pi = vdf.prove(x, e);
          expect(pi).toBe(proveBigint(x, y, t, n));
          expect(vdf.verify(x, y, pi, t)).toBe(true);
          expect(verifyBigint(x, y, pi, t, n)).toBe(true);
          expect(vdf.verify(x, y, canonical(pi * 2n, n), t)).toBe(false);
        }
  });

  it('the widest digits (κ = 14) give the same proof', () => {
    const x = randomElement(RSA_2048);
    const t = 40;
    const e = rsa.evaluate(x, t, plan(14, 1));
    expect(e.y).toBe(evaluateBigint(x, t));
    expect(rsa.prove(x, e)).toBe(proveBigint(x, e.y, t));
  });

  it('provePartial computes x^⌊2^T/ℓ⌋ for any ℓ, also small ones whose low digits are non-zero', () => {
    const x = randomElement(SMALL_N);
    for (const [t, p] of [
      [40, plan(2, 3)],
      [24, plan(4, 2)],
      [33, plan(3, 1)],
      [12, plan(1, 4)],
    ] as const) {
      const e = small.evaluate(x, t, p);
      const count = e.checkpoints.length / ELEM_SLOTS;
      for (const l of [3n, 5n, 7n, 1000003n, (1n << 61n) - 1n, hashToPrime(x, e.y, t)]) {
        const want = modPow(x, (1n << BigInt(t)) / l, SMALL_N);
        expect(small.provePartial(e.checkpoints, 0, count, t, l, p), `T=${t} ℓ=${l}`).toBe(want);
        // Split into ranges, as the worker pool does; the partial products multiply to the same π.
        let product = 1n;
        for (let first = 0; first < count; first += 2) {
          const n = Math.min(2, count - first);
          const part = e.checkpoints.slice(first * ELEM_SLOTS, (first + n) * ELEM_SLOTS);
          product = (product * small.provePartial(part, first, n, t, l, p)) % SMALL_N;
        }
        expect(product).toBe(want);
      }
    }
  });

  it('an empty range contributes 1', () => {
    const l = hashToPrime(5n, 7n, 10);
    expect(rsa.provePartial(new Uint32Array(0), 0, 0, 10, l, plan(2, 1))).toBe(1n);
    expect(rsa.provePartial(new Uint32Array(0), 3, 0, 10, l, plan(2, 1))).toBe(1n);
  });

  it('verify refuses a non-canonical x even when the equation would hold for it', () => {
    for (const [vdf, n] of cases) {
      const x = randomElement(n);
      const xNeg = n - x; // the same group element, not in canonical form
      const t = 9;
      const y = evaluateBigint(x, t, n);
      const l = hashToPrime(xNeg, y, t);
      const forged = canonical(modPow(xNeg, (1n << BigInt(t)) / l, n), n);
      expect(vdf.verify(xNeg, y, forged, t)).toBe(false);
      expect(verifyBigint(xNeg, y, forged, t, n)).toBe(false);
      // …whereas the canonical statement verifies.
      expect(vdf.verify(x, y, proveBigint(x, y, t, n), t)).toBe(true);
      // A non-canonical y is refused as well.
      expect(vdf.verify(x, n - y, proveBigint(x, y, t, n), t)).toBe(false);
      expect(vdf.verify(0n, y, 1n, t)).toBe(false);
    }
  });
});

describe('WasmVdf input refusals', () => {
  const n = SMALL_N;
  it.each([
    ['zero', 0n],
    ['just above the canonical range', (n + 1n) / 2n],
    ['the negative of 1', n - 1n],
    ['the modulus', n],
  ])('evaluate refuses x = %s', (_what, x) => {
    const e = thrownAs(() => small.evaluate(x, 5, plan(1, 1)), VdfError);
    expect(e.code).toBe('VDF_BAD_ELEMENT');
    expect(e.message).toBe('VDF_BAD_ELEMENT: x is not a canonical group element');
  });

  const badPlans: [string, ProofPlan][] = [
    ['κ = 0', plan(0, 1, 0)],
    ['κ = 15', plan(15, 1)],
    ['κ = 20', plan(20, 1)],
    ['κ not an integer', plan(1.5, 2, 3)],
    ['γ = 0', plan(1, 0, 0)],
    ['γ negative', plan(2, -1, -2)],
    ['γ not an integer', plan(2, 1.5, 3)],
    ['interval ≠ κγ', plan(2, 1, 3)],
    ['interval 0', plan(2, 2, 0)],
  ];
  it.each(badPlans)('evaluate and provePartial refuse a plan with %s', (_what, p) => {
    for (const f of [
      () => small.evaluate(1n, 5, p),
      () => small.provePartial(new Uint32Array(ELEM_SLOTS), 0, 1, 5, 7n, p),
    ]) {
      const e = thrownAs(f, VdfError);
      expect(e.code).toBe('VDF_BAD_CHECKPOINTS');
      expect(e.message).toBe('VDF_BAD_CHECKPOINTS: invalid proof plan');
      expect(e.details).toEqual({ ...p });
    }
  });

  it('provePartial refuses ranges that do not describe the checkpoint slice', () => {
    const t = 12;
    const p = plan(2, 2);
    const e = small.evaluate(3n, t, p);
    const one = e.checkpoints.slice(0, ELEM_SLOTS);
    const two = e.checkpoints.slice(0, 2 * ELEM_SLOTS);
    const bad: [Uint32Array, number, number][] = [
      [one, -1, 1],
      [one, 0.5, 1],
      [one, 1.5, 1],
      [one, Number.NaN, 1],
      [one, 0, 1.5],
      [two, 0, 1.5],
      [one, 0, -1],
      [new Uint32Array(0), 0, -1],
      [one, 0, 2],
      [two, 0, 1],
      [one, 0, 0],
      [new Uint32Array(ELEM_SLOTS - 1), 0, 1],
    ];
    for (const [cps, first, count] of bad) {
      const err = thrownAs(() => small.provePartial(cps, first, count, t, 7n, p), VdfError);
      expect(err.code, `first=${first} count=${count} len=${cps.length}`).toBe('VDF_BAD_CHECKPOINTS');
      expect(err.message).toBe('VDF_BAD_CHECKPOINTS: checkpoint slice does not match its count');
    }
    // The same slices with a matching count are accepted.
    // c_0 = x covers digits 0 … γ−1: x^(⌊2^T/ℓ⌋ mod 2^(γκ)).
    expect(small.provePartial(one, 0, 1, t, 7n, p)).toBe(modPow(3n, ((1n << 12n) / 7n) % 16n, SMALL_N));
    expect(small.provePartial(two, 0, 2, t, 7n, p)).toBe(modPow(3n, ((1n << 12n) / 7n) % 256n, SMALL_N));
  });

  it('evaluate and provePartial refuse a bad T', () => {
    expect(thrownAs(() => small.evaluate(2n, 0, plan(1, 1)), VdfError).code).toBe('VDF_BAD_DELAY');
    expect(
      thrownAs(() => small.provePartial(new Uint32Array(0), 0, 0, 1.5, 7n, plan(1, 1)), VdfError).code,
    ).toBe('VDF_BAD_DELAY');
  });
});

describe('WasmVdf progress reporting', () => {
  it('reports after every chunk and every checkpoint, at most `chunk` squarings apart', () => {
    const x = randomElement(SMALL_N);
    const calls: [number, number][] = [];
    const e = small.evaluate(x, 100, plan(10, 100), { chunk: 10, onProgress: (d, t) => calls.push([d, t]) });
    expect(calls).toEqual(Array.from({ length: 10 }, (_, i) => [10 * (i + 1), 100]));
    expect(e.y).toBe(evaluateBigint(x, 100, SMALL_N));

    const byCheckpoint: number[] = [];
    small.evaluate(x, 100, plan(5, 5), { onProgress: (d) => byCheckpoint.push(d) });
    expect(byCheckpoint).toEqual([25, 50, 75, 100]);

    const mixed: number[] = [];
    small.evaluate(x, 30, plan(4, 3), { chunk: 5, onProgress: (d) => mixed.push(d) });
    expect(mixed).toEqual([5, 10, 12, 17, 22, 24, 29, 30]);

    const negative: number[] = [];
    const e2 = small.evaluate(x, 3, plan(1, 10), { chunk: -4, onProgress: (d) => negative.push(d) });
    expect(negative).toEqual([1, 2, 3]);
    expect(e2.y).toBe(evaluateBigint(x, 3, SMALL_N));
  });
});

describe('wasmVdfFor', () => {
  it('returns one RSA-2048 wrapper per instance', () => {
    const wasm = instantiateWasm('release');
    const a = wasmVdfFor(wasm);
    expect(a.n).toBe(RSA_2048);
    expect(wasmVdfFor(wasm)).toBe(a);
    expect(wasmVdfFor(instantiateWasm('release'))).not.toBe(a);
  });
});

describe('proof plans', () => {
  /** Per-worker multiplications (proof-plan.ts): T/(κ·workers) + γ·(2^(κ+1) + κ). */
  const cost = (t: number, k: number, g: number, w: number) => t / (k * w) + g * (2 ** (k + 1) + k);

  it('picks the cheapest κ under the documented cost model, the smaller κ on a tie', () => {
    for (const t of [1, 2, 5, 9, 10, 11, 100, 1000, 4096, 50_000, 1_000_000, 10_000_000, 1e9])
      for (const w of [1, 2, 3, 8, 64])
        for (const maxCp of [8, 1024, MAX_CHECKPOINTS, 2 ** 40]) {
          const got = planProof(t, w, maxCp);
          let best = { kappa: 0, gamma: 0, interval: 0 };
          let bestCost = Number.POSITIVE_INFINITY;
          for (let k = 1; k <= 14; k++) {
            const g = Math.max(1, Math.ceil(t / (k * maxCp)));
            if (cost(t, k, g, w) < bestCost) {
              bestCost = cost(t, k, g, w);
              best = { kappa: k, gamma: g, interval: k * g };
            }
          }
          expect(got, `T=${t} workers=${w} max=${maxCp}`).toEqual(best);
        }
  });

  it('concrete choices: a tie at T = 10, κ = 14 for very long runs, fewer digits with more workers', () => {
    expect(planProof(10)).toEqual({ kappa: 1, gamma: 1, interval: 1 }); // T + 5 = T/2 + 10 at T = 10
    expect(planProof(1e7, 1, 2 ** 40)).toEqual({ kappa: 14, gamma: 1, interval: 14 });
    expect(planProof(1e8, 1, 2 ** 40).kappa).toBe(14);
    expect(planProof(1e8, 64, 2 ** 40).kappa).toBeLessThan(14);
    expect(planProof(100_000, 8).kappa).toBeLessThan(planProof(100_000, 1).kappa);
  });

  it('never stores more than maxCheckpoints + 1 checkpoints', () => {
    for (const t of [1, 100, 4096, 100_000, 10_000_000, 1e9])
      for (const maxCp of [1, 8, 1000, MAX_CHECKPOINTS]) {
        const p = planProof(t, 1, maxCp);
        expect(p.interval).toBe(p.kappa * p.gamma);
        expect(checkpointCount(t, p.interval) - 1).toBeLessThanOrEqual(maxCp);
      }
  });

  it('treats zero or negative workers as one', () => {
    for (const t of [10, 5000, 1e7]) {
      expect(planProof(t, 0)).toEqual(planProof(t, 1));
      expect(planProof(t, -3)).toEqual(planProof(t, 1));
    }
  });

  it('digits are those of ⌊2^T/ℓ⌋, also for small ℓ and T a multiple of κ', () => {
    for (const l of [3n, 5n, 7n, 11n, 1000003n, (1n << 61n) - 1n])
      for (const [t, k] of [
        [4, 2],
        [12, 3],
        [13, 3],
        [40, 4],
        [7, 1],
      ] as const) {
        const count = Math.ceil(t / k) + 1;
        const d = proofDigits(t, l, k, 0, count);
        let q = 0n;
        for (let j = count - 1; j >= 0; j--) q = (q << BigInt(k)) + BigInt(d[j] as number);
        expect(q, `T=${t} κ=${k} ℓ=${l}`).toBe((1n << BigInt(t)) / l);
        // Any window of the digit string is the same slice.
        expect(proofDigits(t, l, k, 1, count - 1)).toEqual(d.slice(1));
      }
  });
});

describe('WasmPrimality agrees with isProbablePrime', () => {
  const fast = new WasmPrimality(instantiateWasm('release'));
  const bytes = (n: bigint) => bigintToBytes(n, 32);
  const noSmallFactor = (n: bigint) => SMALL_PRIMES.every((p) => n % p !== 0n);
  const odd256 = () => rand(32) | (1n << 255n) | 1n;

  it('trial division rejects exactly the multiples of the odd primes below 1,000', () => {
    for (const p of SMALL_PRIMES) {
      let m = (odd256() / p) * p;
      if (m % 2n === 0n) m -= p;
      expect(WasmPrimality.passesTrialDivision(bytes(m)), `multiple of ${p}`).toBe(false);
      // Multiples in every word position (p · 2^(32k) + p).
      for (let k = 0n; k < 8n; k++) {
        const v = p * ((1n << (32n * k)) + 1n);
        if (v < 1n << 256n) expect(WasmPrimality.passesTrialDivision(bytes(v))).toBe(false);
      }
    }
    for (let i = 0; i < 300; i++) {
      const n = odd256();
      expect(WasmPrimality.passesTrialDivision(bytes(n))).toBe(noSmallFactor(n));
    }
    expect(WasmPrimality.passesTrialDivision(bytes((1n << 255n) + 1n))).toBe(
      noSmallFactor((1n << 255n) + 1n),
    );
    expect(WasmPrimality.passesTrialDivision(bytes(997n * 991n))).toBe(false);
    expect(WasmPrimality.passesTrialDivision(bytes(1009n * 1013n))).toBe(true);
  });

  const structured = [
    1009n,
    1013n * 1019n,
    341550071728321n, // strong pseudoprime to bases 2 … 19
    3825123056546413051n, // strong pseudoprime to bases 2 … 23
    (1n << 127n) - 1n,
    (1n << 89n) - 1n,
    ((1n << 127n) - 1n) * ((1n << 89n) - 1n),
    (1n << 255n) + 95n,
    (1n << 256n) - 189n, // the largest 256-bit prime
    (1n << 256n) - 1n,
  ];

  it('Miller–Rabin agrees on random and structured inputs', () => {
    for (const n of structured) expect(fast.millerRabin(n), `${n}`).toBe(isProbablePrime(n));
    for (let i = 0; i < 300; i++) {
      const n = odd256();
      if (noSmallFactor(n)) expect(fast.millerRabin(n)).toBe(isProbablePrime(n));
    }
  });

  it('sharedPrimality is one working tester per thread', () => {
    const s = sharedPrimality();
    expect(s).toBeInstanceOf(WasmPrimality);
    expect(sharedPrimality()).toBe(s);
    expect(s.millerRabin((1n << 127n) - 1n)).toBe(true);
    expect(s.millerRabin(341550071728321n)).toBe(false);
  });

  it('a primality tester allocated after a proof keeps working when the proof workspace is reused', () => {
    const wasm = instantiateWasm('release');
    const vdf = new WasmVdf(wasm);
    const x = randomElement(RSA_2048);
    const ev = vdf.evaluate(x, 30, plan(14, 1));
    const pi = proveBigint(x, ev.y, 30);
    expect(vdf.prove(x, ev)).toBe(pi);
    const prime = new WasmPrimality(wasm);
    expect(vdf.prove(x, ev)).toBe(pi);
    for (const n of structured) expect(prime.millerRabin(n), `${n}`).toBe(isProbablePrime(n));
  });

  it('a primality tester and a VDF wrapper can share one WASM instance', () => {
    // Allocation order both ways; each side keeps working after the other has run.
    for (const order of ['prime first', 'vdf first']) {
      const wasm = instantiateWasm('release');
      let prime: WasmPrimality;
      let vdf: WasmVdf;
      if (order === 'prime first') {
        prime = new WasmPrimality(wasm);
        vdf = new WasmVdf(wasm);
      } else {
        vdf = new WasmVdf(wasm);
        prime = new WasmPrimality(wasm);
      }
      const check = () => {
        for (const n of structured) expect(prime.millerRabin(n), `${order}: ${n}`).toBe(isProbablePrime(n));
      };
      check();
      const x = randomElement(RSA_2048);
      for (const e of [0n, 1n << 127n, rand(32), rand(256)]) {
        expect(vdf.powMod(x, e)).toBe(modPow(x, e, RSA_2048));
        check();
      }
      for (const p of [plan(2, 1), plan(9, 1), plan(14, 1), plan(3, 2)]) {
        const t = 30;
        const ev = vdf.evaluate(x, t, p);
        expect(vdf.prove(x, ev)).toBe(proveBigint(x, ev.y, t));
        check();
        expect(vdf.verify(x, ev.y, vdf.prove(x, ev), t)).toBe(true);
      }
    }
  });
});
