import { describe, expect, it } from 'vitest';
import { ByteReader, DecodeError, type DecodeErrorCode } from '../../../src/encoding/byte-reader.js';
import { ByteWriter } from '../../../src/encoding/byte-writer.js';
import { SeededRandom } from '../../../src/storage/testing/synthetic-chain.js';

/*
 * ByteWriter and ByteReader, the two halves of every consensus byte layout (DESIGN §3: fixed-width
 * little-endian integers, u32-length-prefixed byte strings), against Node's Buffer
 * writeUInt32LE / writeBigUInt64LE as the independent oracle, with every range boundary and every
 * truncation. Found missing by the first mutation run of src/encoding (issue 15).
 */

const rng = new SeededRandom(0x5eed_0002);
const U64_MAX = 0xffff_ffff_ffff_ffffn;

function codeOf(fn: () => unknown): DecodeErrorCode | 'OK' {
  try {
    fn();
    return 'OK';
  } catch (err) {
    if (err instanceof DecodeError) return err.code;
    throw err;
  }
}

type Field =
  | { kind: 'u8'; v: number }
  | { kind: 'u32'; v: number }
  | { kind: 'u64'; v: bigint }
  | { kind: 'fixed'; v: Uint8Array }
  | { kind: 'var'; v: Uint8Array };

function randomField(): Field {
  switch (rng.below(5)) {
    case 0:
      return { kind: 'u8', v: rng.below(256) };
    case 1:
      return { kind: 'u32', v: rng.nextU32() };
    case 2:
      return { kind: 'u64', v: (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32()) };
    case 3:
      return { kind: 'fixed', v: rng.bytes(1 + rng.below(40)) };
    default:
      return { kind: 'var', v: rng.bytes(rng.below(40)) };
  }
}

