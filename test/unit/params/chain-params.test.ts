import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { type ChainParams, ChainParamsError, verifyChainParams } from '../../../src/params/chain-params.js';
import {
  DEVNET,
  devnetParams,
  MAINNET,
  NETWORKS,
  paramsFor,
  TESTNET,
  tierIndexOfCollateral,
  tierOfCollateral,
} from '../../../src/params/networks.js';
import { formatTime, parseTime, time } from '../../../src/params/units.js';
import { headerHash } from '../../../src/protocol/block.js';

describe('chain parameters', () => {
  it('the three networks verify, are frozen, and have distinct chain ids, digits and ports', () => {
    for (const p of Object.values(NETWORKS)) {
      expect(() => verifyChainParams(p)).not.toThrow();
      expect(Object.isFrozen(p)).toBe(true);
    }
    expect(new Set([MAINNET.chainId, TESTNET.chainId, DEVNET.chainId]).size).toBe(3);
    expect(new Set([MAINNET.addressDigit, TESTNET.addressDigit, DEVNET.addressDigit]).size).toBe(3);
    expect(new Set([MAINNET.p2pPort, TESTNET.p2pPort, DEVNET.p2pPort]).size).toBe(3);
    expect(() => paramsFor('regtest')).toThrow(/unknown network/);
  });

  it('match DESIGN §2', () => {
    expect(MAINNET.slotMs).toBe(600_000);
    expect(DEVNET.slotMs).toBe(2_000);
    expect(MAINNET.snowball).toEqual({ k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 20 });
    expect(MAINNET.tiers.map((t) => [t.name, t.collateral, t.weight, t.rewardPool])).toEqual([
      ['free', 0n, 1, time(8)],
      ['bronze', time(1_000), 10, time(14)],
      ['silver', time(10_000), 100, time(18)],
      ['gold', time(100_000), 1_000, time(25)],
    ]);
    expect(MAINNET.treasuryReward + MAINNET.producerReward).toBe(time(35));
    expect(MAINNET.maxActiveFreeMasternodes).toBe(100);
    expect(MAINNET.freeRegistrationFee).toBe(time(10));
    // The cap rule's edge: exactly one Gold node's weight is allowed.
    expect(() => verifyChainParams({ ...DEVNET, maxActiveFreeMasternodes: 1_000 })).not.toThrow();
  });

  const bad: [string, Partial<ChainParams>, RegExp][] = [
    [
      'alphaPreference at k/2',
      { snowball: { k: 20, alphaPreference: 10, alphaConfidence: 14, beta: 20 } },
      /k = 20, alphaPreference = 10: fails the condition that: k\/2 < alphaPreference/,
    ],
    [
      'alphaConfidence below alphaPreference',
      { snowball: { k: 20, alphaPreference: 14, alphaConfidence: 13, beta: 20 } },
      /alphaPreference = 14, alphaConfidence = 13: fails the condition that: alphaPreference <= alphaConfidence/,
    ],
    [
      'alphaConfidence above k',
      { snowball: { k: 20, alphaPreference: 11, alphaConfidence: 21, beta: 20 } },
      /k = 20, alphaConfidence = 21: fails the condition that: alphaConfidence <= k/,
    ],
    [
      'alphaPreference not an integer',
      { snowball: { k: 20, alphaPreference: 11.5, alphaConfidence: 14, beta: 20 } },
      /alphaPreference is an integer/,
    ],
    [
      'alphaConfidence not an integer',
      { snowball: { k: 20, alphaPreference: 11, alphaConfidence: 14.5, beta: 20 } },
      /alphaConfidence is an integer/,
    ],
    ['beta zero', { snowball: { k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 0 } }, /beta >= 1/],
    [
      'k not an integer',
      { snowball: { k: 20.5, alphaPreference: 11, alphaConfidence: 14, beta: 20 } },
      /k = 20.5: fails the condition that: k is an integer/,
    ],
    [
      'beta not an integer',
      { snowball: { k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 2.5 } },
      /beta = 2.5: fails the condition that: beta is an integer/,
    ],
    [
      'k zero',
      { snowball: { k: 0, alphaPreference: 1, alphaConfidence: 1, beta: 1 } },
      /k = 0: fails the condition that: k >= 1/,
    ],
    ['fallback step not below slot', { leaderFallbackStepMs: 2_000 }, /leaderFallbackStepMs < slotMs/],
    ['split does not sum', { producerReward: time(31) }, /== blockReward/],
    ['tx limit above block limit', { maxTxBytes: 3_000_000 }, /maxTxBytes < maxBlockBytes/],
    ['coinbase matures before reorg depth', { coinbaseMaturity: 50 }, /coinbaseMaturity >= maxReorgDepth/],
    ['treasury payload length', { treasuryAddress: new Uint8Array(19) }, /20-byte/],
    ['same p2p and rpc port', { rpcPort: 24200 }, /distinct ports/],
    ['zero dust limit', { dustLimit: 0n }, /dustLimit > 0/],
    ['chain id not u32', { chainId: -1 }, /u32/],
    ['no Free places', { maxActiveFreeMasternodes: 0 }, /maxActiveFreeMasternodes is a positive integer/],
    [
      'Free tier outweighs a Gold node',
      { maxActiveFreeMasternodes: 1_001 },
      /cap × free weight <= gold weight/,
    ],
    ['registration fee below dust', { freeRegistrationFee: 999n }, /freeRegistrationFee >= dustLimit/],
  ];

  it.each(bad)('rejects %s, naming the rule and the values', (_name, change, rule) => {
    try {
      verifyChainParams({ ...DEVNET, ...change });
      expect.unreachable('invalid parameters accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ChainParamsError);
      expect((err as ChainParamsError).message).toMatch(rule);
      expect((err as ChainParamsError).message).toMatch(/devnet: .* = /);
    }
  });

  it('rejects tiers whose weights do not increase', () => {
    const tiers = DEVNET.tiers.map((t, i) => (i === 2 ? { ...t, weight: 10 } : t));
    expect(() => verifyChainParams({ ...DEVNET, tiers })).toThrow(/strictly increase/);
  });

  it('maps collateral to the highest tier whose minimum it meets', () => {
    expect(tierIndexOfCollateral(DEVNET, 0n)).toBe(0);
    expect(tierIndexOfCollateral(DEVNET, time(1_000) - 1n)).toBe(0);
    expect(tierIndexOfCollateral(DEVNET, time(1_500))).toBe(1);
    expect(tierIndexOfCollateral(DEVNET, time(10_000))).toBe(2);
    expect(tierIndexOfCollateral(DEVNET, time(1_000_000))).toBe(3);
  });

  it('formats and parses TIME amounts exactly, never through floats', () => {
    expect(formatTime(1n)).toBe('0.00000001');
    expect(formatTime(time(100) + 5n)).toBe('100.00000005');
    expect(parseTime('0.1')).toBe(10_000_000n);
    expect(parseTime('12.34567891')).toBe(1_234_567_891n);
    for (const bad of ['1e3', '-1', '0.123456789', '', '1.'])
      expect(() => parseTime(bad)).toThrow(RangeError);
  });

  it('devnetParams: other slot timing, verified and frozen, same genesis block', () => {
    const fast = devnetParams({ slotMs: 1_000, leaderFallbackStepMs: 250 });
    expect(Object.isFrozen(fast)).toBe(true);
    expect(fast).toMatchObject({ slotMs: 1_000, leaderFallbackStepMs: 250, chainId: DEVNET.chainId });
    expect(fast.vdfDelay).toBe(DEVNET.vdfDelay);
    expect(devnetParams()).toEqual(DEVNET);
    expect(headerHash(genesisBlock(fast).header)).toEqual(headerHash(genesisBlock(DEVNET).header));
    expect(() => devnetParams({ slotMs: 1_000, leaderFallbackStepMs: 1_000 })).toThrow(ChainParamsError);
    expect(() => devnetParams({ slotMs: 0 })).toThrow(ChainParamsError);
  });
});

/** DEVNET with one tier changed (index i). */
function withTier(i: number, change: Partial<ChainParams['tiers'][number]>): Pick<ChainParams, 'tiers'> {
  return { tiers: DEVNET.tiers.map((t, j) => (j === i ? { ...t, ...change } : t)) };
}

const snowball = (change: Partial<ChainParams['snowball']>): Pick<ChainParams, 'snowball'> => ({
  snowball: { ...DEVNET.snowball, ...change },
});

/**
 * Every rule at its edge: the last value it allows passes and the first it refuses fails with the
 * rule's own text and the offending values quoted (so an off-by-one or a dropped clause in any rule
 * fails here, not in a split network).
 */
const edges: [string, Partial<ChainParams>, Partial<ChainParams>, RegExp][] = [
  [
    'chainId low',
    { chainId: 0 },
    { chainId: -1 },
    /chainId = -1: fails the condition that: chainId is a u32/,
  ],
  ['chainId high', { chainId: 0xffff_ffff }, { chainId: 0x1_0000_0000 }, /chainId = 4294967296: .*u32/],
  ['chainId integer', { chainId: 7 }, { chainId: 7.5 }, /chainId = 7.5: .*u32/],
  ['k', snowball({ k: 1, alphaPreference: 1, alphaConfidence: 1, beta: 1 }), snowball({ k: 0 }), /k >= 1/],
  ['beta', snowball({ beta: 1 }), snowball({ beta: 0 }), /beta = 0: fails the condition that: beta >= 1/],
  [
    'alphaPreference',
    snowball({ alphaPreference: 11, alphaConfidence: 11 }),
    snowball({ alphaPreference: 10 }),
    /k\/2 < alphaPreference/,
  ],
  [
    'alphaConfidence >= alphaPreference',
    snowball({ alphaPreference: 14, alphaConfidence: 14 }),
    snowball({ alphaPreference: 15, alphaConfidence: 14 }),
    /alphaPreference = 15, alphaConfidence = 14: fails the condition that: alphaPreference <= alphaConfidence/,
  ],
  [
    'alphaConfidence <= k',
    snowball({ alphaConfidence: 20 }),
    snowball({ alphaConfidence: 21 }),
    /alphaConfidence <= k/,
  ],
  [
    'slotMs positive',
    { slotMs: 501, leaderFallbackStepMs: 500 },
    { slotMs: 0, leaderFallbackStepMs: 500 },
    /slotMs = 0: fails the condition that: slotMs is a positive integer/,
  ],
  [
    'slotMs integer',
    { slotMs: 2_001 },
    { slotMs: 2_000.5 },
    /slotMs = 2000.5: .*slotMs is a positive integer/,
  ],
  [
    'fallback step positive',
    { leaderFallbackStepMs: 1 },
    { leaderFallbackStepMs: 0 },
    /leaderFallbackStepMs = 0, slotMs = 2000: fails the condition that: 0 < leaderFallbackStepMs < slotMs/,
  ],
  [
    'fallback step below the slot',
    { leaderFallbackStepMs: 1_999 },
    { leaderFallbackStepMs: 2_000 },
    /0 < leaderFallbackStepMs < slotMs/,
  ],
  [
    'tx limit positive',
    { maxTxBytes: 1 },
    { maxTxBytes: 0 },
    /maxTxBytes = 0, maxBlockBytes = 2000000: fails the condition that: 0 < maxTxBytes < maxBlockBytes/,
  ],
  [
    'tx limit below block limit',
    { maxTxBytes: 1_999_999 },
    { maxTxBytes: 2_000_000 },
    /maxTxBytes < maxBlockBytes/,
  ],
  [
    'one entry per tier',
    { tiers: DEVNET.tiers },
    { tiers: DEVNET.tiers.slice(0, 3) },
    /tiers = 3: fails the condition that: one entry per tier/,
  ],
  [
    'tier order',
    withTier(1, { name: 'bronze' }),
    withTier(1, { name: 'silver' }),
    /index = 1, name = silver: fails the condition that: tiers are listed free, bronze, silver, gold/,
  ],
  [
    'collateral strictly increases',
    withTier(2, { collateral: time(1_000) + 1n }),
    withTier(2, { collateral: time(1_000) }),
    /tier = silver, collateral = 100000000000, weight = 100: fails the condition that: collateral and weight strictly increase by tier/,
  ],
  [
    'weight strictly increases',
    withTier(2, { weight: 11 }),
    withTier(2, { weight: 10 }),
    /collateral and weight strictly increase by tier/,
  ],
  [
    'tier weight at least 1',
    withTier(0, { weight: 1 }),
    withTier(0, { weight: 0 }),
    /tier = free: .*tier weight >= 1/,
  ],
  ['tier weight an integer', withTier(0, { weight: 2 }), withTier(0, { weight: 1.5 }), /tier weight >= 1/],
  [
    'free tier without collateral',
    withTier(0, { collateral: 0n }),
    withTier(0, { collateral: 1n }),
    /collateral = 1: fails the condition that: free tier needs no collateral/,
  ],
  [
    'reward split',
    { producerReward: DEVNET.producerReward },
    { producerReward: DEVNET.producerReward + 1n },
    /split = 10000000001, blockReward = 10000000000: .*treasury \+ producer \+ tier pools == blockReward/,
  ],
  [
    'treasury payload',
    { treasuryAddress: new Uint8Array(20) },
    { treasuryAddress: new Uint8Array(21) },
    /length = 21: fails the condition that: treasuryAddress is a 20-byte payload/,
  ],
  [
    'paid places per tier',
    { maxPaidPerTier: 1 },
    { maxPaidPerTier: 0 },
    /maxPaidPerTier = 0: fails the condition that: maxPaidPerTier >= 1/,
  ],
  [
    // The free pool (8 TIME) split 800,000 ways is exactly the dust limit (1,000 sat).
    'payout share at the dust limit',
    { maxPaidPerTier: 800_000 },
    { maxPaidPerTier: 800_001 },
    /tier = free, rewardPool = 800000000: fails the condition that: every tier payout share is at least the dust limit/,
  ],
  [
    // A tier without a pool pays nobody: no share to compare with the dust limit.
    'an empty pool has no payout share',
    {
      ...withTier(0, { rewardPool: 0n }),
      producerReward: DEVNET.producerReward + time(8),
      maxPaidPerTier: 1_000_000,
    },
    { maxPaidPerTier: 1_000_000 },
    /tier = free, .*every tier payout share is at least the dust limit/,
  ],
  [
    'minimum active masternodes',
    { minActiveMasternodes: 1 },
    { minActiveMasternodes: 0 },
    /minActiveMasternodes = 0: fails the condition that: minActiveMasternodes >= 1/,
  ],
  [
    'Free places',
    { maxActiveFreeMasternodes: 1 },
    { maxActiveFreeMasternodes: 0 },
    /maxActiveFreeMasternodes = 0: .*maxActiveFreeMasternodes is a positive integer/,
  ],
  [
    'Free places an integer',
    { maxActiveFreeMasternodes: 2 },
    { maxActiveFreeMasternodes: 1.5 },
    /maxActiveFreeMasternodes is a positive integer/,
  ],
  [
    // Free weight 2: the cap multiplies it (500 × 2 = 1,000 = one Gold node), it does not divide.
    'capped Free weight against Gold',
    { ...withTier(0, { weight: 2 }), maxActiveFreeMasternodes: 500 },
    { ...withTier(0, { weight: 2 }), maxActiveFreeMasternodes: 501 },
    /maxActiveFreeMasternodes = 501, freeWeight = 2, goldWeight = 1000: .*cap × free weight <= gold weight/,
  ],
  [
    'registration fee',
    { freeRegistrationFee: DEVNET.dustLimit },
    { freeRegistrationFee: DEVNET.dustLimit - 1n },
    /freeRegistrationFee = 999, dustLimit = 1000: .*freeRegistrationFee >= dustLimit/,
  ],
  [
    'reorg depth',
    { maxReorgDepth: 1, coinbaseMaturity: 1 },
    { maxReorgDepth: 0, coinbaseMaturity: 1 },
    /coinbaseMaturity = 1, maxReorgDepth = 0: fails the condition that: coinbaseMaturity >= maxReorgDepth >= 1/,
  ],
  [
    'coinbase maturity',
    { coinbaseMaturity: 100 },
    { coinbaseMaturity: 99 },
    /coinbaseMaturity = 99, maxReorgDepth = 100: .*coinbaseMaturity >= maxReorgDepth >= 1/,
  ],
  [
    'dust limit',
    { dustLimit: 1n, freeRegistrationFee: 1n },
    { dustLimit: 0n, freeRegistrationFee: 1n },
    /dustLimit = 0: fails the condition that: dustLimit > 0/,
  ],
  [
    'relay fee',
    { minRelayFeePerKb: 1n },
    { minRelayFeePerKb: 0n },
    /minRelayFeePerKb = 0: fails the condition that: minRelayFeePerKb > 0/,
  ],
  [
    'txids per poll',
    { maxTxidsPerPoll: 1 },
    { maxTxidsPerPoll: 0 },
    /maxTxidsPerPoll = 0, .*poll limits are positive/,
  ],
  [
    'concurrent polls',
    { concurrentPolls: 1 },
    { concurrentPolls: 0 },
    /concurrentPolls = 0: .*poll limits are positive/,
  ],
  ['poll timeout', { pollTimeoutMs: 1 }, { pollTimeoutMs: 0 }, /poll limits are positive/],
  ['VDF delay', { vdfDelay: 1 }, { vdfDelay: 0 }, /vdfDelay = 0: fails the condition that: vdfDelay >= 1/],
  ['VDF delay an integer', { vdfDelay: 4_097 }, { vdfDelay: 4_096.5 }, /vdfDelay >= 1/],
  ['VDF delay exact', { vdfDelay: Number.MAX_SAFE_INTEGER }, { vdfDelay: 2 ** 53 }, /vdfDelay >= 1/],
  ['p2p port low', { p2pPort: 1 }, { p2pPort: 0 }, /p2pPort = 0, rpcPort = 24201: .*distinct ports/],
  ['p2p port high', { p2pPort: 65_535 }, { p2pPort: 65_536 }, /distinct ports/],
  ['rpc port low', { rpcPort: 1 }, { rpcPort: 0 }, /rpcPort = 0: .*distinct ports/],
  ['rpc port high', { rpcPort: 65_535 }, { rpcPort: 65_536 }, /distinct ports/],
  [
    'genesis time',
    { genesisTimeMs: 0 },
    { genesisTimeMs: -1 },
    /genesisTimeMs = -1: fails the condition that: genesisTimeMs >= 0/,
  ],
  ['genesis time an integer', { genesisTimeMs: 1 }, { genesisTimeMs: 0.5 }, /genesisTimeMs >= 0/],
];

describe('verifyChainParams at each rule’s edge', () => {
  it.each(edges)('%s: the last allowed value passes, the next fails', (_name, allowed, refused, rule) => {
    expect(() => verifyChainParams({ ...DEVNET, ...allowed })).not.toThrow();
    let caught: unknown;
    try {
      verifyChainParams({ ...DEVNET, ...refused });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ChainParamsError);
    const err = caught as ChainParamsError;
    expect(err.code).toBe('CHAIN_PARAMS_INVALID');
    expect(err.message).toMatch(/^CHAIN_PARAMS_INVALID: devnet: /);
    expect(err.message).toMatch(rule);
    expect(err.details?.['rule']).toBe(err.message.split(': fails the condition that: ')[1]);
    // The quoted values are in the details too, as strings.
    const quoted = err.message.split(': ')[2]!.split(', ');
    expect(quoted.length).toBeGreaterThan(0);
    for (const pair of quoted) {
      const [k, v] = pair.split(' = ');
      expect(err.details?.[k!]).toBe(v);
    }
  });
});

describe('TIME amounts', () => {
  it('formats zero and negative amounts with one sign and 8 decimals', () => {
    expect(formatTime(0n)).toBe('0.00000000');
    expect(formatTime(-1n)).toBe('-0.00000001');
    expect(formatTime(-time(1) - 50_000_000n)).toBe('-1.50000000');
  });

  it('parses whole amounts and says which text it refused', () => {
    expect(parseTime('12')).toBe(time(12));
    expect(parseTime('99999999999')).toBe(time(99_999_999_999));
    expect(() => parseTime('1.5.5')).toThrow('not a TIME amount: "1.5.5"');
    expect(() => parseTime('100000000000')).toThrow(RangeError);
  });
});

describe('network identities', () => {
  it('each network is found by its name, and its treasury is the hash of its public string', () => {
    for (const name of ['mainnet', 'testnet', 'devnet'] as const) {
      const p = paramsFor(name);
      expect(p.network).toBe(name);
      expect(p).toBe(NETWORKS[name]);
      // node:crypto as the oracle: SHA-256("TIME:treasury:<network>"), first 20 bytes.
      const expected = createHash('sha256').update(`TIME:treasury:${name}`).digest().subarray(0, 20);
      expect(Buffer.from(p.treasuryAddress).equals(expected)).toBe(true);
    }
    expect(() => paramsFor('constructor')).toThrow(/unknown network "constructor"/);
  });

  it('tierOfCollateral returns the tier itself', () => {
    expect(tierOfCollateral(DEVNET, time(10_000)).name).toBe('silver');
    expect(tierOfCollateral(DEVNET, 0n)).toBe(DEVNET.tiers[0]);
  });
});
