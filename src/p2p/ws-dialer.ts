import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../wire/limits.js';
import type { Link, LinkHandler } from './link.js';
import { dialerSecureContext, endpointHashOf } from './tls-certificate.js';

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** HTTP upgrade must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** A ping every interval; no pong by the next one closes the link. */
  readonly pingIntervalMs: number;
  /** Queued bytes beyond which the link is closed (mirrors uWS closeOnBackpressureLimit). */
  readonly maxBackpressure: number;
  /** false only for the benchmarks' plaintext baseline (P2pNodeOptions.insecurePlaintext). */
  readonly tls: boolean;
}

/** An outbound `ws` client over TLS as a Link. */
class WsLink implements Link {
  readonly direction = 'outbound';
  private open = true;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteHost: string,
    readonly channelBinding: Uint8Array,
    private readonly maxBackpressure: number,
  ) {}

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  pauseReading(): void {
    if (this.isOpen) this.ws.pause();
  }

  resumeReading(): void {
    if (this.isOpen) this.ws.resume();
  }

  get isOpen(): boolean {
    return this.open && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Uint8Array): boolean {
    if (!this.isOpen) return false;
    if (this.ws.bufferedAmount > this.maxBackpressure) {
      this.close(1008, 'backpressure limit');
      return false;
    }
    this.ws.send(frame, { binary: true, compress: false });
    return true;
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    else this.ws.terminate();
  }
}

/**
 * Dials a peer over TLS. The server's certificate is not checked against any authority (peers have
 * self-signed certificates): its SHA-256 becomes the link's channel binding, and the node key's
 * signature over a transcript containing it is what authenticates the peer. Resolves once the
 * WebSocket is open and `attach` has given it a handler; rejects when TCP, TLS or the HTTP upgrade
 * fails. Errors after that arrive as the handler's onClose.
 */
export function dial(opts: DialOptions, attach: (link: Link) => LinkHandler): Promise<Link> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${opts.tls ? 'wss' : 'ws'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}${opts.path}`,
      {
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES,
        handshakeTimeout: opts.handshakeTimeoutMs,
        skipUTF8Validation: false,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
        // ws hands its options to tls.connect (its typings omit secureContext)
        ...({ secureContext: dialerSecureContext() } as object),
      },
    );
    ws.binaryType = 'nodebuffer';
    let handler: LinkHandler | undefined;
    let link: WsLink | undefined;
    let binding: Uint8Array | undefined;
    let alive = true;
    let pinger: NodeJS.Timeout | undefined;
    ws.on('upgrade', (res) => {
      const cert = (res.socket as TLSSocket).getPeerX509Certificate?.();
      if (cert) binding = endpointHashOf(cert.raw);
    });
    ws.on('open', () => {
      if (!opts.tls) binding = new Uint8Array(32);
      if (!binding) {
        ws.terminate();
        return;
      }
      link = new WsLink(ws, opts.host, binding, opts.maxBackpressure);
      handler = attach(link);
      pinger = setInterval(() => {
        if (!alive) {
          ws.terminate(); // close event follows with 1006
          return;
        }
        alive = false;
        ws.ping();
      }, opts.pingIntervalMs);
      pinger.unref?.();
      resolve(link);
    });
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      alive = true;
      if (!handler || !link?.isOpen) return;
      // ws hands us a fresh Buffer per message: it is ours to keep.
      if (!handler.acceptsFrameOf(data.length)) return;
      if (isBinary) handler.onFrame(data);
      else handler.onTextFrame();
    });
    // ws reports a frame over maxPayload as an error, then closes with 1006 (it drops the socket):
    // remember it, so the session sees 1009 and scores the sender as uWS's side does.
    let overCap = false;
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') overCap = true;
      if (!handler) reject(err);
      // otherwise 'close' follows and reports it
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (pinger) clearInterval(pinger);
      if (!handler) return reject(new Error(`closed before open: ${code} ${reason.toString('utf8')}`));
      if (overCap) handler.onClose(1009, 'Max payload size exceeded');
      else handler.onClose(code, reason.toString('utf8'));
    });
  });
}
