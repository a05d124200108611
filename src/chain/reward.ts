import { sha256 } from '../crypto/sha256.js';
import { ByteWriter } from '../encoding/byte-writer.js';
import { compareBytes } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { TAG } from '../protocol/domain-tags.js';
import { type Transaction, TX_VERSION, type TxOutput } from '../protocol/transaction.js';

/** The part of a masternode record the reward rule reads. */
export interface RewardRecipient {
  readonly nodePubkey: Uint8Array;
  readonly tier: number;
  readonly rewardAddress: Uint8Array;
}

export interface CoinbaseInputs {
  readonly height: number;
  /** The slot's beacon y: seeds the rotation that picks who is paid from each tier pool. */
  readonly beaconY: Uint8Array;
  readonly producerRewardAddress: Uint8Array;
  /** Sum of the fees of the block's other transactions. */
  readonly fees: bigint;
  /** Active masternodes as of the slot's anchor block (committed state only), any order. */
  readonly activeMasternodes: readonly RewardRecipient[];
}

/** Tiers are paid highest first; the output order is part of consensus. */
const PAYOUT_TIER_ORDER = [3, 2, 1, 0] as const;

/** Rotation offset into a tier's sorted member list: SHA-256(TAG.reward ‖ u8 tier ‖ y) as u64 LE mod n. */
export function rotationOffset(beaconY: Uint8Array, tier: number, members: number): number {
  const digest = sha256(
    new ByteWriter(64 + beaconY.length).raw(TAG.reward).u8(tier).varBytes(beaconY).finish(),
  );
  const x = new DataView(digest.buffer, digest.byteOffset).getBigUint64(0, true);
  return Number(x % BigInt(members));
}

/**
 * The reward rule (DESIGN §2), used by both the block producer and every validator:
 *   output 0: treasury share to the treasury address;
 *   output 1: producer share + all fees + every empty tier's pool + all rounding dust;
 *   then for gold, silver, bronze, free: the tier pool split equally among up to maxPaidPerTier
 *   members, taken in rotation from the tier's members sorted by node pubkey, starting at
 *   rotationOffset(y, tier).
 * Outputs sum to exactly blockReward + fees. Integer arithmetic only; the input order of
 * `activeMasternodes` does not matter.
 */
export function coinbaseOutputs(params: ChainParams, inputs: CoinbaseInputs): TxOutput[] {
  let producer = params.producerReward + inputs.fees;
  const payouts: TxOutput[] = [];
  for (const tier of PAYOUT_TIER_ORDER) {
    const pool = params.tiers[tier]!.rewardPool;
    const members = inputs.activeMasternodes
      .filter((m) => m.tier === tier)
      .sort((a, b) => compareBytes(a.nodePubkey, b.nodePubkey));
    if (members.length === 0) {
      producer += pool;
      continue;
    }
    const paid = Math.min(members.length, params.maxPaidPerTier);
    const start = rotationOffset(inputs.beaconY, tier, members.length);
    const share = pool / BigInt(paid);
    producer += pool - share * BigInt(paid);
    for (let j = 0; j < paid; j++) {
      payouts.push({ value: share, address: members[(start + j) % members.length]!.rewardAddress });
    }
  }
  return [
    { value: params.treasuryReward, address: params.treasuryAddress },
    { value: producer, address: inputs.producerRewardAddress },
    ...payouts,
  ];
}

/** The coinbase transaction: no inputs, lock time = height (so every coinbase txid is unique). */
export function coinbaseTx(params: ChainParams, inputs: CoinbaseInputs): Transaction {
  return {
    version: TX_VERSION,
    chainId: params.chainId,
    inputs: [],
    outputs: coinbaseOutputs(params, inputs),
    lockTime: inputs.height,
    payload: null,
    witnesses: [],
  };
}
