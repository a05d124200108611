import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { fuzzFrame, rng } from './fuzz-frames.js';
import { sampleMessages } from './samples.js';

describe('wire fuzz: decodeFrame never throws anything but WireError', () => {
  it('20,000 random and mutated frames', () => {
    const valid = sampleMessages()
      .filter((m) => m.t !== 7) // the 32 KiB poll sample makes mutation slow without adding coverage
      .map(encodeMessage);
    const next = rng(0x7153);
    const seen = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = fuzzFrame(next, valid);
      try {
        // odd frames as a peer in its handshake would see them, even ones as an authenticated peer
        decodeFrame(frame, i % 2 === 1 ? 'handshake' : 'authenticated');
        accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
        const code = (err as WireError).code;
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    // the mutations reach every refusal path, and some mutants stay valid (e.g. a flipped payload byte)
    expect([...seen.keys()].sort()).toEqual([
      'WIRE_BAD_CBOR',
      'WIRE_BAD_SCHEMA',
      'WIRE_FRAME_TOO_LARGE',
      'WIRE_NOT_A_MESSAGE',
      'WIRE_UNEXPECTED_TYPE',
      'WIRE_UNKNOWN_TYPE',
    ]);
    expect(accepted).toBeGreaterThan(0);
  });
});
