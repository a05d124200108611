import { checkPrimeSync } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { beaconInput, beaconPreimage } from '../../../src/beacon/beacon-input.js';
import { rankLeaders } from '../../../src/beacon/leader-ranking.js';
import { instantiateWasm } from '../../../src/crypto/wasm-instance.js';
import { evaluateBigint, proveBigint, verifyBigint } from '../../../src/vdf/bigint-vdf.js';
import { bigintToBytes, decodeElement } from '../../../src/vdf/group.js';
import { hashToPrimeWithCounter, primeCandidate } from '../../../src/vdf/hash-to-prime.js';
import { planProof } from '../../../src/vdf/proof-plan.js';
import { RSA_2048 } from '../../../src/vdf/rsa2048.js';
import { WasmVdf } from '../../../src/vdf/wasm-vdf.js';
import { docVectors } from '../../support/doc-vectors.js';

const get = docVectors().vector;
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const big = (h: string) => BigInt(`0x${h}`);

describe('docs/protocol.md VDF vectors', () => {
  const x = big(get('vdf.x'));
  const y = big(get('vdf.y'));
  const t = Number(get('vdf.t'));

  it('modulus hex is RSA-2048', () => {
    expect(big(get('vdf.modulus'))).toBe(RSA_2048);
  });

  it('beacon preimage and HashToGroup, against an independent SHA-256 (@noble/hashes)', () => {
    const anchor = bytes(get('vdf.beacon.anchor'));
    const chainId = Number(get('vdf.beacon.chainId'));
    const slot = Number(get('vdf.beacon.slot'));
    const pre = beaconPreimage(chainId, slot, anchor);
    expect(Buffer.from(pre).toString('hex')).toBe(get('vdf.beacon.preimage'));
    const blocks = Array.from({ length: 9 }, (_, i) =>
      Buffer.from(nobleSha256(new Uint8Array([...pre, i, 0, 0, 0]))).toString('hex'),
    );
    const r = big(blocks.join('')) % RSA_2048;
    expect(2n * r < RSA_2048 ? r : RSA_2048 - r).toBe(x);
    expect(Buffer.from(beaconInput(chainId, slot, anchor)).toString('hex')).toBe(get('vdf.x'));
  });

  it('y, ℓ and π: BigInt oracle, WASM path, OpenSSL primality', () => {
    const wasm = new WasmVdf(instantiateWasm('release'));
    expect(evaluateBigint(x, t)).toBe(y);
    expect(wasm.evaluate(x, t, planProof(t, 1)).y).toBe(y);
    const l = big(get('vdf.prime.l'));
    const counter = Number(get('vdf.prime.counter'));
    expect(hashToPrimeWithCounter(x, y, t)).toEqual({ prime: l, counter });
    expect(checkPrimeSync(bigintToBytes(l, 32), { checks: 64 })).toBe(true);
    // The documented preimage, written out with an independent SHA-256:
    // TAG.prime ‖ x ‖ y ‖ u64le(T) ‖ u32le(counter), top and low bits set.
    const u64le = (v: number) => Buffer.from(new BigUint64Array([BigInt(v)]).buffer);
    const u32le = (v: number) => Buffer.from(new Uint32Array([v]).buffer);
    const candidate = (c: number) => {
      const h = nobleSha256(
        Buffer.concat([
          Buffer.from('TIME:prime:1\0', 'latin1'),
          bigintToBytes(x, 256),
          bigintToBytes(y, 256),
          u64le(t),
          u32le(c),
        ]),
      );
      h[0] = h[0]! | 0x80;
      h[31] = h[31]! | 1;
      return big(Buffer.from(h).toString('hex'));
    };
    expect(candidate(counter)).toBe(l);
    for (let c = 0; c < counter; c++) {
      expect(primeCandidate(x, y, t, c)).toBe(candidate(c));
      expect(checkPrimeSync(bigintToBytes(candidate(c), 32), { checks: 16 })).toBe(false);
    }
    const pi = big(get('vdf.proof'));
    expect(proveBigint(x, y, t)).toBe(pi);
    expect(modPowCheck(pi, l, x, t, y)).toBe(true);
    expect(verifyBigint(x, y, pi, t)).toBe(true);
    expect(wasm.verify(x, y, pi, t)).toBe(true);
    expect(decodeElement(bytes(get('vdf.proof')))).toBe(pi);
  });

  it('leader ranking', () => {
    const weights = get('vdf.rank.weights').split(',').map(Number);
    const nodes = get('vdf.rank.pubkeyBytes')
      .split(',')
      .map((b, i) => ({
        nodePubkey: new Uint8Array(32).fill(Number.parseInt(b, 16)),
        weight: weights[i] as number,
        i,
      }));
    expect(
      rankLeaders(nodes, bytes(get('vdf.y')))
        .map((n) => n.i)
        .join(','),
    ).toBe(get('vdf.rank.order'));
  });
});

/** π^ℓ · x^(2^T mod ℓ) ≡ ±y, written out once more with plain BigInt. */
function modPowCheck(pi: bigint, l: bigint, x: bigint, t: number, y: bigint): boolean {
  const pow = (b: bigint, e: bigint, m: bigint) => {
    let r = 1n;
    let base = b % m;
    for (let k = e; k > 0n; k >>= 1n) {
      if (k & 1n) r = (r * base) % m;
      base = (base * base) % m;
    }
    return r;
  };
  const v = (pow(pi, l, RSA_2048) * pow(x, pow(2n, BigInt(t), l), RSA_2048)) % RSA_2048;
  return v === y || v === RSA_2048 - y;
}
