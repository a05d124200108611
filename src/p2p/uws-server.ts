import { MAX_FRAME_BYTES } from '../wire/limits.js';
import type { Link, LinkHandler } from './link.js';
import { loadUws, type us_listen_socket, type WebSocket } from './uws.js';

/** Server limits (DESIGN §7). */
export interface UwsServerOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly path: string;
  /** Seconds without any received data before uWS closes; pings are sent automatically before it. */
  readonly idleTimeoutSec: number;
  /** Bytes queued for one peer beyond which the connection is closed (closeOnBackpressureLimit). */
  readonly maxBackpressure: number;
  /** Connections that have not finished the handshake; more are refused at the HTTP upgrade. */
  readonly maxPendingUpgrades: () => boolean;
  /** Makes the protocol handler for a new inbound link. */
  readonly accept: (link: Link) => LinkHandler;
}

interface SocketData {
  link?: UwsLink;
}

/** An inbound uWS socket as a Link. uWS forbids touching a socket after its close event. */
class UwsLink implements Link {
  readonly direction = 'inbound';
  handler: LinkHandler | undefined;
  private open = true;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly remoteHost: string,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(frame: Uint8Array): boolean {
    if (!this.open) return false;
    // 1 sent, 0 queued (backpressure building, still delivered), 2 dropped at the limit.
    return this.ws.send(frame, true, false) !== 2;
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.ws.end(code, reason);
  }

  markClosed(): void {
    this.open = false;
  }
}

/** The inbound side: one uWS app, one WebSocket route, compression off. */
export class UwsServer {
  private listenSocket: us_listen_socket | undefined;
  port = 0;

  constructor(private readonly opts: UwsServerOptions) {}

  async listen(): Promise<number> {
    const uws = loadUws();
    const app = uws.App();
    const opts = this.opts;
    app.ws<SocketData>(opts.path, {
      compression: uws.DISABLED,
      maxPayloadLength: MAX_FRAME_BYTES,
      idleTimeout: opts.idleTimeoutSec,
      sendPingsAutomatically: true,
      maxBackpressure: opts.maxBackpressure,
      // Typed as a number in this package's .d.ts; the native side reads it as a boolean flag.
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        if (!opts.maxPendingUpgrades()) {
          res.writeStatus('503 Service Unavailable').end('too many pending connections');
          return;
        }
        res.upgrade<SocketData>(
          {},
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const host = Buffer.from(ws.getRemoteAddressAsText()).toString('utf8');
        const link = new UwsLink(ws, host);
        ws.getUserData().link = link;
        link.handler = opts.accept(link);
      },
      message: (ws, message, isBinary) => {
        const link = ws.getUserData().link;
        if (!link?.handler) return;
        // uWS reuses `message` after this callback returns: copy before decoding (decoded byte
        // strings are views of the frame).
        if (isBinary) link.handler.onFrame(new Uint8Array(message.slice(0)));
        else link.handler.onTextFrame();
      },
      close: (ws, code, message) => {
        const link = ws.getUserData().link;
        if (!link) return;
        link.markClosed();
        link.handler?.onClose(code, Buffer.from(message).toString('utf8'));
      },
    });
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').end('timecoin p2p: connect with WebSocket to the p2p path');
    });
    return new Promise((resolve, reject) => {
      app.listen(opts.host, opts.port, (token) => {
        if (!token) return reject(new Error(`cannot listen on ${opts.host}:${opts.port}`));
        this.listenSocket = token;
        this.port = uws.us_socket_local_port(token);
        resolve(this.port);
      });
    });
  }

  /** Stops accepting; existing sockets are closed by the caller. */
  close(): void {
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }
}
