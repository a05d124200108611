import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { decodeChainTip, encodeChainTip } from '../../../src/storage/chain-tip.js';
import {
  decodeMasternodeRecord,
  encodeMasternodeRecord,
  type MasternodeRecord,
} from '../../../src/storage/masternode-record.js';
import {
  decodeUndoRecord,
  encodeUndoRecord,
  type UndoRecord,
  UndoWriter,
} from '../../../src/storage/undo-record.js';
import { decodeUtxoEntry, encodeUtxoEntry, UTXO_ENTRY_BYTES } from '../../../src/storage/utxo-entry.js';
import { thrown } from '../../support/thrown.js';

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('storage value layouts', () => {
  it('UtxoEntry: fixed 33-byte layout, little-endian, coinbase flag in bit 0', () => {
    const e = { value: 0x0102030405060708n, address: filled(20, 0xaa), height: 0x01020304, coinbase: true };
    const bytes = encodeUtxoEntry(e);
    expect(bytes.length).toBe(UTXO_ENTRY_BYTES);
    expect(toHex(bytes)).toBe(`0807060504030201${'aa'.repeat(20)}0403020101`);
    expect(decodeUtxoEntry(bytes)).toEqual(e);
    expect(decodeUtxoEntry(encodeUtxoEntry({ ...e, coinbase: false })).coinbase).toBe(false);
    expect(() => decodeUtxoEntry(bytes.subarray(0, 32))).toThrow(DecodeError);
    expect(() => decodeUtxoEntry(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
  });

  it('UtxoEntry: a byte past the layout is TRAILING_BYTES of the utxo entry', () => {
    const bytes = encodeUtxoEntry({ value: 1n, address: filled(20, 1), height: 1, coinbase: false });
    const err = thrown(() => decodeUtxoEntry(Uint8Array.from([...bytes, 0])));
    expect(err).toMatchObject({ code: 'TRAILING_BYTES' });
    expect((err as Error).message).toContain('utxo entry: 1 trailing bytes');
  });

  it('UtxoEntry decoding reads a view at any offset and keeps nothing of the source', () => {
    // The chain store decodes out of lmdb-js's reused read buffer: a view into a larger array.
    const e = { value: 2n ** 64n - 2n, address: filled(20, 0x5c), height: 2 ** 32 - 3, coinbase: false };
    const big = new Uint8Array(5 + UTXO_ENTRY_BYTES + 7).fill(0xee);
    big.set(encodeUtxoEntry(e), 5);
    big[5 + UTXO_ENTRY_BYTES - 1] = 0xfe; // flags: only bit 0 is the coinbase flag
    const decoded = decodeUtxoEntry(big.subarray(5, 5 + UTXO_ENTRY_BYTES));
    big.fill(0);
    expect(decoded).toEqual(e);
  });

  // A stored entry of another length (outside damage) goes through the reader, which names the
  // field that ran out; the message ends up in the refusal an operator reads.
  it.each([
    { length: 5, field: 'utxo value' },
    { length: 12, field: 'utxo address' },
    { length: 30, field: 'utxo height' },
    { length: 32, field: 'utxo flags' },
  ])('UtxoEntry: $length bytes is TRUNCATED in the $field', ({ length, field }) => {
    const bytes = encodeUtxoEntry({ value: 1n, address: filled(20, 1), height: 1, coinbase: false });
    const err = thrown(() => decodeUtxoEntry(bytes.subarray(0, length)));
    expect(err).toBeInstanceOf(DecodeError);
    expect(err).toMatchObject({ code: 'TRUNCATED' });
    expect((err as DecodeError).message).toContain(`: ${field}: need `);
  });

  it('MasternodeRecord: round-trips with and without collateral and deregistration', () => {
    const base: MasternodeRecord = {
      nodePubkey: filled(32, 1),
      tier: 2,
      collateral: { txid: filled(32, 2), vout: 7 },
      rewardAddress: filled(20, 3),
      registeredHeight: 10,
      deregisteredHeight: 12,
    };
    for (const m of [base, { ...base, collateral: null, tier: 0 }, { ...base, deregisteredHeight: null }]) {
      expect(decodeMasternodeRecord(encodeMasternodeRecord(m))).toEqual(m);
    }
    expect(encodeMasternodeRecord(base).length).toBe(32 + 1 + 1 + 36 + 20 + 4 + 4);
    expect(encodeMasternodeRecord({ ...base, collateral: null }).length).toBe(32 + 1 + 1 + 20 + 4 + 4);
    const bad = encodeMasternodeRecord(base);
    bad[33] = 2; // collateral flag must be 0 or 1
    expect(() => decodeMasternodeRecord(bad)).toThrow(DecodeError);
  });

  it('ChainTip: 44 bytes', () => {
    const t = { height: 5, hash: filled(32, 9), slot: 2 ** 40 };
    const bytes = encodeChainTip(t);
    expect(bytes.length).toBe(44);
    expect(decodeChainTip(bytes)).toEqual(t);
  });

  it('UndoRecord: round-trips spends and prior registry values; rejects truncation and absurd counts', () => {
    const u: UndoRecord = {
      previousTip: { height: 4, hash: filled(32, 4), slot: 4 },
      spent: [
        { key: filled(36, 5), entry: { value: 5n, address: filled(20, 6), height: 3, coinbase: false } },
        { key: filled(36, 7), entry: { value: 9n, address: filled(20, 8), height: 1, coinbase: true } },
      ],
      masternodes: [
        { nodePubkey: filled(32, 1), prior: null },
        {
          nodePubkey: filled(32, 2),
          prior: {
            nodePubkey: filled(32, 2),
            tier: 1,
            collateral: null,
            rewardAddress: filled(20, 2),
            registeredHeight: 1,
            deregisteredHeight: null,
          },
        },
      ],
      collateral: [
        { key: filled(36, 3), prior: null },
        { key: filled(36, 4), prior: filled(32, 2) },
      ],
    };
    const bytes = encodeUndoRecord(u);
    expect(decodeUndoRecord(bytes)).toEqual(u);
    for (const cut of [1, 40, 50, bytes.length - 1]) {
      expect(() => decodeUndoRecord(bytes.subarray(0, cut))).toThrow(DecodeError);
    }
    const huge = new Uint8Array(bytes);
    new DataView(huge.buffer).setUint32(44, 0xffff_ffff, true); // spent count
    expect(() => decodeUndoRecord(huge)).toThrow(/cannot fit/);
  });

  const tip = { height: 4, hash: filled(32, 4), slot: 4 };
  const u32le = (v: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, v, true);
    return out;
  };
  const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

  it('UndoRecord: a count the remaining bytes cannot hold is refused up front, per section', () => {
    const spentOne = encodeUndoRecord({
      previousTip: tip,
      spent: [
        { key: filled(36, 5), entry: { value: 5n, address: filled(20, 6), height: 3, coinbase: false } },
      ],
      masternodes: [],
      collateral: [],
    });
    // One spend of 69 bytes and the two empty counts follow: 77 bytes cannot hold two spends.
    const twoAnnounced = new Uint8Array(spentOne);
    new DataView(twoAnnounced.buffer).setUint32(44, 2, true);
    expect(() => decodeUndoRecord(twoAnnounced)).toThrow(/spent count 2 cannot fit in 77 bytes/);
    const head = encodeChainTip(tip);
    // A masternode entry needs at least 33 bytes (pubkey + presence flag); 32 remain.
    const mn = concat(head, u32le(0), u32le(1), filled(32, 1));
    expect(() => decodeUndoRecord(mn)).toThrow(/masternode count 1 cannot fit in 32 bytes/);
    // A collateral entry needs at least 37 bytes (outpoint key + presence flag); 36 remain.
    const col = concat(head, u32le(0), u32le(0), u32le(1), filled(36, 1));
    expect(() => decodeUndoRecord(col)).toThrow(/collateral count 1 cannot fit in 36 bytes/);
  });

  it('UndoRecord: a presence flag other than 0 or 1 is refused', () => {
    const bytes = encodeUndoRecord({
      previousTip: tip,
      spent: [],
      masternodes: [{ nodePubkey: filled(32, 1), prior: null }],
      collateral: [{ key: filled(36, 3), prior: null }],
    });
    const mnFlag = 44 + 4 + 4 + 32;
    const colFlag = mnFlag + 1 + 4 + 36;
    expect(bytes.length).toBe(colFlag + 1);
    for (const at of [mnFlag, colFlag]) {
      const bad = new Uint8Array(bytes);
      bad[at] = 2;
      const err = thrown(() => decodeUndoRecord(bad));
      expect(err).toBeInstanceOf(DecodeError);
      expect(err).toMatchObject({ code: 'INVALID_VALUE' });
    }
  });

  it('UndoWriter: finishing with fewer spends than announced, or writing more, is refused', () => {
    const entry = { value: 5n, address: filled(20, 6), height: 3, coinbase: false };
    const w = new UndoWriter(tip, 2);
    w.spent(filled(36, 1), entry);
    expect(() => w.finish([], [])).toThrow(/announced 2 spends, wrote 1/);
    const one = new UndoWriter(tip, 1);
    one.spent(filled(36, 1), entry);
    expect(() => one.spent(filled(36, 2), entry)).toThrow(RangeError);
  });
});
