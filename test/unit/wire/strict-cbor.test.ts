import { decode as cborxDecode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage, type FramePhase } from '../../../src/wire/codec.js';
import { BLOCK_FRAME_LIMIT, PRE_AUTH_FRAME_LIMIT } from '../../../src/wire/limits.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { strictCborProblem } from '../../../src/wire/strict-cbor.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { sampleMessages } from './samples.js';

function codeOf(frame: Uint8Array, phase: FramePhase = 'authenticated'): string {
  try {
    decodeFrame(frame, phase);
    return 'OK';
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
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
      name: 'array count beyond the frame',
      problem: /truncated/,
      frame: cat(head(3, 5), hex('626964 00 63747873 9a ffffffff 4101')),
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
