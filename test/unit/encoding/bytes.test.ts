import { describe, expect, it } from 'vitest';
import {
  asciiBytes,
  bytesEqual,
  compareBytes,
  concatBytes,
  copyBytes,
  fromHex,
  isBytes,
  latin1Key,
  toHex,
} from '../../../src/encoding/bytes.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

/*
 * The byte helpers every consensus layout and sort goes through, checked against Node's Buffer as
 * the independent oracle (hex, concatenation, lexicographic order) on seeded random inputs, plus
 * the boundary cases a one-token change would break. Found missing by the first mutation run of
 * src/encoding (issue 15): its helpers were only exercised indirectly.
 */

const rng = new SeededRandom(0x5eed_0001);
/** Random bytes of random length in [0, maxLength], sometimes a view into a larger buffer. */
function randomBytes(maxLength: number): Uint8Array {
  const length = rng.below(maxLength + 1);
  if (rng.below(2) === 0) return rng.bytes(length);
  const backing = rng.bytes(length + 7);
  return backing.subarray(3, 3 + length);
}

describe('toHex / fromHex', () => {
  it('toHex matches Buffer for random inputs, including views at an offset into a larger buffer', () => {
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(40);
      expect(toHex(b)).toBe(Buffer.from(b).toString('hex'));
    }
    const backing = Uint8Array.of(0xaa, 0x01, 0x02, 0xbb);
    expect(toHex(backing.subarray(1, 3))).toBe('0102');
    expect(toHex(new Uint8Array(0))).toBe('');
  });

  it('fromHex inverts toHex, accepts upper case, and returns a plain Uint8Array', () => {
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(40);
      const back = fromHex(toHex(b));
      expect(back).toEqual(new Uint8Array(b));
      expect(Buffer.isBuffer(back)).toBe(false);
    }
    expect(fromHex('00FFaB')).toEqual(Uint8Array.of(0, 255, 0xab));
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('fromHex refuses odd length and non-hex digits with RangeError', () => {
    for (const bad of ['0', 'abc', 'zz', '0g', ' 00', '00 ', '0x00', '-1']) {
      expect(() => fromHex(bad), bad).toThrow(new RangeError('invalid hex string'));
    }
  });

  it('fromHex checks the expected length exactly: one byte more or less is refused', () => {
    expect(fromHex('a1b2c3', 3)).toEqual(Uint8Array.of(0xa1, 0xb2, 0xc3));
    expect(() => fromHex('a1b2', 3)).toThrow(new RangeError('expected 3 bytes of hex, got 2'));
    expect(() => fromHex('a1b2c3d4', 3)).toThrow(new RangeError('expected 3 bytes of hex, got 4'));
    expect(fromHex('', 0)).toEqual(new Uint8Array(0));
    expect(() => fromHex('00', 0)).toThrow(RangeError);
  });
});

describe('copyBytes', () => {
  it('copies a range into a plain Uint8Array of its own, also from a Buffer (whose slice is a view)', () => {
    const src = Buffer.from([1, 2, 3, 4, 5]);
    const c = copyBytes(src, 1, 4);
    expect(c.constructor).toBe(Uint8Array);
    expect([...c]).toEqual([2, 3, 4]);
    expect(c.buffer.byteLength).toBe(3);
    src.fill(0);
    expect([...c]).toEqual([2, 3, 4]);
    expect([...copyBytes(Uint8Array.of(7, 8))]).toEqual([7, 8]);
    expect(copyBytes(Uint8Array.of(7, 8), 2).length).toBe(0);
  });
});

describe('concatBytes', () => {
  it('matches Buffer.concat for random parts, empty ones included', () => {
    for (let i = 0; i < 100; i++) {
      const parts = Array.from({ length: rng.below(6) }, () => randomBytes(12));
      expect(concatBytes(...parts)).toEqual(new Uint8Array(Buffer.concat(parts)));
    }
    expect(concatBytes()).toEqual(new Uint8Array(0));
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(
      Uint8Array.of(1, 2, 3),
    );
  });
});

