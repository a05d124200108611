import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalIdentity, makeAuth, makeHello } from '../../../src/p2p/handshake.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, messageOf, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { type Hello, MSG } from '../../../src/wire/message-types.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(3);

const identity = (i: number, over: Partial<LocalIdentity> = {}): LocalIdentity =>
  testIdentity('handshake-refusals', i, GENESIS, over);

describe('handshake refusals and identity rules (uWS server, raw clients)', () => {
  let node: P2pNode;
  let port = 0;
  const connect = () => RawWsClient.connect('127.0.0.1', port, '/p2p/1');

  beforeAll(async () => {
    const { listenPort: _unused, ...id } = identity(0, { tls: await testTls() });
    node = new P2pNode({ identity: id, handshakeTimeoutMs: 500, requestTimeoutMs: 300 });
    port = await node.start();
  });
  afterAll(async () => {
    await node.stop();
  });

  const refusals: [string, Partial<LocalIdentity>, number, RegExp][] = [
    ['wrong chain id', { chainId: 1 }, 4001, /^WRONG_CHAIN: wrong chain id 1, expected 3/],
    ['wrong genesis', { genesisHash: new Uint8Array(32) }, 4002, /^WRONG_GENESIS/],
    [
      'wrong protocol version',
      { protocolVersion: 99 },
      4003,
      /^WRONG_VERSION: protocol version 99, expected 2/,
    ],
  ];
  for (const [name, over, code, reason] of refusals) {
    it(`closes on ${name} with code ${code} and a reason (Reject first)`, async () => {
      const c = await connect();
      await c.send(makeHello(identity(1, over)));
      await c.closed;
      expect(c.closeCode).toBe(code);
      expect(c.closeReason).toMatch(reason);
      const reject = c.frames.map(messageOf).find((m) => m?.t === MSG.reject);
      expect(reject).toMatchObject({ t: MSG.reject, id: 0 });
    });
  }

  it('closes on a signature over another channel binding or nonce (BAD_SIGNATURE)', async () => {
    for (const bad of ['binding', 'nonce'] as const) {
      const c = await connect();
      const me = identity(2);
      const hello = makeHello(me);
      await c.send(hello);
      const theirs = messageOf(await c.waitFor((f) => messageOf(f)?.t === MSG.hello)) as Hello;
      const transcript =
        bad === 'binding'
          ? { dialer: hello, listener: theirs, binding: new Uint8Array(32).fill(9) }
          : { dialer: hello, listener: makeHello(identity(0)), binding: c.channelBinding };
      await c.send(makeAuth(me, 'dialer', transcript));
      await c.closed;
      expect(c.closeCode).toBe(4004);
      expect(c.closeReason).toMatch(/^BAD_SIGNATURE/);
    }
  });

  it('refuses a small-order key at Hello (BAD_KEY) and a key off the curve at Auth, never signing', async () => {
    for (const [hex, code, reason] of [
      ['01'.padEnd(64, '0'), 4012, /^BAD_KEY: node key refused: SMALL_ORDER/],
      [`02${'00'.repeat(31)}`, 4004, /^BAD_SIGNATURE/],
    ] as const) {
      const c = await connect();
      const me = identity(3);
      const hello = { ...makeHello(me), pubkey: Uint8Array.from(Buffer.from(hex, 'hex')) };
      await c.send(hello);
      const theirs = messageOf(await c.waitFor((f) => messageOf(f)?.t === MSG.hello || f.opcode === 8)) as
        | Hello
        | undefined;
      if (theirs)
        await c.send(makeAuth(me, 'dialer', { dialer: hello, listener: theirs, binding: c.channelBinding }));
      await c.closed;
      expect(c.closeCode).toBe(code);
      expect(c.closeReason).toMatch(reason);
      expect(c.frames.map(messageOf).some((m) => m?.t === MSG.auth)).toBe(false);
    }
  });

  it('closes a silent connection at the handshake timeout', async () => {
    const c = await connect();
    await c.closed;
    expect(c.closeCode).toBe(4005);
  });

  it('refuses a message before the handshake completes', async () => {
    const c = await connect();
    await c.send({ t: MSG.ping, n: 1 });
    await c.closed;
    expect(c.closeCode).toBe(4000);
  });

  it('keeps one connection per identity: a second one from the same node replaces the first', async () => {
    const me = identity(3);
    const first = await connect();
    await authenticateRaw(first, me);
    const second = await connect();
    await authenticateRaw(second, me);
    await first.closed;
    expect(first.closeCode).toBe(4006);
    expect(node.peers().filter((p) => Buffer.from(p.pubkey).equals(Buffer.from(me.publicKey)))).toHaveLength(
      1,
    );
    second.destroy();
  });

  it('answers an unsupported request with a Reject for that id, and times out unanswered requests', async () => {
    const me = identity(4);
    const c = await connect();
    await authenticateRaw(c, me);
    await c.send({ t: MSG.getBlocks, id: 77, from: 0, count: 1 });
    const rej = await c.waitFor((f) => messageOf(f)?.t === MSG.reject);
    expect(messageOf(rej)).toMatchObject({ t: MSG.reject, id: 77, code: 'UNSUPPORTED' });
    const peerId = Buffer.from(me.publicKey).toString('hex');
    await expect(
      node.request(peerId, { t: MSG.pollRequest, txids: new Uint8Array(32) }),
    ).rejects.toMatchObject({
      code: 'P2P_TIMEOUT',
    });
    c.destroy();
  });

  it('answers at most the handshake budget of one source IP, then closes with HANDSHAKE_RATE_LIMITED', async () => {
    // Each Hello we answer costs us a signature; the budget is per source IP, so a new key per
    // attempt does not refill it.
    const { listenPort: _unused, ...id } = identity(60, { tls: await testTls() });
    const limited = new P2pNode({ identity: id, handshakeRatePerIp: { perSec: 0.001, burst: 2 } });
    const p = await limited.start();
    try {
      const ok: RawWsClient[] = [];
      for (const i of [61, 62]) {
        const c = await RawWsClient.connect('127.0.0.1', p, '/p2p/1');
        await authenticateRaw(c, identity(i));
        ok.push(c);
      }
      const refused = await RawWsClient.connect('127.0.0.1', p, '/p2p/1');
      await refused.send(makeHello(identity(63)));
      await refused.closed;
      expect(refused.closeCode).toBe(4013);
      expect(refused.closeReason).toMatch(/^HANDSHAKE_RATE_LIMITED: more than 0.001 handshakes\/s from /);
      expect(refused.frames.map(messageOf).some((m) => m?.t === MSG.auth)).toBe(false); // nothing signed for it
      expect(limited.peers()).toHaveLength(2);
      for (const c of ok) c.destroy();
    } finally {
      await limited.stop();
    }
  });

  it('refuses upgrades beyond the pending-handshake limit (HTTP 503), then accepts again', async () => {
    const { listenPort: _unused, ...id } = identity(50, { tls: await testTls() });
    const small = new P2pNode({ identity: id, maxPendingHandshakes: 4, handshakeTimeoutMs: 5_000 });
    const p = await small.start();
    try {
      const held = await Promise.all([1, 2, 3, 4].map(() => RawWsClient.connect('127.0.0.1', p, '/p2p/1')));
      await expect(RawWsClient.connect('127.0.0.1', p, '/p2p/1')).rejects.toThrow(
        /upgrade refused: HTTP\/1.1 503/,
      );
      for (const c of held) c.destroy();
      await Promise.all(held.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 50));
      const ok = await RawWsClient.connect('127.0.0.1', p, '/p2p/1');
      await authenticateRaw(ok, identity(51));
      expect(small.peers()).toHaveLength(1);
      ok.destroy();
    } finally {
      await small.stop();
    }
  });
});
