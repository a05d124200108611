import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventsHub, MAX_SUBSCRIPTIONS, type TxEvent } from '../../../src/rpc/events-server.js';
import { RpcDispatcher } from '../../../src/rpc/json-rpc.js';
import { basicAuthHeader, RpcAuth } from '../../../src/rpc/rpc-auth.js';
import { RpcServer } from '../../../src/rpc/rpc-server.js';

/**
 * `/events` on a real uWS RPC server in this process, with `ws` as the client: who may connect,
 * what a subscription must look like, which events reach which subscriber, and the bounds a client
 * cannot push past.
 */

const AUTH = basicAuthHeader('u', 'p');
const servers: RpcServer[] = [];
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const s of servers.splice(0)) s.close();
});

async function hubServer() {
  const hub = new EventsHub();
  const auth = RpcAuth.withPassword('u', 'p');
  const server = new RpcServer({
    host: '127.0.0.1',
    port: 0,
    auth,
    dispatcher: new RpcDispatcher(),
    maxBodyBytes: 1_024,
    maxConcurrent: 4,
    extend: (app) => hub.attach(app, auth),
  });
  servers.push(server);
  return { hub, port: await server.listen() };
}

/** An authenticated client; `next()` resolves the next message (parsed JSON), in order. */
async function client(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/events`, { headers: { authorization: AUTH } });
  sockets.push(ws);
  const inbox: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8'));
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) => {
      if (inbox.length > 0) resolve(inbox.shift() as Record<string, unknown>);
      else waiters.push((m) => resolve(m as Record<string, unknown>));
    });
  const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  const subscribe = async (m: Record<string, unknown>) => {
    send(m);
    return next();
  };
  return { ws, next, send, subscribe, inbox };
}

const TXID = (b: string) => b.repeat(64);
const ADDR = (b: string) => b.repeat(40);
const txEvent = (txid: string, addresses: string[], status: TxEvent['status'] = 'finalized'): TxEvent => ({
  txid,
  status,
  addresses,
});

describe('/events: who may connect', () => {
  it('refuses an upgrade without the RPC credentials (401, Basic realm), or with wrong ones', async () => {
    const { port } = await hubServer();
    for (const headers of [{}, { authorization: basicAuthHeader('u', 'wrong') }]) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/events`, { headers });
      ws.on('error', () => undefined); // the refused upgrade also ends in an error event
      sockets.push(ws);
      const res = await new Promise<{ status: number; challenge: string | undefined }>((resolve) =>
        ws.once('unexpected-response', (_req, r) =>
          resolve({ status: r.statusCode ?? 0, challenge: r.headers['www-authenticate'] }),
        ),
      );
      expect(res).toEqual({ status: 401, challenge: 'Basic realm="timecoin-rpc"' });
    }
  });
});

