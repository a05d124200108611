import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import {
  decodeUndoRecord,
  encodeUndoRecord,
  type PriorCollateral,
  type PriorMasternode,
  UndoWriter,
} from '../../../src/storage/undo-record.js';
import { encodeUtxoEntry } from '../../../src/storage/utxo-entry.js';
import { thrown } from '../../support/thrown.js';

/*
 * Undo records are written by this node only, so a malformed one is outside damage: the DecodeError
 * it raises ends up in UNDO_CORRUPT's message, where it should say which part of the record broke.
 * Layout: previousTip 44 B ‖ spent count ‖ spends ‖ masternode count ‖ masternodes ‖ collateral
 * count ‖ collateral (undo-record.ts).
 */
const filled = (n: number, v: number) => new Uint8Array(n).fill(v);
const tip = { height: 4, hash: filled(32, 4), slot: 4 };
const entry = { value: 5n, address: filled(20, 6), height: 3, coinbase: false };

const registered: PriorMasternode = {
  nodePubkey: filled(32, 2),
  prior: {
    nodePubkey: filled(32, 2),
    tier: 1,
    collateral: null,
    rewardAddress: filled(20, 2),
    registeredHeight: 1,
    deregisteredHeight: null,
  },
};
const owned: PriorCollateral = { key: filled(36, 4), prior: filled(32, 2) };
const unowned: PriorCollateral = { key: filled(36, 3), prior: null };

const record = (masternodes: PriorMasternode[], collateral: PriorCollateral[]) =>
  encodeUndoRecord({ previousTip: tip, spent: [], masternodes, collateral });

function decodeError(bytes: Uint8Array): DecodeError {
  const err = thrown(() => decodeUndoRecord(bytes));
  expect(err).toBeInstanceOf(DecodeError);
  return err as DecodeError;
}

describe('UndoWriter', () => {
  it('refuses a spend beyond the announced count, whether copied raw or encoded', () => {
    const raw = new UndoWriter(tip, 1);
    raw.spentRaw(filled(36, 1), encodeUtxoEntry(entry));
    expect(() => raw.spentRaw(filled(36, 2), encodeUtxoEntry(entry))).toThrow(
      new RangeError('more spends than announced'),
    );
    const encoded = new UndoWriter(tip, 0);
    expect(() => encoded.spent(filled(36, 2), entry)).toThrow(new RangeError('more spends than announced'));
  });

  it('spends copied raw decode like encoded ones', () => {
    const w = new UndoWriter(tip, 2);
    w.spentRaw(filled(36, 1), encodeUtxoEntry(entry));
    w.spent(filled(36, 2), { ...entry, coinbase: true });
    expect(decodeUndoRecord(w.finish([], [])).spent).toEqual([
      { key: filled(36, 1), entry },
      { key: filled(36, 2), entry: { ...entry, coinbase: true } },
    ]);
  });
});

describe('decodeUndoRecord names the part of a damaged record', () => {
  // Offsets: counts at 44 (spent), 48 (masternodes), then items; the comments give the cut point.
  it.each([
    { cut: 'inside the spent count', bytes: () => record([], []).subarray(0, 46), label: 'spent count' },
    {
      cut: 'inside the masternode count',
      bytes: () => record([], []).subarray(0, 50),
      label: 'masternode count',
    },
    {
      cut: 'inside the collateral count',
      bytes: () => record([], []).subarray(0, 54),
      label: 'collateral count',
    },
    {
      // 52 + (32 + 1 + 62-byte record) = 147: the second pubkey starts there.
      cut: 'in the pubkey after a prior masternode record',
      bytes: () => record([registered, registered], []).subarray(0, 160),
      label: 'node pubkey',
    },
    {
      cut: 'before the presence flag of a masternode',
      bytes: () => record([registered, { nodePubkey: filled(32, 3), prior: null }], []).subarray(0, 147 + 32),
      label: 'masternode',
    },
    {
      // 56 + (36 + 1 + 32) = 125: the second outpoint key starts there.
      cut: 'in the outpoint key after a prior owner',
      bytes: () => record([], [owned, unowned]).subarray(0, 140),
      label: 'collateral key',
    },
    {
      cut: 'before the presence flag of a collateral entry',
      bytes: () => record([], [owned, unowned]).subarray(0, 125 + 36),
      label: 'collateral',
    },
    { cut: 'in a prior owner', bytes: () => record([], [owned]).subarray(0, 100), label: 'owner' },
  ])('a record cut $cut: TRUNCATED at "$label"', ({ bytes, label }) => {
    const err = decodeError(bytes());
    expect(err.code).toBe('TRUNCATED');
    // After the code prefix, the reader's label of the read that ran out.
    expect(err.message).toContain(`: ${label}: need `);
  });

  it.each([
    { section: 'masternode', bytes: () => record([{ nodePubkey: filled(32, 1), prior: null }], []), at: 84 },
    { section: 'collateral', bytes: () => record([], [unowned]), at: 92 },
  ])(
    'a $section presence flag of 2 is INVALID_VALUE naming the section and the flag',
    ({ section, bytes, at }) => {
      const bad = new Uint8Array(bytes());
      bad[at] = 2;
      const err = decodeError(bad);
      expect(err.code).toBe('INVALID_VALUE');
      expect(err.message).toMatch(new RegExp(`: ${section} presence flag 2$`));
    },
  );

  it('a spent count the remaining bytes cannot hold is TRUNCATED before anything is allocated', () => {
    const bad = new Uint8Array(record([], []));
    bad.fill(0xff, 44, 48); // spent count 2^32 - 1, whichever byte order
    const err = decodeError(bad);
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(/spent count 4294967295 cannot fit in \d+ bytes/);
  });

  it('bytes after the collateral section are TRAILING_BYTES of the undo record', () => {
    const err = decodeError(Uint8Array.from([...record([registered], [owned]), 0]));
    expect(err.code).toBe('TRAILING_BYTES');
    expect(err.message).toContain(': undo record: 1 trailing bytes');
  });
});
