import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../wire/limits.js';
import type { Link, LinkHandler } from './link.js';

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
}

/** An outbound `ws` client as a Link. */
class WsLink implements Link {
  readonly direction = 'outbound';
  private open = true;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteHost: string,
    private readonly maxBackpressure: number,
  ) {}

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
 * Dials a peer. Resolves once the WebSocket is open and `attach` has given it a handler; rejects
 * when the TCP/HTTP upgrade fails. Errors after that arrive as the handler's onClose.
 */
export function dial(opts: DialOptions, attach: (link: Link) => LinkHandler): Promise<Link> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}${opts.path}`,
      {
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES,
        handshakeTimeout: opts.handshakeTimeoutMs,
        skipUTF8Validation: false,
      },
    );
    ws.binaryType = 'nodebuffer';
    let handler: LinkHandler | undefined;
    let link: WsLink | undefined;
    let alive = true;
    let pinger: NodeJS.Timeout | undefined;
    ws.on('open', () => {
      link = new WsLink(ws, opts.host, opts.maxBackpressure);
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
      if (!handler) return;
      // ws hands us a fresh Buffer per message: it is ours to keep.
      if (isBinary) handler.onFrame(data);
      else handler.onTextFrame();
    });
    ws.on('error', (err) => {
      if (!handler) reject(err);
      // otherwise 'close' follows and reports it
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (pinger) clearInterval(pinger);
      if (!handler) return reject(new Error(`closed before open: ${code} ${reason.toString('utf8')}`));
      handler.onClose(code, reason.toString('utf8'));
    });
  });
}
