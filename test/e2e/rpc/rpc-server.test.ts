import { Agent, request } from 'node:http';
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
        // A second look at the signal must be the same signal (one per request, made once).
        if (ctx.signal.aborted) resolve('aborted before waiting');
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
    // The method is still running, so its slot is still taken: a request answered after the
    // disconnect is a full event-loop round trip, by which uWS has seen the closed connection.
    expect(await send(port, 'ping').answered).toMatch(/^503 /);
    gate.resolve();
    expect(await sawAbort.promise).toBe('born aborted');
    // The slot frees when the method has settled.
    expect(await send(port, 'ping').answered).toBe('200 {"jsonrpc":"2.0","id":1,"result":"pong"}');
  });

  it('keeps the slot of a client that left until its method settles, then answers nothing to it', async () => {
    const { server, started, gate } = setup();
    const port = await server.listen();
    const call = send(port, 'late');
    await started.promise;
    call.destroy();
    // Freed at the disconnect, the slot let a client start new work per disconnect while the old
    // work went on: maxConcurrent bounded nothing.
    for (let i = 0; i < 3; i++) expect(await send(port, 'ping').answered).toMatch(/^503 /);
    gate.resolve();
    // The method settles in microtasks, before the next request's bytes are read: that frees the
    // slot (and nothing is written to the closed response).
    expect(await send(port, 'ping').answered).toBe('200 {"jsonrpc":"2.0","id":1,"result":"pong"}');
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

/** One HTTP exchange: `body` sent in `chunks` pieces (chunked encoding when no length is given). */
function http(
  port: number,
  opts: {
    method?: string;
    path?: string;
    auth?: string | null;
    body?: string;
    /** Send the body in this many writes without a Content-Length (chunked). */
    chunked?: boolean;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    const auth = opts.auth === undefined ? AUTH : opts.auth;
    if (auth !== null) headers['authorization'] = auth;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/',
        agent: false,
        headers,
      },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => {
          out += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: out }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body === undefined) req.end();
    else if (opts.chunked) {
      const half = Math.floor(opts.body.length / 2);
      req.write(opts.body.slice(0, half));
      req.end(opts.body.slice(half));
    } else {
      req.setHeader('content-length', Buffer.byteLength(opts.body));
      req.end(opts.body);
    }
  });
}

/**
 * A POST on a keep-alive connection (so only the server can close it): the status, the body, and
 * a promise that settles when the server closes the socket. `body` undefined: headers only.
 */
function keepAlivePost(
  port: number,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        agent: new Agent({ keepAlive: true }),
        headers: { authorization: AUTH, ...headers },
      },
      (res) => {
        let out = '';
        res.on('data', (c: Buffer) => {
          out += c.toString();
        });
        const socket = req.socket!;
        const closed = new Promise<void>((done) => {
          if (socket.destroyed) done();
          else socket.once('close', () => done());
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: out, closed }));
      },
    );
    req.on('error', reject);
    if (body === undefined) req.flushHeaders();
    else req.end(body);
  });
}

/** A JSON-RPC call padded with trailing spaces to exactly `size` bytes (JSON allows them). */
function padded(size: number, method = 'ping'): string {
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method });
  return call + ' '.repeat(size - call.length);
}

/** Holds every `circularLater` call until the test opens it. */
let circularGate = deferred();

function server(opts: Partial<ConstructorParameters<typeof RpcServer>[0]> = {}) {
  const d = new RpcDispatcher();
  circularGate = deferred();
  d.register({ name: 'ping', summary: '', params: [], handler: () => 'pong' });
  // A result JSON cannot hold: the dispatcher's own failure, which only the server can answer.
  d.register({
    name: 'circular',
    summary: '',
    params: [],
    handler: () => {
      const o: Record<string, unknown> = {};
      o['self'] = o;
      return o;
    },
  });
  d.register({
    name: 'circularLater',
    summary: '',
    params: [],
    handler: async () => {
      await circularGate.promise;
      const o: Record<string, unknown> = {};
      o['self'] = o;
      return o;
    },
  });
  const s = new RpcServer({
    host: '127.0.0.1',
    port: 0,
    auth: RpcAuth.withPassword('u', 'p'),
    dispatcher: d,
    maxBodyBytes: 1024,
    maxConcurrent: 4,
    ...opts,
  });
  servers.push(s);
  return s;
}

