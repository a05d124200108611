/**
 * Injected randomness for sampling and simulation. Consensus code never calls Math.random: a
 * caller passes an `Rng`, so a seeded run replays exactly.
 */
export interface Rng {
  /** A uniform integer in [0, 2^32). */
  nextU32(): number;
  /** A uniform integer in [0, n), 1 <= n <= 2^53 (safe integer), without modulo bias. */
  below(n: number): number;
}

const TWO_32 = 0x1_0000_0000;
const TWO_21 = 0x20_0000;
const TWO_53 = TWO_32 * TWO_21;

/** splitmix32 step: spreads a small seed over the 128-bit xoshiro state (as the xoshiro authors advise). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna) in uint32 arithmetic: no BigInt, no floats in the state update,
 * identical output on every engine. Seeded from a u32 (or a string hashed to several u32 words).
 */
export class Xoshiro128 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const st = { s: 0 };
    if (typeof seed === 'number') {
      if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
      st.s = seed >>> 0;
      // Fold the high bits of large seeds in, so seeds 1 and 2^32 + 1 differ.
      st.s = (st.s ^ Math.floor(seed / TWO_32)) | 0;
    } else {
      for (let i = 0; i < seed.length; i++) st.s = (Math.imul(st.s, 31) + seed.charCodeAt(i)) | 0;
    }
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** A generator with an explicit 128-bit state (test vectors from the reference C code use this). */
  static fromState(a: number, b: number, c: number, d: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    g.a = a | 0;
    g.b = b | 0;
    g.c = c | 0;
    g.d = d | 0;
    return g;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  below(n: number): number {
    if (!(Number.isSafeInteger(n) && n >= 1))
      throw new RangeError(`below(n) needs a safe integer n >= 1, got ${n}`);
    if (n <= TWO_32) {
      // Reject the top partial bucket so every residue is equally likely.
      const limit = TWO_32 - (TWO_32 % n);
      for (;;) {
        const x = this.nextU32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const x = (this.nextU32() >>> 11) * TWO_32 + this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** A fresh generator derived from this one (for per-node or per-link streams). */
  fork(): Xoshiro128 {
    return new Xoshiro128(this.nextU32() * TWO_21 + (this.nextU32() >>> 11));
  }
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}
