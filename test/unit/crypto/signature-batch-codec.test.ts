import { describe, expect, it } from 'vitest';
import {
  BadSignatureBatchError,
  decodeSignatureBatch,
  encodeSignatureBatch,
  MALFORMED,
} from '../../../src/crypto/signature-batch-codec.js';
import { WasmCrypto } from '../../../src/crypto/wasm-crypto.js';
import { thrownAs } from '../../support/thrown.js';

const item = (seed: number, msgLen: number) => ({
  publicKey: new Uint8Array(32).fill(seed),
  signature: new Uint8Array(64).fill(seed + 1),
  message: new Uint8Array(msgLen).fill(seed + 2),
});

describe('signature batch codec', () => {
  it('round-trips counts, lengths, key/signature pairs and messages; wrong lengths become MALFORMED', () => {
    const items = [item(1, 0), item(2, 5), { ...item(3, 4), publicKey: new Uint8Array(31) }, item(4, 300)];
    const bytes = encodeSignatureBatch(items);
    const d = decodeSignatureBatch(bytes);
    expect(d.count).toBe(4);
    expect(Array.from(d.lengths)).toEqual([0, 5, MALFORMED, 300]);
    expect(d.pairs.subarray(96, 128)).toEqual(items[1]!.publicKey);
    expect(d.pairs.subarray(128, 192)).toEqual(items[1]!.signature);
    expect(d.messages.length).toBe(305);
    expect(d.messages.subarray(5)).toEqual(items[3]!.message);
  });

  it('decodes the smallest batch: a count of zero in 4 bytes', () => {
    const d = decodeSignatureBatch(encodeSignatureBatch([]));
    expect(d.count).toBe(0);
    expect(d.lengths.length).toBe(0);
    expect(d.pairs.length + d.messages.length).toBe(0);
  });

  it('names what does not add up, with the count and length it saw', () => {
    const bytes = encodeSignatureBatch([item(1, 10), item(2, 20)]);
    const lying = bytes.slice();
    new DataView(lying.buffer).setUint32(0, 1_000, true);
    const cases: [Uint8Array, string, Record<string, number>][] = [
      [bytes.subarray(0, 3), 'shorter than its count field', { length: 3 }],
      [lying, 'count exceeds the buffer', { count: 1_000, length: bytes.length }],
      [
        bytes.subarray(0, bytes.length - 1),
        'message lengths do not match the buffer',
        { count: 2, length: bytes.length - 1 },
      ],
    ];
    for (const [b, message, details] of cases) {
      const err = thrownAs(() => decodeSignatureBatch(b), BadSignatureBatchError);
      expect(err.message).toBe(`BAD_SIGNATURE_BATCH: ${message}`);
      expect(err.details).toEqual(details);
    }
  });

  it('rejects truncated, padded or lying buffers with a typed error, also before WASM sees them', () => {
    const bytes = encodeSignatureBatch([item(1, 10), item(2, 20)]);
    const bad = [
      bytes.subarray(0, 3),
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.from([...bytes, 0]),
      (() => {
        const b = bytes.slice();
        new DataView(b.buffer).setUint32(0, 1_000_000, true);
        return b;
      })(),
    ];
    const wasm = new WasmCrypto();
    for (const b of bad) {
      expect(() => decodeSignatureBatch(b)).toThrow(BadSignatureBatchError);
      expect(() => wasm.verifyEncodedBatch(b)).toThrow(/BAD_SIGNATURE_BATCH/);
    }
  });
});
