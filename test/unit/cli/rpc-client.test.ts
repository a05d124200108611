import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeRpcError, RpcClient } from '../../../src/cli/rpc-client.js';

/**
 * The CLI's submission against a real HTTP server that answers as a node does: INTAKE_BUSY is
 * retried with backoff until the time budget is spent; every other answer ends the call at once.
 */
const busy = { code: -1, message: 'busy; retry shortly', data: { code: 'INTAKE_BUSY' } };
const TINY = { baseMs: 10, maxMs: 40, random: () => 0 };

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A JSON-RPC server whose n-th answer (0-based) is `answer(n)`; records every request body. */
async function node(answer: (n: number) => object): Promise<{ client: RpcClient; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as { id: number };
      bodies.push(body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, ...answer(bodies.length - 1) }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { client: new RpcClient(`http://127.0.0.1:${port}/`, 'Basic eDp5'), bodies };
}

describe('RpcClient.sendRawTransaction', () => {
  it('sends the same transaction again while the node answers INTAKE_BUSY, then returns the txid', async () => {
    const { client, bodies } = await node((n) => (n < 2 ? { error: busy } : { result: 'ab'.repeat(32) }));
    expect(await client.sendRawTransaction('00ff', 5_000, TINY)).toBe('ab'.repeat(32));
    expect(bodies).toHaveLength(3);
    for (const b of bodies) expect(b).toMatchObject({ method: 'sendrawtransaction', params: ['00ff'] });
  });

  it('any other error is the answer at once, without a second request', async () => {
    const malformed = { code: -22, message: 'bad bytes', data: { code: 'MALFORMED' } };
    const { client, bodies } = await node(() => ({ error: malformed }));
    const err = await client.sendRawTransaction('00ff', 5_000, TINY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeRpcError);
    expect(err).toMatchObject({ code: -22, data: { code: 'MALFORMED' } });
    expect(bodies).toHaveLength(1);
  });

  it('a -1 error that is not INTAKE_BUSY (the node is stopping) is not retried', async () => {
    const stopping = { code: -1, message: 'the node is stopping', data: { code: 'SHUTTING_DOWN' } };
    const { client, bodies } = await node(() => ({ error: stopping }));
    await expect(client.sendRawTransaction('00ff', 5_000, TINY)).rejects.toMatchObject({
      data: { code: 'SHUTTING_DOWN' },
    });
    expect(bodies).toHaveLength(1);
  });

  it('gives up once the budget is spent and reports the busy answer; a zero budget asks once', async () => {
    const { client, bodies } = await node(() => ({ error: busy }));
    const t0 = performance.now();
    const err = await client.sendRawTransaction('00ff', 150, TINY).catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(NodeRpcError);
    expect(err).toMatchObject({ code: -1, data: { code: 'INTAKE_BUSY' } });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    // Delays 5, 10, 20, 20, … ms (random 0: the fixed half): about eight requests in 150 ms; the
    // bound below only fails if the delays stop growing or the budget is ignored.
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.length).toBeLessThanOrEqual(16);

    const before = bodies.length;
    await expect(client.sendRawTransaction('00ff', 0, TINY)).rejects.toBeInstanceOf(NodeRpcError);
    expect(bodies.length - before).toBe(1);
  });

  it('the waits double from half the base (random 0: the fixed half), cut short by the budget', async () => {
    const stamps: number[] = [];
    await node(() => ({ error: busy }));
    server!.on('request', () => stamps.push(performance.now()));
    const { port } = server!.address() as AddressInfo;
    const client = new RpcClient(`http://127.0.0.1:${port}/`, 'Basic eDp5');
    const t0 = performance.now();
    await expect(
      client.sendRawTransaction('00ff', 450, { baseMs: 250, maxMs: 4_000, random: () => 0 }),
    ).rejects.toBeInstanceOf(NodeRpcError);
    const elapsed = performance.now() - t0;
    // Requests at about 0, 125 and 375 ms; the third wait (500 ms) is cut to the 450 ms budget, so
    // a fourth request at ~450 ms unless the machine was slow enough to spend the budget first.
    expect(stamps.length).toBeGreaterThanOrEqual(3);
    expect(stamps.length).toBeLessThanOrEqual(4);
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(120);
    expect(gaps[1]).toBeGreaterThanOrEqual(245);
    expect(elapsed).toBeLessThan(700);
  });
});
