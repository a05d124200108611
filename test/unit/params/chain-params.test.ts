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
