import { compareFreeSeniority } from '../chain/active-set.js';
import { compareBytes } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { PUBKEY_BYTES } from '../protocol/transaction.js';
import type { ChainDatabases } from './databases.js';
import {
  decodeMasternodeRecord,
  encodeMasternodeRecord,
  type MasternodeRecord,
} from './masternode-record.js';

/*
 * Two indexes over the masternode registry, so the active set as of a height near the tip is read
 * without scanning every record ever registered (the registry only grows: a key registers once,
 * deregistered records stay for history):
 *
 *   registrations:   class u8 ‖ registeredHeight u32 BE ‖ node pubkey → MasternodeRecord
 *                    every record NOT deregistered at the tip; class 0 = collateral tiers,
 *                    1 = Free tier, so each class reads in (registration height, pubkey) order
 *   deregistrations: deregisteredHeight u32 BE ‖ node pubkey → MasternodeRecord
 *                    every deregistered record, by the height it left
 *
 * Active as of h ≤ tip = registrations with registeredHeight ≤ h (a range read per class) plus
 * deregistrations at heights > h of records registered ≤ h (a range read of the few recent exits).
 * The Free class is read only up to the cap, because its key order is the cap's seniority order.
 * Values repeat the registry record: records change only by deregistering, which moves them from
 * one index to the other, so the copies cannot go stale.
 */

const REG_KEY_BYTES = 1 + 4 + PUBKEY_BYTES;
const DEREG_KEY_BYTES = 4 + PUBKEY_BYTES;
const PAID_CLASS = 0;
const FREE_CLASS = 1;

function registrationKey(m: MasternodeRecord): Uint8Array {
  const key = new Uint8Array(REG_KEY_BYTES);
  const view = new DataView(key.buffer);
  key[0] = m.tier === 0 ? FREE_CLASS : PAID_CLASS;
  view.setUint32(1, m.registeredHeight, false);
  key.set(m.nodePubkey, 5);
  return key;
}

function deregistrationKey(m: MasternodeRecord, deregisteredHeight: number): Uint8Array {
  const key = new Uint8Array(DEREG_KEY_BYTES);
  new DataView(key.buffer).setUint32(0, deregisteredHeight, false);
  key.set(m.nodePubkey, 4);
  return key;
}

/** Prefix bound: class ‖ u32 BE height (sorts before every key of that class and height). */
function classBound(cls: number, height: number): Uint8Array {
  const key = new Uint8Array(5);
  key[0] = cls;
  new DataView(key.buffer).setUint32(1, height, false);
  return key;
}

function heightBound(height: number): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, height, false);
  return key;
}

/**
 * Moves a registry record's index entries from what `before` implied to what `after` implies
 * (null = no record). Called inside the block's write transaction wherever the registry changes
 * (apply and revert), so the indexes commit or abort with it.
 */
export function reindexMasternode(
  dbs: ChainDatabases,
  before: MasternodeRecord | null,
  after: MasternodeRecord | null,
): void {
  if (before !== null) {
    if (before.deregisteredHeight === null) dbs.registrations.removeSync(registrationKey(before));
    else dbs.deregistrations.removeSync(deregistrationKey(before, before.deregisteredHeight));
  }
  if (after !== null) {
    const value = encodeMasternodeRecord(after);
    if (after.deregisteredHeight === null) dbs.registrations.putSync(registrationKey(after), value);
    else dbs.deregistrations.putSync(deregistrationKey(after, after.deregisteredHeight), value);
  }
}

function recordsIn(
  db: ChainDatabases['registrations'],
  range: { start: Uint8Array; end?: Uint8Array; limit?: number },
): MasternodeRecord[] {
  const out: MasternodeRecord[] = [];
  for (const { value } of db.getRange(range)) out.push(decodeMasternodeRecord(new Uint8Array(value)));
  return out;
}

/**
 * The active set as of `height` (≤ the store's tip), by the rule of src/chain/active-set.ts, sorted
 * by node pubkey. Cost: the collateral-tier records registered ≤ h, at most `maxActiveFreeMasternodes`
 * Free records, and the records deregistered above h; never the whole registry.
 */
export function readActiveSet(
  dbs: ChainDatabases,
  height: number,
  params: Pick<ChainParams, 'maxActiveFreeMasternodes'>,
): MasternodeRecord[] {
  if (!(Number.isSafeInteger(height) && height >= 0 && height < 0xffff_ffff))
    throw new RangeError(`height ${height} is not a stored block height`);
  const cap = params.maxActiveFreeMasternodes;
  // Registered ≤ h and still registered at the tip (so not deregistered at any height).
  const paid = recordsIn(dbs.registrations, {
    start: classBound(PAID_CLASS, 0),
    end: classBound(PAID_CLASS, height + 1),
  });
  const freeLive = recordsIn(dbs.registrations, {
    start: classBound(FREE_CLASS, 0),
    end: classBound(FREE_CLASS, height + 1),
    limit: cap,
  });
  // Registered ≤ h and deregistered after h: active at h, gone at the tip.
  const freeExited: MasternodeRecord[] = [];
  for (const m of recordsIn(dbs.deregistrations, { start: heightBound(height + 1) })) {
    if (m.registeredHeight > height) continue;
    if (m.tier === 0) freeExited.push(m);
    else paid.push(m);
  }
  // The first `cap` of the merged seniority order are among the first `cap` live ones and all exited ones.
  const free = [...freeLive, ...freeExited].sort(compareFreeSeniority).slice(0, cap);
  return [...paid, ...free].sort((a, b) => compareBytes(a.nodePubkey, b.nodePubkey));
}
