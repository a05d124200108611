import { afterEach, describe, expect, it } from 'vitest';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { MSG, VOTE } from '../../../src/wire/message-types.js';

const GENESIS = new Uint8Array(32).fill(7);
const nodes: P2pNode[] = [];

function makeNode(index: number, extra: Partial<ConstructorParameters<typeof P2pNode>[0]> = {}): P2pNode {
  const key = devnetKeyPair('p2p-in-process', index);
  const node = new P2pNode({
    identity: {
      chainId: 3,
      genesisHash: GENESIS,
      publicKey: key.publicKey,
      secretKey: key.secretKey,
      tip: () => ({ height: 0, hash: GENESIS }),
    },
    backoff: { baseMs: 50, maxMs: 400 },
    ...extra,
  });
  nodes.push(node);
  return node;
}

function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

describe('P2pNode in one process (uWS server + ws client)', () => {
  it('authenticates both ways and answers a poll', async () => {
    const a = makeNode(1);
    const portA = await a.start();
    const b = makeNode(2, { seeds: [{ host: '127.0.0.1', port: portA }] });
    await b.start();
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1);
    expect(a.peers()[0]!.direction).toBe('inbound');
    expect(b.peers()[0]!.direction).toBe('outbound');
    expect(a.peers()[0]!.peerId).toBe(
      Buffer.from(devnetKeyPair('p2p-in-process', 2).publicKey).toString('hex'),
    );
    a.handle(MSG.pollRequest, (_peer, req) => ({
      t: MSG.pollResponse,
      votes: new Uint8Array(req.txids.length / 32).fill(VOTE.yes),
    }));
    const txids = new Uint8Array(32 * 3).fill(1);
    const res = await b.request(b.peers()[0]!.peerId, {
      t: MSG.pollRequest,
      txids,
    });
    expect(res.t).toBe(MSG.pollResponse);
    expect([...res.votes]).toEqual([VOTE.yes, VOTE.yes, VOTE.yes]);
  });
});
