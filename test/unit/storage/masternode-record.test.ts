import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/encoding/byte-reader.js';
import {
  decodeMasternodeRecord,
  encodeMasternodeRecord,
  type MasternodeRecord,
} from '../../../src/storage/masternode-record.js';
import { thrown } from '../../support/thrown.js';

/*
 * A malformed stored record is outside damage; its DecodeError (surfacing in a store refusal or in
 * inspect-db) should say which field broke. Layout with collateral: nodePubkey 0‥32, tier 32, flag
 * 33, txid 34‥66, vout 66‥70, rewardAddress 70‥90, registeredHeight 90‥94, deregisteredHeight 94‥98.
 */
const filled = (n: number, v: number) => new Uint8Array(n).fill(v);
const withCollateral: MasternodeRecord = {
  nodePubkey: filled(32, 1),
  tier: 2,
  collateral: { txid: filled(32, 2), vout: 7 },
  rewardAddress: filled(20, 3),
  registeredHeight: 10,
  deregisteredHeight: 12,
};
const withoutCollateral: MasternodeRecord = { ...withCollateral, collateral: null };

function decodeError(bytes: Uint8Array): DecodeError {
  const err = thrown(() => decodeMasternodeRecord(bytes));
  expect(err).toBeInstanceOf(DecodeError);
  return err as DecodeError;
}

describe('MasternodeRecord decoding names the field of a damaged record', () => {
  it.each([
    { cut: 10, field: 'node pubkey' },
    { cut: 32, field: 'tier' },
    { cut: 33, field: 'collateral flag' },
    { cut: 40, field: 'collateral txid' },
    { cut: 68, field: 'collateral vout' },
    { cut: 80, field: 'reward address' },
    { cut: 92, field: 'registered height' },
    { cut: 96, field: 'deregistered height' },
  ])('cut at byte $cut: TRUNCATED in the $field', ({ cut, field }) => {
    const err = decodeError(encodeMasternodeRecord(withCollateral).subarray(0, cut));
    expect(err.code).toBe('TRUNCATED');
    // After the code prefix, the reader's label of the read that ran out.
    expect(err.message).toContain(`: ${field}: need `);
  });

  it('a byte after the record is TRAILING_BYTES of the masternode record', () => {
    const err = decodeError(Uint8Array.from([...encodeMasternodeRecord(withCollateral), 0]));
    expect(err.code).toBe('TRAILING_BYTES');
    expect(err.message).toContain(': masternode record: 1 trailing bytes');
  });

  // Without collateral a flag of 2 would otherwise decode to a record of the right length.
  it.each([
    { record: 'with collateral', m: withCollateral, flag: 2 },
    { record: 'without collateral', m: withoutCollateral, flag: 2 },
    { record: 'without collateral', m: withoutCollateral, flag: 255 },
  ])('a collateral flag of $flag ($record) is INVALID_VALUE naming the flag', ({ m, flag }) => {
    const bad = encodeMasternodeRecord(m);
    bad[33] = flag;
    const err = decodeError(bad);
    expect(err.code).toBe('INVALID_VALUE');
    expect(err.message).toMatch(new RegExp(`: collateral flag ${flag}$`));
  });
});
