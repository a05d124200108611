import { decode as cborxDecode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/wire/codec.js';
import { BLOCK_FRAME_LIMIT, PRE_AUTH_FRAME_LIMIT } from '../../../src/wire/limits.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { strictCborProblem } from '../../../src/wire/strict-cbor.js';
import { cat, codeOf, hex } from './frame-code.js';
import { sampleMessages } from './samples.js';

/** Map header of n entries, then "t": type. */
const head = (entries: number, type: number) =>
  hex(`${(0xa0 + entries).toString(16)} 6174 ${type.toString(16).padStart(2, '0')}`);
/** "n" key of Ping/Pong. */
const N_KEY = hex('616e');

describe('strict CBOR: only plain data reaches cbor-x', () => {
  it('every sample message is plain CBOR', () => {
    for (const m of sampleMessages()) expect(strictCborProblem(encodeMessage(m)), String(m.t)).toBeNull();
  });

  // Each hostile frame: what cbor-x alone would make of it (so the refusal is not vacuous), and the
  // frame with a valid {t: type} prefix that decodeFrame must refuse as WIRE_BAD_CBOR.
  const hostile: {
    name: string;
    problem: RegExp;
    frame: Uint8Array;
    cborx: (v: unknown) => boolean;
    code?: string;
  }[] = [
    {
      // {t: 3, n: tag 27 ["Error", "boom", {}]}: cbor-x constructs an Error object
      name: 'tag 27 (constructs an Error)',
      problem: /tag/,
      frame: cat(head(2, 3), N_KEY, hex('d81b 83 654572726f72 64626f6f6d a0')),
      cborx: (v) => (v as { n: unknown }).n instanceof Error,
    },
    {
      // {t: 5, id: 0, txs: [tag 28(h'00ff'), tag 29(0), tag 29(0)]}: one item counted three times
      name: 'tags 28/29 (shared references)',
      problem: /tag/,
      frame: cat(head(3, 5), hex('626964 00 63747873 83 d81c 4200ff d81d 00 d81d 00')),
      cborx: (v) => (v as { txs: unknown[] }).txs.length === 3,
    },
    {
      // a cbor-x record definition (tag 57343) followed by a record
      name: 'record definition',
      problem: /tag/,
      frame: cat(head(2, 3), N_KEY, hex('d9dfff 84 19e000 82 6174 616e 03 01')),
      cborx: (v) => typeof (v as { n: unknown }).n === 'object',
    },
    {
      name: 'typed-array tag (Uint16Array)',
      problem: /tag/,
      frame: cat(head(2, 3), N_KEY, hex('d845 42 0100')),
      cborx: (v) => (v as { n: unknown }).n instanceof Uint16Array,
    },
    {
      name: 'double float',
      problem: /float/,
      frame: cat(head(2, 3), N_KEY, hex('fb 3ff8000000000000')),
      cborx: () => true,
    },
    {
      name: 'half float',
      problem: /float/,
      frame: cat(head(2, 3), N_KEY, hex('f9 3c00')),
      cborx: () => true,
    },
    { name: 'null', problem: /simple/, frame: cat(head(2, 3), N_KEY, hex('f6')), cborx: () => true },
    { name: 'true', problem: /simple/, frame: cat(head(2, 3), N_KEY, hex('f5')), cborx: () => true },
    {
      name: 'indefinite-length byte string',
      problem: /indefinite/,
      frame: cat(head(2, 9), hex('65626c6f636b 5f 4101 4102 ff')),
      cborx: (v) => (v as { block: Uint8Array }).block.length === 2,
    },
    {
      name: 'indefinite-length array',
      problem: /indefinite/,
      frame: cat(head(3, 5), hex('626964 00 63747873 9f 4101 ff')),
      cborx: (v) => (v as { txs: unknown[] }).txs.length === 1,
    },
    {
      // no definite map header: refused even before the strict scan, as not a message
      name: 'indefinite-length map',
      problem: /indefinite/,
      frame: hex('bf 6174 03 616e 01 ff'),
      cborx: () => true,
      code: 'WIRE_NOT_A_MESSAGE',
    },
    {
      name: 'integer key',
      problem: /not a text string/,
      frame: cat(head(2, 3), hex('01 01')),
      cborx: () => true,
    },
    {
      name: 'duplicate key',
      problem: /duplicate/,
      frame: cat(head(3, 3), N_KEY, hex('01'), N_KEY, hex('02')),
      cborx: () => true,
    },
    {
      name: 'integer above 2^53',
      problem: /above 2\^53/,
      frame: cat(head(2, 3), N_KEY, hex('1b 0020000000000000')),
      cborx: () => true,
    },
    {
      // refused at the head by the array-items bound, before the count is compared with the frame
      name: 'array count of 2^32 − 1',
      problem: /array of 4294967295 items/,
      frame: cat(head(3, 5), hex('626964 00 63747873 9a ffffffff 4101')),
      cborx: () => true,
    },
    {
      name: 'array count beyond the frame',
      problem: /truncated/,
      frame: cat(head(3, 5), hex('626964 00 63747873 98 c8 4101')),
      cborx: () => true,
    },
    {
      name: 'invalid UTF-8 text',
      problem: /UTF-8/,
      frame: cat(head(4, 15), hex('626964 00 64636f6465 62 c328 66726561736f6e 60')),
      cborx: () => true,
    },
  ];
  for (const h of hostile) {
    it(`refuses ${h.name}`, () => {
      let plain: unknown;
      try {
        plain = cborxDecode(h.frame);
      } catch {
        plain = undefined;
      }
      if (plain !== undefined) expect(h.cborx(plain)).toBe(true);
      expect(strictCborProblem(h.frame)).toMatch(h.problem);
      expect(codeOf(h.frame)).toBe(h.code ?? 'WIRE_BAD_CBOR');
    });
  }

  it('refuses reserved additional information, maps of more than 16 entries and trailing bytes', () => {
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('1c')))).toMatch(/reserved/);
    const keys = Array.from({ length: 16 }, (_, i) => cat(hex('62 6b'), Uint8Array.of(0x41 + i), hex('01')));
    expect(strictCborProblem(cat(head(16, 3), ...keys.slice(0, 15)))).toBeNull();
    expect(strictCborProblem(cat(head(17, 3), ...keys))).toMatch(/map of 17 entries/);
    const ping = encodeMessage({ t: MSG.ping, n: 1 });
    expect(strictCborProblem(cat(ping, hex('00')))).toMatch(/1 bytes after/);
  });

  it('refuses nesting beyond the catalogue (a map inside a peer address)', () => {
    const ok = encodeMessage({
      t: MSG.peers,
      id: 1,
      peers: [{ host: '10.0.0.1', port: 1, pubkey: new Uint8Array(32) }],
    });
    expect(strictCborProblem(ok)).toBeNull();
    const deep = encodeMessage({
      t: MSG.peers,
      id: 1,
      peers: [{ host: '10.0.0.1', port: 1, pubkey: { x: 1 } }],
    } as unknown as WireMessage);
    expect(strictCborProblem(deep)).toMatch(/nested too deep/);
  });

  it('refuses an array nested as deep as the catalogue forbids, like a map', () => {
    // {t: 3, n: [[x]]}: depth 0 map, 1 array, 2 array, 3 the item: fine; one level more is refused.
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('81 81 01')))).toBeNull();
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('81 81 81 01')))).toMatch(/nested too deep/);
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('81 81 a0')))).toMatch(/nested too deep/);
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('81 a1 6161 01')))).toBeNull();
  });

  it('reads every length form of a head exactly (1, 2, 4 and 8 following bytes)', () => {
    const three = hex('010203');
    for (const h of ['43', '58 03', '59 0003', '5a 00000003', '5b 0000000000000003'])
      expect(strictCborProblem(cat(head(2, 3), N_KEY, hex(h), three)), h).toBeNull();
    // The same heads one byte longer than what follows: the string runs past the frame.
    for (const h of ['44', '58 04', '59 0004', '5a 00000004', '5b 0000000000000004'])
      expect(strictCborProblem(cat(head(2, 3), N_KEY, hex(h), three)), h).toMatch(/runs past the frame/);
    // A length above 2^32 (high word 1) and the largest safe one: far past any frame.
    for (const h of ['5b 0000000100000003', '5b 001fffffffffffff'])
      expect(strictCborProblem(cat(head(2, 3), N_KEY, hex(h), three, three)), h).toMatch(
        /runs past the frame/,
      );
    // (a text string that long is refused by the text bound first)
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('7b 001fffffffffffff'), three))).toMatch(
      /text of 9007199254740991 bytes/,
    );
    // Every byte of an 8-byte length counts: 259 = 0x0103.
    const long = new Uint8Array(259);
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('5b 0000000000000103'), long))).toBeNull();
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('5b 0000000000000103'), long, three))).toMatch(
      /3 bytes after/,
    );
    // A head whose own argument bytes are cut short.
    for (const h of ['18', '19 00', '1a 000000', '1b 00000000000000'])
      expect(strictCborProblem(cat(head(2, 3), N_KEY, hex(h))), h).toMatch(/truncated/);
    // Integers in every form, up to 2^53 − 1.
    for (const h of ['17', '18 ff', '19 ffff', '1a ffffffff', '1b 001fffffffffffff', '3b 001fffffffffffff'])
      expect(strictCborProblem(cat(head(2, 3), N_KEY, hex(h))), h).toBeNull();
  });

  it('checks UTF-8 in text strings only: byte strings may hold any bytes', () => {
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('42 c328')))).toBeNull();
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('62 c328')))).toMatch(/UTF-8/);
    // Non-ASCII but valid UTF-8 (é) passes; ASCII passes without the validator.
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('62 c3a9')))).toBeNull();
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('62 7f7f')))).toBeNull();
    expect(strictCborProblem(cat(head(2, 3), N_KEY, hex('61 80')))).toMatch(/UTF-8/);
  });

  it('finds a duplicate key anywhere in a map, and only an exact one', () => {
    const key = (k: string) => cat(Uint8Array.of(0x60 + k.length), Buffer.from(k));
    const map = (...keys: string[]) =>
      cat(Uint8Array.of(0xa0 + keys.length + 1), hex('6174 03'), ...keys.map((k) => cat(key(k), hex('01'))));
    expect(strictCborProblem(map('a', 'b', 'c', 'd'))).toBeNull();
    // A key that is a prefix of another, or equal in length but not in content, is distinct.
    expect(strictCborProblem(map('a', 'ab', 'ba', 'abc'))).toBeNull();
    for (const keys of [
      ['a', 'b', 'c', 'b'],
      ['b', 'c', 'd', 'e', 'b'],
      ['ab', 'cd', 'ef', 'gh', 'ij', 'kl', 'ef'],
      ['x', 'y', 't'],
    ])
      expect(strictCborProblem(map(...keys)), keys.join()).toMatch(/duplicate key/);
  });

  it('keeps the keys of nested maps apart: an outer duplicate after an inner map is still found', () => {
    // {t: 3, m: {a, b, c, d, e: {k, l}, e}}: the inner map at depth 2 must not overwrite the record
    // of the outer map's keys at depth 1, nor the other way round.
    const entries = (...parts: string[]) => hex(parts.join(' '));
    const inner = entries('a2', '616b 01', '616c 01');
    const outer = (last: string) =>
      cat(
        head(2, 3),
        hex('616d'),
        hex('a6'),
        entries('6161 01', '6162 01', '6163 01', '6164 01'),
        hex('6165'),
        inner,
        hex(last),
      );
    expect(strictCborProblem(outer('6166 01'))).toBeNull();
    expect(strictCborProblem(outer('6165 01'))).toMatch(/duplicate key/);
    expect(strictCborProblem(outer('6161 01'))).toMatch(/duplicate key/);
    // And a duplicate inside the inner map is found there.
    const dupInner = cat(head(2, 3), hex('616d a2 6161 a2 616b 01 616b 02 6162 01'));
    expect(strictCborProblem(dupInner)).toMatch(/duplicate key/);
    const okInner = cat(head(2, 3), hex('616d a2 6161 a2 616b 01 616c 02 6162 01'));
    expect(strictCborProblem(okInner)).toBeNull();
  });

  it('a key has one encoding: a length field outside the head is refused, so duplicates cannot hide', () => {
    // {t: 3, n: 1, n: 2} with the second "n" written with a 1-byte length field (0x78 0x01): cbor-x
    // reads one key "n" (the last value wins), a byte comparison would see two different keys.
    const hidden = cat(head(3, 3), N_KEY, hex('01 7801 6e 02'));
    expect((cborxDecode(hidden) as { n: number }).n).toBe(2);
    expect(strictCborProblem(hidden)).toMatch(/longer than 23 bytes/);
    expect(codeOf(hidden)).toBe('WIRE_BAD_CBOR');
    // A second `t` the same way: peekType reads 3 (Ping's small limit), cbor-x would read 9 (Block).
    const retyped = cat(head(3, 3), N_KEY, hex('01 7801 74 09'));
    expect((cborxDecode(retyped) as { t: number }).t).toBe(9);
    expect(codeOf(retyped)).toBe('WIRE_BAD_CBOR');
    // The longest key the head holds is fine; one byte more is not.
    const k23 = cat(Uint8Array.of(0x77), Buffer.from('k'.repeat(23)));
    expect(strictCborProblem(cat(head(2, 3), k23, hex('01')))).toBeNull();
    const k24 = cat(hex('78 18'), Buffer.from('k'.repeat(24)));
    expect(strictCborProblem(cat(head(2, 3), k24, hex('01')))).toMatch(/longer than 23 bytes/);
  });

  it('refuses a map that ends before its last key or value', () => {
    expect(strictCborProblem(cat(head(2, 3), N_KEY))).toMatch(/truncated/);
    expect(strictCborProblem(cat(head(3, 3), N_KEY, hex('01')))).toMatch(/not a text string/);
  });

  it('refuses a 4 MiB frame of tag-27 items in well under 5 ms, before cbor-x runs', () => {
    // {t: 9, block: [tag 27 [...], …]} filling the Block frame limit
    const item = hex('d81b 83 654572726f72 64626f6f6d a0');
    const body = new Uint8Array(BLOCK_FRAME_LIMIT - 16);
    for (let i = 0; i + item.length <= body.length; i += item.length) body.set(item, i);
    const frame = cat(head(2, 9), hex('65626c6f636b 9a 00040000'), body).subarray(0, BLOCK_FRAME_LIMIT);
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now();
      expect(codeOf(frame)).toBe('WIRE_BAD_CBOR');
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(5);
  });
});

