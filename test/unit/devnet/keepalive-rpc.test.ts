import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpResponseReader, rpcRequest } from '../../../src/devnet/http-response-reader.js';
import { KeepAliveRpc, RpcConnectionError } from '../../../src/devnet/keepalive-rpc.js';
import { RpcCallError } from '../../../src/devnet/rpc-call-error.js';

type Handler = (body: { id: number; method: string; params: unknown[] }, res: ServerResponse) => void;

const servers: Server[] = [];
const clients: KeepAliveRpc[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

/** A real HTTP server on a free port, answering JSON-RPC with `handler`; counts connections. */
async function server(handler: Handler): Promise<{ port: number; sockets: Socket[]; auth: string[] }> {
  const sockets: Socket[] = [];
  const auth: string[] = [];
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    auth.push(req.headers.authorization ?? '');
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => handler(JSON.parse(data) as Parameters<Handler>[0], res));
  });
  s.on('connection', (sock) => sockets.push(sock));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, sockets, auth };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function client(port: number, connections?: number): KeepAliveRpc {
  const c = new KeepAliveRpc(port, 'Basic dGVzdDp0ZXN0', connections);
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('resolved'),
    (e: unknown) => e,
  );
}

describe('HttpResponseReader', () => {
  it('yields each Content-Length framed response once, across any split of the bytes', () => {
    const one = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    const two = 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\nX-A: b\r\n\r\nbye';
    const empty = 'HTTP/1.1 204 No Content\r\n\r\n';
    const all = Buffer.from(one + two + empty, 'latin1');
    for (let cut = 0; cut <= all.length; cut++) {
      const r = new HttpResponseReader();
      const got: { status: number; body: string }[] = [];
      for (const part of [all.subarray(0, cut), all.subarray(cut)]) {
        r.push(part);
        for (let x = r.next(); x !== undefined; x = r.next()) got.push(x);
      }
      expect(got).toEqual([
        { status: 200, body: 'hello' },
        { status: 503, body: 'bye' },
        { status: 204, body: '' },
      ]);
    }
  });

  it('reads a UTF-8 body by its byte length', () => {
    const body = Buffer.from('"€"', 'utf8');
    const r = new HttpResponseReader();
    r.push(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
    expect(r.next()).toEqual({ status: 200, body: '"€"' });
    expect(r.next()).toBeUndefined();
  });

  it('rpcRequest frames the body by its UTF-8 byte length with the credentials', () => {
    const raw = rpcRequest('Basic abc', '{"x":"€"}').toString('utf8');
    expect(raw).toContain('\r\nAuthorization: Basic abc\r\n');
    expect(raw).toContain(`\r\nContent-Length: ${Buffer.byteLength('{"x":"€"}')}\r\n`);
    expect(raw.endsWith('\r\n\r\n{"x":"€"}')).toBe(true);
    expect(raw.startsWith('POST / HTTP/1.1\r\n')).toBe(true);
  });
});

describe('KeepAliveRpc', () => {
  it('answers results and RPC errors, in the order each call asked, over at most N connections', async () => {
    const s = await server((b, res) => {
      if (b.method === 'fail')
        reply(res, 500, { jsonrpc: '2.0', id: b.id, error: { code: -25, message: 'no', data: 7 } });
      // Answer out of order: later calls sometimes finish first.
      else
        setTimeout(() => reply(res, 200, { jsonrpc: '2.0', id: b.id, result: b.params[0] }), (b.id * 7) % 5);
    });
    const c = client(s.port, 3);
    const calls = Array.from({ length: 40 }, (_, i) => c.call<number>('echo', [i]));
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(s.sockets.length).toBeLessThanOrEqual(3);
    expect(s.sockets.length).toBeGreaterThan(1);
    expect(new Set(s.auth)).toEqual(new Set(['Basic dGVzdDp0ZXN0']));
    const err = await rejection(c.call('fail'));
    expect(err).toBeInstanceOf(RpcCallError);
    expect(err).toMatchObject({ code: -25, data: 7 });
  });

  it('rejects an answer that is not JSON or not 200 without a JSON-RPC error', async () => {
    const s = await server((b, res) => {
      if (b.method === 'html') {
        res.writeHead(401, { 'content-length': 4 });
        res.end('nope');
      } else reply(res, 503, { jsonrpc: '2.0', id: b.id });
    });
    const c = client(s.port);
    expect(String(await rejection(c.call('html')))).toContain('HTTP 401: nope');
    expect(String(await rejection(c.call('busy')))).toContain('HTTP 503');
  });

  it('sends a call again once when the server closed a kept-alive connection under it', async () => {
    let n = 0;
    const s = await server((b, res) => {
      n++;
      // The second request arrives on a reused connection: the server drops it unanswered.
      if (n === 2) res.socket?.destroy();
      else reply(res, 200, { jsonrpc: '2.0', id: b.id, result: n });
    });
    const c = client(s.port, 1);
    expect(await c.call('a')).toBe(1);
    expect(await c.call('b')).toBe(3);
    expect(n).toBe(3);
    expect(s.sockets.length).toBe(2);
  });

  it('does not resend on a fresh connection, nor twice: the failure is the answer', async () => {
    let n = 0;
    const s = await server((_b, res) => {
      n++;
      res.socket?.destroy();
    });
    const c = client(s.port, 1);
    const err = await rejection(c.call('a'));
    expect(err).toBeInstanceOf(RpcConnectionError);
    expect(n).toBe(1);
  });

  it('rejects with RpcConnectionError when nothing listens, then reaches a server that came up', async () => {
    const s = await server((b, res) => reply(res, 200, { jsonrpc: '2.0', id: b.id, result: 'up' }));
    const port = s.port;
    const down = servers.pop()!;
    await new Promise((r) => down.close(r));
    const c = client(port);
    const err = await rejection(c.call('a'));
    expect(err).toBeInstanceOf(RpcConnectionError);
    expect((err as RpcConnectionError).code).toBe('ECONNREFUSED');
    // A node restarted on the same port: the next call opens a new connection.
    const again = createServer((req, res) => {
      let d = '';
      req.on('data', (x: Buffer) => {
        d += x.toString();
      });
      req.on('end', () => reply(res, 200, { jsonrpc: '2.0', id: JSON.parse(d).id, result: 'up' }));
    });
    servers.push(again);
    await new Promise<void>((r) => again.listen(port, '127.0.0.1', r));
    expect(await c.call('a')).toBe('up');
  });

  it('close() rejects waiting calls and every later one', async () => {
    const s = await server(() => {
      /* never answers */
    });
    const c = client(s.port, 1);
    const first = rejection(c.call('a'));
    const queued = rejection(c.call('b'));
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (s.sockets.length > 0) {
          clearInterval(t);
          r();
        }
      }, 1);
    });
    c.close();
    expect(await queued).toMatchObject({ code: 'ECLOSED' });
    expect(await rejection(c.call('c'))).toMatchObject({ code: 'ECLOSED' });
    s.sockets[0]!.destroy();
    expect(await first).toBeInstanceOf(RpcConnectionError);
  });
});