describe('RPC server: HTTP status, credentials and limits (real uWS)', () => {
  it('answers a call with 200 and JSON, a notification with 204 and no body', async () => {
    const port = await server().listen();
    const r = await http(port, { body: padded(100) });
    expect(r).toMatchObject({ status: 200, body: '{"jsonrpc":"2.0","id":1,"result":"pong"}' });
    expect(r.headers['content-type']).toBe('application/json');
    expect(await http(port, { body: '{"jsonrpc":"2.0","method":"ping"}' })).toMatchObject({
      status: 204,
      body: '',
    });
  });

  it('refuses a POST without valid credentials with 401 and a Basic challenge', async () => {
    const port = await server().listen();
    for (const auth of [null, basicAuthHeader('u', 'q'), 'Basic', 'Bearer x']) {
      const r = await http(port, { auth, body: padded(60) });
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="timecoin-rpc"');
    }
  });

  it('takes a body of exactly maxBodyBytes and refuses one byte more, by Content-Length and by counting chunks', async () => {
    const port = await server().listen();
    expect((await http(port, { body: padded(1024) })).status).toBe(200);
    expect((await http(port, { body: padded(1024), chunked: true })).status).toBe(200);
    const declared = await http(port, { body: padded(1025) });
    expect(declared).toMatchObject({ status: 413, body: 'body limit is 1024 bytes' });
    const streamed = await http(port, { body: padded(1025), chunked: true });
    expect(streamed).toMatchObject({ status: 413, body: 'body limit is 1024 bytes' });
    // The refusals gave their buffer space back: a body the size of the whole budget still fits.
    expect((await http(port, { body: padded(1024), chunked: true })).status).toBe(200);
  });

  it('bounds the bytes held over all requests: past maxBufferedBytes, 503; each finished request gives its bytes back', async () => {
    const port = await server({ maxBufferedBytes: 1_500 }).listen();
    // Many sequential bodies of 1,000 bytes: each one's bytes are released when it is answered.
    for (let i = 0; i < 5; i++)
      expect((await http(port, { body: padded(1_000), chunked: true })).status).toBe(200);
    // Two bodies held at once exceed the budget: the second is refused while the first waits.
    const held = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          agent: false,
          headers: { authorization: AUTH, 'content-length': '1000' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(padded(1_000).slice(0, 900), () => {
        // Until the server holds the first 900 bytes a second body still fits: ask until refused.
        const second = (): void => {
          // Exactly maxBodyBytes: within the body limit, so the refusal must be the budget's (503).
          void http(port, { body: padded(1_024), chunked: true }).then((r) => {
            if (r.status === 200) return second();
            expect(r).toMatchObject({ status: 503, body: 'RPC request bodies use all buffer space' });
            req.end(padded(1_000).slice(900));
          }, reject);
        };
        second();
      });
    });
    expect(await held).toBe(200);
    expect((await http(port, { body: padded(1_000) })).status).toBe(200);
  });

  it('counts the budget inclusively: a body that fills it exactly is taken', async () => {
    const port = await server({ maxBufferedBytes: 1_024 }).listen();
    expect((await http(port, { body: padded(1_024), chunked: true })).status).toBe(200);
    expect((await http(port, { body: padded(1_024), chunked: true })).status).toBe(200);
  });

  it('refuses a declared oversize body before reading it, and closes the connection after each refusal', async () => {
    const port = await server().listen();
    // Headers only, the body never sent: the answer cannot wait for it.
    const early = await keepAlivePost(port, { 'content-length': '5000' });
    expect(early).toMatchObject({ status: 413, body: 'body limit is 1024 bytes' });
    await early.closed; // closed by the server, though the client asked to keep it alive
  });

  it('closes the connection after a streamed refusal, and ignores the rest of that body', async () => {
    const port = await server().listen();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', agent: false, headers: { authorization: AUTH } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
      );
      // Many chunks past the limit: the server must answer once and drop the rest.
      for (let i = 0; i < 64; i++) req.write('x'.repeat(4_096));
      req.end();
    });
    expect(status).toBe(413);
    expect((await http(port, { body: padded(60) })).status).toBe(200);
  });

  it('answers 503 with a closed connection when maxConcurrent requests are running', async () => {
    const { server: s, started, gate } = setup();
    const port = await s.listen();
    const held = send(port, 'late');
    await started.promise;
    const busy = await keepAlivePost(port, {}, padded(60));
    expect(busy).toMatchObject({ status: 503, body: 'too many RPC requests at once' });
    await busy.closed; // closed by the server, though the client asked to keep it alive
    gate.resolve();
    expect(await held.answered).toMatch(/^200 /);
  });

  it('answers 500 when the dispatcher itself fails, and nothing to a client that left meanwhile', async () => {
    const port = await server().listen();
    const r = await http(port, { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'circular' }) });
    expect(r.status).toBe(500);
    expect((await http(port, { body: padded(60) })).status).toBe(200);
    // The client leaves while the method runs; its failure must not be written to the dead request.
    const left = new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        agent: false,
        headers: { authorization: AUTH },
      });
      req.on('error', () => resolve());
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'circularLater' }), () =>
        setImmediate(() => req.destroy()),
      );
    });
    await left;
    // A full exchange on a new connection after the reset: by then the server has read it.
    expect((await http(port, { body: padded(60) })).status).toBe(200);
    circularGate.resolve();
    expect((await http(port, { body: padded(60) })).status).toBe(200);
  });

  it('closes the connection after a streamed body goes over the limit', async () => {
    const port = await server().listen();
    const over = await keepAlivePost(port, { 'transfer-encoding': 'chunked' }, padded(1_025));
    expect(over).toMatchObject({ status: 413, body: 'body limit is 1024 bytes' });
    await over.closed;
  });

  it('can be closed before it ever listened', () => {
    expect(() => server().close()).not.toThrow();
  });

  it('answers 405 with Allow: POST to other methods on unrouted paths', async () => {
    const port = await server().listen();
    const r = await http(port, { method: 'PUT', body: padded(50) });
    expect(r).toMatchObject({ status: 405, body: 'use POST with a JSON-RPC body' });
    expect(r.headers['allow']).toBe('POST');
    expect((await http(port, { method: 'GET', path: '/nowhere' })).status).toBe(405);
  });

  it('serves GET routes behind credentials, public ones without, and a failing route as 500', async () => {
    const slow = deferred();
    const slowBroken = deferred();
    const port = await server({
      getRoutes: {
        '/metrics': () => ({ contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }),
        '/broken': () => Promise.reject(new Error('no')),
        '/slow': () => slow.promise.then(() => ({ contentType: 'text/plain', body: 'late' })),
        '/slow-broken': () => slowBroken.promise.then(() => Promise.reject(new Error('late'))),
      },
      publicGetRoutes: { '/page': async () => ({ contentType: 'text/html', body: '<p>hi</p>' }) },
    }).listen();
    const m = await http(port, { method: 'GET', path: '/metrics' });
    expect(m).toMatchObject({ status: 200, body: 'up 1\n' });
    expect(m.headers['content-type']).toBe('text/plain; version=0.0.4');
    expect(
      (await http(port, { method: 'GET', path: '/metrics', auth: basicAuthHeader('u', 'x') })).status,
    ).toBe(401);
    expect((await http(port, { method: 'GET', path: '/metrics', auth: null })).status).toBe(401);
    expect(await http(port, { method: 'GET', path: '/page', auth: null })).toMatchObject({
      status: 200,
      body: '<p>hi</p>',
    });
    expect((await http(port, { method: 'GET', path: '/broken' })).status).toBe(500);
    // A client that leaves before a route answers: the late answer (or failure) is dropped, and
    // the server keeps serving.
    for (const path of ['/slow', '/slow-broken']) {
      const left = new Promise<void>((resolve) => {
        const req = request({
          host: '127.0.0.1',
          port,
          method: 'GET',
          path,
          agent: false,
          headers: { authorization: AUTH },
        });
        req.on('error', () => resolve());
        req.end(() => setImmediate(() => req.destroy()));
      });
      await left;
    }
    // A full exchange on a new connection after the resets: by then the server has read them.
    expect((await http(port, { method: 'GET', path: '/metrics' })).status).toBe(200);
    slow.resolve();
    slowBroken.resolve();
    expect(await http(port, { method: 'GET', path: '/metrics' })).toMatchObject({
      status: 200,
      body: 'up 1\n',
    });
  });

  it('refuses to start on an address it cannot bind, naming it', async () => {
    const s = server({ host: '203.0.113.7', port: 24999 });
    await expect(s.listen()).rejects.toMatchObject({
      code: 'RPC_LISTEN_FAILED',
      message: 'RPC_LISTEN_FAILED: cannot listen for RPC on 203.0.113.7:24999',
      details: { host: '203.0.113.7', port: 24999 },
    });
  });

  it('stops accepting connections at close()', async () => {
    const s = server();
    const port = await s.listen();
    expect((await http(port, { body: padded(60) })).status).toBe(200);
    s.close();
    await expect(http(port, { body: padded(60) })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