describe('/events: subscriptions and what each one receives', () => {
  it('every tx outcome; one txid; one address; blocks; beacons — each confirmed with its topic', async () => {
    const { hub, port } = await hubServer();
    const all = await client(port);
    const one = await client(port);
    const addr = await client(port);
    const chain = await client(port);
    expect(await all.subscribe({ subscribe: 'tx' })).toEqual({ type: 'subscribed', topic: 'tx' });
    expect(await one.subscribe({ subscribe: 'tx', txid: TXID('b') })).toEqual({
      type: 'subscribed',
      topic: `tx/${TXID('b')}`,
    });
    expect(await addr.subscribe({ subscribe: 'tx', address: ADDR('c') })).toEqual({
      type: 'subscribed',
      topic: `addr/${ADDR('c')}`,
    });
    expect(await chain.subscribe({ subscribe: 'block' })).toEqual({ type: 'subscribed', topic: 'block' });
    expect(await chain.subscribe({ subscribe: 'beacon' })).toEqual({ type: 'subscribed', topic: 'beacon' });

    hub.publishTx(txEvent(TXID('a'), [ADDR('d')]));
    // Paying the address twice still makes one event for its subscriber.
    hub.publishTx({ ...txEvent(TXID('b'), [ADDR('c'), ADDR('c')], 'rejected'), latencyMs: 12 });
    const block = { height: 7, hash: TXID('e'), slot: 9, producer: TXID('f'), rank: 0, txCount: 3 };
    hub.publishBlock(block);
    hub.publishBeacon(9, 'ab');

    expect(await all.next()).toEqual({
      type: 'tx',
      txid: TXID('a'),
      status: 'finalized',
      addresses: [ADDR('d')],
    });
    const b = {
      type: 'tx',
      txid: TXID('b'),
      status: 'rejected',
      addresses: [ADDR('c'), ADDR('c')],
      latencyMs: 12,
    };
    expect(await all.next()).toEqual(b);
    expect(await one.next()).toEqual(b);
    expect(await addr.next()).toEqual(b);
    expect(await chain.next()).toEqual({ type: 'block', ...block });
    expect(await chain.next()).toEqual({ type: 'beacon', slot: 9, y: 'ab' });
    // Nothing else arrived: a marker published last is the next message of each.
    hub.publishTx(txEvent(TXID('b'), [ADDR('c')]));
    expect((await one.next())['status']).toBe('finalized');
    expect((await addr.next())['status']).toBe('finalized');
    expect(one.inbox).toEqual([]);
    expect(addr.inbox).toEqual([]);
  });

  it('a txid subscription wins over an address in the same request', async () => {
    const { port } = await hubServer();
    const c = await client(port);
    expect(await c.subscribe({ subscribe: 'tx', txid: TXID('1'), address: ADDR('2') })).toEqual({
      type: 'subscribed',
      topic: `tx/${TXID('1')}`,
    });
  });

  it('refuses malformed subscriptions with an error message and keeps the connection', async () => {
    const { port } = await hubServer();
    const c = await client(port);
    const refusals = [
      'not json',
      { subscribe: 'mempool' },
      { subscribe: 'tx', txid: 'AB'.repeat(32) },
      { subscribe: 'tx', txid: TXID('a').slice(1) },
      { subscribe: 'tx', txid: `${TXID('a')}0` },
      { subscribe: 'tx', txid: `x${TXID('a')}` },
      { subscribe: 'tx', address: ADDR('a').slice(2) },
      { subscribe: 'tx', address: `${ADDR('a')}0` },
      { subscribe: 'tx', address: `x${ADDR('a')}` },
      { subscribe: 'tx', extra: 1 },
      {},
    ];
    for (const m of refusals) {
      c.send(m);
      const answer = await c.next();
      expect(answer['type']).toBe('error');
      expect(String(answer['message']).length).toBeGreaterThan(0);
      expect(String(answer['message']).length).toBeLessThanOrEqual(200);
    }
    c.send({ subscribe: 'tx', address: ADDR('a') });
    expect((await c.next())['message']).toBeUndefined();
    expect(await c.subscribe({ subscribe: 'tx', address: 'zz'.repeat(20) })).toEqual({
      type: 'error',
      message: 'an address payload (40 hex)',
    });
    // A long complaint (an unknown key of 500 characters) is cut to 200 characters.
    const long = await c.subscribe({ subscribe: 'tx', ['k'.repeat(500)]: 1 });
    expect(long['type']).toBe('error');
    expect(String(long['message'])).toHaveLength(200);
  });

  it(`holds at most ${MAX_SUBSCRIPTIONS} subscriptions per client; repeating one does not count`, async () => {
    const { port } = await hubServer();
    const c = await client(port);
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
      const txid = i.toString(16).padStart(64, '0');
      c.send({ subscribe: 'tx', txid });
      if (i === 0) {
        // The same topic again: confirmed, not counted.
        expect((await c.next())['type']).toBe('subscribed');
        c.send({ subscribe: 'tx', txid });
      }
      expect((await c.next())['type']).toBe('subscribed');
    }
    expect(await c.subscribe({ subscribe: 'block' })).toEqual({
      type: 'error',
      message: `at most ${MAX_SUBSCRIPTIONS} subscriptions`,
    });
    // One it holds may still be confirmed again.
    expect(await c.subscribe({ subscribe: 'tx', txid: TXID('0') })).toEqual({
      type: 'subscribed',
      topic: `tx/${TXID('0')}`,
    });
  });

  it('closes a subscriber that stops reading once 1 MiB waits for it; the others miss nothing', async () => {
    const { hub, port } = await hubServer();
    const slow = await client(port);
    const fast = await client(port);
    for (const c of [slow, fast]) await c.subscribe({ subscribe: 'beacon' });
    // The slow reader stops reading: the kernel's buffers fill first, then uWS's backpressure.
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const y = 'ab'.repeat(16 * 1024); // 32 KiB a message
    const published = 1_500; // 48 MiB: far beyond the kernel's buffers plus 1 MiB
    for (let slot = 0; slot < published; slot++) {
      hub.publishBeacon(slot, y);
      expect((await fast.next())['slot']).toBe(slot);
    }
    const closed = new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
    socket.resume();
    expect(await closed).toBe(1006);
    // It got what was buffered before the limit, in order, and nothing after its close.
    const got = slow.inbox.map((m) => (m as { slot: number }).slot);
    expect(got.length).toBeLessThan(published);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i));
    // The server goes on serving the reader that keeps up.
    hub.publishBeacon(published, 'cd');
    expect(await fast.next()).toEqual({ type: 'beacon', slot: published, y: 'cd' });
  });

  it('closes a client that sends a message over 1 KiB', async () => {
    const { port } = await hubServer();
    const c = await client(port);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.send({ subscribe: 'tx', pad: 'x'.repeat(2_000) });
    expect(await closed).toBe(1006);
  });
});

describe('EventsHub: what the dashboard reads', () => {
  it('keeps the latest 60 blocks, oldest first, and the highest beacon slot', () => {
    const hub = new EventsHub();
    expect(hub.lastBeaconSlot).toBe(-1);
    expect(hub.recentBlocks).toEqual([]);
    for (let h = 1; h <= 70; h++)
      hub.publishBlock({ height: h, hash: TXID('a'), slot: h, producer: TXID('b'), rank: 0, txCount: 1 });
    expect(hub.recentBlocks.map((b) => b.height)).toEqual(Array.from({ length: 60 }, (_, i) => i + 11));
    hub.publishBeacon(9, 'aa');
    hub.publishBeacon(4, 'bb');
    expect(hub.lastBeaconSlot).toBe(9);
    // Before attach() there is nobody to publish to: nothing throws.
    hub.publishTx(txEvent(TXID('c'), []));
  });
});
