/** xorshift32: a seeded generator, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Random bytes, or a valid frame with a few bytes flipped, inserted, removed or truncated. */
export function fuzzFrame(next: () => number, valid: readonly Uint8Array[]): Uint8Array {
  const mode = next() % 5;
  if (mode === 0) {
    const out = new Uint8Array(next() % 300);
    for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
    return out;
  }
  const base = valid[next() % valid.length]!;
  const out = new Uint8Array(base);
  if (mode === 1) {
    const flips = 1 + (next() % 4);
    for (let i = 0; i < flips; i++) out[next() % out.length] = next() & 0xff;
    return out;
  }
  if (mode === 2) return out.subarray(0, next() % out.length);
  if (mode === 3) {
    const at = next() % out.length;
    const ins = new Uint8Array(1 + (next() % 8)).map(() => next() & 0xff);
    return new Uint8Array([...out.subarray(0, at), ...ins, ...out.subarray(at)]);
  }
  // keep the prefix (type is readable) and randomize the body
  for (let i = 4; i < out.length; i++) if (next() % 3 === 0) out[i] = next() & 0xff;
  return out;
}
