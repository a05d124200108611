import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BadLeafRootsTaskError,
  decodeLeafRootsTask,
  encodeLeafRootsTask,
} from '../../../src/crypto/leaf-roots-codec.js';
import { WasmCrypto } from '../../../src/crypto/wasm-crypto.js';
import { inlineBlockRoots } from '../../../src/protocol/block-roots.js';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { thrownAs } from '../../support/thrown.js';

const body = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    txid: new Uint8Array(randomBytes(32)),
    bytes: new Uint8Array(randomBytes((i * 53) % 300)),
  }));

const encode = (txs: ReturnType<typeof body>, prefix = TAG.wtx) =>
  encodeLeafRootsTask(
    txs.map((t) => t.txid),
    prefix,
    txs.map((t) => t.bytes),
  );

describe('leaf-roots task codec (block roots crossing to a worker)', () => {
  it('decodes to views of exactly what was encoded', () => {
    const txs = body(9);
    const d = decodeLeafRootsTask(encode(txs));
    expect(Buffer.from(d.prefix)).toEqual(Buffer.from(TAG.wtx));
    expect(Buffer.from(d.ids)).toEqual(Buffer.concat(txs.map((t) => t.txid)));
    expect(d.items.map((b) => Buffer.from(b))).toEqual(txs.map((t) => Buffer.from(t.bytes)));
  });

  it('refuses a buffer cut anywhere, or with bytes left over, with a typed error', () => {
    const whole = encode(body(5));
    for (const cut of [0, 4, 7, 8 + TAG.wtx.length + 10, whole.length - 1]) {
      expect(() => decodeLeafRootsTask(whole.subarray(0, cut))).toThrow(BadLeafRootsTaskError);
    }
    const longer = new Uint8Array(whole.length + 1);
    longer.set(whole);
    expect(() => decodeLeafRootsTask(longer)).toThrow(BadLeafRootsTaskError);
  });

  it('names what does not add up', () => {
    const whole = encode(body(3));
    const countAndPrefix = 8 + TAG.wtx.length;
    const lengthsAt = countAndPrefix + 32 * 3;
    const withLength = (i: number, len: number) => {
      const b = whole.slice();
      new DataView(b.buffer).setUint32(lengthsAt + 4 * i, len, true);
      return b;
    };
    const cases: [Uint8Array, string][] = [
      [whole.subarray(0, 7), 'shorter than its counts'],
      [whole.subarray(0, lengthsAt + 11), 'ids and lengths run past the buffer'],
      [withLength(1, 0xffff_fff0), 'item 1 runs past the buffer'],
      [withLength(2, 1_000), 'item 2 runs past the buffer'],
      [Uint8Array.from([...whole, 0]), 'bytes left over after the last item'],
    ];
    for (const [bytes, message] of cases) {
      const err = thrownAs(() => decodeLeafRootsTask(bytes), BadLeafRootsTaskError);
      expect(err.code).toBe('BAD_LEAF_ROOTS_TASK');
      expect(err.message).toBe(`BAD_LEAF_ROOTS_TASK: ${message}`);
    }
  });

  it('decodes the smallest task: no ids, no prefix, 8 bytes of counts', () => {
    const d = decodeLeafRootsTask(encodeLeafRootsTask([], new Uint8Array(0), []));
    expect(d.prefix.length).toBe(0);
    expect(d.ids.length).toBe(0);
    expect(d.items).toEqual([]);
  });

  it('refuses ids that are not 32 bytes and lists of different lengths', () => {
    expect(() =>
      encodeLeafRootsTask([new Uint8Array(32), new Uint8Array(31)], TAG.wtx, [
        new Uint8Array(1),
        new Uint8Array(1),
      ]),
    ).toThrow('id 1 is 31 bytes, expected 32');
    expect(() => encodeLeafRootsTask([new Uint8Array(32)], TAG.wtx, [])).toThrow('1 ids but 0 items');
    expect(() => encodeLeafRootsTask([new Uint8Array(31)], TAG.wtx, [new Uint8Array(1)])).toThrow(RangeError);
    expect(() => encodeLeafRootsTask([new Uint8Array(32)], TAG.wtx, [])).toThrow(RangeError);
  });

  it('the WASM side computes the same two roots as the JavaScript reference', () => {
    const wasm = new WasmCrypto();
    for (const n of [0, 1, 2, 3, 4, 5, 33]) {
      const txs = body(n);
      const out = wasm.leafRootsPacked(encode(txs));
      const ref = inlineBlockRoots(txs);
      expect(Buffer.from(out)).toEqual(Buffer.concat([ref.merkleRoot, ref.witnessRoot]));
    }
  });
});
