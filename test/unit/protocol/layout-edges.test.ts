// The byte-layout edges of src/protocol that the round-trip and vector tests do not pin: size
// arithmetic used by block assembly, the exact decode limits (one byte either side), the header-only
// reader, and the fixed-length fields that take only some lengths. Each case is the boundary a
// one-token change to the codec would move.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import {
  BEACON_BYTES,
  type Block,
  type BlockHeader,
  blockOverheadBytes,
  blockSize,
  decodeBlock,
  decodeBlockHeader,
  encodeBlock,
  headerHash,
  MIN_TX_BYTES,
} from '../../../src/protocol/block.js';
import { TAG } from '../../../src/protocol/domain-tags.js';
import { txSigMessage } from '../../../src/protocol/signing.js';
import { isCoinbase, PAYLOAD_KIND, type Transaction } from '../../../src/protocol/transaction.js';
import {
  decodeTx,
  type EncodedTx,
  encodeTx,
  outpointFromKey,
  outpointKey,
  txidOf,
} from '../../../src/protocol/tx-codec.js';

const rb = (n: number) => new Uint8Array(randomBytes(n));

/** The DecodeError code `f` throws (fails the test if it throws anything else or nothing). */
function decodeCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return (err as DecodeError).code;
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

function header(overrides: Partial<BlockHeader> = {}): BlockHeader {
  return {
    version: 1,
    chainId: DEVNET.chainId,
    height: 7,
    slot: 9,
    timestampMs: 1_700_000_000_123,
    prevHash: rb(32),
    merkleRoot: rb(32),
    witnessRoot: rb(32),
    txCount: 0,
    beaconY: rb(BEACON_BYTES),
    beaconProof: rb(BEACON_BYTES),
    producerPubkey: rb(32),
    rank: 3,
    ...overrides,
  };
}

/** A spend with `inputs` inputs and two outputs (bytes only; decoding does not check signatures). */
function spend(inputs: number): EncodedTx {
  return encodeTx({
    version: 1,
    chainId: DEVNET.chainId,
    inputs: Array.from({ length: inputs }, (_, i) => ({ txid: rb(32), vout: i })),
    outputs: [
      { value: 5n, address: rb(20) },
      { value: 6n, address: rb(20) },
    ],
    lockTime: 0,
    payload: null,
    witnesses: Array.from({ length: inputs }, () => ({ pubkey: rb(32), signature: rb(64) })),
  });
}

/** The smallest transaction the codec reads: no inputs, no outputs, no payload. */
const minimalTx = (lockTime: number): EncodedTx =>
  encodeTx({ version: 1, chainId: 1, inputs: [], outputs: [], lockTime, payload: null, witnesses: [] });

function block(txs: readonly EncodedTx[], overrides: Partial<BlockHeader> = {}): Block {
  return { header: header({ txCount: txs.length, ...overrides }), signature: rb(64), txs };
}

describe('block size arithmetic (the assembler budgets blocks with it)', () => {
  it('blockSize is the encoded length, for genesis (no beacon) and for full beacon elements', () => {
    const g = genesisBlock(DEVNET);
    expect(blockSize(g)).toBe(encodeBlock(g).length);
    for (const b of [block([]), block([spend(1)]), block([spend(1), spend(3), minimalTx(1)])])
      expect(blockSize(b)).toBe(encodeBlock(b).length);
  });

  it('blockOverheadBytes is exactly the header fields plus the producer signature', () => {
    const h = header();
    expect(blockOverheadBytes(h)).toBe(encodeBlock({ header: h, signature: rb(64), txs: [] }).length);
    // 176 bytes of fixed fields (the genesis vector's length) + both length-prefixed elements + 64.
    expect(blockOverheadBytes(h)).toBe(176 + 2 * BEACON_BYTES + 64);
    expect(blockOverheadBytes(header({ beaconY: new Uint8Array(0), beaconProof: new Uint8Array(0) }))).toBe(
      176 + 64,
    );
  });
});