describe('bytesEqual', () => {
  it('agrees with Buffer.equals on random pairs, near misses and prefixes', () => {
    for (let i = 0; i < 300; i++) {
      const a = randomBytes(8);
      const b = rng.below(3) === 0 ? randomBytes(8) : a.slice();
      if (b.length > 0 && rng.below(2) === 0) {
        const k = rng.below(b.length);
        b[k] = b[k]! ^ (1 << rng.below(8));
      }
      expect(bytesEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
    }
  });

  it('a proper prefix is not equal (either way round); a difference in the last byte counts', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), Uint8Array.of(0))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(bytesEqual(Uint8Array.of(9, 2, 3), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe('compareBytes: the one consensus sort order', () => {
  it('has the sign of Buffer.compare on random pairs, shared prefixes and equal inputs', () => {
    for (let i = 0; i < 500; i++) {
      const a = randomBytes(6);
      const pick = rng.below(3);
      const b = pick === 0 ? randomBytes(6) : pick === 1 ? a.slice(0, rng.below(a.length + 1)) : a.slice();
      if (pick === 2 && b.length > 0) b[rng.below(b.length)] = rng.below(256);
      expect(Math.sign(compareBytes(a, b))).toBe(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(Math.sign(compareBytes(b, a))).toBe(Buffer.compare(Buffer.from(b), Buffer.from(a)));
    }
  });

  it('orders by the first differing byte, as unsigned values, then the shorter prefix first', () => {
    expect(compareBytes(Uint8Array.of(1, 9), Uint8Array.of(2, 0))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(2, 0), Uint8Array.of(1, 9))).toBeGreaterThan(0);
    expect(compareBytes(Uint8Array.of(5, 1), Uint8Array.of(5, 2))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(1, 2, 0), Uint8Array.of(1, 2))).toBeGreaterThan(0);
    expect(compareBytes(new Uint8Array(0), Uint8Array.of(0))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(3, 4), Uint8Array.of(3, 4))).toBe(0);
    expect(compareBytes(new Uint8Array(0), new Uint8Array(0))).toBe(0);
  });

  it('sorts random txid-like arrays exactly as Buffer.compare does', () => {
    const ids = Array.from({ length: 200 }, () => rng.bytes(1 + rng.below(3)));
    const ours = [...ids].sort(compareBytes).map(toHex);
    const oracle = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))).map(toHex);
    expect(ours).toEqual(oracle);
  });
});

describe('asciiBytes: domain tags', () => {
  it('maps every printable ASCII character (0x20 to 0x7e) to its code', () => {
    let text = '';
    for (let c = 0x20; c <= 0x7e; c++) text += String.fromCharCode(c);
    const bytes = asciiBytes(text);
    expect(bytes).toHaveLength(0x7e - 0x20 + 1);
    expect([...bytes]).toEqual(Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => 0x20 + i));
    expect(asciiBytes('TIME:tx:1')).toEqual(new Uint8Array(Buffer.from('TIME:tx:1', 'ascii')));
    expect(asciiBytes('')).toEqual(new Uint8Array(0));
  });

  it('refuses control characters, DEL and anything above ASCII, at any position', () => {
    for (const c of [0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xe9, 0x20ac]) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `TIME${ch}`, `${ch}TIME`]) {
        expect(() => asciiBytes(text), `code ${c}`).toThrow(
          new RangeError(`non-printable ASCII in ${JSON.stringify(text)}`),
        );
      }
    }
  });
});

describe('isBytes: the wire guards', () => {
  it('accepts a Uint8Array (a Buffer is one) of any length, or of exactly the asked length', () => {
    expect(isBytes(new Uint8Array(3))).toBe(true);
    expect(isBytes(Buffer.alloc(3))).toBe(true);
    expect(isBytes(new Uint8Array(0))).toBe(true);
    expect(isBytes(new Uint8Array(32), 32)).toBe(true);
    expect(isBytes(new Uint8Array(0), 0)).toBe(true);
  });

  it('refuses other lengths and anything that is not a Uint8Array', () => {
    expect(isBytes(new Uint8Array(31), 32)).toBe(false);
    expect(isBytes(new Uint8Array(33), 32)).toBe(false);
    expect(isBytes(new Uint8Array(1), 0)).toBe(false);
    for (const value of [[1, 2, 3], new ArrayBuffer(3), new Uint16Array(3), 'abc', null, undefined, 3, {}]) {
      expect(isBytes(value), String(value)).toBe(false);
      expect(isBytes(value, 3), String(value)).toBe(false);
    }
  });

  it('latin1Key is Buffer latin1 decoding of exactly bytes[start, end), views included', () => {
    const rng = new SeededRandom(11);
    for (let i = 0; i < 100; i++) {
      const backing = rng.bytes(80);
      const view = backing.subarray(i % 17, 17 + (i % 50));
      const oracle = Buffer.from(view).toString('latin1');
      expect(latin1Key(view)).toBe(oracle);
      expect(latin1Key(view)).toHaveLength(view.length);
      const start = i % view.length;
      expect(latin1Key(view, start, view.length)).toBe(oracle.slice(start));
      expect(latin1Key(view, 0, start)).toBe(oracle.slice(0, start));
    }
    expect(latin1Key(new Uint8Array(0))).toBe('');
    expect(latin1Key(Uint8Array.of(0, 0x7f, 0x80, 0xff))).toBe('\u0000\u007f\u0080\u00ff');
    expect(() => latin1Key(new Uint8Array(4), 0, 5)).toThrow(RangeError);
  });

  it('refuses to load on a Node.js without Buffer#latin1Slice, rather than run a slow path', async () => {
    const proto = Buffer.prototype as unknown as { latin1Slice?: unknown };
    const native = proto.latin1Slice;
    delete proto.latin1Slice;
    try {
      // A fresh instance of the module (the query makes it another module to the loader).
      const fresh = '../../../src/encoding/bytes.js?no-latin1';
      await expect(import(fresh)).rejects.toThrow('this Node.js has no Buffer#latin1Slice');
    } finally {
      proto.latin1Slice = native;
    }
    expect(latin1Key(Uint8Array.of(0x41))).toBe('A');
  });
});
