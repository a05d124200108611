import { sha256 } from '../crypto/sha256.js';
import { asciiBytes } from '../encoding/bytes.js';
import { type ChainParams, type NetworkName, type TierParams, verifyChainParams } from './chain-params.js';
import { time } from './units.js';

const TIERS: readonly TierParams[] = [
  { name: 'free', collateral: 0n, weight: 1, rewardPool: time(8) },
  { name: 'bronze', collateral: time(1_000), weight: 10, rewardPool: time(14) },
  { name: 'silver', collateral: time(10_000), weight: 100, rewardPool: time(18) },
  { name: 'gold', collateral: time(100_000), weight: 1_000, rewardPool: time(25) },
];

/**
 * Until on-chain governance exists the treasury share goes to a payload nobody holds a key for
 * (a hash of a public string): it is visible on chain and provably unspent.
 */
function treasuryPayload(network: NetworkName): Uint8Array {
  return sha256(asciiBytes(`TIME:treasury:${network}`)).slice(0, 20);
}

const COMMON = {
  maxBlockBytes: 2_000_000,
  maxTxBytes: 100_000,
  blockReward: time(100),
  treasuryReward: time(5),
  producerReward: time(30),
  tiers: TIERS,
  maxPaidPerTier: 25,
  minActiveMasternodes: 3,
  // 100 Free nodes weigh 100, a tenth of one Gold node; filling every Free place costs 1,000 TIME
  // paid away for good (docs/protocol.md, Masternodes).
  maxActiveFreeMasternodes: 100,
  freeRegistrationFee: time(10),
  snowball: Object.freeze({ k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 20 }),
  concurrentPolls: 4,
  maxTxidsPerPoll: 1024,
  maxReorgDepth: 100,
  coinbaseMaturity: 100,
  dustLimit: 1_000n,
  minRelayFeePerKb: 1_000n,
} as const;

function freeze(p: ChainParams): ChainParams {
  verifyChainParams(p);
  return Object.freeze(p);
}

export const MAINNET: ChainParams = freeze({
  ...COMMON,
  network: 'mainnet',
  chainId: 1,
  addressDigit: '1',
  genesisTimeMs: Date.UTC(2027, 0, 1),
  slotMs: 600_000,
  leaderFallbackStepMs: 30_000,
  treasuryAddress: treasuryPayload('mainnet'),
  pollTimeoutMs: 1_000,
  futureBlockToleranceMs: 5_000,
  // docs/protocol.md, "Choosing T": OpenSSL's modexp (945,000 squarings/s on the reference machine)
  // needs 381 s = 12.7 publishing windows, and 4× that speed still 95 s = 3.2 windows, while our
  // WASM kernel (536,000/s) evaluates and proves in ~710 s, inside the 1,170 s lead of a rank-0
  // anchor. Re-measure with `timecoin vdf calibrate` before launch.
  vdfDelay: 360_000_000,
  p2pPort: 24000,
  rpcPort: 24001,
});

export const TESTNET: ChainParams = freeze({
  ...MAINNET,
  network: 'testnet',
  chainId: 2,
  addressDigit: '0',
  genesisTimeMs: Date.UTC(2026, 11, 1),
  treasuryAddress: treasuryPayload('testnet'),
  p2pPort: 24100,
  rpcPort: 24101,
});

export const DEVNET: ChainParams = freeze({
  ...COMMON,
  network: 'devnet',
  chainId: 3,
  addressDigit: '2',
  genesisTimeMs: Date.UTC(2026, 10, 1),
  slotMs: 2_000,
  leaderFallbackStepMs: 500,
  treasuryAddress: treasuryPayload('devnet'),
  pollTimeoutMs: 250,
  futureBlockToleranceMs: 1_000,
  vdfDelay: 4096,
  p2pPort: 24200,
  rpcPort: 24201,
});

/** The devnet parameters a test or a local devnet may change: timing only, never consensus data. */
export interface DevnetTiming {
  readonly slotMs?: number;
  readonly leaderFallbackStepMs?: number;
  readonly futureBlockToleranceMs?: number;
}

/**
 * Devnet parameters with other slot timing (e.g. 1 s slots in multi-process tests), verified and
 * frozen like the built-in ones. Chain id, genesis time and tiers are unchanged, so the genesis block
 * (and its hash) is the same as DEVNET's; nodes of one devnet must agree on the timing themselves.
 */
export function devnetParams(timing: DevnetTiming = {}): ChainParams {
  return freeze({ ...DEVNET, ...timing });
}

export const NETWORKS: Readonly<Record<NetworkName, ChainParams>> = Object.freeze({
  mainnet: MAINNET,
  testnet: TESTNET,
  devnet: DEVNET,
});

export function paramsFor(network: string): ChainParams {
  // Own keys only: "constructor" or "toString" must be an unknown network, not Object's members.
  const p = Object.hasOwn(NETWORKS, network) ? NETWORKS[network as NetworkName] : undefined;
  if (!p)
    throw new RangeError(`unknown network ${JSON.stringify(network)} (expected mainnet, testnet or devnet)`);
  return p;
}

/** Tier index (0 free … 3 gold) of a collateral amount: the highest tier whose minimum it meets. */
export function tierIndexOfCollateral(p: ChainParams, value: bigint): number {
  let best = 0;
  p.tiers.forEach((t, i) => {
    if (value >= t.collateral) best = i;
  });
  return best;
}

/** Tier of a collateral amount: the highest tier whose minimum it meets. */
export function tierOfCollateral(p: ChainParams, value: bigint): TierParams {
  return p.tiers[tierIndexOfCollateral(p, value)]!;
}
