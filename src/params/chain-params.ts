import { CodedError } from '../util/coded-error.js';

export type NetworkName = 'mainnet' | 'testnet' | 'devnet';

/** Collateral tiers, lowest first. The index is the tier's id in layouts and storage. */
export const TIER_NAMES = ['free', 'bronze', 'silver', 'gold'] as const;
export type TierName = (typeof TIER_NAMES)[number];

export interface TierParams {
  readonly name: TierName;
  /** Minimum collateral output value (sat); a larger output still counts as this tier. */
  readonly collateral: bigint;
  /** Sampling and leader-ranking weight. */
  readonly weight: number;
  /** This tier's share of every block reward (sat), split among up to `maxPaidPerTier` nodes. */
  readonly rewardPool: bigint;
}

export interface SnowballParams {
  /** Validators sampled per poll (with replacement, by weight). */
  readonly k: number;
  /** Yes votes out of k that give a transaction a success and may move the preference to it. */
  readonly alphaPreference: number;
  /** Yes votes out of k that count towards confidence (alphaPreference <= alphaConfidence). */
  readonly alphaConfidence: number;
  /** Consecutive polls reaching alphaConfidence that finalize. */
  readonly beta: number;
}

export interface ChainParams {
  readonly network: NetworkName;
  readonly chainId: number;
  /** The ASCII digit after "TIME" in addresses; covered by the checksum. */
  readonly addressDigit: '0' | '1' | '2';
  /** Unix ms at which slot 0 begins. */
  readonly genesisTimeMs: number;
  readonly slotMs: number;
  readonly leaderFallbackStepMs: number;
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
  readonly blockReward: bigint;
  readonly treasuryReward: bigint;
  readonly producerReward: bigint;
  /** 20-byte address payload that receives the treasury share. */
  readonly treasuryAddress: Uint8Array;
  readonly tiers: readonly TierParams[];
  readonly maxPaidPerTier: number;
  readonly minActiveMasternodes: number;
  /**
   * At most this many Free-tier masternodes are active at a height: those registered earliest
   * (then by node pubkey). Registrations are cheap, so without a cap Free nodes could be farmed
   * into most of the sampling weight and leader ranks (Sybil); the rest wait in line.
   */
  readonly maxActiveFreeMasternodes: number;
  /**
   * A Free-tier registration must pay at least this much (sat) in outputs to `treasuryAddress`:
   * an explicit output, auditable on chain, that no block producer receives.
   */
  readonly freeRegistrationFee: bigint;
  readonly snowball: SnowballParams;
  readonly pollTimeoutMs: number;
  readonly concurrentPolls: number;
  readonly maxTxidsPerPoll: number;
  readonly maxReorgDepth: number;
  /** Coinbase outputs are spendable this many blocks later, so a reorg can never orphan a spend. */
  readonly coinbaseMaturity: number;
  readonly futureBlockToleranceMs: number;
  readonly dustLimit: bigint;
  /** Minimum fee in sat per 1,000 serialized bytes (rounded up). */
  readonly minRelayFeePerKb: bigint;
  /** VDF delay: number of sequential squarings. */
  readonly vdfDelay: number;
  readonly p2pPort: number;
  readonly rpcPort: number;
}

export class ChainParamsError extends CodedError<'CHAIN_PARAMS_INVALID'> {}

/**
 * Checks every rule the rest of the node relies on. The error names the violated rule and quotes
 * the values (avalanchego's Parameters.Verify style), so a bad edit is found at start-up, not in a
 * split chain.
 */
