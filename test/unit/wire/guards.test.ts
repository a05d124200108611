import { describe, expect, it } from 'vitest';
import {
  arrayOf,
  bytesExact,
  bytesOneOf,
  bytesRange,
  checkObject,
  int,
  objectOf,
  objectSchema,
  text,
} from '../../../src/wire/guards.js';

/*
 * The schema guards run on what cbor-x decoded from a frame that passed the strict scan. Each
 * factory is pinned at its boundaries (the last value accepted and the first refused on each side)
 * and against the value kinds CBOR can produce instead: a wrong kind must never pass for the right one.
 */

/** Every kind of value the decoder can hand a guard, by name. */
const kinds: Record<string, unknown> = {
  int: 7,
  float: 1.5,
  string: 'abc',
  bytes: new Uint8Array(3),
  array: [1, 2, 3],
  map: { a: 1 },
  null: null,
  undefined: undefined,
  bigint: 7n,
};

/** Names of the kinds `check` accepts. */
const acceptedKinds = (check: (v: unknown) => boolean): string[] =>
  Object.entries(kinds)
    .filter(([, v]) => check(v))
    .map(([k]) => k);

describe('wire guards: byte strings', () => {
  it('bytesExact accepts exactly that length of bytes and nothing else', () => {
    const g = bytesExact(3);
    expect([2, 3, 4].map((n) => g(new Uint8Array(n)))).toEqual([false, true, false]);
    expect(acceptedKinds(g)).toEqual(['bytes']);
  });

  it('bytesRange takes min..max inclusive, in steps of `multiple`', () => {
    const g = bytesRange(4, 12, 4);
    expect([0, 3, 4, 5, 8, 11, 12, 13, 16].map((n) => g(new Uint8Array(n)))).toEqual([
      false,
      false,
      true,
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
    expect(acceptedKinds(bytesRange(0, 10))).toEqual(['bytes']);
  });

  it('bytesOneOf takes only the listed lengths', () => {
    const g = bytesOneOf([0, 32]);
    expect([0, 1, 31, 32, 33].map((n) => g(new Uint8Array(n)))).toEqual([true, false, false, true, false]);
    expect(acceptedKinds(bytesOneOf([3]))).toEqual(['bytes']);
  });
});

describe('wire guards: numbers and text', () => {
  it('int takes integers of type number in [min, max] only', () => {
    const g = int(1, 10);
    expect([0, 1, 10, 11].map(g)).toEqual([false, true, true, false]);
    // A non-integer inside the range, a bigint and a numeric string are all refused.
    expect([1.5, 5n, '5', Number.NaN].map(g)).toEqual([false, false, false, false]);
    expect(acceptedKinds(int(0, 100))).toEqual(['int']);
  });

  it('text takes strings of minLength..maxLength UTF-16 units', () => {
    const g = text(3, 1);
    expect(['', 'a', 'abc', 'abcd'].map(g)).toEqual([false, true, true, false]);
    expect(text(3)('')).toBe(true);
    expect(acceptedKinds(text(10))).toEqual(['string']);
  });
});

describe('wire guards: arrays and objects', () => {
  it('arrayOf bounds the count on both sides and checks every item', () => {
    const g = arrayOf(int(0, 9), 3, 1);
    expect([[], [1], [1, 2, 3], [1, 2, 3, 4]].map(g)).toEqual([false, true, true, false]);
    // One bad item anywhere refuses the whole array.
    expect(g([1, 2, 10])).toBe(false);
    expect(g([10, 1])).toBe(false);
    expect(arrayOf(int(0, 9), 2)([])).toBe(true);
    expect(acceptedKinds(arrayOf(int(0, 9), 5))).toEqual(['array']);
  });

  const schema = objectSchema({ a: int(0, 9), b: text(5) });

  it('checkObject accepts exactly the schema keys with valid values', () => {
    expect(checkObject(schema, { a: 1, b: 'x' })).toBeNull();
    expect(checkObject(schema, Object.assign(Object.create(null), { a: 1, b: 'x' }))).toBeNull();
  });

  it('checkObject names a bad field, a missing field and extra fields', () => {
    expect(checkObject(schema, { a: 10, b: 'x' })).toBe('bad field a');
    expect(checkObject(schema, { a: 1 })).toBe('missing field b');
    // A key present with an undefined value is a bad field, not a missing one.
    expect(checkObject(schema, { a: 1, b: undefined })).toBe('bad field b');
    expect(checkObject(schema, { a: 1, b: 'x', c: 1 })).toBe('unexpected fields (3 given, 2 expected)');
  });

  it('checkObject refuses every value that is not a plain map', () => {
    for (const [name, v] of Object.entries(kinds)) {
      if (name === 'map') continue;
      expect(checkObject(objectSchema({}), v), name).toBe('not a map');
    }
    // Objects of other classes, even with the right keys, are not maps: cbor-x made them from tags.
    class Lookalike {
      a = 1;
      b = 'x';
    }
    expect(checkObject(schema, new Lookalike())).toBe('not a map');
    expect(checkObject(schema, Object.assign(new Error('x'), { a: 1, b: 'x' }))).toBe('not a map');
    expect(checkObject(objectSchema({}), {})).toBeNull();
  });

  it('an enumerable key added to Object.prototype (prototype pollution) does not count as a field', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto['polluted'] = 1;
    try {
      expect(checkObject(schema, { a: 1, b: 'x' })).toBeNull();
    } finally {
      delete proto['polluted'];
    }
  });

  it('inherited keys neither satisfy nor add to the schema', () => {
    const proto = { a: 1, b: 'x' };
    // Not a plain object: refused before any key is read.
    expect(checkObject(schema, Object.create(proto))).toBe('not a map');
  });

  it('objectOf is checkObject as a boolean guard for nested items', () => {
    const g = objectOf({ host: text(10, 1), port: int(1, 65_535) });
    expect(g({ host: 'h', port: 1 })).toBe(true);
    expect(g({ host: 'h', port: 0 })).toBe(false);
    expect(g({ host: 'h' })).toBe(false);
    expect(g({ host: 'h', port: 1, x: 1 })).toBe(false);
    expect(g([{ host: 'h', port: 1 }])).toBe(false);
  });
});
