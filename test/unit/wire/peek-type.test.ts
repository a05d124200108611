import { describe, expect, it } from 'vitest';
import { peekType } from '../../../src/wire/peek-type.js';

/*
 * peekType reads the type of a frame from its raw prefix — a map header, the key "t" (0x61 0x74),
 * an unsigned integer — before anything is decoded, so the per-type size limit applies first.
 * Vectors for every map-header form CBOR has, and for each way the prefix can be wrong (-1).
 */

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('peekType: the type from the raw prefix', () => {
  it('reads every map-header length form followed by "t"', () => {
    const cases: [string, number][] = [
      ['a1 6174 03', 3], // 1 entry, count in the head
      ['a2 6174 05', 5],
      ['b7 6174 11', 17], // 23 entries: the largest count in the head
      ['b8 18 6174 09', 9], // count in 1 byte
      ['b9 0018 6174 0e', 14], // count in 2 bytes
      ['ba 00000018 6174 01', 1], // count in 4 bytes
    ];
    for (const [frame, type] of cases) expect(peekType(hex(frame)), frame).toBe(type);
  });

  it('reads type values in the head (0..23) and in one following byte (0x18 nn)', () => {
    expect(peekType(hex('a1 6174 00'))).toBe(0);
    expect(peekType(hex('a1 6174 17'))).toBe(23);
    expect(peekType(hex('a1 6174 18 18'))).toBe(24);
    expect(peekType(hex('a1 6174 18 ff'))).toBe(255);
    expect(peekType(hex('b8 18 6174 18 40'))).toBe(64);
  });

  it('returns -1 for every other prefix', () => {
    const refused = [
      '', // empty frame
      'a0', // empty map
      'bb 0000000000000018 6174 01', // 8-byte count: no message has that many keys
      'bf 6174 01 ff', // indefinite-length map
      '9f', // not a map
      '81 6174', // array
      '61 74', // a bare text string
      'a1 6175 01', // first key "u"
      'a1 6074 01', // first key is the empty string, then 0x74
      'a1 6274 74 01', // first key "tt"
      'a1 7874 01', // another text head
      'a1 6174', // ends after the key
      'a1 6174 19 0001', // a 2-byte type value
      'a1 6174 20', // a negative integer
      'a1 6174 41 01', // a byte string
      'a1 6174 18', // 0x18 with its byte missing
      'b8', // 1-byte count missing
      'b9 00', // 2-byte count cut short: no "t" after it
      'a1 61', // key cut in half
      'a0 6174 03', // an empty map followed by bytes that look like a type
      '81 6174 03', // an array holding "t", 3
      '00 00000000 6174 01', // not a map, with "t" where a 4-byte count would end
      'bb 00000000 6174 01', // an 8-byte count cut short, "t" where a 4-byte count would end
    ];
    for (const frame of refused) expect(peekType(hex(frame)), frame).toBe(-1);
  });
});
