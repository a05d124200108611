import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BATCH_SLICE_MS,
  MAX_BATCH,
  P,
  RPC_ERROR,
  RpcDispatcher,
  RpcError,
} from '../../../src/rpc/json-rpc.js';
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

  it('a batch lets the event loop turn once it has run its slice, and not between fast items', async () => {
    // `turns` counts event loop turns (a setImmediate that re-arms itself); `spin` holds the
    // thread past the slice, `count` is instant. Each answer is the turn count when it ran.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const d = new RpcDispatcher();
    d.register({
      name: 'spin',
      summary: '',
      params: [],
      handler: () => {
        const until = performance.now() + BATCH_SLICE_MS + 1;
        while (performance.now() < until);
        return turns;
      },
    });
    d.register({ name: 'count', summary: '', params: [], handler: () => turns });
    try {
      const batch = (method: string, n: number) =>
        JSON.stringify(Array.from({ length: n }, (_, id) => ({ jsonrpc: '2.0', id, method })));
      const slow = JSON.parse((await d.handleBody(batch('spin', 6), ctx))!) as { result: number }[];
      // Every item ran in a later turn than the one before it.
      for (let i = 1; i < slow.length; i++) expect(slow[i]!.result).toBeGreaterThan(slow[i - 1]!.result);
      const fast = JSON.parse((await d.handleBody(batch('count', 20), ctx))!) as { result: number }[];
      expect(new Set(fast.map((a) => a.result)).size).toBeLessThan(fast.length);
    } finally {
      ticking = false;
    }
  });

  it('a batch stops once its signal aborts: the item under way finishes, none after it runs, nothing is answered', async () => {
    const ac = new AbortController();
    const ran: number[] = [];
    const d = new RpcDispatcher();
    d.register({
      name: 'step',
      summary: '',
      params: [{ name: 'n', schema: z.number().int(), description: 'n' }],
      handler: (p) => {
        ran.push(p['n'] as number);
        if (p['n'] === 2) ac.abort();
        return p['n'];
      },
    });
    const batch = JSON.stringify(
      [1, 2, 3, 4].map((n) => ({ jsonrpc: '2.0', id: n, method: 'step', params: [n] })),
    );
    expect(await d.handleBody(batch, { signal: ac.signal })).toBeNull();
    expect(ran).toEqual([1, 2]);
    // Aborted before it starts, a batch runs nothing.
    expect(await d.handleBody(batch, { signal: ac.signal })).toBeNull();
    expect(ran).toEqual([1, 2]);
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

describe('JSON-RPC 2.0: the exact codes, messages and shapes clients depend on', () => {
  it('uses the JSON-RPC 2.0 and bitcoind error codes', () => {
    expect({ ...RPC_ERROR }).toEqual({
      PARSE_ERROR: -32700,
      INVALID_REQUEST: -32600,
      METHOD_NOT_FOUND: -32601,
      INVALID_PARAMS: -32602,
      INTERNAL_ERROR: -32603,
      MISC_ERROR: -1,
      NOT_FOUND: -5,
      INVALID_PARAMETER: -8,
      DESERIALIZATION_ERROR: -22,
      VERIFY_ERROR: -25,
      VERIFY_REJECTED: -26,
      ALREADY_IN_CHAIN: -27,
    });
  });

  it.each([
    ['{', 'Parse error: the body is not JSON'],
    ['[]', 'Invalid Request: empty batch'],
    ['"x"', 'Invalid Request: not an object'],
    ['null', 'Invalid Request: not an object'],
    [`[${'1,'.repeat(MAX_BATCH)}1]`, `Invalid Request: batch of more than ${MAX_BATCH}`],
    [
      '{"id":1.5e999,"method":"add","params":[1]}',
      'Invalid Request: a number id must be an integer within ±(2^53 - 1); send larger ids as strings',
    ],
    ['{"id":true,"method":"add","params":[1]}', 'Invalid Request: id must be a string, number or null'],
    ['{"jsonrpc":"2.1","id":1,"method":"add","params":[1]}', 'Invalid Request: jsonrpc must be "2.0"'],
    ['{"jsonrpc":"","id":1,"method":"add","params":[1]}', 'Invalid Request: jsonrpc must be "2.0"'],
    ['{"id":1}', 'Invalid Request: method must be a string'],
    ['{"id":1,"method":"nope"}', 'Method not found: nope'],
    [`{"id":1,"method":"${'m'.repeat(100)}"}`, `Method not found: ${'m'.repeat(64)}`],
    ['{"id":1,"method":"add","params":[]}', 'Invalid params: missing a'],
    ['{"id":1,"method":"add","params":[1,2,3]}', 'Invalid params: add takes at most 2 parameters'],
    ['{"id":1,"method":"add","params":{"a":1,"zz":2}}', 'Invalid params: unknown parameter zz'],
    [
      `{"id":1,"method":"add","params":{"a":1,"${'k'.repeat(80)}":2}}`,
      `Invalid params: unknown parameter ${'k'.repeat(64)}`,
    ],
    ['{"id":1,"method":"add","params":"1"}', 'Invalid params: params must be an array or an object'],
    [
      '{"id":1,"method":"add","params":["1"]}',
      'Invalid params: a: Invalid input: expected number, received string',
    ],
  ])('%s → %s', async (body, message) => {
    const r = (await call(body)) as { error: { message: string }; id: unknown };
    expect(r.error.message).toBe(message);
  });

  it('refuses a number id that is not a safe integer (-32600, id null): it could not be echoed as sent', async () => {
    const d = new RpcDispatcher();
    d.register({ name: 'ping', summary: '', params: [], handler: () => 'pong' });
    // 2^53 + 1 parses to 2^53: both members would have been answered with id 9007199254740992.
    const out = await d.handleBody(
      '[{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"},{"jsonrpc":"2.0","id":9007199254740992,"method":"ping"},' +
        '{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"},{"jsonrpc":"2.0","id":-9007199254740991,"method":"ping"},' +
        '{"jsonrpc":"2.0","id":1.5,"method":"ping"},{"jsonrpc":"2.0","id":1e21,"method":"ping"},' +
        '{"jsonrpc":"2.0","id":"9007199254740993","method":"ping"}]',
      ctx,
    );
    const refused = {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: RPC_ERROR.INVALID_REQUEST,
        message:
          'Invalid Request: a number id must be an integer within ±(2^53 - 1); send larger ids as strings',
      },
    };
    expect(JSON.parse(out!)).toEqual([
      refused,
      refused,
      { jsonrpc: '2.0', id: 9007199254740991, result: 'pong' },
      { jsonrpc: '2.0', id: -9007199254740991, result: 'pong' },
      refused,
      refused,
      { jsonrpc: '2.0', id: '9007199254740993', result: 'pong' },
    ]);
    // The answer's text carries the largest safe ids exactly.
    expect(out).toContain('"id":9007199254740991,"result":"pong"');
    // Alone, such a request gets the same refusal.
    expect(await d.handleBody('{"id":0.5,"method":"ping"}', ctx)).toBe(JSON.stringify(refused));
  });

  it('echoes the id on every error a request with a readable id gets, and null when the id itself is bad', async () => {
    expect(await call({ jsonrpc: '2.1', id: 'k', method: 'add' })).toMatchObject({ id: 'k' });
    expect(await call({ id: 9, method: 'nope' })).toMatchObject({ id: 9 });
    expect(await call({ id: null, method: 'add', params: [4] })).toEqual({
      jsonrpc: '2.0',
      id: null,
      result: 4,
    });
    expect(await call({ id: [1], method: 'add', params: [4] })).toMatchObject({ id: null });
    // "1.0" is bitcoind's; only "2.0" and "1.0" pass.
    expect(await call({ jsonrpc: '1.0', id: 3, method: 'add', params: [4] })).toMatchObject({ result: 4 });
  });

  it('refuses a batch member that is itself an array', async () => {
    expect(await call('[[1]]')).toEqual([
      {
        jsonrpc: '2.0',
        id: null,
        error: { code: RPC_ERROR.INVALID_REQUEST, message: 'Invalid Request: not an object' },
      },
    ]);
  });

  it('answers nothing to a notification, whatever fails in it', async () => {
    expect(await call({ method: 'add', params: ['not a number'] })).toBeNull();
    expect(await call({ method: 'fail', params: ['plain'] })).toBeNull();
    expect(await call({ method: 'fail', params: ['rpc'] })).toBeNull();
    expect(await call({ method: 'nope' })).toBeNull();
  });

  it('leaves data out of an error that has none, and serializes bigint results as strings', async () => {
    const r = (await call({ id: 1, method: 'nope' })) as { error: object };
    expect(Object.keys(r.error)).toEqual(['code', 'message']);
    const d = new RpcDispatcher();
    d.register({ name: 'big', summary: '', params: [], handler: () => ({ sat: 2n ** 70n, n: 1 }) });
    expect(await d.handleBody('{"id":1,"method":"big"}', ctx)).toBe(
      '{"jsonrpc":"2.0","id":1,"result":{"sat":"1180591620717411303424","n":1}}',
    );
  });

  it('treats absent and null params alike, and null for an optional param as absent', async () => {
    const d = new RpcDispatcher();
    d.register({
      name: 'opt',
      summary: '',
      params: [{ name: 'x', schema: z.number(), optional: true, description: '' }],
      handler: (p) => ('x' in p ? p['x'] : 'absent'),
    });
    for (const params of ['', ',"params":null', ',"params":[null]', ',"params":{"x":null}'])
      expect(await d.handleBody(`{"id":1,"method":"opt"${params}}`, ctx)).toContain('"result":"absent"');
  });

  it('registers a name once, lists methods by name, and finds them', () => {
    const d = dispatcher();
    expect(() => d.register({ name: 'add', summary: '', params: [], handler: () => 0 })).toThrow(
      'RPC method add registered twice',
    );
    d.register({ name: 'aaa', summary: '', params: [], handler: () => 0 });
    d.register({ name: 'zzz', summary: '', params: [], handler: () => 0 });
    expect(d.list().map((m) => m.name)).toEqual(['aaa', 'add', 'fail', 'zzz']);
    expect(d.get('fail')?.summary).toBe('throws');
    expect(d.get('none')).toBeUndefined();
  });
});

describe('JSON-RPC common parameter schemas', () => {
  const ok = (schema: z.ZodType, v: unknown) => schema.safeParse(v).success;

  it('hex32: exactly 64 hex digits', () => {
    expect(ok(P.hex32, 'aB'.repeat(32))).toBe(true);
    for (const bad of [
      'a'.repeat(63),
      'a'.repeat(65),
      `x${'a'.repeat(64)}`,
      `${'a'.repeat(64)}x`,
      'g'.repeat(64),
      '',
    ])
      expect(ok(P.hex32, bad), bad).toBe(false);
    expect(P.hex32.safeParse('z').error?.issues[0]?.message).toBe('a 32-byte hex string');
  });

  it('hex: any even number of hex digits, nothing else', () => {
    for (const good of ['', 'ab', 'ABcd09']) expect(ok(P.hex, good), good).toBe(true);
    for (const bad of ['a', 'abc', 'zz', ' ab', 'ab ', 'abz']) expect(ok(P.hex, bad), bad).toBe(false);
    expect(P.hex.safeParse('a').error?.issues[0]?.message).toBe('an even-length hex string');
  });

  it('height and timeoutMs: integers within their bounds', () => {
    for (const [schema, max] of [
      [P.height, 0xffff_ffff],
      [P.timeoutMs, 600_000],
    ] as const) {
      expect(ok(schema, 0)).toBe(true);
      expect(ok(schema, max)).toBe(true);
      expect(ok(schema, max + 1)).toBe(false);
      expect(ok(schema, -1)).toBe(false);
      expect(ok(schema, 1.5)).toBe(false);
    }
    expect(ok(P.bool, true)).toBe(true);
    expect(ok(P.bool, 1)).toBe(false);
  });
});
