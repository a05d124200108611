import { describe, expect, it } from 'vitest';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';

const GENESIS = new Uint8Array(32).fill(9);
const id = (i: number) => {
  const k = devnetKeyPair('p2p-liveness', i);
  return {
    chainId: 3,
    genesisHash: GENESIS,
    publicKey: k.publicKey,
    secretKey: k.secretKey,
    tip: () => ({ height: 0, hash: GENESIS }),
  };
};

describe('idle timeout with automatic pings (uWS server side)', () => {
  it('drops a peer that stops answering pings, keeps a quiet but live ws peer', async () => {
    // uWS idle timeouts have a 4 s resolution; 8 s is the smallest useful value.
    const server = new P2pNode({ identity: id(1), idleTimeoutSec: 8 });
    const port = await server.start();
    const live = new P2pNode({
      identity: id(2),
      seeds: [{ host: '127.0.0.1', port }],
      pingIntervalMs: 60_000,
    });
    await live.start();
    try {
      const dead = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
      await authenticateRaw(dead, { ...id(3), listenPort: 0 });
      dead.countOnly = true; // from now on: no pongs, no data
      const t0 = Date.now();
      await dead.closed;
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThan(4_000);
      expect(waited).toBeLessThan(20_000);
      expect(server.peers().map((p) => p.peerId)).toEqual([Buffer.from(id(2).publicKey).toString('hex')]);
      expect(live.peers()).toHaveLength(1);
    } finally {
      await live.stop();
      await server.stop();
    }
  }, 30_000);
});
