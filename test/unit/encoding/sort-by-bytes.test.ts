import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/encoding/bytes.js';
import { packedLayout, sortByBytes, sortPacked } from '../../../src/encoding/sort-by-bytes.js';
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

function withHead(key: Uint8Array, head: readonly number[]): Uint8Array {
  key.set(head);
  return key;
}

/** The keys, each reporting into `compared` when something reads its length (compareBytes does). */
function watchedKeys(list: readonly Uint8Array[]): { keys: Uint8Array[]; compared: Set<Uint8Array> } {
  const compared = new Set<Uint8Array>();
  const keys = list.map((k) => {
    const length = k.length;
    return Object.defineProperty(k, 'length', {
      get: () => {
        compared.add(k);
        return length;
      },
    });
  });
  return { keys, compared };
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

  it('compares whole keys only where the leading bytes kept in the packing are equal', () => {
    // The point of the packing: the comparator runs on ties of the 4-byte prefix, not n·log n
    // times. Each key reports being read whole (compareBytes reads `length`; the packing reads
    // only indices). Pairs share a prefix; the other keys have prefixes of their own, some
    // differing from another key's only in their 4th byte.
    const { keys, compared } = watchedKeys([
      ...Array.from({ length: 40 }, () => rng.bytes(32)),
      ...Array.from({ length: 10 }, (_, i) => withHead(rng.bytes(32), [9, 9, 9, i])),
      ...Array.from({ length: 6 }, () => withHead(rng.bytes(32), [7, 7, 7, 7])),
    ]);
    const list = items(keys);
    const out = sorted(list);
    expect(out).toEqual(oracle(list));
    const shared = keys.filter((k) =>
      keys.some((o) => o !== k && bytesEqual(k.subarray(0, 4), o.subarray(0, 4))),
    );
    expect(shared.length).toBe(6);
    expect([...compared].sort(Buffer.compare)).toEqual([...shared].sort(Buffer.compare));
  });

  it('keeps the order with fewer prefix bits, as arrays of more than 2^21 items are packed', () => {
    // packedLayout(2^31) keeps 22 prefix bits: bytes 0-1 and the top 6 bits of byte 2. Keys differing
    // only below them tie and are compared; keys differing just above them never are.
    const layout = packedLayout(2 ** 31);
    expect(layout).toEqual({ indexBits: 31, prefixBits: 22 });
    const { keys, compared } = watchedKeys([
      withHead(rng.bytes(32), [5, 0b0100_0000, 0b0000_0000, 0]), // differ at prefix bit 21 (kept)
      withHead(rng.bytes(32), [5, 0b0100_0000, 0b0100_0000, 0]),
      withHead(rng.bytes(32), [5, 0b0000_0001, 0, 0]), // differ at prefix bit 16 (kept)
      withHead(rng.bytes(32), [5, 0b0000_0000, 0, 0]),
      withHead(rng.bytes(32), [6, 1, 0b0000_0011, 0xff]), // differ below bit 22 (dropped): tie
      withHead(rng.bytes(32), [6, 1, 0b0000_0000, 0x01]),
      withHead(rng.bytes(32), [6, 1, 0b0000_0000, 0x00]),
    ]);
    const list = items(keys);
    expect(sortPacked(list, (it) => it.key, layout)).toEqual(oracle(list));
    expect([...compared].sort(Buffer.compare)).toEqual(keys.slice(4).sort(Buffer.compare));
  });

  it('does not modify its input', () => {
    const list = items(Array.from({ length: 50 }, () => rng.bytes(32)));
    const before = [...list];
    sorted(list);
    expect(list).toEqual(before);
  });
});
