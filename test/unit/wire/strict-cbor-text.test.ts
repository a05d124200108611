import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/wire/codec.js';
import {
  MAX_HOST_LENGTH,
  MAX_PEERS_PER_MESSAGE,
  MAX_REJECT_CODE_LENGTH,
  MAX_REJECT_REASON_LENGTH,
  MAX_TEXT_BYTES,
} from '../../../src/wire/limits.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { strictCborProblem } from '../../../src/wire/strict-cbor.js';
import { codeOf } from './frame-code.js';
import { sampleMessages } from './samples.js';

// Text strings are bounded by the strict scan, at the string head: the schema's bounds (in UTF-16
// units) only apply after cbor-x has built the whole JS string.

/** A character of 3 UTF-8 bytes and 1 UTF-16 unit: the most bytes per unit a valid string has. */
const WIDE = '€';

/** {t: 11 (Blocks), id: 1, blocks: "€€€…"} of about `size` bytes. */
function blocksOfText(size: number): Uint8Array {
  const n = Math.floor((size - 20) / 3) * 3;
  const head = Buffer.from([
    0xa3,
    0x61,
    0x74,
    MSG.blocks,
    0x62,
    0x69,
    0x64,
    0x01,
    0x66,
    ...Buffer.from('blocks'),
  ]);
  const len = Buffer.from([0x7a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return Uint8Array.from(Buffer.concat([head, len, Buffer.from(WIDE.repeat(n / 3))]));
}

describe('strict CBOR: text lengths', () => {
  it('a 4 MiB Blocks frame of one non-ASCII text string is refused at the string head', () => {
    const frame = blocksOfText(4 * 1024 * 1024);
    expect(strictCborProblem(frame)).toMatch(/^text of 4194282 bytes at byte 15$/);
    expect(codeOf(frame)).toBe('WIRE_BAD_CBOR');
  });

  it(`a text string of ${MAX_TEXT_BYTES} bytes passes, one of ${MAX_TEXT_BYTES + 1} does not`, () => {
    const ping = (text: string) => {
      const b = Buffer.from(text);
      return Uint8Array.from(
        Buffer.concat([
          Buffer.from([0xa2, 0x61, 0x74, 0x03, 0x61, 0x6e, 0x79, b.length >> 8, b.length & 0xff]),
          b,
        ]),
      );
    };
    expect(strictCborProblem(ping('a'.repeat(MAX_TEXT_BYTES)))).toBeNull();
    expect(strictCborProblem(ping('a'.repeat(MAX_TEXT_BYTES + 1)))).toMatch(/^text of 769 bytes/);
  });

  // The largest valid instance of every message type with a text field, each character 3 bytes.
  const widest: Record<number, WireMessage> = {
    [MSG.reject]: {
      t: MSG.reject,
      id: 0,
      code: WIDE.repeat(MAX_REJECT_CODE_LENGTH),
      reason: WIDE.repeat(MAX_REJECT_REASON_LENGTH),
    },
    [MSG.peers]: {
      t: MSG.peers,
      id: 1,
      peers: Array.from({ length: MAX_PEERS_PER_MESSAGE }, (_, i) => ({
        host: WIDE.repeat(MAX_HOST_LENGTH),
        port: 65_535,
        pubkey: new Uint8Array(32).fill(i),
      })),
    },
  };

  it('every message type of the catalogue with a text field is in the table of widest texts', () => {
    const hasText = (v: unknown): boolean =>
      typeof v === 'string' ||
      (Array.isArray(v) && v.some(hasText)) ||
      (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && Object.values(v).some(hasText));
    const withText = sampleMessages()
      .filter((m) => Object.values(m).some(hasText))
      .map((m) => m.t);
    expect(new Set(withText)).toEqual(new Set(Object.keys(widest).map(Number)));
  });

  for (const [t, m] of Object.entries(widest)) {
    it(`type ${t}: its widest valid text fields pass the scan and decode`, () => {
      const frame = encodeMessage(m);
      expect(strictCborProblem(frame)).toBeNull();
      expect(codeOf(frame)).toBe('OK');
    });
  }

  it(`${MAX_TEXT_BYTES} bytes is what the longest text field of the catalogue takes at 3 bytes a unit`, () => {
    const longest = Math.max(MAX_REJECT_CODE_LENGTH, MAX_REJECT_REASON_LENGTH, MAX_HOST_LENGTH);
    expect(Buffer.byteLength(WIDE.repeat(longest))).toBe(MAX_TEXT_BYTES);
    // no UTF-16 unit takes more: an astral character is 4 bytes for 2 units
    expect(Buffer.byteLength('😀'.repeat(longest / 2))).toBeLessThan(MAX_TEXT_BYTES);
  });
});