/** The same layout written by Buffer, the oracle. */
function oracleBytes(fields: readonly Field[]): Uint8Array {
  const chunks: Buffer[] = [];
  for (const f of fields) {
    if (f.kind === 'u8') chunks.push(Buffer.of(f.v));
    else if (f.kind === 'u32') {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(f.v);
      chunks.push(b);
    } else if (f.kind === 'u64') {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.v);
      chunks.push(b);
    } else if (f.kind === 'fixed') chunks.push(Buffer.from(f.v));
    else {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(f.v.length);
      chunks.push(b, Buffer.from(f.v));
    }
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function write(w: ByteWriter, f: Field): void {
  if (f.kind === 'u8') w.u8(f.v);
  else if (f.kind === 'u32') w.u32(f.v);
  else if (f.kind === 'u64') w.u64(f.v);
  else if (f.kind === 'fixed') w.fixed(f.v, f.v.length);
  else w.varBytes(f.v);
}

function read(r: ByteReader, f: Field): unknown {
  if (f.kind === 'u8') return r.u8();
  if (f.kind === 'u32') return r.u32();
  if (f.kind === 'u64') return r.u64();
  if (f.kind === 'fixed') return r.fixed(f.v.length);
  return r.varBytes(1_000);
}

describe('ByteWriter against Buffer', () => {
  it('writes random layouts byte for byte like Buffer, growing from a one-byte buffer', () => {
    for (let round = 0; round < 50; round++) {
      const fields = Array.from({ length: 1 + rng.below(60) }, randomField);
      const w = new ByteWriter(1 + rng.below(8));
      for (const f of fields) write(w, f);
      const expected = oracleBytes(fields);
      expect(w.length).toBe(expected.length);
      expect(w.finish()).toEqual(expected);
    }
  });

  it('grows across many doublings and keeps everything written before each growth', () => {
    const w = new ByteWriter(1);
    const fields: Field[] = [];
    for (let i = 0; i < 3_000; i++) {
      const f: Field = { kind: 'u32', v: i * 2_654_435_761 };
      fields.push({ ...f, v: f.v >>> 0 });
      w.u32(f.v >>> 0);
    }
    w.raw(new Uint8Array(70_000).fill(7));
    const expected = concat(oracleBytes(fields), new Uint8Array(70_000).fill(7));
    expect(w.finish()).toEqual(expected);
  });

  it('starts from a zero capacity (the doubling used to loop forever on 0)', () => {
    expect(new ByteWriter(0).finish()).toEqual(new Uint8Array(0));
    expect(new ByteWriter(0).u32(7).u8(1).finish()).toEqual(Uint8Array.of(7, 0, 0, 0, 1));
  });

  it('finish() returns an exact-size copy: changing it changes neither the writer nor a later finish()', () => {
    const w = new ByteWriter(64).u32(0x01020304);
    const first = w.finish();
    expect(first).toEqual(Uint8Array.of(4, 3, 2, 1));
    expect(first.buffer.byteLength).toBe(4);
    first[0] = 99;
    expect(w.finish()).toEqual(Uint8Array.of(4, 3, 2, 1));
    w.u8(5);
    expect(w.finish()).toEqual(Uint8Array.of(4, 3, 2, 1, 5));
  });

  it('u8, u32 and u64 accept their whole range and refuse one past each end', () => {
    expect(new ByteWriter().u8(0).u8(255).finish()).toEqual(Uint8Array.of(0, 255));
    expect(new ByteWriter().u32(0).u32(0xffff_ffff).finish()).toEqual(
      Uint8Array.of(0, 0, 0, 0, 255, 255, 255, 255),
    );
    expect(new ByteWriter().u64(U64_MAX).finish()).toEqual(new Uint8Array(8).fill(255));
    expect(new ByteWriter().u64(0n).u64(0).finish()).toEqual(new Uint8Array(16));
    expect(new ByteWriter().u64(Number.MAX_SAFE_INTEGER).finish()).toEqual(
      new Uint8Array(Buffer.from('ffffffffffff1f00', 'hex')),
    );
    expect(() => new ByteWriter().u8(-1)).toThrow(new RangeError('u8 out of range: -1'));
    expect(() => new ByteWriter().u8(256)).toThrow(new RangeError('u8 out of range: 256'));
    expect(() => new ByteWriter().u8(1.5)).toThrow(new RangeError('u8 out of range: 1.5'));
    expect(() => new ByteWriter().u8(Number.NaN)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(-1)).toThrow(new RangeError('u32 out of range: -1'));
    expect(() => new ByteWriter().u32(2 ** 32)).toThrow(new RangeError('u32 out of range: 4294967296'));
    expect(() => new ByteWriter().u32(0.5)).toThrow(new RangeError('u32 out of range: 0.5'));
    expect(() => new ByteWriter().u64(-1n)).toThrow(new RangeError('u64 out of range: -1'));
    expect(() => new ByteWriter().u64(-1)).toThrow(new RangeError('u64 out of range: -1'));
    expect(() => new ByteWriter().u64(U64_MAX + 1n)).toThrow(
      new RangeError('u64 out of range: 18446744073709551616'),
    );
    expect(() => new ByteWriter().u64(Number.MAX_SAFE_INTEGER + 1)).toThrow(
      new RangeError('u64 not a safe integer: 9007199254740992'),
    );
    // A fraction fails in BigInt() before the writer's own check, still as a RangeError.
    expect(() => new ByteWriter().u64(1.5)).toThrow(RangeError);
  });

  it('a refused value writes nothing', () => {
    const w = new ByteWriter(4).u8(1);
    for (const bad of [
      () => w.u8(300),
      () => w.u32(-2),
      () => w.u64(-3n),
      () => w.fixed(new Uint8Array(3), 4),
    ]) {
      expect(bad).toThrow(RangeError);
    }
    expect(w.length).toBe(1);
    expect(w.finish()).toEqual(Uint8Array.of(1));
  });

  it('fixed() insists on the layout length; raw() and varBytes() write what they are given', () => {
    expect(() => new ByteWriter().fixed(new Uint8Array(31), 32)).toThrow(
      new RangeError('expected 32 bytes, got 31'),
    );
    expect(() => new ByteWriter().fixed(new Uint8Array(33), 32)).toThrow(
      new RangeError('expected 32 bytes, got 33'),
    );
    expect(new ByteWriter().fixed(Uint8Array.of(1, 2), 2).raw(Uint8Array.of(3)).finish()).toEqual(
      Uint8Array.of(1, 2, 3),
    );
    expect(new ByteWriter().varBytes(Uint8Array.of(9, 8)).varBytes(new Uint8Array(0)).finish()).toEqual(
      Uint8Array.of(2, 0, 0, 0, 9, 8, 0, 0, 0, 0),
    );
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('ByteReader', () => {
  it('reads back random layouts written by Buffer, tracking offset and remaining', () => {
    for (let round = 0; round < 50; round++) {
      const fields = Array.from({ length: 1 + rng.below(40) }, randomField);
      const bytes = oracleBytes(fields);
      const r = new ByteReader(bytes);
      let offset = 0;
      for (const f of fields) {
        expect(read(r, f)).toEqual(f.v);
        offset +=
          f.kind === 'u8'
            ? 1
            : f.kind === 'u32'
              ? 4
              : f.kind === 'u64'
                ? 8
                : f.kind === 'fixed'
                  ? f.v.length
                  : 4 + f.v.length;
        expect(r.offset).toBe(offset);
        expect(r.remaining).toBe(bytes.length - offset);
      }
      expect(codeOf(() => r.done())).toBe('OK');
    }
  });

  it('reads at the right place inside a view that starts at an offset of a larger buffer', () => {
    const backing = new Uint8Array(Buffer.from('ee' + '04030201' + '0807060504030201' + 'ee', 'hex'));
    const r = new ByteReader(backing.subarray(1, 13));
    expect(r.u32()).toBe(0x01020304);
    expect(r.u64()).toBe(0x0102030405060708n);
    expect(r.remaining).toBe(0);
    expect(codeOf(() => r.done())).toBe('OK');
  });

  it('every read that runs past the end is TRUNCATED; reading exactly to the end is fine', () => {
    const cases: [number, (r: ByteReader) => unknown][] = [
      [1, (r) => r.u8()],
      [4, (r) => r.u32()],
      [8, (r) => r.u64()],
      [8, (r) => r.u64Number()],
      [5, (r) => r.fixed(5)],
      [4 + 3, (r) => r.varBytes(10)],
    ];
    for (const [size, op] of cases) {
      const full = new Uint8Array(size);
      if (size === 7) full[0] = 3; // varBytes: length 3, then 3 bytes
      expect(codeOf(() => op(new ByteReader(full)))).toBe('OK');
      for (let cut = 0; cut < size; cut++) {
        expect(
          codeOf(() => op(new ByteReader(full.subarray(0, cut)))),
          `${size} cut at ${cut}`,
        ).toBe('TRUNCATED');
      }
    }
  });

  it('a truncation says what, how much, where and what is left', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3));
    r.u8();
    expect(() => r.u32('tx version')).toThrow('tx version: need 4 bytes at offset 1, have 2');
    expect(() => r.u32()).toThrow('u32: need 4 bytes at offset 1, have 2');
    expect(() => r.u64()).toThrow('u64: need 8 bytes at offset 1, have 2');
    expect(() => r.fixed(3)).toThrow('bytes: need 3 bytes at offset 1, have 2');
    expect(() => new ByteReader(new Uint8Array(0)).u8()).toThrow('u8: need 1 bytes at offset 0, have 0');
    // A failed read consumes nothing.
    expect(r.offset).toBe(1);
    expect(r.u8()).toBe(2);
  });

  it('u64Number takes up to 2^53 - 1 and refuses 2^53 as OUT_OF_RANGE', () => {
    const le = (v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return new Uint8Array(b);
    };
    expect(new ByteReader(le(BigInt(Number.MAX_SAFE_INTEGER))).u64Number()).toBe(Number.MAX_SAFE_INTEGER);
    expect(new ByteReader(le(0n)).u64Number()).toBe(0);
    expect(codeOf(() => new ByteReader(le(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).u64Number())).toBe(
      'OUT_OF_RANGE',
    );
    expect(() => new ByteReader(le(U64_MAX)).u64Number('slot')).toThrow(`slot too large: ${U64_MAX}`);
    expect(() => new ByteReader(le(U64_MAX)).u64Number()).toThrow(`u64 too large: ${U64_MAX}`);
  });

  it('fixed() and varBytes() return copies, not views of the source', () => {
    const source = Uint8Array.of(2, 0, 0, 0, 7, 8, 9);
    const r = new ByteReader(source);
    const v = r.varBytes(2);
    const f = r.fixed(1);
    source.fill(0);
    expect(v).toEqual(Uint8Array.of(7, 8));
    expect(f).toEqual(Uint8Array.of(9));
    expect(v.buffer).not.toBe(source.buffer);
  });

  it('an owned reader returns views into its bytes at the right offsets, bounds-checked as ever', () => {
    const backing = Uint8Array.of(0xee, 2, 0, 0, 0, 7, 8, 9, 0xee);
    const source = backing.subarray(1, 8); // a view with an offset: the views must account for it
    const r = new ByteReader(source, { owned: true });
    expect(r.owned).toBe(true);
    const v = r.varBytes(2);
    const f = r.fixed(1);
    expect([v, f]).toEqual([Uint8Array.of(7, 8), Uint8Array.of(9)]);
    expect([v.buffer, v.byteOffset, f.byteOffset]).toEqual([backing.buffer, 5, 7]);
    source[4] = 1; // a view: the owner's bytes and the field are the same memory
    expect(v).toEqual(Uint8Array.of(1, 8));
    expect(() => r.fixed(1)).toThrow(DecodeError);
    expect(new ByteReader(source).owned).toBe(false);
  });

  it('varBytes accepts a length equal to its maximum and refuses one more as OUT_OF_RANGE', () => {
    const bytes = Uint8Array.of(3, 0, 0, 0, 1, 2, 3);
    expect(new ByteReader(bytes).varBytes(3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(codeOf(() => new ByteReader(bytes).varBytes(2))).toBe('OUT_OF_RANGE');
    expect(() => new ByteReader(bytes).varBytes(2, 'payload')).toThrow('payload length 3 exceeds 2');
    expect(() => new ByteReader(bytes).varBytes(2)).toThrow('bytes length 3 exceeds 2');
    // The length is read (and checked) before any payload byte is needed.
    expect(codeOf(() => new ByteReader(Uint8Array.of(255, 255, 255, 255)).varBytes(10))).toBe('OUT_OF_RANGE');
    expect(() => new ByteReader(Uint8Array.of(1, 0)).varBytes(10, 'sig')).toThrow('sig length: need 4 bytes');
  });

  it('done() refuses trailing bytes and says how many', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3));
    r.u8();
    expect(codeOf(() => r.done())).toBe('TRAILING_BYTES');
    expect(() => r.done('block')).toThrow('block: 2 trailing bytes');
    expect(() => r.done()).toThrow('value: 2 trailing bytes');
    r.fixed(2);
    expect(codeOf(() => r.done())).toBe('OK');
    expect(codeOf(() => new ByteReader(new Uint8Array(0)).done())).toBe('OK');
  });
});
