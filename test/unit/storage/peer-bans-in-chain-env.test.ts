import { afterEach, describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { DEVNET } from '../../../src/params/networks.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { tempDir } from './temp-dir.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The node keeps its bans in the chain's LMDB environment, whose default value encoding is raw
 * bytes: a ban must still persist there (it used to throw "Invalid value to put in database", so a
 * running node could not ban anyone).
 */
describe('peer bans in the chain environment', () => {
  it('a ban is written, listed and read back after a reopen', async () => {
    const { dir, cleanup } = tempDir('bans-env-');
    cleanups.push(cleanup);
    const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
    const key = new Uint8Array(32).fill(7);
    const now = Date.now();
    store.peerBans().ban(key, { untilMs: now + 60_000, reason: 'INVALID_TX: test', bannedAtMs: now });
    expect(
      store
        .peerBans()
        .list(now)
        .map((b) => b.pubkey),
    ).toEqual([Buffer.from(key).toString('hex')]);
    await store.close();
    const reopened = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
    cleanups.push(() => reopened.close());
    expect(reopened.peerBans().get(key, now)?.reason).toBe('INVALID_TX: test');
  });
});
