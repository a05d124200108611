import { connect, type Socket } from 'node:net';

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
      let buf: Buffer = Buffer.alloc(0);
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
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /content-length: *(\d+)/i.exec(head);
          const len = m ? Number(m[1]) : 0;
          if (buf.length < end + 4 + len) return;
          const status = Number(head.slice(9, 12));
          o.onResponse?.(status, buf.subarray(end + 4, end + 4 + len).toString('utf8'));
          buf = buf.subarray(end + 4 + len);
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

/** A POST / request with a JSON body and Basic credentials, as raw bytes. */
export function rpcRequest(authorization: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`,
      'latin1',
    ),
    b,
  ]);
}
