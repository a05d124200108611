import { compareBytes } from '../encoding/bytes.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import type { ChainParams } from '../params/chain-params.js';

/**
 * The active masternode set as of a height: who is sampled by Snowball, ranked as a leader and paid
 * from the tier pools for a slot whose anchor is at that height. A consensus rule: this file is the
 * reference, and the chain store's indexed read (src/storage/active-set-index.ts) must return
 * exactly the same records.
 */

/** Registered at or before h and not deregistered at or before h. */
export function isActiveAt(m: MasternodeRecord, height: number): boolean {
  return m.registeredHeight <= height && (m.deregisteredHeight === null || m.deregisteredHeight > height);
}

/** Free-tier order for the cap: earliest registration first, then node pubkey. */
export function compareFreeSeniority(a: MasternodeRecord, b: MasternodeRecord): number {
  return a.registeredHeight - b.registeredHeight || compareBytes(a.nodePubkey, b.nodePubkey);
}

/**
 * Every collateral-tier masternode active at `height`, plus the `maxActiveFreeMasternodes`
 * Free-tier ones (tier 0) active at `height` that registered earliest (ties by pubkey); sorted by
 * node pubkey. Later Free registrations wait until an earlier one deregisters. Integers and byte
 * order only; the registry's iteration order does not matter.
 */
export function activeSetAt(
  registry: Iterable<MasternodeRecord>,
  height: number,
  params: Pick<ChainParams, 'maxActiveFreeMasternodes'>,
): MasternodeRecord[] {
  const paid: MasternodeRecord[] = [];
  const free: MasternodeRecord[] = [];
  for (const m of registry) {
    if (!isActiveAt(m, height)) continue;
    if (m.tier === 0) free.push(m);
    else paid.push(m);
  }
  free.sort(compareFreeSeniority);
  return [...paid, ...free.slice(0, params.maxActiveFreeMasternodes)].sort((a, b) =>
    compareBytes(a.nodePubkey, b.nodePubkey),
  );
}
