import { PAYLOAD_KIND, PUBKEY_BYTES, type Transaction, type TxPayload } from '../protocol/transaction.js';
import { bytesKey, outpointStringKey } from './map-keys.js';

/*
 * Conflict keys name the things a transaction uses up, each of which can be used up once: two
 * transactions sharing a key conflict, the mempool puts them in one conflict set, and the Snowball
 * engine runs one instance per key (`SnowballEngine.add(txid, conflictKeys)`).
 *
 * - Each input's outpoint: its 36-byte outpointKey() (txid ‖ vout u32 big-endian).
 * - A registry change: 33 bytes, payload kind (1 registration, 2 deregistration, the bytes of the
 *   transaction layout) ‖ node pubkey. A node key registers once and deregisters once, ever, so
 *   (kind, key) names a change that can happen once, exactly like an outpoint that can be spent
 *   once. Without it, two registrations of one key through different inputs shared no set, both
 *   finalized, and no block could hold both (issue 12). A registration and a deregistration of one
 *   key are never both valid against one state (a deregistration needs the registration in an
 *   earlier block), so they need no common set; keeping them apart also means a finalized
 *   registration never blocks the later deregistration.
 * The lengths differ (36 vs 33), so a registry key never equals an outpoint key.
 */

/** Length of a registry conflict key: kind byte ‖ node pubkey. */
export const REGISTRY_CONFLICT_KEY_BYTES = 1 + PUBKEY_BYTES;

/** The registry change's conflict key as bytes: u8 payload kind ‖ node pubkey (32). */
export function registryConflictKeyBytes(payload: TxPayload): Uint8Array {
  const key = new Uint8Array(REGISTRY_CONFLICT_KEY_BYTES);
  key[0] = PAYLOAD_KIND[payload.kind];
  key.set(payload.nodePubkey, 1);
  return key;
}

/** The registry change's conflict key as a map key (latin1, like the outpoint keys). */
export function registryConflictKey(payload: TxPayload): string {
  return bytesKey(registryConflictKeyBytes(payload));
}

/** A transaction's conflict keys as map keys: its inputs' outpoint keys in input order, then its registry key. */
export function conflictKeysOf(tx: Transaction): string[] {
  const keys = tx.inputs.map(outpointStringKey);
  if (tx.payload !== null) keys.push(registryConflictKey(tx.payload));
  return keys;
}

/** What a conflict key at `index` of conflictKeysOf(tx) names, for error details. */
export function describeConflictKey(tx: Transaction, index: number): { input: number } | { payload: string } {
  return index < tx.inputs.length ? { input: index } : { payload: tx.payload!.kind };
}
