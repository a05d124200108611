import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/chain/block-errors.js';
import { parseBlock } from '../../../src/chain/block-validation.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { TxError } from '../../../src/ledger/tx-errors.js';
import { parseTx } from '../../../src/ledger/tx-validation.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, decodeBlock, encodeBlock } from '../../../src/protocol/block.js';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { NO_COLLATERAL, type Transaction } from '../../../src/protocol/transaction.js';
import { decodeTx, encodeTx, outpointFromKey, outpointKey } from '../../../src/protocol/tx-codec.js';

const params = DEVNET;

/** Plain Uint8Arrays (a Buffer would serialize differently in the comparison below). */
const rb = (n: number) => new Uint8Array(randomBytes(n));

function randomTx(): Transaction {
  const n = randomBytes(1)[0]! % 5;
  const m = 1 + (randomBytes(1)[0]! % 5);
  const kind = randomBytes(1)[0]! % 3;
  return {
    version: 1,
    chainId: randomBytes(4).readUInt32LE(),
    inputs: Array.from({ length: n }, () => ({ txid: rb(32), vout: randomBytes(4).readUInt32LE() })),
    outputs: Array.from({ length: m }, () => ({
      value: randomBytes(8).readBigUInt64LE(),
      address: rb(20),
    })),
    lockTime: randomBytes(4).readUInt32LE(),
    payload:
      kind === 0
        ? null
        : kind === 1
          ? {
              kind: 'register',
              nodePubkey: rb(32),
              collateralVout: NO_COLLATERAL,
              rewardAddress: rb(20),
              nodeSignature: rb(64),
            }
          : {
              kind: 'deregister',
              nodePubkey: rb(32),
              nodeSignature: rb(1)[0]! % 2 ? rb(64) : new Uint8Array(0),
            },
    witnesses: Array.from({ length: n }, () => ({ pubkey: rb(32), signature: rb(64) })),
  };
}

/** Normalize Buffers/typed arrays so toEqual compares bytes, not classes. */
const plain = (x: unknown): unknown =>
  JSON.parse(
    JSON.stringify(x, (_k, v) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
    ),
  );