describe('decode limits, one byte either side', () => {
  it('a block of exactly maxBytes decodes; one byte less allowed is OUT_OF_RANGE', () => {
    const bytes = encodeBlock(block([spend(2)]));
    expect(toHex(encodeBlock(decodeBlock(bytes, bytes.length)))).toBe(toHex(bytes));
    expect(decodeCode(() => decodeBlock(bytes, bytes.length - 1))).toBe('OUT_OF_RANGE');
  });

  it('a transaction of exactly maxBytes decodes; one byte less allowed is OUT_OF_RANGE', () => {
    const { bytes, txid } = spend(2);
    expect(toHex(decodeTx(bytes, bytes.length).txid)).toBe(toHex(txid));
    expect(decodeCode(() => decodeTx(bytes, bytes.length - 1))).toBe('OUT_OF_RANGE');
  });

  it(`the smallest transaction is ${MIN_TX_BYTES} bytes and a block of only those decodes`, () => {
    expect(minimalTx(0).bytes.length).toBe(MIN_TX_BYTES);
    const txs = Array.from({ length: 40 }, (_, i) => minimalTx(i));
    const bytes = encodeBlock(block(txs));
    const back = decodeBlock(bytes, 1e9);
    expect(back.txs.map((t) => toHex(t.txid))).toEqual(txs.map((t) => toHex(t.txid)));
  });

  it('a tx count the remaining bytes cannot hold is TRUNCATED before any transaction is read', () => {
    const txs = Array.from({ length: 40 }, (_, i) => minimalTx(i));
    const honest = encodeBlock(block(txs));
    // One more transaction than the bytes hold, and the largest count the field can carry.
    for (const count of [41, 0xffff_ffff]) {
      const bytes = encodeBlock(block(txs, { txCount: count }));
      expect(bytes.length).toBe(honest.length);
      let message = '';
      try {
        decodeBlock(bytes, 1e9);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        expect((err as DecodeError).code).toBe('TRUNCATED');
        message = (err as Error).message;
      }
      // Refused by the count check, not by running out of bytes inside the 41st transaction.
      expect(message).toMatch(/cannot fit/);
    }
  });
});

describe('fixed-length fields', () => {
  it('beacon y and proof are 0 or 256 bytes; 1, 255 and 257 are refused', () => {
    for (const n of [0, BEACON_BYTES]) {
      const b = block([], { beaconY: rb(n), beaconProof: rb(n) });
      expect(decodeBlock(encodeBlock(b), 1e9).header.beaconY.length).toBe(n);
    }
    expect(decodeCode(() => decodeBlock(encodeBlock(block([], { beaconY: rb(1) })), 1e9))).toBe(
      'INVALID_VALUE',
    );
    expect(decodeCode(() => decodeBlock(encodeBlock(block([], { beaconProof: rb(255) })), 1e9))).toBe(
      'INVALID_VALUE',
    );
    expect(decodeCode(() => decodeBlock(encodeBlock(block([], { beaconProof: rb(257) })), 1e9))).toBe(
      'OUT_OF_RANGE',
    );
  });

  it('a deregistration signature is 0 or 64 bytes; 63 is refused', () => {
    const dereg = (sig: Uint8Array): Transaction => ({
      version: 1,
      chainId: 1,
      inputs: [],
      outputs: [],
      lockTime: 0,
      payload: { kind: 'deregister', nodePubkey: rb(32), nodeSignature: sig },
      witnesses: [],
    });
    for (const n of [0, 64]) {
      const p = decodeTx(encodeTx(dereg(rb(n))).bytes, 1e9).tx.payload;
      expect(p?.kind === 'deregister' && p.nodeSignature.length).toBe(n);
    }
    expect(decodeCode(() => decodeTx(encodeTx(dereg(rb(63))).bytes, 1e9))).toBe('INVALID_VALUE');
  });

  it('payload kinds are exactly 0, 1 and 2: the byte after the lock time set to 3 is refused', () => {
    expect(Object.values(PAYLOAD_KIND)).toEqual([0, 1, 2]);
    const bytes = minimalTx(0).bytes.slice();
    expect(bytes[MIN_TX_BYTES - 1]).toBe(PAYLOAD_KIND.none);
    bytes[MIN_TX_BYTES - 1] = 3;
    expect(decodeCode(() => decodeTx(bytes, 1e9))).toBe('INVALID_VALUE');
  });
});