describe('phases: before the handshake only small Hello/Auth/Reject frames', () => {
  const samples = sampleMessages();
  const frameOf = (t: number) => encodeMessage(samples.find((m) => m.t === t)!);

  it('accepts Hello, Auth and Reject, refuses every other type before decoding it', () => {
    for (const m of samples) {
      const expected = [MSG.hello, MSG.auth, MSG.reject].includes(m.t as 1)
        ? 'OK'
        : encodeMessage(m).length > PRE_AUTH_FRAME_LIMIT
          ? 'WIRE_FRAME_TOO_LARGE'
          : 'WIRE_UNEXPECTED_TYPE';
      expect(codeOf(encodeMessage(m), 'handshake'), String(m.t)).toBe(expected);
    }
  });

  it('the 1 KiB pre-auth cap is checked on the raw length, whatever the frame claims to be', () => {
    const big = new Uint8Array(PRE_AUTH_FRAME_LIMIT + 1);
    big.set(frameOf(MSG.hello));
    expect(codeOf(big, 'handshake')).toBe('WIRE_FRAME_TOO_LARGE');
    expect(codeOf(big.subarray(0, PRE_AUTH_FRAME_LIMIT), 'handshake')).toBe('WIRE_BAD_CBOR');
  });

  it('after the handshake Hello and Auth are refused, Reject and everything else accepted', () => {
    for (const m of samples) {
      const expected = m.t === MSG.hello || m.t === MSG.auth ? 'WIRE_UNEXPECTED_TYPE' : 'OK';
      expect(codeOf(encodeMessage(m), 'authenticated'), String(m.t)).toBe(expected);
    }
  });
});

