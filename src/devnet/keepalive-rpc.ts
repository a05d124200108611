import { connect, type Socket } from 'node:net';
import { HttpResponseReader, rpcRequest } from './http-response-reader.js';
import { RpcCallError } from './rpc-call-error.js';

/** The call never got an HTTP answer: the connection failed or closed under it. */
export class RpcConnectionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Job {
  readonly request: Buffer;
  /** Sent once already on a kept-alive connection that closed under it. */
  resent: boolean;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface Connection {
  readonly socket: Socket;
  readonly reader: HttpResponseReader;
  /** The request on the wire (one at a time per connection: no pipelining). */
  job: Job | undefined;
  /** Responses read so far: a reused connection may have been closed idle by the server. */
  served: number;
}

/**
 * JSON-RPC to one node over a few persistent HTTP/1.1 connections: the load generators' submit
 * path. fetch (undici) spent ~0.5 ms of CPU per call in the load process, more than the node spends
 * answering it, and on a shared 2-core machine that CPU is taken from the nodes being measured.
 * Calls queue FIFO for the first free connection; up to `maxConnections` are opened on demand and
 * reopened after a failure, so a restarted node on the same port is reached again. For idempotent
 * methods only (sendrawtransaction of a known transaction answers its txid): a call on a
 * kept-alive connection that the server closed under it (its idle timeout) is sent once more on a
 * fresh one. Any other connection failure rejects with RpcConnectionError; an RPC error answer
 * rejects with RpcCallError.
 */
export class KeepAliveRpc {
  private readonly idle: Connection[] = [];
  private readonly connections = new Set<Connection>();
  private readonly queue: Job[] = [];
  private open = 0;
  private closed = false;
  private nextId = 1;

  constructor(
    private readonly port: number,
    private readonly authorization: string,
    private readonly maxConnections = 8,
  ) {}

  call<T = unknown>(method: string, params: readonly unknown[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new RpcConnectionError('ECLOSED', 'RPC client closed'));
    const body = JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params });
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        request: rpcRequest(this.authorization, body),
        resent: false,
        resolve: resolve as (r: unknown) => void,
        reject,
      });
      this.pump();
    });
  }

  /** Ends every connection; queued and in-flight calls reject. */
  close(): void {
    this.closed = true;
    for (const c of this.connections) c.socket.destroy();
    this.idle.length = 0;
    for (const job of this.queue.splice(0))
      job.reject(new RpcConnectionError('ECLOSED', 'RPC client closed'));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let conn = this.idle.pop();
      if (!conn) {
        if (this.open >= this.maxConnections) return;
        // Written at once: the socket holds the bytes until it connects, and a refused connection
        // then fails this call instead of leaving it queued for the next attempt.
        conn = this.connect();
      }
      this.send(conn, this.queue.shift()!);
    }
  }

  private send(conn: Connection, job: Job): void {
    conn.job = job;
    conn.socket.write(job.request);
  }

  private connect(): Connection {
    this.open++;
    const socket = connect({ host: '127.0.0.1', port: this.port, noDelay: true });
    const conn: Connection = { socket, reader: new HttpResponseReader(), job: undefined, served: 0 };
    this.connections.add(conn);
    let failed = false;
    const fail = (code: string, message: string) => {
      if (failed) return;
      failed = true;
      this.open--;
      this.connections.delete(conn);
      const at = this.idle.indexOf(conn);
      if (at >= 0) this.idle.splice(at, 1);
      socket.destroy();
      const job = conn.job;
      conn.job = undefined;
      // A kept-alive connection the server closed as we wrote to it (its idle timeout): the
      // request went out on a connection that was fine a moment ago, so it goes once more on a
      // fresh one. A fresh connection that fails is the node's answer (down, restarting).
      if (job && conn.served > 0 && !job.resent && !this.closed) {
        job.resent = true;
        this.queue.unshift(job);
      } else job?.reject(new RpcConnectionError(code, message));
      // Waiting calls were never sent: they go out on a fresh connection (a restarted node).
      if (!this.closed) this.pump();
    };
    socket.on('data', (chunk: Buffer) => {
      conn.reader.push(chunk);
      for (let r = conn.reader.next(); r !== undefined; r = conn.reader.next()) {
        const job = conn.job;
        conn.job = undefined;
        conn.served++;
        if (!job) continue;
        settle(job, r.status, r.body);
      }
      if (!conn.job && !failed) this.release(conn);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'ESOCKET', err.message));
    socket.on('close', () => fail('ECONNRESET', 'RPC connection closed'));
    return conn;
  }

  /** A connection is free: it takes the next waiting call, or waits (closed if the client is). */
  private release(conn: Connection): void {
    if (this.closed) {
      conn.socket.destroy();
      return;
    }
    const job = this.queue.shift();
    if (job) this.send(conn, job);
    else this.idle.push(conn);
  }
}

function settle(job: Job, status: number, body: string): void {
  let parsed: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    job.reject(new Error(`HTTP ${status}: ${body.slice(0, 200)}`));
    return;
  }
  if (parsed.error) job.reject(new RpcCallError(parsed.error.code, parsed.error.message, parsed.error.data));
  else if (status !== 200) job.reject(new Error(`HTTP ${status}: ${body.slice(0, 200)}`));
  else job.resolve(parsed.result);
}
