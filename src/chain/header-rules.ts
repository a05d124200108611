import { leaderAtRank, type RankedMasternode } from '../beacon/leader-ranking.js';
import { bytesEqual } from '../encoding/bytes.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import type { ChainParams } from '../params/chain-params.js';
import { BEACON_BYTES, BLOCK_VERSION, type BlockHeader } from '../protocol/block.js';
import { BlockError } from './block-errors.js';
import { rankWindow, rankWindowCount } from './slot-time.js';

/** The parent block as validation needs it. */
export interface ParentInfo {
  readonly hash: Uint8Array;
  readonly height: number;
  readonly slot: number;
}

/** What the header rules read besides the header: all of it committed chain data. */
export interface HeaderContext {
  readonly params: ChainParams;
  readonly parent: ParentInfo;
  /** The active set as of the slot's anchor block (src/chain/active-set.ts), any order. */
  readonly activeMasternodes: readonly MasternodeRecord[];
}

/** A masternode as leader ranking sees it: its pubkey and its tier's weight. */
export interface WeightedMasternode extends RankedMasternode {
  readonly record: MasternodeRecord;
}

/** The active set with tier weights, the input of rankLeaders / leaderAtRank / rankOf. */
export function rankingWeights(
  params: ChainParams,
  active: readonly MasternodeRecord[],
): WeightedMasternode[] {
  return active.map((record) => {
    const tier = params.tiers[record.tier];
    if (!tier) throw new RangeError(`masternode record with unknown tier ${record.tier}`);
    return { nodePubkey: record.nodePubkey, weight: tier.weight, record };
  });
}

/**
 * Every header rule that needs neither the VDF nor a signature, in the documented order. Pure and
 * synchronous; the producer runs it on the header it just assembled, so it never publishes what
 * validators refuse.
 *
 * y must be 256 bytes here but is not yet verified: the rank below is drawn from it, and the
 * beacon check that follows refuses the block if y is not the slot's beacon.
 */
export function checkHeaderRules(h: BlockHeader, ctx: HeaderContext): void {
  const { params, parent, activeMasternodes } = ctx;
  if (h.version !== BLOCK_VERSION) throw new BlockError('UNSUPPORTED_VERSION', `version ${h.version}`);
  if (h.chainId !== params.chainId) throw new BlockError('WRONG_CHAIN', `chain id ${h.chainId}`);
  if (!bytesEqual(h.prevHash, parent.hash))
    throw new BlockError('BAD_PREV_HASH', 'prev hash is not the parent');
  if (h.height !== parent.height + 1)
    throw new BlockError('BAD_HEIGHT', `height ${h.height} after ${parent.height}`);
  if (!Number.isSafeInteger(h.slot) || h.slot <= parent.slot)
    throw new BlockError('BAD_SLOT', `slot ${h.slot} is not after the parent's slot ${parent.slot}`);
  const lastWindowEnd = rankWindow(params, h.slot, rankWindowCount(params)).startMs;
  if (!Number.isSafeInteger(lastWindowEnd))
    throw new BlockError('BAD_SLOT', `slot ${h.slot} lies beyond any representable time`);
  if (h.beaconY.length !== BEACON_BYTES || h.beaconProof.length !== BEACON_BYTES)
    throw new BlockError(
      'BAD_BEACON',
      `beacon y and proof must be ${BEACON_BYTES} bytes, got ${h.beaconY.length} and ${h.beaconProof.length}`,
    );
  if (activeMasternodes.length < params.minActiveMasternodes)
    throw new BlockError(
      'TOO_FEW_MASTERNODES',
      `${activeMasternodes.length} active, ${params.minActiveMasternodes} needed`,
    );
  if (!activeMasternodes.some((m) => bytesEqual(m.nodePubkey, h.producerPubkey)))
    throw new BlockError('UNKNOWN_PRODUCER', 'the producer is not in the active set as of the anchor');
  const windows = rankWindowCount(params);
  if (!(h.rank < windows))
    throw new BlockError('WRONG_RANK', `rank ${h.rank} has no publishing window (ranks 0 … ${windows - 1})`, {
      rank: h.rank,
    });
  const leader = leaderAtRank(rankingWeights(params, activeMasternodes), h.beaconY, h.rank);
  if (!leader || !bytesEqual(leader.nodePubkey, h.producerPubkey))
    throw new BlockError('WRONG_RANK', `the producer is not the leader at rank ${h.rank} for this beacon`, {
      rank: h.rank,
    });
  const window = rankWindow(params, h.slot, h.rank);
  if (!(h.timestampMs >= window.startMs && h.timestampMs < window.endMs))
    throw new BlockError(
      'BAD_TIMESTAMP',
      `timestamp ${h.timestampMs} is outside rank ${h.rank}'s window [${window.startMs}, ${window.endMs}) of slot ${h.slot}`,
    );
}
