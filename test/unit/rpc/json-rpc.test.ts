import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_BATCH, RPC_ERROR, RpcDispatcher, RpcError } from '../../../src/rpc/json-rpc.js';
import { CodedError } from '../../../src/util/coded-error.js';

const ctx = { signal: new AbortController().signal };

function dispatcher(): RpcDispatcher {
  const d = new RpcDispatcher();
  d.register({
    name: 'add',
    summary: 'a + b',
    params: [
      { name: 'a', schema: z.number().int(), description: 'a' },
      { name: 'b', schema: z.number().int(), optional: true, description: 'b' },
    ],
    handler: (p) => (p['a'] as number) + ((p['b'] as number | undefined) ?? 0),
  });
  d.register({
    name: 'fail',
    summary: 'throws',
    params: [{ name: 'kind', schema: z.enum(['rpc', 'coded', 'plain']), description: 'k' }],
    handler: (p) => {
      if (p['kind'] === 'rpc') throw new RpcError(RPC_ERROR.NOT_FOUND, 'nope', { x: 1 });
      if (p['kind'] === 'coded') throw new CodedError('SOME_CODE', 'coded failure', { y: 2 });
      throw new Error('secret internal detail');
    },
  });
  return d;
}

async function call(body: unknown): Promise<unknown> {
  const out = await dispatcher().handleBody(typeof body === 'string' ? body : JSON.stringify(body), ctx);
  return out === null ? null : JSON.parse(out);
}

describe('JSON-RPC 2.0 dispatch', () => {
  it('answers positional and named params, echoing the id', async () => {
    expect(await call({ jsonrpc: '2.0', id: 7, method: 'add', params: [2, 3] })).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: 5,
    });
    expect(await call({ jsonrpc: '2.0', id: 'x', method: 'add', params: { a: 2 } })).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      result: 2,
    });
    // bitcoind clients send no version or "1.0"
    expect(await call({ id: 1, method: 'add', params: [1] })).toMatchObject({ result: 1 });
  });

  it.each([
    ['not JSON', '{"jsonrpc":', RPC_ERROR.PARSE_ERROR],
    ['a number', '42', RPC_ERROR.INVALID_REQUEST],
    ['an empty batch', '[]', RPC_ERROR.INVALID_REQUEST],
    ['method not a string', { jsonrpc: '2.0', id: 1, method: 5 }, RPC_ERROR.INVALID_REQUEST],
    ['wrong version', { jsonrpc: '3.0', id: 1, method: 'add', params: [1] }, RPC_ERROR.INVALID_REQUEST],
    ['an object id', { jsonrpc: '2.0', id: { a: 1 }, method: 'add', params: [1] }, RPC_ERROR.INVALID_REQUEST],
    ['unknown method', { jsonrpc: '2.0', id: 1, method: 'nope' }, RPC_ERROR.METHOD_NOT_FOUND],
    ['missing param', { jsonrpc: '2.0', id: 1, method: 'add', params: [] }, RPC_ERROR.INVALID_PARAMS],
    ['wrong type', { jsonrpc: '2.0', id: 1, method: 'add', params: ['1'] }, RPC_ERROR.INVALID_PARAMS],
    [
      'too many params',
      { jsonrpc: '2.0', id: 1, method: 'add', params: [1, 2, 3] },
      RPC_ERROR.INVALID_PARAMS,
    ],
    [
      'unknown named param',
      { jsonrpc: '2.0', id: 1, method: 'add', params: { a: 1, c: 2 } },
      RPC_ERROR.INVALID_PARAMS,
    ],
    ['params not a container', { jsonrpc: '2.0', id: 1, method: 'add', params: 5 }, RPC_ERROR.INVALID_PARAMS],
    ['a non-integer', { jsonrpc: '2.0', id: 1, method: 'add', params: [1.5] }, RPC_ERROR.INVALID_PARAMS],
  ])('%s gets error %d', async (_name, body, code) => {
    const r = (await call(body)) as { error: { code: number } };
    expect(r.error.code).toBe(code);
  });

  it('maps handler failures: RpcError as is, CodedError to -1 with its code, anything else to -32603 without detail', async () => {
    expect(await call({ jsonrpc: '2.0', id: 1, method: 'fail', params: ['rpc'] })).toMatchObject({
      error: { code: RPC_ERROR.NOT_FOUND, message: 'nope', data: { x: 1 } },
    });
    expect(await call({ jsonrpc: '2.0', id: 1, method: 'fail', params: ['coded'] })).toMatchObject({
      error: { code: RPC_ERROR.MISC_ERROR, data: { code: 'SOME_CODE', y: 2 } },
    });
    const internal = (await call({ jsonrpc: '2.0', id: 1, method: 'fail', params: ['plain'] })) as {
      error: { code: number; message: string };
    };
    expect(internal.error).toEqual({ code: RPC_ERROR.INTERNAL_ERROR, message: 'Internal error' });
  });

  it('batches answer each member in order and skip notifications; all-notification batches answer nothing', async () => {
    const r = (await call([
      { jsonrpc: '2.0', id: 1, method: 'add', params: [1, 1] },
      { jsonrpc: '2.0', method: 'add', params: [5] },
      { jsonrpc: '2.0', id: 2, method: 'nope' },
      17,
    ])) as { id: unknown }[];
    expect(r.map((x) => x.id)).toEqual([1, 2, null]);
    expect(await call([{ jsonrpc: '2.0', method: 'add', params: [1] }])).toBeNull();
    expect(await call({ jsonrpc: '2.0', method: 'add', params: [1] })).toBeNull();
  });

  it('refuses a batch larger than MAX_BATCH as a whole', async () => {
    const big = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'add',
      params: [i],
    }));
    expect(await call(big)).toMatchObject({ error: { code: RPC_ERROR.INVALID_REQUEST } });
    const ok = (await call(big.slice(0, MAX_BATCH))) as unknown[];
    expect(ok).toHaveLength(MAX_BATCH);
  });

  it('survives deep nesting and huge numbers with a JSON-RPC error', async () => {
    expect(await call('['.repeat(200_000))).toMatchObject({ error: { code: RPC_ERROR.PARSE_ERROR } });
    const deep = `{"jsonrpc":"2.0","id":1,"method":"add","params":[${'['.repeat(10_000)}${']'.repeat(10_000)}]}`;
    expect(await call(deep)).toMatchObject({ error: { code: RPC_ERROR.INVALID_PARAMS } });
    expect(await call({ jsonrpc: '2.0', id: 1, method: 'add', params: [1e308] })).toMatchObject({
      error: { code: RPC_ERROR.INVALID_PARAMS },
    });
  });
});