export function verifyChainParams(p: ChainParams): void {
  const fail = (rule: string, values: Record<string, unknown>): never => {
    const shown = Object.entries(values)
      .map(([k, v]) => `${k} = ${String(v)}`)
      .join(', ');
    throw new ChainParamsError(
      'CHAIN_PARAMS_INVALID',
      `${p.network}: ${shown}: fails the condition that: ${rule}`,
      {
        rule,
        ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
      },
    );
  };
  const { k, alphaPreference, alphaConfidence, beta } = p.snowball;
  if (!Number.isInteger(p.chainId) || p.chainId < 0 || p.chainId > 0xffff_ffff)
    fail('chainId is a u32', { chainId: p.chainId });
  if (!Number.isInteger(k)) fail('k is an integer', { k });
  if (!Number.isInteger(alphaPreference)) fail('alphaPreference is an integer', { alphaPreference });
  if (!Number.isInteger(alphaConfidence)) fail('alphaConfidence is an integer', { alphaConfidence });
  if (!Number.isInteger(beta)) fail('beta is an integer', { beta });
  if (!(k >= 1)) fail('k >= 1', { k });
  if (!(2 * alphaPreference > k)) fail('k/2 < alphaPreference', { k, alphaPreference });
  if (!(alphaPreference <= alphaConfidence))
    fail('alphaPreference <= alphaConfidence', { alphaPreference, alphaConfidence });
  if (!(alphaConfidence <= k)) fail('alphaConfidence <= k', { k, alphaConfidence });
  if (!(beta >= 1)) fail('beta >= 1', { beta });
  if (!(p.slotMs > 0 && Number.isInteger(p.slotMs)))
    fail('slotMs is a positive integer', { slotMs: p.slotMs });
  if (!(p.leaderFallbackStepMs > 0 && p.leaderFallbackStepMs < p.slotMs))
    fail('0 < leaderFallbackStepMs < slotMs', {
      leaderFallbackStepMs: p.leaderFallbackStepMs,
      slotMs: p.slotMs,
    });
  if (!(p.maxTxBytes > 0 && p.maxTxBytes < p.maxBlockBytes))
    fail('0 < maxTxBytes < maxBlockBytes', { maxTxBytes: p.maxTxBytes, maxBlockBytes: p.maxBlockBytes });
  if (p.tiers.length !== TIER_NAMES.length) fail('one entry per tier', { tiers: p.tiers.length });
  p.tiers.forEach((tier, i) => {
    if (tier.name !== TIER_NAMES[i])
      fail('tiers are listed free, bronze, silver, gold', { index: i, name: tier.name });
    const prev = p.tiers[i - 1];
    if (prev && !(tier.collateral > prev.collateral && tier.weight > prev.weight))
      fail('collateral and weight strictly increase by tier', {
        tier: tier.name,
        collateral: tier.collateral,
        weight: tier.weight,
      });
    if (!(Number.isInteger(tier.weight) && tier.weight >= 1)) fail('tier weight >= 1', { tier: tier.name });
  });
  if (p.tiers[0] && p.tiers[0].collateral !== 0n)
    fail('free tier needs no collateral', { collateral: p.tiers[0].collateral });
  const split = p.treasuryReward + p.producerReward + p.tiers.reduce((s, t) => s + t.rewardPool, 0n);
  if (split !== p.blockReward)
    fail('treasury + producer + tier pools == blockReward', { split, blockReward: p.blockReward });
  if (p.treasuryAddress.length !== 20)
    fail('treasuryAddress is a 20-byte payload', { length: p.treasuryAddress.length });
  if (!(p.maxPaidPerTier >= 1)) fail('maxPaidPerTier >= 1', { maxPaidPerTier: p.maxPaidPerTier });
  for (const tier of p.tiers) {
    if (tier.rewardPool > 0n && tier.rewardPool / BigInt(p.maxPaidPerTier) < p.dustLimit)
      fail('every tier payout share is at least the dust limit', {
        tier: tier.name,
        rewardPool: tier.rewardPool,
      });
  }
  if (!(p.minActiveMasternodes >= 1))
    fail('minActiveMasternodes >= 1', { minActiveMasternodes: p.minActiveMasternodes });
  const free = p.tiers[0];
  const gold = p.tiers[p.tiers.length - 1];
  if (!(Number.isSafeInteger(p.maxActiveFreeMasternodes) && p.maxActiveFreeMasternodes >= 1))
    fail('maxActiveFreeMasternodes is a positive integer', {
      maxActiveFreeMasternodes: p.maxActiveFreeMasternodes,
    });
  if (free && gold && !(p.maxActiveFreeMasternodes * free.weight <= gold.weight))
    fail('the capped Free tier weighs no more than one Gold masternode (cap × free weight <= gold weight)', {
      maxActiveFreeMasternodes: p.maxActiveFreeMasternodes,
      freeWeight: free.weight,
      goldWeight: gold.weight,
    });
  if (!(p.freeRegistrationFee >= p.dustLimit))
    fail('freeRegistrationFee >= dustLimit (it is paid as an ordinary output)', {
      freeRegistrationFee: p.freeRegistrationFee,
      dustLimit: p.dustLimit,
    });
  if (!(p.maxReorgDepth >= 1 && p.coinbaseMaturity >= p.maxReorgDepth))
    fail('coinbaseMaturity >= maxReorgDepth >= 1', {
      coinbaseMaturity: p.coinbaseMaturity,
      maxReorgDepth: p.maxReorgDepth,
    });
  if (!(p.dustLimit > 0n)) fail('dustLimit > 0', { dustLimit: p.dustLimit });
  if (!(p.minRelayFeePerKb > 0n)) fail('minRelayFeePerKb > 0', { minRelayFeePerKb: p.minRelayFeePerKb });
  if (!(p.maxTxidsPerPoll >= 1 && p.concurrentPolls >= 1 && p.pollTimeoutMs > 0))
    fail('poll limits are positive', {
      maxTxidsPerPoll: p.maxTxidsPerPoll,
      concurrentPolls: p.concurrentPolls,
    });
  if (!(Number.isSafeInteger(p.vdfDelay) && p.vdfDelay >= 1)) fail('vdfDelay >= 1', { vdfDelay: p.vdfDelay });
  if (!(p.p2pPort > 0 && p.p2pPort < 65536 && p.rpcPort > 0 && p.rpcPort < 65536 && p.p2pPort !== p.rpcPort))
    fail('p2pPort and rpcPort are distinct ports', { p2pPort: p.p2pPort, rpcPort: p.rpcPort });
  if (!Number.isSafeInteger(p.genesisTimeMs) || p.genesisTimeMs < 0)
    fail('genesisTimeMs >= 0', { genesisTimeMs: p.genesisTimeMs });
}
