import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { DEVNET } from '../../../src/params/networks.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { tempDirIn } from '../../../src/storage/testing/temp-dir.js';

/**
 * The node keeps its peer bans in its chain store's environment (`ChainStore.peerBans()`), whose
 * default value encoding is binary: a ban record must still be written, read back and survive a
 * reopen there (it used to throw on every put, so the node never banned anyone).
 */
describe('peer bans in the chain store environment', () => {
  it('records, reads back and keeps a ban across a reopen', async () => {
    const { dir, cleanup } = tempDirIn(tmpdir(), 'peer-bans');
    try {
      const key = new Uint8Array(32).fill(7);
      const record = { untilMs: 10_000, reason: 'INVALID_BLOCK: BAD_BEACON', bannedAtMs: 1_000 };
      const s1 = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
      s1.peerBans().ban(key, record);
      expect(s1.peerBans().get(key, 2_000)).toEqual(record);
      await s1.close();
      const s2 = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
      expect(s2.peerBans().get(key, 2_000)).toEqual(record);
      expect(
        s2
          .peerBans()
          .list(2_000)
          .map((b) => b.pubkey),
      ).toEqual([Buffer.from(key).toString('hex')]);
      expect(s2.peerBans().get(key, 10_000)).toBeUndefined(); // expired
      await s2.close();
    } finally {
      cleanup();
    }
  });
});
