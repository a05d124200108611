import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WasmCrypto } from '../../../src/crypto/wasm-crypto.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const toBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
function toBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

// Batch verification falls back to single checks when its equation fails, so a wrong scalar there
// would only show as slowness: the scalar arithmetic is checked directly against BigInt instead.
describe('WASM scalar arithmetic mod L against BigInt', () => {
  const wasm = new WasmCrypto();
  const edges = [
    0n,
    1n,
    L - 1n,
    L,
    L + 1n,
    2n * L - 1n,
    2n ** 252n - 1n,
    2n ** 252n,
    2n ** 253n - 1n,
    2n ** 256n - 1n,
  ];

  it('reduces 64-byte values, including values at and around multiples of L', () => {
    const wide = [
      ...edges,
      2n ** 512n - 1n,
      L * L,
      L * 2n ** 259n - 1n,
      ...Array.from({ length: 3000 }, () => toBig(new Uint8Array(randomBytes(64)))),
    ];
    const wrong = wide.filter((v) => toBig(wasm.scalarReduce64(toBytes(v, 64))) !== v % L);
    expect(wrong).toEqual([]);
  });

  it('computes a*b + c mod L for edge and random operands, including 128-bit coefficients', () => {
    const rnd = (n: number) => toBig(new Uint8Array(randomBytes(n)));
    const triples: [bigint, bigint, bigint][] = [];
    for (const a of edges)
      for (const b of edges) triples.push([a, b, edges[(triples.length * 7) % edges.length] as bigint]);
    for (let i = 0; i < 3000; i++) triples.push([rnd(i % 2 ? 16 : 32), rnd(32), rnd(32)]);
    const wrong = triples.filter(
      ([a, b, c]) =>
        toBig(wasm.scalarMulAdd(toBytes(a, 32), toBytes(b, 32), toBytes(c, 32))) !== (a * b + c) % L,
    );
    expect(wrong).toEqual([]);
  });
});
