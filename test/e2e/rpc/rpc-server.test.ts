import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcDispatcher } from '../../../src/rpc/json-rpc.js';
import { basicAuthHeader, RpcAuth } from '../../../src/rpc/rpc-auth.js';
import { RpcServer } from '../../../src/rpc/rpc-server.js';

const AUTH = basicAuthHeader('u', 'p');

/** A promise with its resolver, to wait on events instead of time. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * `wait` ends when its signal aborts; `late` waits for the test's gate and only then reads the
 * signal (a method that asks for it after the client has gone); `ping` answers at once.
 */
function setup() {
  const started = deferred();
  const sawAbort = deferred<string>();
  const gate = deferred();
  const d = new RpcDispatcher();
  d.register({
    name: 'wait',
    summary: '',
    params: [],
    handler: (_p, ctx) =>
      new Promise((resolve) => {
        started.resolve();
        ctx.signal.addEventListener('abort', () => {
          sawAbort.resolve('aborted while waiting');
          resolve('aborted');
        });
      }),
  });
  d.register({
    name: 'late',
    summary: '',
    params: [],
    handler: async (_p, ctx) => {
      started.resolve();
      await gate.promise;
      sawAbort.resolve(ctx.signal.aborted ? 'born aborted' : 'not aborted');
      return 1;
    },
  });
  d.register({ name: 'ping', summary: '', params: [], handler: () => 'pong' });
  const server = new RpcServer({
    host: '127.0.0.1',
    port: 0,
    auth: RpcAuth.withPassword('u', 'p'),
    dispatcher: d,
    maxBodyBytes: 1024,
    maxConcurrent: 1,
  });
  servers.push(server);
  return { server, started, sawAbort, gate };
}

const servers: RpcServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Sends one JSON-RPC call on its own connection; `destroy()` drops the connection unanswered. */
function send(port: number, method: string) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method });
  let destroy = () => {};
  const answered = new Promise<string>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', agent: false, headers: { authorization: AUTH } },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => {
          out += c.toString();
        });
        res.on('end', () => resolve(`${res.statusCode} ${out}`));
      },
    );
    req.on('error', reject);
    req.end(body);
    destroy = () => req.destroy();
  });
  answered.catch(() => {}); // a destroyed request rejects; the tests that destroy do not await it
  return { answered, destroy: () => destroy() };
}

describe('RPC server: request abort signals (real uWS)', () => {
  it('a client that disconnects mid-wait aborts the wait and frees its slot', async () => {
    const { server, started, sawAbort } = setup();
    const port = await server.listen();
    const waiting = send(port, 'wait');
    await started.promise;
    // One request at a time: the wait holds the only slot.
    expect(await send(port, 'ping').answered).toMatch(/^503 /);
    waiting.destroy();
    expect(await sawAbort.promise).toBe('aborted while waiting');
    expect(await send(port, 'ping').answered).toBe('200 {"jsonrpc":"2.0","id":1,"result":"pong"}');
  });

  it('a method that asks for the signal after the client left gets an aborted one', async () => {
    const { server, started, sawAbort, gate } = setup();
    const port = await server.listen();
    const call = send(port, 'late');
    await started.promise;
    call.destroy();
    // The slot frees when uWS reports the abort: then the method reads its signal.
    for (;;) {
      if ((await send(port, 'ping').answered).startsWith('200 ')) break;
    }
    gate.resolve();
    expect(await sawAbort.promise).toBe('born aborted');
  });

  it('close() aborts a waiting method', async () => {
    const { server, started, sawAbort } = setup();
    const port = await server.listen();
    send(port, 'wait');
    await started.promise;
    server.close();
    expect(await sawAbort.promise).toBe('aborted while waiting');
  });

  it('a method that does not abort sees a live signal', async () => {
    const { server, started, sawAbort, gate } = setup();
    const port = await server.listen();
    const call = send(port, 'late');
    await started.promise;
    gate.resolve();
    expect(await sawAbort.promise).toBe('not aborted');
    expect(await call.answered).toBe('200 {"jsonrpc":"2.0","id":1,"result":1}');
  });
});
