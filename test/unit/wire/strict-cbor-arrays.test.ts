import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/wire/codec.js';
import {
  MAX_ARRAY_ITEMS,
  MAX_BLOCKS_PER_RESPONSE,
  MAX_HOST_LENGTH,
  MAX_PEERS_PER_MESSAGE,
  MAX_TXS_PER_BATCH,
} from '../../../src/wire/limits.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { strictCborProblem } from '../../../src/wire/strict-cbor.js';
import { cat, codeOf, hex } from './frame-code.js';
import { sampleMessages } from './samples.js';

// Array lengths are bounded by the strict scan, at the array head: the schema's bounds (≤ 256 txs,
// ≤ 50 blocks, ≤ 64 peers) only apply after cbor-x has built the whole array.

/** A CBOR array head of `n` items (n < 2^32). */
function arrayHead(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x80 + n);
  if (n < 0x100) return Uint8Array.of(0x98, n);
  if (n < 0x1_0000) return Uint8Array.of(0x99, n >> 8, n & 0xff);
  return Uint8Array.of(0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** {t: type, id: 1, <field>: [0, 0, …]} of exactly `size` bytes: one array of one-byte integers. */
function arrayOfTinyInts(type: number, field: string, size: number): Uint8Array {
  const key = Buffer.from(field);
  const prefix = cat(
    hex(`a3 6174 ${type.toString(16).padStart(2, '0')} 626964 01`),
    Uint8Array.of(0x60 + key.length),
    key,
  );
  const count = size - prefix.length - 5;
  const frame = new Uint8Array(size); // the items are all 0x00 (the integer 0)
  frame.set(cat(prefix, arrayHead(count)));
  expect(arrayHead(count).length).toBe(5);
  return frame;
}

describe('strict CBOR: array lengths', () => {
  it('a 4 MiB Blocks frame of one array of 4 million integers is refused at the array head', () => {
    const frame = arrayOfTinyInts(MSG.blocks, 'blocks', 4 * 1024 * 1024);
    expect(strictCborProblem(frame)).toMatch(/^array of 4194284 items at byte 15: over 256 array items/);
    // WIRE_BAD_CBOR, from the scan: cbor-x never sees it (the schema would say WIRE_BAD_SCHEMA)
    expect(codeOf(frame)).toBe('WIRE_BAD_CBOR');
  });

  it('a 256 KiB Tx frame of one array of 256K integers is refused at the array head', () => {
    const frame = arrayOfTinyInts(MSG.tx, 'txs', 256 * 1024);
    expect(strictCborProblem(frame)).toMatch(/^array of 262127 items at byte 12: over 256 array items/);
    expect(codeOf(frame)).toBe('WIRE_BAD_CBOR');
  });

  it(`at most ${MAX_ARRAY_ITEMS} array items in a frame, in one array or spread over several`, () => {
    const ints = (n: number) => new Uint8Array(n); // n integers 0
    const ping = (...value: Uint8Array[]) => cat(hex('a2 6174 03 616e'), ...value);
    expect(strictCborProblem(ping(arrayHead(MAX_ARRAY_ITEMS), ints(MAX_ARRAY_ITEMS)))).toBeNull();
    expect(strictCborProblem(ping(arrayHead(MAX_ARRAY_ITEMS + 1), ints(MAX_ARRAY_ITEMS + 1)))).toMatch(
      /^array of 257 items/,
    );
    // one array of 2 arrays of 128 items: 258 in all
    const half = cat(arrayHead(128), ints(128));
    expect(strictCborProblem(ping(arrayHead(2), half, half))).toMatch(/^array of 128 items/);
    // two fields of 200 items each (16 keys of a map may not hold 16 full arrays either)
    const twoFields = cat(
      hex('a3 6174 03 6161'),
      arrayHead(200),
      ints(200),
      hex('6162'),
      arrayHead(200),
      ints(200),
    );
    expect(strictCborProblem(twoFields)).toMatch(/^array of 200 items/);
    // the budget is per frame: the next frame starts again from MAX_ARRAY_ITEMS
    expect(strictCborProblem(ping(arrayHead(MAX_ARRAY_ITEMS), ints(MAX_ARRAY_ITEMS)))).toBeNull();
  });

  // The largest valid instance of every message type that holds an array (longest array, and items
  // about as large as the frame limit allows): the scan must pass them all.
  const longest: Record<number, { max: number; build: (n: number) => WireMessage }> = {
    [MSG.tx]: {
      max: MAX_TXS_PER_BATCH,
      build: (n) => ({
        t: MSG.tx,
        id: 0,
        txs: Array.from({ length: n }, (_, i) => new Uint8Array(1_000).fill(i)),
      }),
    },
    [MSG.blocks]: {
      max: MAX_BLOCKS_PER_RESPONSE,
      build: (n) => ({
        t: MSG.blocks,
        id: 1,
        blocks: Array.from({ length: n }, (_, i) => new Uint8Array(80_000).fill(i)),
      }),
    },
    [MSG.peers]: {
      max: MAX_PEERS_PER_MESSAGE,
      build: (n) => ({
        t: MSG.peers,
        id: 1,
        peers: Array.from({ length: n }, (_, i) => ({
          host: 'h'.repeat(MAX_HOST_LENGTH),
          port: 65_535,
          pubkey: new Uint8Array(32).fill(i),
        })),
      }),
    },
  };

  it('every message type of the catalogue that holds an array is in the table of longest arrays', () => {
    const withArrays = sampleMessages()
      .filter((m) => Object.values(m).some((v) => Array.isArray(v)))
      .map((m) => m.t);
    expect(new Set(withArrays)).toEqual(new Set(Object.keys(longest).map(Number)));
  });

  for (const [t, { max, build }] of Object.entries(longest)) {
    it(`type ${t}: its longest valid array (${max} items) passes the scan and decodes`, () => {
      const frame = encodeMessage(build(max));
      expect(strictCborProblem(frame)).toBeNull();
      expect(codeOf(frame)).toBe('OK');
      expect(max).toBeLessThanOrEqual(MAX_ARRAY_ITEMS);
    });

    it(`type ${t}: one item more (${max + 1}) is refused, so ${max} is the schema's own bound`, () => {
      // (still within its type's frame limit: the length is what is refused, by the scan or the schema)
      expect(['WIRE_BAD_CBOR', 'WIRE_BAD_SCHEMA']).toContain(codeOf(encodeMessage(build(max + 1))));
    });
  }

  it(`${MAX_ARRAY_ITEMS} is the longest array any catalogue message may hold`, () => {
    expect(MAX_ARRAY_ITEMS).toBe(Math.max(...Object.values(longest).map((l) => l.max)));
  });
});
