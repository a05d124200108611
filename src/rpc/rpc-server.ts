import { type HttpResponse, loadUws, type TemplatedApp, type us_listen_socket } from '../p2p/uws.js';
import { CodedError } from '../util/coded-error.js';
import type { RpcContext, RpcDispatcher } from './json-rpc.js';
import type { RpcAuth } from './rpc-auth.js';

export class RpcListenError extends CodedError<'RPC_LISTEN_FAILED'> {}

/** A GET route next to JSON-RPC (e.g. /metrics): returns the body and its content type. */
export type GetRoute = () =>
  | Promise<{ contentType: string; body: string }>
  | { contentType: string; body: string };

export interface RpcServerOptions {
  readonly host: string;
  /** 0 = ephemeral (the bound port is returned by listen()). */
  readonly port: number;
  readonly auth: RpcAuth;
  readonly dispatcher: RpcDispatcher;
  /** Largest accepted request body; bigger ones get HTTP 413 and the connection is closed. */
  readonly maxBodyBytes: number;
  /** Requests being handled at once; more get HTTP 503. */
  readonly maxConcurrent: number;
  /** Request body bytes held at once over all requests; beyond it HTTP 503 (bounds memory). */
  readonly maxBufferedBytes?: number;
  readonly getRoutes?: Readonly<Record<string, GetRoute>>;
  /**
   * GET routes served WITHOUT credentials (the local devnet dashboard's page, scripts and read-only
   * state): only ever registered when the RPC port is bound to loopback (NodeConfigSchema checks).
   */
  readonly publicGetRoutes?: Readonly<Record<string, GetRoute>>;
  /** Lets a uWS app owner add more routes (the events WebSocket) before listening. */
  readonly extend?: (app: TemplatedApp) => void;
}

/**
 * JSON-RPC over HTTP on uWebSockets.js (DESIGN §9), in the node process: POST any path with a
 * JSON-RPC body; HTTP Basic auth (cookie or configured credentials) on every request; a body limit
 * and a concurrency limit so a client cannot make the node hold unbounded memory. The dispatcher
 * turns every bad request into a JSON-RPC error object; HTTP errors are for what never reaches it
 * (401 no credentials, 413 too big, 503 too many at once, 405 wrong method).
 */
export class RpcServer {
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private active = 0;
  private buffered = 0;
  port = 0;

  constructor(private readonly o: RpcServerOptions) {}

  async listen(): Promise<number> {
    const uws = loadUws();
    const app = uws.App();
    this.app = app;
    app.post('/*', (res, req) =>
      this.onPost(res, req.getHeader('authorization'), req.getHeader('content-length')),
    );
    for (const [path, route] of Object.entries(this.o.getRoutes ?? {})) {
      app.get(path, (res, req) => this.onGet(res, req.getHeader('authorization'), route));
    }
    for (const [path, route] of Object.entries(this.o.publicGetRoutes ?? {})) {
      app.get(path, (res) => this.onGet(res, null, route));
    }
    this.o.extend?.(app);
    app.any('/*', (res) => {
      res.cork(() =>
        res
          .writeStatus('405 Method Not Allowed')
          .writeHeader('Allow', 'POST')
          .end('use POST with a JSON-RPC body'),
      );
    });
    const token = await new Promise<us_listen_socket | false>((resolve) =>
      app.listen(this.o.host, this.o.port, (t) => resolve(t)),
    );
    if (!token)
      throw new RpcListenError(
        'RPC_LISTEN_FAILED',
        `cannot listen for RPC on ${this.o.host}:${this.o.port}`,
        {
          host: this.o.host,
          port: this.o.port,
        },
      );
    this.listenSocket = token;
    this.port = uws.us_socket_local_port(token);
    return this.port;
  }

  /** Stops listening and ends waiting requests (their handlers see an aborted signal). */
  close(): void {
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    // Closing the app ends every open request through its onAborted: waiting methods see the abort.
    this.app?.close();
  }

  private unauthorized(res: HttpResponse): void {
    res.cork(() =>
      res.writeStatus('401 Unauthorized').writeHeader('WWW-Authenticate', 'Basic realm="timecoin-rpc"').end(),
    );
  }

  /** `authorization` null: a public route, no credentials checked. */
  private onGet(res: HttpResponse, authorization: string | null, route: GetRoute): void {
    if (authorization !== null && !this.o.auth.check(authorization)) {
      this.unauthorized(res);
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    Promise.resolve()
      .then(route)
      .then(
        ({ contentType, body }) => {
          if (!aborted)
            res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', contentType).end(body));
        },
        () => {
          if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
        },
      );
  }

  private onPost(res: HttpResponse, authorization: string, contentLength: string): void {
    if (!this.o.auth.check(authorization)) {
      this.unauthorized(res);
      return;
    }
    const max = this.o.maxBodyBytes;
    if (contentLength !== '' && Number(contentLength) > max) {
      res.cork(() => res.writeStatus('413 Payload Too Large').end(`body limit is ${max} bytes`, true));
      return;
    }
    if (this.active >= this.o.maxConcurrent) {
      res.cork(() => res.writeStatus('503 Service Unavailable').end('too many RPC requests at once', true));
      return;
    }
    // The slot is held until the request is answered, refused, or aborted before it reached the
    // dispatcher; once dispatched, until handleBody settles even if the client left (the work goes
    // on until the handlers see the abort, and it must count against maxConcurrent meanwhile).
    this.active++;
    const abort = new RequestAbort();
    let finished = false;
    let aborted = false;
    let dispatched = false;
    const done = () => {
      if (finished) return false;
      finished = true;
      this.active--;
      return true;
    };
    const chunks: Buffer[] = [];
    let size = 0;
    const bufferLimit = this.o.maxBufferedBytes ?? 64 * 1024 * 1024;
    const release = () => {
      this.buffered -= size;
      size = 0;
    };
    res.onAborted(() => {
      aborted = true;
      abort.abort();
      release();
      if (!dispatched) done();
    });
    res.onData((chunk, isLast) => {
      if (finished || aborted) return;
      size += chunk.byteLength;
      this.buffered += chunk.byteLength;
      if (size > max || this.buffered > bufferLimit) {
        const tooBig = size > max;
        release();
        done();
        res.cork(() =>
          tooBig
            ? res.writeStatus('413 Payload Too Large').end(`body limit is ${max} bytes`, true)
            : res.writeStatus('503 Service Unavailable').end('RPC request bodies use all buffer space', true),
        );
        return;
      }
      // uWS reuses the chunk's memory after this callback: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const body = Buffer.concat(chunks).toString('utf8');
      chunks.length = 0;
      release();
      dispatched = true;
      this.o.dispatcher.handleBody(body, abort).then(
        (out) => {
          if (!done() || aborted) return;
          res.cork(() => {
            if (out === null) res.writeStatus('204 No Content').end();
            else res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(out);
          });
        },
        () => {
          if (done() && !aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
        },
      );
    });
  }
}

/**
 * One request's RpcContext, its abort signal made only when a method asks for it (a wait such as
 * waittransactionfinality): most requests never wait, and an AbortController per request was ~3 %
 * of the RPC thread under sendrawtransaction load. Aborted before anyone asked, the signal is
 * born aborted.
 */
class RequestAbort implements RpcContext {
  private controller: AbortController | undefined;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    this.aborted = true;
    this.controller?.abort();
  }
}
