import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, messageOf, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { MSG, type PeerAddress } from '../../../src/wire/message-types.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(5);
const id = (i: number) => testIdentity('review-claims', i, GENESIS);
const nodes: P2pNode[] = [];
const clients: RawWsClient[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const n of nodes.splice(0)) await n.stop();
});

async function target(maxOutbound: number): Promise<{ node: P2pNode; port: number }> {
  const node = new P2pNode({
    identity: { ...id(0), tls: await testTls() },
    acceptLocalAddresses: true,
    peerExchange: true,
    maxOutbound,
  });
  nodes.push(node);
  return { node, port: await node.start() };
}

/** A peer without stake that answers the node's first GetPeers with `peers`. */
async function tellPeers(port: number, peers: PeerAddress[]): Promise<void> {
  const c = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
  clients.push(c);
  await authenticateRaw(c, id(9));
  const ask = messageOf(await c.waitFor((f) => messageOf(f)?.t === MSG.getPeers));
  await c.send({ t: MSG.peers, id: (ask as { id: number }).id, peers });
}

describe('learned addresses claiming a validator key', () => {
  /**
   * One peer's Peers answer names 64 addresses, each "claiming" the key of an active masternode we
   * are not connected to. wantsDial() used to say 'dial' for every entry whose claimed key was a
   * validator, and ordinaryOutbound() did not count those dials: the node dialed all 64 at once
   * (a connection reflector against any IP:port). Now only the address the book names for the key
   * (addressOf) is dialed outside the ordinary slots; the other claims are ordinary candidates.
   */
  it('are dialed no more than the ordinary outbound slots allow, plus the one address of the validator', async () => {
    // The "victim": a TCP port that accepts and never answers (counts connection attempts).
    const accepted: Socket[] = [];
    const victim = createServer((s) => {
      accepted.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => victim.listen(0, '0.0.0.0', r));
    const victimPort = (victim.address() as { port: number }).port;
    try {
      const { node, port } = await target(8);
      node.setValidators([toHex(id(7).publicKey)]); // an active masternode, address unknown
      await tellPeers(
        port,
        Array.from({ length: 64 }, (_, i) => ({
          host: `127.${i + 1}.0.1`,
          port: victimPort,
          pubkey: id(7).publicKey,
        })),
      );
      // Dials to a port that never answers its TLS handshake stay under way for handshakeTimeoutMs
      // (5 s): everything dialed by now is still dialing.
      await sleep(2_500);
      expect(accepted.length).toBe(8 + 1);
    } finally {
      for (const s of accepted) s.destroy();
      victim.close();
    }
  }, 15_000);
});

describe('ordinary outbound slots', () => {
  it('are refilled when an outbound peer leaves (a connection is not also counted as a dial)', async () => {
    const { node, port } = await target(4);
    const others: { node: P2pNode; port: number; key: Uint8Array }[] = [];
    for (let i = 1; i <= 6; i++) {
      const n = new P2pNode({
        identity: { ...id(i), tls: await testTls() },
        host: '0.0.0.0', // reached as 127.0.i.1: one /24 each
        acceptLocalAddresses: true,
        peerExchange: false,
      });
      nodes.push(n);
      others.push({ node: n, port: await n.start(), key: id(i).publicKey });
    }
    await tellPeers(
      port,
      others.map((o, i) => ({ host: `127.0.${i + 1}.1`, port: o.port, pubkey: o.key })),
    );
    const outbound = () => node.peers().filter((p) => p.direction === 'outbound');
    for (let t = 0; t < 300 && outbound().length < 4; t++) await sleep(10);
    expect(outbound().length).toBe(4);
    const gone = outbound()[0]!.peerId;
    await others.find((o) => toHex(o.key) === gone)!.node.stop();
    for (let t = 0; t < 300 && outbound().some((p) => p.peerId === gone); t++) await sleep(10);
    // maintain() runs once a second: one of the two spare addresses takes the free slot.
    for (let t = 0; t < 300 && outbound().length < 4; t++) await sleep(10);
    expect(outbound().map((p) => p.peerId)).not.toContain(gone);
    expect(outbound().length).toBe(4);
  }, 20_000);
});
