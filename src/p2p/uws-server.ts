import { CodedError } from '../util/coded-error.js';
import { MAX_FRAME_BYTES } from '../wire/limits.js';
import { normalizeIp } from './ip-address.js';
import type { Link, LinkHandler } from './link.js';
import type { TlsMaterial } from './tls-certificate.js';
import { loadUws, type TemplatedApp, type us_listen_socket, type WebSocket } from './uws.js';
import { UwsWriteDeferral } from './uws-write-deferral.js';

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
  /**
   * Our certificate: TLS terminates in uWS (C++), so `publish` still encrypts per socket natively.
   * Undefined only for the benchmarks' plaintext baseline (P2pNodeOptions.insecurePlaintext).
   */
  readonly tls: TlsMaterial | undefined;
  /**
   * Admission at the HTTP upgrade, before any JavaScript state exists for the connection: null
   * admits, a string refuses with 503 and that reason (IP banned, or an IP over its own pending share).
   */
  readonly admit: (ip: string) => string | null;
  /** How long to keep retrying a fixed port that is still taken (0: fail at once). */
  readonly listenRetryMs: number;
  readonly onListenRetry?: (attempt: number) => void;
  /** Makes the protocol handler for a new inbound link. */
  readonly accept: (link: Link) => LinkHandler;
}

/** The listen port could not be bound. */
export class P2pListenError extends CodedError<'P2P_LISTEN_FAILED'> {}

/** Topic every authenticated inbound peer joins (see Link.joinBroadcast). */
const BROADCAST_TOPIC = 'broadcast';

interface SocketData {
  ip: string;
  link?: UwsLink;
}

/**
 * An inbound uWS socket as a Link. uWS forbids touching a socket after its close event; writes go
 * through the server's UwsWriteDeferral (never inside uWS's read loop).
 */
class UwsLink implements Link {
  readonly direction = 'inbound';
  handler: LinkHandler | undefined;
  /** Ours to use: false once we closed it or uWS reported it closed. */
  private open = true;
  /** uWS's: false from its close event on (deferred writes then have nowhere to go). */
  private alive = true;
  /** Bytes of deferred sends not yet handed to uWS (part of bufferedAmount). */
  private deferredBytes = 0;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly remoteHost: string,
    readonly channelBinding: Uint8Array,
    private readonly writes: UwsWriteDeferral,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(frame: Uint8Array): boolean {
    if (!this.open) return false;
    if (!this.writes.mustDefer) return this.sendNow(frame);
    // Queued: delivered unless the socket closes first (a drop at the backpressure limit closes it).
    this.deferredBytes += frame.length;
    this.writes.write(() => {
      this.deferredBytes -= frame.length;
      if (this.alive) this.sendNow(frame);
    });
    return true;
  }

  private sendNow(frame: Uint8Array): boolean {
    // 1 sent, 0 queued (backpressure building, still delivered), 2 dropped at the limit.
    return this.ws.send(frame, true, false) !== 2;
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    // After the sends queued before it (a Reject explaining the close goes first).
    this.writes.write(() => {
      if (this.alive) this.ws.end(code, reason);
    });
  }

  bufferedAmount(): number {
    return this.alive ? this.ws.getBufferedAmount() + this.deferredBytes : 0;
  }

  joinBroadcast(): void {
    if (this.open) this.ws.subscribe(BROADCAST_TOPIC);
  }

  leaveBroadcast(): void {
    if (this.open) this.ws.unsubscribe(BROADCAST_TOPIC);
  }

  markClosed(): void {
    this.open = false;
    this.alive = false;
  }
}

/** The inbound side: one uWS app, one WebSocket route, compression off. */
export class UwsServer {
  private listenSocket: us_listen_socket | undefined;
  private app: TemplatedApp | undefined;
  /** Every write this server makes while a uWS callback runs waits for the callback to end. */
  readonly writes = new UwsWriteDeferral();
  port = 0;

