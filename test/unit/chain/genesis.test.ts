import { describe, expect, it } from 'vitest';
import {
  DEVNET_FUNDED_AMOUNT,
  DEVNET_FUNDED_KEYS,
  devnetFundedKey,
  devnetMasternodes,
  genesisBlock,
} from '../../../src/chain/genesis.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET, devnetParams, MAINNET, TESTNET } from '../../../src/params/networks.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { devnetLedger, genesisMasternodes } from '../../support/devnet-ledger.js';

describe('devnet genesis', () => {
  it('registers five Bronze masternodes of equal weight from keys 100–104 / 200–204', () => {
    const mns = devnetMasternodes();
    expect(mns).toHaveLength(5);
    mns.forEach((mn, i) => {
      expect(mn.tier).toBe(1);
      expect(mn.nodeKey.publicKey).toEqual(devnetKeyPair('timecoin devnet', 100 + i).publicKey);
      expect(mn.ownerKey.publicKey).toEqual(devnetKeyPair('timecoin devnet', 200 + i).publicKey);
    });
    const records = genesisMasternodes(devnetLedger());
    expect(records.map((r) => r.tier)).toEqual([1, 1, 1, 1, 1]);
    const weights = records.map((r) => DEVNET.tiers[r.tier]!.weight);
    const total = weights.reduce((s, w) => s + w, 0);
    // No bootstrap node holds more than a fifth of the sampling weight.
    for (const w of weights) expect(5 * w).toBe(total);
    for (const r of records) expect(r.collateral).not.toBeNull();
  });

  it('funds ten keys and puts the allocation first, then registrations sorted by txid', () => {
    const g = genesisBlock(DEVNET);
    expect(g.txs).toHaveLength(1 + 5);
    expect(g.txs[0]!.tx.outputs).toHaveLength(DEVNET_FUNDED_KEYS);
    g.txs[0]!.tx.outputs.forEach((o, i) => {
      expect(o.value).toBe(DEVNET_FUNDED_AMOUNT);
      expect(o.address).toEqual(devnetFundedKey(i).addressPayload);
    });
    const regs = g.txs.slice(1);
    for (let i = 1; i < regs.length; i++)
      expect(Buffer.compare(regs[i - 1]!.txid, regs[i]!.txid)).toBeLessThan(0);
    for (const r of regs) expect(r.tx.outputs[0]!.value).toBe(DEVNET.tiers[1]!.collateral);
  });
});

describe('the genesis cache', () => {
  const withCollaterals = (collaterals: bigint[]): ChainParams => ({
    ...DEVNET,
    tiers: DEVNET.tiers.map((t, i) => ({ ...t, collateral: collaterals[i]! })),
  });
  const bronzeCollaterals = (p: ChainParams) =>
    genesisBlock(p)
      .txs.slice(1)
      .map((t) => t.tx.outputs[0]!.value);

  it('is shared by parameter variants of one network that differ only outside the key', () => {
    expect(genesisBlock(DEVNET)).toBe(genesisBlock(DEVNET));
    expect(genesisBlock(devnetParams({ slotMs: 4_000, leaderFallbackStepMs: 1_000 }))).toBe(
      genesisBlock(DEVNET),
    );
  });

  it('is not shared by parameter sets whose tier collaterals differ, even when their digits run together', () => {
    // 0,1,2345 and 0,12,345: the same digits; only the separator tells the lists apart.
    const a = withCollaterals([0n, 1n, 2_345n, DEVNET.tiers[3]!.collateral]);
    const b = withCollaterals([0n, 12n, 345n, DEVNET.tiers[3]!.collateral]);
    expect(bronzeCollaterals(DEVNET)).toEqual(Array(5).fill(DEVNET.tiers[1]!.collateral));
    expect(bronzeCollaterals(a)).toEqual(Array(5).fill(1n));
    expect(bronzeCollaterals(b)).toEqual(Array(5).fill(12n));
  });

  it('mainnet and testnet genesis hold no transactions until their bootstrap nodes are fixed', () => {
    for (const p of [MAINNET, TESTNET]) {
      const g = genesisBlock(p);
      expect([g.txs.length, g.header.txCount, g.header.chainId]).toEqual([0, 0, p.chainId]);
    }
  });
});
