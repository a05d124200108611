import { afterEach, describe, expect, it } from 'vitest';
import type { LocalIdentity } from '../../../src/p2p/handshake.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import { MSG, VOTE } from '../../../src/wire/message-types.js';
import { peekType } from '../../../src/wire/peek-type.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(5);
const id = (i: number): LocalIdentity => testIdentity('p2p-pipelined', i, GENESIS);
const nodes: P2pNode[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

/**
 * uWS 20.51 breaks a TLS connection when it is written to inside its read loop while big messages
 * keep arriving (src/p2p/uws-write-deferral.ts). A peer that pipelines full-size PollRequests is
 * the honest case that hit it: each is answered at once, and after a few dozen answers the server
 * sent the TLS alert protocol_version and dropped the peer with 1006.
 */
describe('pipelined requests over TLS', () => {
  it('64 back-to-back PollRequests of 1,024 txids each get their answer, on one connection', async () => {
    const server = new P2pNode({
      identity: { ...id(1), tls: await testTls() },
      acceptLocalAddresses: true,
    });
    nodes.push(server);
    server.handle(MSG.pollRequest, (_peer, req) => ({
      t: MSG.pollResponse,
      votes: new Uint8Array(req.txids.length / 32).fill(VOTE.yes),
    }));
    const port = await server.start();
    const client = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
    await authenticateRaw(client, id(2));
    const errors: string[] = [];
    client.socket.on('error', (e) => errors.push(String(e)));

    const REQUESTS = 64;
    const frames: Buffer[] = [];
    for (let i = 1; i <= REQUESTS; i++) {
      const txids = new Uint8Array(32 * 1024).fill(i);
      frames.push(RawWsClient.frame(encodeMessage({ t: MSG.pollRequest, id: i, txids })));
    }
    await client.write(Buffer.concat(frames)); // 2 MiB in one write: TCP delivers it back to back

    const answered = new Set<number>();
    const allAnswered = client.waitFor((f) => {
      if (f.opcode === 2 && peekType(f.payload) === MSG.pollResponse) {
        const msg = decodeFrame(new Uint8Array(f.payload));
        if (msg.t === MSG.pollResponse && msg.votes.length === 1024 && msg.votes.every((v) => v === VOTE.yes))
          answered.add(msg.id);
      }
      return answered.size === REQUESTS || f.opcode === 8;
    }, 30_000);
    await Promise.race([allAnswered, client.closed]).catch(() => undefined);
    expect({ answered: answered.size, errors, destroyed: client.socket.destroyed }).toEqual({
      answered: REQUESTS,
      errors: [],
      destroyed: false,
    });
    expect(server.peers().map((p) => p.peerId)).toHaveLength(1);
    client.destroy();
  });
});
