import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import type { SignatureItem } from '../../../src/crypto/signature-verifier.js';
import { WasmCrypto } from '../../../src/crypto/wasm-crypto.js';
import { nobleZip215 } from './ed25519-vectors.js';

/** Seeded xorshift128+ byte source: the cases are random but every run sees the same ones. */
class SeededBytes {
  private s0 = 0x9e3779b97f4a7c15n;
  private s1: bigint;
  constructor(seed: number) {
    this.s1 = BigInt(seed) ^ 0xd1b54a32d192ed03n;
    for (let i = 0; i < 8; i++) this.next();
  }
  private next(): bigint {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= (x << 23n) & 0xffffffffffffffffn;
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.s1 + y) & 0xffffffffffffffffn;
  }
  int(bound: number): number {
    return Number(this.next() % BigInt(bound));
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) {
      let v = this.next();
      for (let k = i; k < Math.min(n, i + 8); k++, v >>= 8n) out[k] = Number(v & 0xffn);
    }
    return out;
  }
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const CASES = 10_000;

function flipBit(bytes: Uint8Array, rnd: SeededBytes): Uint8Array {
  const out = bytes.slice();
  const bit = rnd.int(bytes.length * 8);
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

/** Valid signatures and every kind of mutation, each labelled with @noble's (ZIP-215) answer. */
function randomCases(seed: number): (SignatureItem & { expected: boolean; kind: string })[] {
  const rnd = new SeededBytes(seed);
  const keys = Array.from({ length: 1000 }, () => {
    const sk = rnd.bytes(32);
    return { sk, pk: ed25519.getPublicKey(sk) };
  });
  const out: (SignatureItem & { expected: boolean; kind: string })[] = [];
  for (let i = 0; i < CASES; i++) {
    const key = keys[rnd.int(keys.length)] as { sk: Uint8Array; pk: Uint8Array };
    const message = rnd.bytes(rnd.int(1025));
    const signature = ed25519.sign(message, key.sk);
    let item: SignatureItem = { publicKey: key.pk, message, signature };
    const kinds = ['valid', 'valid', 'sig-bit', 'key-bit', 'msg-bit', 's-plus-l', 'random-r', 'other-key'];
    const kind = kinds[rnd.int(kinds.length)] as string;
    if (kind === 'sig-bit') item = { ...item, signature: flipBit(signature, rnd) };
    else if (kind === 'key-bit') item = { ...item, publicKey: flipBit(key.pk, rnd) };
    else if (kind === 'msg-bit') item = message.length ? { ...item, message: flipBit(message, rnd) } : item;
    else if (kind === 's-plus-l') {
      // S + L encodes the same scalar non-canonically: ZIP-215 (and RFC 8032) must reject it.
      let s = 0n;
      for (let k = 31; k >= 0; k--) s = (s << 8n) | BigInt(signature[32 + k] as number);
      s += L;
      const sig = signature.slice();
      for (let k = 0; k < 32; k++, s >>= 8n) sig[32 + k] = Number(s & 0xffn);
      item = { ...item, signature: sig };
    } else if (kind === 'random-r') {
      const sig = signature.slice();
      sig.set(rnd.bytes(32), 0);
      item = { ...item, signature: sig };
    } else if (kind === 'other-key')
      item = { ...item, publicKey: (keys[(i + 1) % keys.length] as { pk: Uint8Array }).pk };
    out.push({ ...item, expected: nobleZip215(item), kind });
  }
  return out;
}

describe(`WASM Ed25519 on ${CASES} random cases against @noble/curves`, () => {
  const wasm = new WasmCrypto();
  const cases = randomCases(20261125);

  it('covers valid and invalid answers of every mutation kind', () => {
    const kinds = new Set(cases.map((c) => `${c.kind}:${c.expected}`));
    for (const k of [
      'valid:true',
      'sig-bit:false',
      'key-bit:false',
      'msg-bit:false',
      's-plus-l:false',
      'random-r:false',
      'other-key:false',
    ]) {
      expect(kinds.has(k)).toBe(true);
    }
  });

  it('single verification agrees on every case', () => {
    const wrong = cases.filter((c) => wasm.ed25519Verify(c.publicKey, c.message, c.signature) !== c.expected);
    expect(wrong.map((c) => c.kind)).toEqual([]);
  });

  it('batch verification (random batch sizes 1..200) agrees on every case', () => {
    const rnd = new SeededBytes(7);
    const wrong: number[] = [];
    for (let i = 0; i < cases.length; ) {
      const size = 1 + rnd.int(200);
      const chunk = cases.slice(i, i + size);
      const got = wasm.verifyBatch(chunk);
      chunk.forEach((c, k) => {
        if (got[k] !== c.expected) wrong.push(i + k);
      });
      i += size;
    }
    expect(wrong).toEqual([]);
  });

  it('gives the same answers whatever the batch randomness', () => {
    const fixed = new WasmCrypto(undefined, (into) => into.fill(0xa5));
    const zeros = new WasmCrypto(undefined, (into) => into.fill(0));
    const chunk = cases.slice(0, 256);
    expect(fixed.verifyBatch(chunk)).toEqual(chunk.map((c) => c.expected));
    expect(zeros.verifyBatch(chunk)).toEqual(chunk.map((c) => c.expected));
  });
});
