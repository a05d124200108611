import { afterEach, describe, expect, it } from 'vitest';
import type { LocalIdentity } from '../../../src/p2p/handshake.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { MSG, VOTE } from '../../../src/wire/message-types.js';
import { testTls } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(7);
const nodes: P2pNode[] = [];

async function makeNode(
  index: number,
  extra: Partial<ConstructorParameters<typeof P2pNode>[0]> = {},
): Promise<P2pNode> {
  const key = devnetKeyPair('p2p-in-process', index);
  const tls = await testTls();
  const node = new P2pNode({
    identity: {
      chainId: 3,
      genesisHash: GENESIS,
      publicKey: key.publicKey,
      secretKey: key.secretKey,
      tip: () => ({ height: 0, hash: GENESIS }),
      tls,
    },
    backoff: { baseMs: 50, maxMs: 400 },
    acceptLocalAddresses: true,
    ...extra,
  });
  nodes.push(node);
  return node;
}

/** Node key `index` for a hand-driven RawWsClient (it never answers unless the test makes it). */
function rawIdentity(index: number): LocalIdentity {
  const k = devnetKeyPair('p2p-in-process', index);
  return {
    chainId: 3,
    genesisHash: GENESIS,
    publicKey: k.publicKey,
    secretKey: k.secretKey,
    listenPort: 0,
    tip: () => ({ height: 0, hash: GENESIS }),
  };
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
    const a = await makeNode(1);
    const portA = await a.start();
    const b = await makeNode(2, { seeds: [{ host: '127.0.0.1', port: portA }] });
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

  it('broadcast reaches inbound (uWS publish) and outbound (ws) peers once each; except skips peers', async () => {
    const c = await makeNode(13);
    const portC = await c.start();
    const a = await makeNode(11, { seeds: [{ host: '127.0.0.1', port: portC }] });
    const portA = await a.start();
    const b = await makeNode(12, { seeds: [{ host: '127.0.0.1', port: portA }] });
    await b.start();
    // (b and c may also find each other by peer exchange; only a's two links matter here)
    await waitFor(() => a.peers().length === 2);
    const dirs = Object.fromEntries(a.peers().map((p) => [p.peerId, p.direction]));
    const idOf = (n: number) => Buffer.from(devnetKeyPair('p2p-in-process', n).publicKey).toString('hex');
    expect(dirs).toEqual({ [idOf(12)]: 'inbound', [idOf(13)]: 'outbound' });
    const got: Record<string, number[]> = { b: [], c: [] };
    b.on('gossip:beacon', (_p, m: { slot: number }) => got['b']!.push(m.slot));
    c.on('gossip:beacon', (_p, m: { slot: number }) => got['c']!.push(m.slot));
    const beacon = (slot: number) =>
      ({ t: MSG.beacon, slot, y: new Uint8Array(256).fill(slot), proof: new Uint8Array(256) }) as const;
    expect(a.broadcast(beacon(1))).toBe(2);
    expect(a.broadcast(beacon(2), new Set([idOf(12)]))).toBe(1);
    expect(a.broadcast(beacon(3), new Set([idOf(13)]))).toBe(1);
    await waitFor(() => got['b']!.length >= 2 && got['c']!.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual({ b: [1, 3], c: [1, 2] });
  });

  it('a throwing application listener is counted and the connection keeps working', async () => {
    const a = await makeNode(21);
    const portA = await a.start();
    const b = await makeNode(22, { seeds: [{ host: '127.0.0.1', port: portA }] });
    await b.start();
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1);
    const errors: unknown[] = [];
    a.on('handler:error', (e) => errors.push(e));
    a.on('gossip:tx', () => {
      throw new Error('application bug');
    });
    a.handle(MSG.pollRequest, () => ({ t: MSG.pollResponse, votes: new Uint8Array([VOTE.no]) }));
    b.gossipTxs([new Uint8Array([1, 2, 3])]);
    await waitFor(() => errors.length === 1);
    expect(a.counters['handlerErrors']).toBe(1);
    const res = await b.request(b.peers()[0]!.peerId, { t: MSG.pollRequest, txids: new Uint8Array(32) });
    expect([...res.votes]).toEqual([VOTE.no]);
  });

  it('Tip on connect and on announceTip (peer:tip), GetInventory through handle/request', async () => {
    let tip = { height: 7, hash: new Uint8Array(32).fill(7), slot: 70 };
    const a = await makeNode(31);
    const portA = await a.start();
    const b = await makeNode(32, { seeds: [{ host: '127.0.0.1', port: portA }] });
    const key = devnetKeyPair('p2p-in-process', 31);
    // a's tip comes from its identity
    (a as unknown as { identity: { tip: () => typeof tip } }).identity.tip = () => tip;
    const tips: { height: number; slot: number }[] = [];
    b.on('peer:tip', (_p, t: { height: number; slot: number }) => tips.push(t));
    await b.start();
    await waitFor(() => tips.length >= 1);
    expect(tips[0]).toMatchObject({ height: 7, slot: 70 });
    tip = { height: 8, hash: new Uint8Array(32).fill(8), slot: 80 };
    a.announceTip();
    await waitFor(() => tips.some((t) => t.height === 8));
    expect(b.peers()[0]).toMatchObject({ tipHeight: 8, tipSlot: 80 });
    a.handle(MSG.getInventory, (_peer, req) => ({
      t: MSG.inventory,
      txids: new Uint8Array(64).fill(req.after.length === 0 ? 1 : 2),
      next: new Uint8Array(32).fill(9),
    }));
    const inv = await b.request(Buffer.from(key.publicKey).toString('hex'), {
      t: MSG.getInventory,
      after: new Uint8Array(0),
    });
    expect([inv.txids.length, inv.txids[0], inv.next[0]]).toEqual([64, 1, 9]);
  });

  it('application offences feed the same score and ban; only application offences are accepted', async () => {
    const a = await makeNode(41);
    const portA = await a.start();
    const b = await makeNode(42, { seeds: [{ host: '127.0.0.1', port: portA }] });
    await b.start();
    await waitFor(() => a.peers().length === 1);
    const peerId = a.peers()[0]!.peerId;
    const bans: { offence: string }[] = [];
    a.on('peer:banned', (e) => bans.push(e));
    expect(() => a.misbehaved(peerId, 'WIRE_BAD_CBOR' as never, 'x')).toThrow(/not an application offence/);
    a.misbehaved(peerId, 'INVALID_BLOCK', 'bad merkle root');
    a.misbehaved(peerId, 'INVALID_TX', 'spends a spent output');
    a.misbehaved(peerId, 'INVALID_RESPONSE', '3 votes for a poll of 4');
    expect(bans).toEqual([]); // 85 points (less decay)
    a.misbehaved(peerId, 'INVALID_BEACON', 'proof does not verify');
    expect(bans).toMatchObject([{ offence: 'INVALID_BEACON' }]);
    await waitFor(() => a.peers().length === 0);
  });
  it('a node that cannot yet reach every active masternode asks for peer lists again within seconds, not once a minute', async () => {
    // A (the only seed) has verified nobody's address when D first asks it; B and C dial A, and A
    // verifies them by dialing back. D knows B and C only as active masternode keys.
    const a = await makeNode(11);
    const portA = await a.start();
    const seeds = [{ host: '127.0.0.1', port: portA }];
    const d = await makeNode(14, { seeds });
    await d.start();
    await waitFor(() => d.peers().length === 1);
    const b = await makeNode(12, { seeds });
    const c = await makeNode(13, { seeds });
    await b.start();
    await c.start();
    const key = (i: number) => Buffer.from(devnetKeyPair('p2p-in-process', i).publicKey).toString('hex');
    d.setValidators([key(11), key(12), key(13)]);
    // The exchange interval is 60 s: only the search for unreached validators can connect D in time.
    await waitFor(() => d.peers().length === 3, 15_000);
    expect(new Set(d.peers().map((p) => p.peerId))).toEqual(new Set([key(11), key(12), key(13)]));
  }, 20_000);

  /**
   * Two nodes connected by the higher key's dial, a poll from it held unanswered, then a second
   * connection dialed by the lower key: both ends keep the second and retire the first.
   */
  async function swapWithPollInFlight(requestTimeoutMs: number) {
    const key = (i: number) => Buffer.from(devnetKeyPair('p2p-in-process', i).publicKey).toString('hex');
    const [low, high] = key(21) < key(22) ? [21, 22] : [22, 21];
    // No peer exchange: the second connection is dialed when the test says, not by a feeler.
    const opts = { peerExchange: false, requestTimeoutMs };
    const l = await makeNode(low, opts);
    const portL = await l.start();
    const h = await makeNode(high, { ...opts, seeds: [{ host: '127.0.0.1', port: portL }] });
    const portH = await h.start();
    await waitFor(() => l.peers().length === 1 && h.peers().length === 1);
    expect(h.peers()[0]!.direction).toBe('outbound'); // the first connection: dialed by the higher key

    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    l.handle(MSG.pollRequest, async (_peer, req) => {
      await answered;
      return { t: MSG.pollResponse, votes: new Uint8Array(req.txids.length / 32).fill(VOTE.yes) };
    });
    const disconnects: unknown[] = [];
    l.on('peer:disconnected', (e) => disconnects.push(e));
    h.on('peer:disconnected', (e) => disconnects.push(e));
    const lowKey = key(low);
    // The request's own timeout is far beyond every wait in these tests (the node's settling bound
    // is four request timeouts, whatever this one says), so it rejects only when its connection
    // closes. At 5 s it once timed out first under CI load, before the ban it was waiting for.
    const inFlight = h.request(lowKey, { t: MSG.pollRequest, txids: new Uint8Array(64).fill(5) }, 120_000);
    inFlight.catch(() => {}); // awaited by the test that needs it

    l.addPeer({ host: '127.0.0.1', port: portH });
    await waitFor(() => l.peers()[0]?.direction === 'outbound' && h.peers()[0]?.direction === 'inbound');
    expect([l.connectionCount, h.connectionCount]).toEqual([2, 2]); // the old one is settling
    expect([l.counters['connectionsReplaced'], h.counters['connectionsReplaced']]).toEqual([1, 1]);
    return { l, h, low, lowKey, inFlight, answer, disconnects };
  }

  it('a second connection between two nodes: both keep the one the lower key dialed, and a poll in flight on the replaced one is still answered', async () => {
    // A replaced connection settles for one request timeout at least and closes by four; an async
    // handler is given two.
    const requestTimeoutMs = 1_000;
    const { l, h, lowKey, inFlight, answer, disconnects } = await swapWithPollInFlight(requestTimeoutMs);
    // Answered after the minimum settling time (and before the handler's own timeout): the old
    // connection waits for its busy request.
    await new Promise((r) => setTimeout(r, 1.25 * requestTimeoutMs));
    answer();
    const res = await inFlight;
    expect([...res.votes]).toEqual([VOTE.yes, VOTE.yes]);
    // The new connection carries the next poll; the old one closes as a duplicate once settled.
    const next = await h.request(lowKey, { t: MSG.pollRequest, txids: new Uint8Array(32).fill(6) }, 5_000);
    expect([...next.votes]).toEqual([VOTE.yes]);
    await waitFor(() => l.connectionCount === 1 && h.connectionCount === 1);
    expect(l.peers()).toHaveLength(1);
    expect(h.peers()).toHaveLength(1);
    expect(disconnects).toEqual([]); // the peers never lost each other
  });

  it('banning a peer also closes its replaced connection that is still settling', async () => {
    // Settling would keep the old connection for 20 s at least: the ban must not wait for that.
    // Judged by events, not by the connection count: the low node redials (with back-off) and each
    // refused handshake counts as a connection until it closes, so under CI load a 10 ms sampler
    // of the count could miss every moment it touched 0 (it failed that way, twice).
    const { h, lowKey, inFlight, disconnects } = await swapWithPollInFlight(20_000);
    const banned: string[] = [];
    h.on('peer:banned', (e: { peerId: string }) => banned.push(e.peerId));
    const bannedAt = performance.now();
    // Three offences of 50 against the threshold of 100: two reach exactly 100 only when both land
    // in the same millisecond (scores decay 1 point a second, on Date.now). Under CI load they
    // landed a millisecond apart (99.999 points, no ban), and the poll then failed by a timeout.
    h.misbehaved(lowKey, 'INVALID_BLOCK', 'bad merkle root');
    h.misbehaved(lowKey, 'INVALID_BEACON', 'proof does not verify');
    h.misbehaved(lowKey, 'INVALID_BLOCK', 'bad coinbase');
    expect(banned).toEqual([lowKey]);
    // The request in flight on the settling connection fails because that connection closed, not
    // by its 20 s timeout (which would reject with another code, and later).
    await expect(inFlight).rejects.toMatchObject({ code: 'P2P_PEER_GONE' });
    expect(performance.now() - bannedAt).toBeLessThan(10_000);
    // The current connection went too: the peer is reported gone and no authenticated link is left.
    await waitFor(() => disconnects.some((e) => (e as { peerId: string }).peerId === lowKey), 10_000);
    expect(h.peers()).toEqual([]);
  });

  it('one settling connection per peer: a third connection closes the one still settling at once', async () => {
    const { h, low, inFlight } = await swapWithPollInFlight(5_000);
    const c = await RawWsClient.connect('127.0.0.1', h.listenPort, '/p2p/1');
    await authenticateRaw(c, rawIdentity(low));
    // The first connection (busy with the held poll) goes now, not after its 5 s of settling.
    await expect(inFlight).rejects.toMatchObject({ code: 'P2P_PEER_GONE' });
    expect(h.counters['connectionsReplaced']).toBe(2);
    c.destroy();
  });

  it('a replaced connection whose request is never answered still closes, after four request timeouts', async () => {
    const requestTimeoutMs = 300;
    const a = await makeNode(31, { peerExchange: false, requestTimeoutMs });
    const port = await a.start();
    const first = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
    await authenticateRaw(first, rawIdentity(32));
    await waitFor(() => a.peers().length === 1);
    const peerId = a.peers()[0]!.peerId;
    // The raw peer never answers: this request keeps the first connection busy for a minute.
    const unanswered = a.request(peerId, { t: MSG.pollRequest, txids: new Uint8Array(32) }, 60_000);
    unanswered.catch(() => {});
    const second = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
    await authenticateRaw(second, rawIdentity(32)); // the same key dialing again: the newer is kept
    const closedBy = await Promise.race([
      first.closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 10 * requestTimeoutMs)),
    ]);
    expect(closedBy).toBe('closed');
    expect(first.closeReason).toMatch(/^DUPLICATE_CONNECTION/);
    await expect(unanswered).rejects.toMatchObject({ code: 'P2P_PEER_GONE' });
    expect(a.peers()).toHaveLength(1); // the second connection
    second.destroy();
  });
});
