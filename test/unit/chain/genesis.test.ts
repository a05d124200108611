import { describe, expect, it } from 'vitest';
import {
  DEVNET_FUNDED_AMOUNT,
  DEVNET_FUNDED_KEYS,
  devnetFundedKey,
  devnetMasternodes,
  genesisBlock,
} from '../../../src/chain/genesis.js';
import { DEVNET } from '../../../src/params/networks.js';
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
