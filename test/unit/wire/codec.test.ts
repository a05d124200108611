import { encode as rawCborEncode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { decodeFrame, encodeMessage, type FramePhase, frameLimitOf } from '../../../src/wire/codec.js';
import { FRAME_LIMIT, MAX_TXIDS_PER_REQUEST, PRE_AUTH_FRAME_LIMIT } from '../../../src/wire/limits.js';
import { MESSAGE_NAME, MSG, VOTE, type WireMessage } from '../../../src/wire/message-types.js';
import { peekType } from '../../../src/wire/peek-type.js';
import { SCHEMAS } from '../../../src/wire/schemas.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { codeOf as codeOfIn } from './frame-code.js';
import { sampleMessages } from './samples.js';

/** Hello and Auth are decoded in the handshake phase, everything else after it. */
const phaseOf = (frame: Uint8Array): FramePhase =>
  peekType(frame) === MSG.hello || peekType(frame) === MSG.auth ? 'handshake' : 'authenticated';

const codeOf = (frame: Uint8Array) => codeOfIn(frame, phaseOf(frame));

/** Encodes an arbitrary object with `t` first, bypassing encodeMessage's typing. */
function frameOf(obj: Record<string, unknown>): Uint8Array {
  return encodeMessage(obj as unknown as WireMessage);
}

/** Deep equality of decoded values where Buffers compare as plain byte arrays. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('wire codec: every catalogue message', () => {
  const samples = sampleMessages();

  it('covers each type code exactly once', () => {
    expect(samples.map((m) => m.t).sort((a, b) => a - b)).toEqual(Object.values(MSG).sort((a, b) => a - b));
  });

  it('every type code has both a frame limit and a schema, and nothing else has either', () => {
    const codes = Object.values(MSG).map(String).sort();
    expect(Object.keys(FRAME_LIMIT).sort()).toEqual(codes);
    expect(Object.keys(SCHEMAS).sort()).toEqual(codes);
  });

  for (const msg of samples) {
    it(`${MESSAGE_NAME[msg.t]} round-trips, fits its frame limit and exposes its type before decoding`, () => {
      const frame = encodeMessage(msg);
      expect(peekType(frame)).toBe(msg.t);
      expect(frame.length).toBeLessThanOrEqual(FRAME_LIMIT[msg.t]);
      const back = decodeFrame(frame, phaseOf(frame));
      expect(plain(back)).toEqual(plain(msg));
      // byte fields stay bytes: never hex or arrays of numbers
      for (const [k, v] of Object.entries(msg))
        if (v instanceof Uint8Array) expect((back as never)[k]).toBeInstanceOf(Uint8Array);
    });
  }

  it('integers up to 2^53 − 1 round-trip as CBOR integers (cbor-x alone would write floats)', () => {
    for (const slot of [2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const frame = encodeMessage({ t: MSG.tip, height: slot, hash: new Uint8Array(32), slot });
      expect(frame.includes(0xfb)).toBe(false);
      expect(decodeFrame(frame)).toMatchObject({ height: slot, slot });
    }
  });

  it('refuses to encode a message whose first key is not t', () => {
    expect(() => encodeMessage({ id: 1, t: MSG.getPeers } as unknown as WireMessage)).toThrow(
      new TypeError('wire messages must have `t` as their first key'),
    );
  });
});

describe('wire codec: refusals are typed and happen in the right order', () => {
  it('checks the per-type size limit on the raw frame, before CBOR decoding', () => {
    // A PollRequest prefix followed by garbage: too large for its type, so the garbage is never parsed.
    const big = new Uint8Array(FRAME_LIMIT[MSG.pollRequest] + 1);
    big.set([0xa3, 0x61, 0x74, MSG.pollRequest]);
    expect(codeOf(big)).toBe('WIRE_FRAME_TOO_LARGE');
    const okSize = big.subarray(0, FRAME_LIMIT[MSG.pollRequest]);
    expect(codeOf(okSize)).toBe('WIRE_BAD_CBOR');
  });

  it('a poll with more than 1,024 txids is refused (schema), far more by the size limit', () => {
    const over = frameOf({
      t: MSG.pollRequest,
      id: 1,
      txids: new Uint8Array(32 * (MAX_TXIDS_PER_REQUEST + 1)),
    });
    expect(codeOf(over)).toBe('WIRE_BAD_SCHEMA');
    const huge = frameOf({
      t: MSG.pollRequest,
      id: 1,
      txids: new Uint8Array(32 * 3 * MAX_TXIDS_PER_REQUEST),
    });
    expect(codeOf(huge)).toBe('WIRE_FRAME_TOO_LARGE');
  });

  it('rejects frames that are not a {t: type} map', () => {
    expect(codeOf(new Uint8Array([]))).toBe('WIRE_NOT_A_MESSAGE');
    expect(codeOf(rawCborEncode([1, 2, 3]))).toBe('WIRE_NOT_A_MESSAGE');
    expect(codeOf(rawCborEncode({ id: 1, t: 3 }))).toBe('WIRE_NOT_A_MESSAGE');
    expect(codeOf(rawCborEncode({ t: 'ping', n: 1 }))).toBe('WIRE_NOT_A_MESSAGE');
    expect(codeOf(new TextEncoder().encode('{"t":3,"n":1}'))).toBe('WIRE_NOT_A_MESSAGE');
  });

  it('rejects unknown type codes', () => {
    expect(codeOf(frameOf({ t: 0 }))).toBe('WIRE_UNKNOWN_TYPE');
    expect(codeOf(frameOf({ t: 19, x: 1 }))).toBe('WIRE_UNKNOWN_TYPE');
    expect(codeOf(frameOf({ t: 200 }))).toBe('WIRE_UNKNOWN_TYPE');
  });

  it('rejects truncated and trailing-garbage CBOR', () => {
    const frame = encodeMessage({ t: MSG.getTx, id: 1, txids: new Uint8Array(64) });
    for (let cut = 4; cut < frame.length; cut += 7)
      expect(codeOf(frame.subarray(0, cut))).toBe('WIRE_BAD_CBOR');
    const trailing = new Uint8Array(frame.length + 1);
    trailing.set(frame);
    expect(codeOf(trailing)).toBe('WIRE_BAD_CBOR');
  });

  const badSchemas: [string, Record<string, unknown>][] = [
    ['missing field', { t: MSG.getTx, id: 1 }],
    ['extra field', { t: MSG.ping, n: 1, extra: 2 }],
    ['hex string instead of bytes', { t: MSG.getTx, id: 1, txids: 'ab'.repeat(32) }],
    ['array of numbers instead of bytes', { t: MSG.auth, sig: Array.from({ length: 64 }, () => 1) }],
    ['txids not a multiple of 32 bytes', { t: MSG.pollRequest, id: 1, txids: new Uint8Array(33) }],
    ['empty txid list', { t: MSG.pollRequest, id: 1, txids: new Uint8Array(0) }],
    ['request id 0', { t: MSG.pollRequest, id: 0, txids: new Uint8Array(32) }],
    ['negative integer', { t: MSG.ping, n: -1 }],
    ['u32 overflow', { t: MSG.ping, n: 2 ** 32 }],
    ['short signature', { t: MSG.auth, sig: new Uint8Array(63) }],
    ['too many blocks', { t: MSG.getBlocks, id: 1, from: 0, count: 51 }],
    ['bad nested peer', { t: MSG.peers, id: 1, peers: [{ host: '', port: 1, pubkey: new Uint8Array(32) }] }],
    [
      'peer with extra key',
      { t: MSG.peers, id: 1, peers: [{ host: 'a', port: 1, pubkey: new Uint8Array(32), x: 1 }] },
    ],
    ['a map where an array is expected', { t: MSG.tx, id: 0, txs: { a: 1 } }],
    ['empty transaction', { t: MSG.tx, id: 0, txs: [new Uint8Array(0)] }],
  ];
  for (const [name, obj] of badSchemas) {
    it(`rejects wrong schema: ${name}`, () => {
      expect(codeOf(frameOf(obj))).toBe('WIRE_BAD_SCHEMA');
    });
  }

  it('each refusal names the type, the sizes and the problem (what a ban log and a Reject carry)', () => {
    const refusal = (frame: Uint8Array, phase: FramePhase) => {
      try {
        decodeFrame(frame, phase);
      } catch (err) {
        if (err instanceof WireError) {
          // CodedError prefixes the code; the rest is the problem in words.
          expect(err.message.startsWith(`${err.code}: `)).toBe(true);
          return { code: err.code, message: err.message.slice(err.code.length + 2), details: err.details };
        }
        throw err;
      }
      throw new Error('decoded');
    };
    const ping = encodeMessage({ t: MSG.ping, n: 1 });
    const preAuth = new Uint8Array(PRE_AUTH_FRAME_LIMIT + 1);
    expect(refusal(preAuth, 'handshake')).toEqual({
      code: 'WIRE_FRAME_TOO_LARGE',
      message: `${PRE_AUTH_FRAME_LIMIT + 1}-byte frame before the handshake completed`,
      details: { bytes: PRE_AUTH_FRAME_LIMIT + 1, limit: PRE_AUTH_FRAME_LIMIT },
    });
    expect(refusal(Uint8Array.of(0x81, 0x01), 'authenticated')).toEqual({
      code: 'WIRE_NOT_A_MESSAGE',
      message: 'frame does not start with a {t: type} map',
      details: { bytes: 2 },
    });
    expect(refusal(frameOf({ t: 19, x: 1 }), 'authenticated')).toEqual({
      code: 'WIRE_UNKNOWN_TYPE',
      message: 'unknown message type 19',
      details: { type: 19 },
    });
    expect(refusal(ping, 'handshake')).toEqual({
      code: 'WIRE_UNEXPECTED_TYPE',
      message: 'ping before the handshake',
      details: { type: MSG.ping },
    });
    expect(refusal(encodeMessage({ t: MSG.auth, sig: new Uint8Array(64) }), 'authenticated')).toEqual({
      code: 'WIRE_UNEXPECTED_TYPE',
      message: 'auth after the handshake',
      details: { type: MSG.auth },
    });
    const big = new Uint8Array(FRAME_LIMIT[MSG.pollRequest] + 1);
    big.set([0xa3, 0x61, 0x74, MSG.pollRequest]);
    expect(refusal(big, 'authenticated')).toEqual({
      code: 'WIRE_FRAME_TOO_LARGE',
      message: `pollRequest frame of ${big.length} bytes`,
      details: { type: MSG.pollRequest, bytes: big.length, limit: FRAME_LIMIT[MSG.pollRequest] },
    });
    expect(refusal(Uint8Array.of(...ping, 0), 'authenticated')).toEqual({
      code: 'WIRE_BAD_CBOR',
      message: 'ping: not plain CBOR: 1 bytes after the message',
      details: { type: MSG.ping },
    });
    expect(refusal(frameOf({ t: MSG.ping, n: 1, x: 2 }), 'authenticated')).toEqual({
      code: 'WIRE_BAD_SCHEMA',
      message: 'ping: unexpected fields (3 given, 2 expected)',
      details: { type: MSG.ping },
    });
    expect(frameLimitOf(MSG.block)).toBe(FRAME_LIMIT[MSG.block]);
  });

  it('a __proto__ key neither pollutes prototypes nor passes the schema', () => {
    // map {t: 3, n: 1, "__proto__": {polluted: 1}} written by hand
    const frame = new Uint8Array([
      0xa3,
      0x61,
      0x74,
      0x03,
      0x61,
      0x6e,
      0x01,
      0x69,
      ...new TextEncoder().encode('__proto__'),
      0xa1,
      0x68,
      ...new TextEncoder().encode('polluted'),
      0x01,
    ]);
    expect(codeOf(frame)).toBe('WIRE_BAD_SCHEMA');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('vote bytes', () => {
  it('are the bytes docs/protocol.md gives (0 no, 1 yes, 2 unknown), the same the engine counts', () => {
    // The probe and tests answer with VOTE, the node with the engine's Vote: one byte meaning each.
    expect(VOTE).toEqual({ no: 0, yes: 1, unknown: 2 });
    expect(VOTE).toEqual({ no: Vote.NO, yes: Vote.YES, unknown: Vote.UNKNOWN });
  });
});

describe('decoded byte strings', () => {
  it('are copies, not views of the frame: a kept transaction does not pin (or see reuse of) its frame', () => {
    const txs = [new Uint8Array(200).fill(6), new Uint8Array(100).fill(7)];
    const frame = Buffer.from(encodeMessage({ t: MSG.tx, id: 0, txs }));
    const msg = decodeFrame(frame) as { txs: Uint8Array[] };
    for (const tx of msg.txs) expect(tx.buffer).not.toBe(frame.buffer);
    frame.fill(0);
    expect(msg.txs.map((t) => [...t])).toEqual(txs.map((t) => [...t]));
  });
});