  constructor(private readonly opts: UwsServerOptions) {}

  async listen(): Promise<number> {
    const uws = loadUws();
    const tls = this.opts.tls;
    const app = tls
      ? uws.SSLApp({
          key_file_name: tls.keyFile,
          cert_file_name: tls.certFile,
          // SSL_MODE_RELEASE_BUFFERS: idle sockets give back their 2 × 16 KiB TLS buffers.
          ssl_prefer_low_memory_usage: true,
        })
      : uws.App();
    const binding = tls?.endpointHash ?? new Uint8Array(32);
    this.app = app;
    const opts = this.opts;
    app.ws<SocketData>(opts.path, {
      compression: uws.DISABLED,
      maxPayloadLength: MAX_FRAME_BYTES,
      idleTimeout: opts.idleTimeoutSec,
      sendPingsAutomatically: true,
      maxBackpressure: opts.maxBackpressure,
      closeOnBackpressureLimit: true,
      upgrade: (res, req, context) => {
        const ip = normalizeIp(Buffer.from(res.getRemoteAddressAsText()).toString('utf8')) ?? '';
        const refusal = opts.admit(ip);
        if (refusal !== null) {
          res.writeStatus('503 Service Unavailable').end(refusal, true);
          return;
        }
        res.upgrade<SocketData>(
          { ip },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) =>
        this.writes.during(() => {
          const link = new UwsLink(ws, ws.getUserData().ip, binding, this.writes);
          ws.getUserData().link = link;
          link.handler = opts.accept(link);
        }),
      message: (ws, message, isBinary) =>
        this.writes.during(() => {
          const link = ws.getUserData().link;
          if (!link?.handler || !link.isOpen) return;
          // Size rules first, on the length alone; then copy, because uWS reuses `message` after
          // this callback returns (and decoded byte strings are views of the frame).
          if (!link.handler.acceptsFrameOf(message.byteLength)) return;
          if (isBinary) link.handler.onFrame(new Uint8Array(message.slice(0)));
          else link.handler.onTextFrame();
        }),
      close: (ws, code, message) =>
        this.writes.during(() => {
          const link = ws.getUserData().link;
          if (!link) return;
          link.markClosed();
          link.handler?.onClose(code, Buffer.from(message).toString('utf8'));
        }),
    });
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').end('timecoin p2p: connect with WebSocket to the p2p path');
    });
    const deadline = Date.now() + opts.listenRetryMs;
    for (let attempt = 1; ; attempt++) {
      const token = await new Promise<us_listen_socket | false>((resolve) =>
        app.listen(opts.host, opts.port, (t) => resolve(t)),
      );
      if (token) {
        this.listenSocket = token;
        this.port = uws.us_socket_local_port(token);
        return this.port;
      }
      // uWS sets no SO_REUSEADDR: after a crash the port stays taken by TIME_WAIT sockets for up to
      // 60 s on Linux. A fixed port is retried until listenRetryMs instead of failing the restart.
      if (opts.port === 0 || Date.now() >= deadline) {
        throw new P2pListenError('P2P_LISTEN_FAILED', `cannot listen on ${opts.host}:${opts.port}`, {
          host: opts.host,
          port: opts.port,
          attempts: attempt,
        });
      }
      opts.onListenRetry?.(attempt);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  /** Stops accepting; existing sockets are closed by the caller. */
  /** Sends one frame to every inbound peer that joined the broadcast topic. */
  publish(frame: Uint8Array): void {
    this.writes.write(() => this.app?.publish(BROADCAST_TOPIC, frame, true, false));
  }

  /** Inbound peers in the broadcast topic. */
  broadcastPeers(): number {
    return this.app?.numSubscribers(BROADCAST_TOPIC) ?? 0;
  }

  close(): void {
    this.writes.clear();
    if (this.listenSocket) loadUws().us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }
}