describe('transaction codec', () => {
  it('round-trips 500 random transactions with identical bytes and txid', () => {
    for (let i = 0; i < 500; i++) {
      const tx = randomTx();
      const enc = encodeTx(tx);
      const dec = decodeTx(enc.bytes, 1e9);
      expect(plain(dec.tx)).toEqual(plain(tx));
      expect(dec.txid).toEqual(enc.txid);
      expect(encodeTx(dec.tx).bytes).toEqual(enc.bytes);
    }
  });

  it('decoded txids stay right for bodies of every size, small after large included', () => {
    // readTx hashes each preimage in a reused scratch array that grows past 1 KiB bodies.
    for (const inputs of [1, 40, 2, 300, 0, 29, 3]) {
      const tx = {
        ...randomTx(),
        inputs: Array.from({ length: inputs }, () => ({ txid: rb(32), vout: inputs })),
      };
      tx.witnesses = Array.from({ length: inputs }, () => ({ pubkey: rb(32), signature: rb(64) }));
      const enc = encodeTx(tx);
      const body = enc.bytes.subarray(0, enc.bytes.length - inputs * 96);
      const oracle = createHash('sha256').update(TAG.tx).update(body).digest();
      const dec = decodeTx(enc.bytes, 1e9);
      expect(Buffer.from(dec.txid)).toEqual(oracle);
      expect(dec.txid).toEqual(enc.txid);
    }
  });

  it('decoding a Buffer (a network frame) copies: nothing decoded shares its memory', () => {
    // With inputs and witnesses, so every kind of decoded field is there to check.
    let tx = randomTx();
    while (tx.inputs.length === 0) tx = randomTx();
    const frame = Buffer.from(encodeTx(tx).bytes);
    const dec = decodeTx(frame, 1e9);
    const fields = [
      dec.bytes,
      ...dec.tx.inputs.map((i) => i.txid),
      ...dec.tx.outputs.map((o) => o.address),
      ...dec.tx.witnesses.flatMap((w) => [w.pubkey, w.signature]),
    ];
    for (const f of fields) expect(f.buffer).not.toBe(frame.buffer);
    frame.fill(0x5a); // the frame's memory is reused: the transaction is unchanged
    expect([...encodeTx(dec.tx).bytes]).toEqual([...dec.bytes]);
    expect(plain(dec.tx)).toEqual(plain(tx));
    const key = Buffer.from(outpointKey({ txid: dec.tx.inputs[0]!.txid, vout: 3 }));
    expect(outpointFromKey(key).txid.buffer).not.toBe(key.buffer);
    // One copy: the decoded fields are views of the transaction's own bytes, at their offsets.
    for (const f of fields) expect(f.buffer).toBe(dec.bytes.buffer);
    const w = dec.tx.witnesses.at(-1)!;
    expect(w.signature.byteOffset - dec.bytes.byteOffset).toBe(dec.bytes.length - 64);
  });

  it('every truncation and any trailing byte is a DecodeError', () => {
    const enc = encodeTx(randomTx()).bytes;
    for (let cut = 0; cut < enc.length; cut++)
      expect(() => decodeTx(enc.subarray(0, cut), 1e9)).toThrow(DecodeError);
    expect(() => decodeTx(Uint8Array.of(...enc, 0), 1e9)).toThrow(/trailing/);
  });

  it('a huge declared count is refused before allocation', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(8, 0xffff_ffff, true); // input count
    expect(() => decodeTx(bytes, 1e9)).toThrow(DecodeError);
  });

  it('random mutations only ever raise DecodeError (10,000 cases)', () => {
    const base = encodeTx(randomTx()).bytes;
    for (let i = 0; i < 10_000; i++) {
      const m = base.slice();
      const flips = 1 + (i % 4);
      for (let f = 0; f < flips; f++) m[randomBytes(2).readUInt16LE() % m.length] = randomBytes(1)[0]!;
      try {
        decodeTx(m, 1e9);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('parseTx maps malformed bytes to MALFORMED and oversize to TOO_LARGE', () => {
    expect(() => parseTx(Uint8Array.of(1, 2, 3), params)).toThrow(TxError);
    try {
      parseTx(Uint8Array.of(1, 2, 3), params);
    } catch (err) {
      expect((err as TxError).code).toBe('MALFORMED');
    }
    try {
      parseTx(new Uint8Array(params.maxTxBytes + 1), params);
      expect.unreachable();
    } catch (err) {
      expect((err as TxError).code).toBe('TOO_LARGE');
    }
  });

  it('outpoint keys sort by txid then vout and round-trip', () => {
    const a = { txid: new Uint8Array(32).fill(1), vout: 2 };
    const b = { txid: new Uint8Array(32).fill(1), vout: 256 };
    expect(Buffer.compare(outpointKey(a), outpointKey(b))).toBeLessThan(0);
    expect(outpointFromKey(outpointKey(b))).toEqual(b);
  });
});

describe('block codec', () => {
  it('round-trips the devnet genesis block', () => {
    const g = genesisBlock(params);
    const bytes = encodeBlock(g);
    const back: Block = decodeBlock(bytes, params.maxBlockBytes);
    expect(encodeBlock(back)).toEqual(bytes);
    expect(back.txs.map((t) => t.txid)).toEqual(g.txs.map((t) => t.txid));
  });

  it("decoding a block copies each transaction: none shares the block's memory, so a kept one never pins it", () => {
    const frame = Buffer.from(encodeBlock(genesisBlock(params)));
    const back = decodeBlock(frame, params.maxBlockBytes);
    const before = back.txs.map((t) => [...t.bytes]);
    for (const t of back.txs) {
      expect(t.bytes.buffer).not.toBe(frame.buffer);
      for (const o of t.tx.outputs) expect(o.address.buffer).not.toBe(frame.buffer);
    }
    frame.fill(0x5a);
    expect(back.txs.map((t) => [...t.bytes])).toEqual(before);
  });

  it('parseBlock: every truncation is MALFORMED, oversize is TOO_LARGE, random mutations never throw anything else', () => {
    const bytes = encodeBlock(genesisBlock(params));
    const codes = new Set<string>();
    for (let cut = 0; cut < bytes.length; cut += 7) {
      try {
        parseBlock(bytes.subarray(0, cut), params);
        codes.add('OK');
      } catch (err) {
        expect(err).toBeInstanceOf(BlockError);
        codes.add((err as BlockError).code);
      }
    }
    expect([...codes]).toEqual(['MALFORMED']);
    expect(() => parseBlock(new Uint8Array(params.maxBlockBytes + 1), params)).toThrow(/exceeds/);
    for (let i = 0; i < 3_000; i++) {
      const m = bytes.slice();
      m[randomBytes(4).readUInt32LE() % m.length] = randomBytes(1)[0]!;
      try {
        parseBlock(m, params);
      } catch (err) {
        expect(err).toBeInstanceOf(BlockError);
      }
    }
  });
});
