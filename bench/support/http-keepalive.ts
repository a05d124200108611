import { connect, type Socket } from 'node:net';
import { HttpResponseReader } from '../../src/devnet/http-response-reader.js';

export { rpcRequest } from '../../src/devnet/http-response-reader.js';

/**
 * A minimal HTTP/1.1 keep-alive load client for RPC benchmarks: `clients` TCP connections, each
 * sending one request, reading its whole response (Content-Length framed, as uWS answers), then
 * the next. A full HTTP client (fetch/undici) costs more CPU per request than the uWS server
 * does to answer it, so on a 2-core machine it would measure itself instead of the node.
 */
export async function keepAliveLoad(o: {
  port: number;
  clients: number;
  durationMs: number;
  /** The raw request bytes for request number i (from 0), or null when there are no more. */
  request: (i: number) => Buffer | null;
  /** Called with each response's status and body (checked by the caller). */
  onResponse?: (status: number, body: string) => void;
}): Promise<{ done: number; ms: number; latenciesMs: number[] }> {
  let next = 0;
  let done = 0;
  const latenciesMs: number[] = [];
  const start = performance.now();
  const deadline = start + o.durationMs;
  const one = (sock: Socket) =>
    new Promise<void>((resolve, reject) => {
      let sentAt = 0;
      const send = () => {
        const req = performance.now() < deadline ? o.request(next) : null;
        if (req === null) {
          sock.end();
          resolve();
          return;
        }
        next++;
        sentAt = performance.now();
        sock.write(req);
      };
      const reader = new HttpResponseReader();
      sock.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        for (let r = reader.next(); r !== undefined; r = reader.next()) {
          o.onResponse?.(r.status, r.body);
          done++;
          latenciesMs.push(performance.now() - sentAt);
          send();
        }
      });
      sock.on('error', reject);
      sock.on('connect', send);
    });
  await Promise.all(
    Array.from({ length: o.clients }, () => one(connect({ host: '127.0.0.1', port: o.port, noDelay: true }))),
  );
  return { done, ms: performance.now() - start, latenciesMs };
}
