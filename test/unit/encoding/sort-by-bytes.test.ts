import { describe, expect, it } from 'vitest';
import { packedLayout, sortByBytes } from '../../../src/encoding/sort-by-bytes.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

/*
 * sortByBytes must give exactly the order of a stable sort by Buffer.compare (the independent
 * oracle for lexicographic byte order, shorter prefix first): block bodies and the producer's
 * candidates are sorted with it, so any difference would be a consensus split. Items are wrapped
 * objects, so "the same order" includes which of two equal keys comes first (input order).
 */

interface Item {
  readonly key: Uint8Array;
  readonly at: number;
}

const rng = new SeededRandom(0x5eed_0b17);

function oracle(items: readonly Item[]): Item[] {
  return [...items].sort((a, b) => Buffer.compare(a.key, b.key) || a.at - b.at);
}

function items(keys: readonly Uint8Array[]): Item[] {
  return keys.map((key, at) => ({ key, at }));
}

function sorted(list: readonly Item[]): Item[] {
  return sortByBytes(list, (it) => it.key);
}

describe('sortByBytes', () => {
  it('orders random 32-byte keys exactly as the byte comparison does, at many sizes', () => {
    for (const n of [0, 1, 2, 3, 7, 64, 1_000, 5_000]) {
      const list = items(Array.from({ length: n }, () => rng.bytes(32)));
      expect(sorted(list)).toEqual(oracle(list));
    }
  });

  it('orders keys whose leading bytes are equal by the bytes after them', () => {
    // Few distinct 4-byte prefixes, so nearly every key sits in a run the prefix cannot order.
    const heads = [
      Uint8Array.of(0, 0, 0, 0),
      Uint8Array.of(0, 0, 0, 1),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    ];
    const keys = Array.from({ length: 600 }, (_, i) => {
      const k = rng.bytes(32);
      k.set(heads[i % heads.length]!);
      if (i % 5 === 0) k.fill(0x42, 4, 31); // differ only in the last byte
      return k;
    });
    const list = items(keys);
    expect(sorted(list)).toEqual(oracle(list));
  });

  it('keeps equal keys in input order (a stable sort)', () => {
    const a = rng.bytes(32);
    const b = rng.bytes(32);
    const list = items([a, b, a.slice(), b.slice(), a.slice(), rng.bytes(32), a.slice()]);
    const out = sorted(list);
    expect(out).toEqual(oracle(list));
    const ofA = out.filter((it) => Buffer.compare(it.key, a) === 0).map((it) => it.at);
    expect(ofA).toEqual([0, 2, 4, 6]);
  });

  it('orders keys of any length, a key that is a prefix of another first', () => {
    const keys = [
      new Uint8Array(0),
      Uint8Array.of(1),
      Uint8Array.of(1, 0),
      Uint8Array.of(1, 0, 0, 0),
      Uint8Array.of(1, 0, 0, 0, 0),
      Uint8Array.of(1, 0, 0, 0, 0, 0, 1),
      Uint8Array.of(0, 0, 0),
      Uint8Array.of(0xff),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x80, 0, 0, 0),
      Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff),
    ];
    for (let round = 0; round < 50; round++) {
      const shuffled = [...keys, ...Array.from({ length: 20 }, () => rng.bytes(rng.below(7)))];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.below(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const list = items(shuffled);
      expect(sorted(list)).toEqual(oracle(list));
    }
  });

  it('packs every position and as many prefix bits as stay exact in a float64, for any array size', () => {
    for (const n of [0, 1, 2, 3, 4, 1_000, 2 ** 21 - 1, 2 ** 21, 2 ** 21 + 1, 2 ** 24, 2 ** 32 - 1]) {
      const { indexBits, prefixBits } = packedLayout(n);
      expect(2 ** indexBits).toBeGreaterThanOrEqual(n); // positions 0..n−1 fit
      expect(indexBits === 0 ? n <= 1 : 2 ** (indexBits - 1) < n).toBe(true); // and no bit more
      expect(indexBits + prefixBits).toBeLessThanOrEqual(53);
      expect(prefixBits).toBe(Math.min(32, 53 - indexBits));
    }
    expect(packedLayout(100_000)).toEqual({ indexBits: 17, prefixBits: 32 });
    expect(packedLayout(2 ** 21)).toEqual({ indexBits: 21, prefixBits: 32 });
    expect(packedLayout(2 ** 21 + 1)).toEqual({ indexBits: 22, prefixBits: 31 });
  });

  it('does not modify its input', () => {
    const list = items(Array.from({ length: 50 }, () => rng.bytes(32)));
    const before = [...list];
    sorted(list);
    expect(list).toEqual(before);
  });
});
