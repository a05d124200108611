import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { decodeChainTip, encodeChainTip } from '../../../src/storage/chain-tip.js';
import {
  decodeMasternodeRecord,
  encodeMasternodeRecord,
  type MasternodeRecord,
} from '../../../src/storage/masternode-record.js';
import { decodeUndoRecord, encodeUndoRecord, type UndoRecord } from '../../../src/storage/undo-record.js';
import { decodeUtxoEntry, encodeUtxoEntry, UTXO_ENTRY_BYTES } from '../../../src/storage/utxo-entry.js';

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
});
