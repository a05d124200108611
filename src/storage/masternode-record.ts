import { ByteReader, DecodeError } from '../encoding/byte-reader.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import { ADDRESS_PAYLOAD_BYTES, PUBKEY_BYTES, TXID_BYTES } from '../protocol/transaction.js';

/** The shared ledger type (src/ledger/ledger-state.ts); this file only defines its stored layout. */
export type { MasternodeRecord };

const NONE = 0xffff_ffff;

/**
 * nodePubkey 32 B ‖ tier u8 ‖ has-collateral u8 ‖ [txid 32 B ‖ vout u32] ‖ rewardAddress 20 B ‖
 * registeredHeight u32 ‖ deregisteredHeight u32 (0xffffffff = none). Integers little-endian.
 */
export function writeMasternodeRecord(w: ByteWriter, m: MasternodeRecord): ByteWriter {
  w.fixed(m.nodePubkey, PUBKEY_BYTES).u8(m.tier);
  if (m.collateral === null) w.u8(0);
  else w.u8(1).fixed(m.collateral.txid, TXID_BYTES).u32(m.collateral.vout);
  w.fixed(m.rewardAddress, ADDRESS_PAYLOAD_BYTES).u32(m.registeredHeight);
  return w.u32(m.deregisteredHeight ?? NONE);
}

export function encodeMasternodeRecord(m: MasternodeRecord): Uint8Array {
  return writeMasternodeRecord(new ByteWriter(128), m).finish();
}

export function readMasternodeRecord(r: ByteReader): MasternodeRecord {
  const nodePubkey = r.fixed(PUBKEY_BYTES, 'node pubkey');
  const tier = r.u8('tier');
  const hasCollateral = r.u8('collateral flag');
  if (hasCollateral > 1) throw new DecodeError('INVALID_VALUE', `collateral flag ${hasCollateral}`);
  const collateral =
    hasCollateral === 1
      ? { txid: r.fixed(TXID_BYTES, 'collateral txid'), vout: r.u32('collateral vout') }
      : null;
  const rewardAddress = r.fixed(ADDRESS_PAYLOAD_BYTES, 'reward address');
  const registeredHeight = r.u32('registered height');
  const dereg = r.u32('deregistered height');
  return {
    nodePubkey,
    tier,
    collateral,
    rewardAddress,
    registeredHeight,
    deregisteredHeight: dereg === NONE ? null : dereg,
  };
}

export function decodeMasternodeRecord(bytes: Uint8Array): MasternodeRecord {
  const r = new ByteReader(bytes);
  const m = readMasternodeRecord(r);
  r.done('masternode record');
  return m;
}
