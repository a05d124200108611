import { compareBytes, toHex } from '../encoding/bytes.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import type { ChainParams } from '../params/chain-params.js';
import { tierIndexOfCollateral } from '../params/networks.js';
import { NO_COLLATERAL, type Transaction } from '../protocol/transaction.js';

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

/** A block of a branch not applied yet, as far as the registry is concerned. */
export interface BranchBlock {
  readonly height: number;
  readonly txs: readonly { readonly tx: Transaction; readonly txid: Uint8Array }[];
}

/**
 * The active set as of `height` on a branch that is not applied yet: what a block of the branch
 * whose anchor is a branch block must be checked against before the branch can win fork choice.
 * `forkSet(freeCap)` reads the set as of the fork point with the Free cap widened to `freeCap`:
 * each deregistration on the branch can let one more Free node move up. The branch's `blocks` up
 * to the anchor, oldest first, then apply their registrations and deregistrations in order as the
 * chain store applies them (src/storage/block-effects.ts): a registration is a new record at its
 * block's height, tier from its collateral output's value; a deregistration ends a record (the
 * set is read at the anchor, at or after every block given). A deregistration that the main chain
 * made after the fork point does not exist on the branch. A registration naming a collateral output
 * its transaction lacks is left out: no valid block holds one, so the set past it only checks the
 * headers of a branch that fails when applied.
 */
export function activeSetOnBranch(
  forkSet: (freeCap: number) => readonly MasternodeRecord[],
  blocks: readonly BranchBlock[],
  height: number,
  params: ChainParams,
): MasternodeRecord[] {
  const last = blocks[blocks.length - 1];
  if (last !== undefined && last.height > height)
    throw new RangeError(`the set as of ${height} cannot hold block ${last.height}'s registry changes`);
  let deregistrations = 0;
  for (const b of blocks)
    for (const { tx } of b.txs) if (tx.payload?.kind === 'deregister') deregistrations++;
  const registry = new Map<string, MasternodeRecord>();
  for (const m of forkSet(params.maxActiveFreeMasternodes + deregistrations))
    registry.set(toHex(m.nodePubkey), { ...m, deregisteredHeight: null });
  for (const b of blocks) {
    for (const { tx, txid } of b.txs) {
      const p = tx.payload;
      if (p === null) continue;
      const key = toHex(p.nodePubkey);
      if (p.kind === 'register') {
        let tier = 0;
        let collateral: MasternodeRecord['collateral'] = null;
        if (p.collateralVout !== NO_COLLATERAL) {
          const out = tx.outputs[p.collateralVout];
          if (out === undefined) continue;
          tier = tierIndexOfCollateral(params, out.value);
          collateral = { txid, vout: p.collateralVout };
        }
        registry.set(key, {
          nodePubkey: p.nodePubkey,
          tier,
          collateral,
          rewardAddress: p.rewardAddress,
          registeredHeight: b.height,
          deregisteredHeight: null,
        });
      } else {
        // Gone from here on, and the set is read at the anchor, at or after every block given.
        registry.delete(key);
      }
    }
  }
  return activeSetAt(registry.values(), height, params);
}
