import { afterEach, describe, expect, it } from 'vitest';
import {
  DEVNET_FUNDED_AMOUNT,
  devnetFundedKey,
  devnetMasternodes,
  genesisBlock,
} from '../../../src/chain/genesis.js';
import { DEVNET, MAINNET } from '../../../src/params/networks.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { expectStoreMatches, ReplayModel } from './replay-model.js';
import { tempDir } from './temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the real genesis blocks in the store', () => {
  it('devnet: funded keys can spend at once; the bootstrap masternodes are registered by tier', async () => {
    const { dir, cleanup } = tempDir('genesis');
    cleanups.push(cleanup);
    const genesis = genesisBlock(DEVNET);
    const store = await ChainStore.open(dir, DEVNET, genesis);
    cleanups.push(() => store.close());
    await expectStoreMatches(store, ReplayModel.of(DEVNET, [genesis]));
    const allocation = genesis.txs[0]!;
    expect(store.getUtxo({ txid: allocation.txid, vout: 3 })).toEqual({
      value: DEVNET_FUNDED_AMOUNT,
      address: devnetFundedKey(3).addressPayload,
      height: 0,
      coinbase: false,
    });
    const active = store.activeMasternodes(0);
    const expected = devnetMasternodes()
      .map((m) => ({ pubkey: Buffer.from(m.nodeKey.publicKey), tier: m.tier }))
      .sort((a, b) => Buffer.compare(a.pubkey, b.pubkey));
    expect(active.map((m) => ({ pubkey: Buffer.from(m.nodePubkey), tier: m.tier }))).toEqual(expected);
    for (const m of active) {
      expect(m.collateral === null).toBe(m.tier === 0);
      if (m.collateral) expect(store.collateralOwner(m.collateral)).toEqual(m.nodePubkey);
    }
  });

  it('mainnet: the empty genesis opens and reopens', async () => {
    const { dir, cleanup } = tempDir('genesis-main');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, MAINNET, genesisBlock(MAINNET));
    expect(store.counts()).toMatchObject({ blocks: 1, utxos: 0, masternodes: 0 });
    await store.close();
    const again = await ChainStore.open(dir, MAINNET, genesisBlock(MAINNET));
    cleanups.push(() => again.close());
    expect(again.tip().height).toBe(0);
  });
});
