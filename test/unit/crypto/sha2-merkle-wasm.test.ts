import { hash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WasmCrypto } from '../../../src/crypto/wasm-crypto.js';
import { merkleRoot as jsMerkleRoot } from '../../../src/protocol/merkle.js';

const wasm = new WasmCrypto();
const nodeHash = (alg: 'sha256' | 'sha512', data: Uint8Array) => new Uint8Array(hash(alg, data, 'buffer'));

/** Deterministic bytes (a counter pattern mixed by length), so failures are reproducible. */
function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('WASM SHA-2 against node:crypto', () => {
  it.each(['sha256', 'sha512'] as const)('%s agrees for every length 0..1,100', (alg) => {
    const wrong: number[] = [];
    for (let len = 0; len <= 1100; len++) {
      const data = pattern(len, len);
      const got = alg === 'sha256' ? wasm.sha256(data) : wasm.sha512(data);
      if (Buffer.compare(got, nodeHash(alg, data)) !== 0) wrong.push(len);
    }
    expect(wrong).toEqual([]);
  });

  it.each(['sha256', 'sha512'] as const)('%s agrees on random large inputs', (alg) => {
    for (const len of [65_536, 100_003, 1_048_576 + 17]) {
      const data = new Uint8Array(randomBytes(len));
      const got = alg === 'sha256' ? wasm.sha256(data) : wasm.sha512(data);
      expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(nodeHash(alg, data)).toString('hex'));
    }
  });
});

describe('WASM merkle root against the JS reference (src/protocol/merkle.ts)', () => {
  const txids = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => pattern(32, seed * 100_003 + i));

  it('agrees for every size 0..300', () => {
    const wrong: number[] = [];
    for (let n = 0; n <= 300; n++) {
      const ids = txids(n, n);
      if (Buffer.compare(wasm.merkleRoot(ids), jsMerkleRoot(ids)) !== 0) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it('agrees for random larger sizes', () => {
    for (const n of [1023, 1024, 1025, 4097, 65_536, 70_001]) {
      const ids = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
      expect(Buffer.from(wasm.merkleRoot(ids)).toString('hex')).toBe(
        Buffer.from(jsMerkleRoot(ids)).toString('hex'),
      );
    }
  });

  it('changes when a txid changes or a duplicate is appended (no CVE-2012-2459 collision)', () => {
    const ids = txids(7, 42);
    const root = wasm.merkleRoot(ids);
    expect(wasm.merkleRoot([...ids, ids[6] as Uint8Array])).not.toEqual(root);
    const changed = ids.map((id) => id.slice());
    const third = changed[3] as Uint8Array;
    third[0] = (third[0] as number) ^ 1;
    expect(wasm.merkleRoot(changed)).not.toEqual(root);
  });

  it('rejects txids of the wrong length with a RangeError naming the txid', () => {
    expect(() => wasm.merkleRoot([new Uint8Array(31)])).toThrow(RangeError);
    expect(() => wasm.merkleRoot([new Uint8Array(32), new Uint8Array(33)])).toThrow(
      'txid 1 is 33 bytes, expected 32',
    );
  });

  it('refuses packed txids that are not whole 32-byte ids (a trailing byte is not dropped)', () => {
    const ids = txids(2, 9);
    const packed = Uint8Array.from([...ids[0]!, ...ids[1]!]);
    expect(wasm.merkleRootPacked(packed)).toEqual(wasm.merkleRoot(ids));
    for (const extra of [1, 31]) {
      const ragged = new Uint8Array(packed.length + extra);
      ragged.set(packed);
      expect(() => wasm.merkleRootPacked(ragged)).toThrow('packed txids must be a multiple of 32 bytes');
    }
  });
});