describe('new messages', () => {
  it('cursors are empty or one txid; Inventory pages hold at most 1,024 txids', () => {
    const enc = (m: Record<string, unknown>) => encodeMessage(m as unknown as WireMessage);
    expect(codeOf(enc({ t: MSG.getInventory, id: 1, after: new Uint8Array(0) }))).toBe('OK');
    expect(codeOf(enc({ t: MSG.getInventory, id: 1, after: new Uint8Array(31) }))).toBe('WIRE_BAD_SCHEMA');
    expect(codeOf(enc({ t: MSG.getInventory, id: 1, after: new Uint8Array(64) }))).toBe('WIRE_BAD_SCHEMA');
    const inv = (n: number, next = 0) =>
      enc({ t: MSG.inventory, id: 1, txids: new Uint8Array(32 * n), next: new Uint8Array(next) });
    expect([0, 1, 1024].map((n) => codeOf(inv(n)))).toEqual(['OK', 'OK', 'OK']);
    expect(codeOf(inv(1025))).toBe('WIRE_BAD_SCHEMA');
    expect(codeOf(inv(1, 32))).toBe('OK');
    expect(codeOf(inv(1, 33))).toBe('WIRE_BAD_SCHEMA');
    expect(codeOf(enc({ t: MSG.tip, height: 1, hash: new Uint8Array(32), slot: -1 }))).toBe(
      'WIRE_BAD_SCHEMA',
    );
  });

  it('Beacon y and proof are exactly 256 bytes', () => {
    const beacon = (y: number, p: number) =>
      encodeMessage({ t: MSG.beacon, slot: 1, y: new Uint8Array(y), proof: new Uint8Array(p) });
    expect(codeOf(beacon(256, 256))).toBe('OK');
    expect(codeOf(beacon(255, 256))).toBe('WIRE_BAD_SCHEMA');
    expect(codeOf(beacon(256, 1))).toBe('WIRE_BAD_SCHEMA');
  });
});
