import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { MSG, VOTE } from '../../../src/wire/message-types.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';

/**
 * A peer that stops reading its socket is closed only above maxBackpressure (8 MiB) of its own, so
 * ⌈256/8⌉ = 32 non-reading peers (free keys, 64 inbound slots, 4 per IP), each kept just under
 * 8 MiB with a few GetBlocks answers, fill maxTotalBackpressure (256 MiB). The pacer used to send
 * nothing while the total was over it — and every request we make (polls, GetTx, GetBlocks), our
 * gossip and Tip go through the pacer: finality stopped. Now the peer holding the largest send
 * buffer is closed (OVERLOADED, no ban), one without stake before any masternode.
 * Scaled here: maxBackpressure 4 MiB, maxTotalBackpressure 8 MiB, three non-reading peers.
 */
const GENESIS = new Uint8Array(32).fill(6);
const id = (i: number) => testIdentity('review-stall', i, GENESIS);
const nodes: P2pNode[] = [];
const clients: RawWsClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAXBP = 4 << 20;

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const n of nodes.splice(0)) await n.stop();
});

async function target(): Promise<{ node: P2pNode; port: number }> {
  const node = new P2pNode({
    identity: { ...id(0), tls: await testTls() },
    acceptLocalAddresses: true,
    peerExchange: false,
    maxBackpressure: MAXBP,
    maxTotalBackpressure: 2 * MAXBP,
    requestTimeoutMs: 1_000,
  });
  nodes.push(node);
  const blob = new Uint8Array(1 << 20).fill(9); // one 1 MiB block on our chain
  node.handle(MSG.getBlocks, () => ({ t: MSG.blocks, blocks: [blob] }));
  return { node, port: await node.start() };
}

const buffered = (node: P2pNode, k: string) =>
  (node as unknown as { byPeer: Map<string, { link: { bufferedAmount(): number } }> }).byPeer
    .get(k)
    ?.link.bufferedAmount() ?? 0;

/** Authenticates as identity i, stops reading, and asks for blocks until `bytes` wait for it. */
async function nonReader(node: P2pNode, port: number, i: number, bytes: number): Promise<RawWsClient> {
  const c = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
  clients.push(c);
  await authenticateRaw(c, id(i));
  c.socket.pause();
  const k = toHex(id(i).publicKey);
  for (let r = 1; r < 200 && buffered(node, k) < bytes && node.peers().some((p) => p.peerId === k); r++) {
    await c.send({ t: MSG.getBlocks, id: r, from: 1, count: 1 });
    await sleep(40);
  }
  return c;
}

describe('total send buffers held by peers that do not read', () => {
  it('do not stop our polls to an honest validator: the peer holding the most is closed, not banned', async () => {
    const { node, port } = await target();
    // Honest validator H (a P2pNode that answers polls) dials the target.
    const honest = new P2pNode({
      identity: { ...id(1), tls: await testTls() },
      acceptLocalAddresses: true,
      peerExchange: false,
      seeds: [{ host: '127.0.0.1', port }],
    });
    nodes.push(honest);
    honest.handle(MSG.pollRequest, (_p, req) => ({
      t: MSG.pollResponse,
      votes: new Uint8Array(req.txids.length / 32).fill(VOTE.yes),
    }));
    await honest.start();
    const hId = toHex(id(1).publicKey);
    node.setValidators([hId]);
    while (!node.peers().some((p) => p.peerId === hId)) await sleep(10);
    const poll = () => node.request(hId, { t: MSG.pollRequest, txids: new Uint8Array(32) }, 1_000);
    expect((await poll()).votes.length).toBe(1); // works before the attack

    const closed: string[] = [];
    node.on('peer:disconnected', (e: { peerId: string }) => closed.push(e.peerId));
    const banned: string[] = [];
    node.on('peer:banned', (e: { peerId: string }) => banned.push(e.peerId));
    // Three attackers: authenticate, stop reading, ask for blocks until ~3/4 of maxBackpressure waits.
    for (let a = 0; a < 3; a++) await nonReader(node, port, 10 + a, 0.75 * MAXBP);

    // The honest validator is still connected and answers at once: our poll is not held.
    let outcome: string;
    try {
      outcome = `answered ${(await poll()).votes.length}`;
    } catch (err) {
      outcome = `failed: ${(err as Error).message}`;
    }
    expect(outcome).toBe('answered 1');
    expect(node.counters['sendBufferEvictions']).toBeGreaterThanOrEqual(1);
    const attackers = [10, 11, 12].map((i) => toHex(id(i).publicKey));
    for (let t = 0; t < 100 && closed.length === 0; t++) await sleep(10); // the close event follows
    expect(closed.length).toBeGreaterThanOrEqual(1);
    for (const k of closed) expect(attackers).toContain(k);
    expect(banned).toEqual([]);
    expect(node.peers().some((p) => p.peerId === hId)).toBe(true);
    // What is left fits the total again.
    const left = attackers.reduce((sum, k) => sum + buffered(node, k), 0);
    expect(left).toBeLessThanOrEqual(2 * MAXBP);
  }, 60_000);

  it('masternodes that read slowly are cut last: a peer without stake holding less goes first', async () => {
    const { node, port } = await target();
    const slow = [20, 21].map((i) => toHex(id(i).publicKey));
    const freeKey = toHex(id(22).publicKey);
    node.setValidators(slow);
    const closed: string[] = [];
    node.on('peer:disconnected', (e: { peerId: string }) => closed.push(e.peerId));
    for (const i of [20, 21]) await nonReader(node, port, i, 0.75 * MAXBP);
    for (const k of slow) expect(buffered(node, k)).toBeGreaterThan(0.5 * MAXBP);
    // The free key asks for blocks until it is closed: once the total is over 2 × MAXBP, it goes,
    // though each masternode holds more than it does.
    await nonReader(node, port, 22, MAXBP);
    for (let t = 0; t < 100 && closed.length === 0; t++) await sleep(10); // the close event follows
    expect(closed).toEqual([freeKey]);
    expect(node.counters['sendBufferEvictions']).toBe(1);
    expect(
      node
        .peers()
        .map((p) => p.peerId)
        .sort(),
    ).toEqual([...slow].sort());
  }, 60_000);
});