describe('header-only reading and transaction ids', () => {
  it('decodeBlockHeader reads the same header and signature as decodeBlock, ignoring the body', () => {
    const b = block([spend(1), spend(2)]);
    const bytes = encodeBlock(b);
    const full = decodeBlock(bytes, 1e9);
    const front = decodeBlockHeader(bytes);
    expect(toHex(headerHash(front.header))).toBe(toHex(headerHash(b.header)));
    expect(front.header).toEqual(full.header);
    expect(toHex(front.signature)).toBe(toHex(b.signature));
  });

  it('txidOf equals the txid encodeTx computes, for every payload kind and input count', () => {
    for (const inputs of [0, 1, 3]) {
      const e = spend(inputs);
      expect(toHex(txidOf(e.tx))).toBe(toHex(e.txid));
    }
    const reg: Transaction = {
      ...spend(1).tx,
      payload: {
        kind: 'register',
        nodePubkey: rb(32),
        collateralVout: 0,
        rewardAddress: rb(20),
        nodeSignature: rb(64),
      },
    };
    expect(toHex(txidOf(reg))).toBe(toHex(encodeTx(reg).txid));
    // The witnesses are not part of the txid.
    const resigned = { ...reg, witnesses: [{ pubkey: rb(32), signature: rb(64) }] };
    expect(toHex(txidOf(resigned))).toBe(toHex(txidOf(reg)));
  });

  it('outpoint keys: vout big-endian after the txid, read back from a view at any offset', () => {
    const o = { txid: rb(32), vout: 0x0102_0304 };
    const key = outpointKey(o);
    expect(toHex(key)).toBe(`${toHex(o.txid)}01020304`);
    const inBuffer = new Uint8Array(50);
    inBuffer.set(key, 7);
    expect(outpointFromKey(inBuffer.subarray(7, 43))).toEqual(o);
    expect(outpointFromKey(outpointKey({ txid: o.txid, vout: 0xffff_ffff })).vout).toBe(0xffff_ffff);
    for (const n of [35, 37]) {
      expect(decodeCode(() => outpointFromKey(new Uint8Array(n)))).toBe('INVALID_VALUE');
      expect(() => outpointFromKey(new Uint8Array(n))).toThrow(`outpoint key of ${n} bytes`);
    }
  });

  it('a coinbase is exactly a transaction without inputs', () => {
    expect(isCoinbase(minimalTx(0).tx)).toBe(true);
    expect(isCoinbase(spend(1).tx)).toBe(false);
    expect(isCoinbase(spend(3).tx)).toBe(false);
  });
});

describe('the witness signing message', () => {
  it('is the domain tag, the chain id as u32 little-endian (every byte), then the txid', () => {
    const txid = new Uint8Array(32).map((_, i) => 0xa0 + i);
    const message = txSigMessage(0x04030201, txid);
    expect(toHex(message)).toBe(`${toHex(TAG.sig)}01020304${toHex(txid)}`);
    expect(toHex(txSigMessage(0xffff_ffff, txid))).toBe(`${toHex(TAG.sig)}ffffffff${toHex(txid)}`);
  });

  it('refuses a chain id outside u32 and a txid of any other length', () => {
    const txid = new Uint8Array(32);
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN])
      expect(() => txSigMessage(bad, txid)).toThrow(RangeError);
    expect(() => txSigMessage(1, new Uint8Array(31))).toThrow(RangeError);
    expect(() => txSigMessage(1, new Uint8Array(33))).toThrow(RangeError);
  });
});
