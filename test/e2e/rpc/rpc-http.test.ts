import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fundedCoin, hexOf, pay, recipient } from '../../../src/devnet/coins.js';
import { NodeProcess, RpcCallError } from '../../../src/devnet/node-process.js';

/** The RPC server of a real node process: HTTP-level refusals, JSON-RPC answers, events auth. */
describe('RPC over HTTP (uWS) on a running node', () => {
  let node: NodeProcess;
  let url: string;

  beforeAll(async () => {
    // At warn, as an operator quietening the node would: the ready line must still come.
    // A submit backlog of one: this validator is alone, so nothing it admits ever finalizes.
    node = await NodeProcess.start({
      devnetIndex: 0,
      logLevel: 'warn',
      env: { TIMECOIN_CONSENSUS_MAX_SUBMIT_BACKLOG: '1' },
    });
    url = `http://127.0.0.1:${node.rpcPort}/`;
  }, 60_000);
  afterAll(() => node?.stop());

  /** `auth` null: no Authorization header at all. */
  const post = (body: string, auth: string | null = node.authorization) =>
    fetch(url, { method: 'POST', body, headers: auth === null ? {} : { authorization: auth } });

  it('prints its ready line at --log-level warn, and no other line below warn', () => {
    const ready = node.logs.filter((l) => l.msg === 'node ready');
    expect(ready).toHaveLength(1);
    expect(ready[0]!['rpcPort']).toBe(node.rpcPort);
    // pino levels: 30 info, 40 warn
    expect(node.logs.filter((l) => l.msg !== 'node ready' && Number(l['level']) < 40)).toEqual([]);
  });

  it('refuses missing and wrong credentials with 401, and the cookie file holds the right ones', async () => {
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"uptime"}', null)).status).toBe(401);
    const wrong = `Basic ${Buffer.from('__cookie__:00').toString('base64')}`;
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"uptime"}', wrong)).status).toBe(401);
    const cookie = readFileSync(join(node.datadir, '.cookie'), 'utf8');
    const ok = await post(
      '{"jsonrpc":"2.0","id":1,"method":"uptime"}',
      `Basic ${Buffer.from(cookie).toString('base64')}`,
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: number }).result).toBeGreaterThanOrEqual(0);
  });

  it('answers 413 for an oversize body and 405 for GET /, then keeps serving', async () => {
    const big = await post(
      `{"jsonrpc":"2.0","id":1,"method":"uptime","params":["${'a'.repeat(5 * 1024 * 1024)}"]}`,
    ).catch((err: Error) => err);
    // uWS closes the connection after the 413; fetch sees the status or a reset, never a crash.
    if (!(big instanceof Error)) expect(big.status).toBe(413);
    expect((await fetch(url, { headers: { authorization: node.authorization } })).status).toBe(405);
    expect(await node.rpc('uptime')).toBeGreaterThanOrEqual(0);
  });

  it('answers JSON-RPC errors with the right codes, batches in order, notifications with 204', async () => {
    const r = await post(
      '[{"jsonrpc":"2.0","id":1,"method":"nope"},{"jsonrpc":"2.0","id":2,"method":"uptime"},{"jsonrpc":"2.0","id":3,"method":"gettransactionfinality","params":["zz"]}]',
    );
    const out = (await r.json()) as { id: number; error?: { code: number } }[];
    expect(out.map((x) => [x.id, x.error?.code])).toEqual([
      [1, -32601],
      [2, undefined],
      [3, -32602],
    ]);
    expect((await post('{not json')).status).toBe(200);
    expect(((await (await post('{not json')).json()) as { error: { code: number } }).error.code).toBe(-32700);
    expect((await post('{"jsonrpc":"2.0","method":"uptime"}')).status).toBe(204);
    const bad = await post(`{"jsonrpc":"2.0","id":9,"method":"sendrawtransaction","params":["00ff"]}`);
    expect(((await bad.json()) as { error: { code: number; data: { code: string } } }).error).toMatchObject({
      code: -22,
      data: { code: 'MALFORMED' },
    });
  });

  it('pushes back with -1 INTAKE_BUSY once consensus.maxSubmitBacklog transactions await finality', async () => {
    const [a, b] = [0, 1].map((i) => hexOf(pay(fundedCoin(i), recipient(i), 10_000_000n)));
    const txid = await node.rpc<string>('sendrawtransaction', [a]);
    const busy = await node.rpc('sendrawtransaction', [b]).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(RpcCallError);
    expect(busy).toMatchObject({ code: -1, data: { code: 'INTAKE_BUSY' } });
    // The one it holds is still answered with its txid (sendrawtransaction is idempotent).
    expect(await node.rpc('sendrawtransaction', [a])).toBe(txid);
    expect(await node.rpc('uptime')).toBeGreaterThanOrEqual(0);
  });

  it('serves /metrics in Prometheus text format with the node series', async () => {
    const text = await node.metricsText();
    expect(text).toMatch(/^# TYPE timecoin_tx_finalized_total counter$/m);
    expect(text).toMatch(/^timecoin_event_loop_delay_seconds\{quantile="0\.99"\} [0-9.e+-]+$/m);
    expect(text).toMatch(/^timecoin_chain_height 0$/m);
    const unauth = await fetch(`${url}metrics`);
    expect(unauth.status).toBe(401);
  });

  it('events WebSocket refuses a client without credentials and confirms subscriptions', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/events`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/events`, {
      headers: { authorization: node.authorization },
    });
    const msgs: unknown[] = [];
    ws.on('message', (m) => msgs.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: 'block' }));
    ws.send(JSON.stringify({ subscribe: 'tx', txid: 'ab'.repeat(32) }));
    ws.send(JSON.stringify({ subscribe: 'everything' }));
    ws.send('not json');
    while (msgs.length < 4) await new Promise((r) => setTimeout(r, 10));
    expect(msgs.slice(0, 2)).toEqual([
      { type: 'subscribed', topic: 'block' },
      { type: 'subscribed', topic: `tx/${'ab'.repeat(32)}` },
    ]);
    expect(msgs.slice(2).map((m) => (m as { type: string }).type)).toEqual(['error', 'error']);
    ws.close();
  });
});
