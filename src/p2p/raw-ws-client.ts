import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { decodeFrame, encodeMessage } from '../wire/codec.js';
import { type Auth, type Hello, MSG, type WireMessage } from '../wire/message-types.js';
import { peekType } from '../wire/peek-type.js';
import { type LocalIdentity, makeAuth, makeHello, verifyAuth } from './handshake.js';
import { dialerSecureContext, endpointHashOf } from './tls-certificate.js';

/** A received WebSocket frame. */
export interface RawFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

const OP = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** How a raw client connects. */
export interface RawConnectOptions {
  readonly timeoutMs?: number;
  /** Source address (any 127.x.y.z works on Linux loopback): lets tests act as many IPs. */
  readonly localAddress?: string;
  /** Plain TCP: only for the benchmarks' plaintext baseline (P2pNodeOptions.insecurePlaintext). */
  readonly plaintext?: boolean;
}

/**
 * A minimal RFC 6455 client over TLS (as every p2p connection is), for fuzzing, attacks and
 * benchmarks only: it can send frames no real client would (bad opcodes, unmasked, truncated,
 * oversized) before or after authenticating, and in counting mode receive server frames with no
 * per-frame JavaScript work (a peer that is never the bottleneck).
 */
export class RawWsClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters: ((f: RawFrame) => boolean)[] = [];
  readonly frames: RawFrame[] = [];
  /** Bytes received after the upgrade (all frames, headers included). */
  bytesReceived = 0;
  /** When true, frames are not parsed: only bytesReceived grows (benchmark receivers). */
  countOnly = false;
  closeCode = 0;
  closeReason = '';
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    /** SHA-256 of the server's TLS certificate (the channel binding a handshake must sign). */
    readonly channelBinding: Uint8Array,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {
      // a reset by the server is an expected outcome in fuzzing; 'close' follows
    });
  }

  static connect(
    host: string,
    port: number,
    path: string,
    opts: RawConnectOptions = {},
  ): Promise<RawWsClient> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const local = opts.localAddress ? { localAddress: opts.localAddress } : {};
      const socket: Socket = opts.plaintext
        ? netConnect({ host, port, ...local })
        : tlsConnect({
            host,
            port,
            rejectUnauthorized: false,
            minVersion: 'TLSv1.3',
            secureContext: dialerSecureContext(),
            ...local,
          });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('upgrade timeout'));
      }, timeoutMs);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!status.includes(' 101 ')) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${status}`));
          return;
        }
        const cert = opts.plaintext ? undefined : (socket as TLSSocket).getPeerX509Certificate();
        const client = new RawWsClient(socket, cert ? endpointHashOf(cert.raw) : new Uint8Array(32));
        socket.on('data', (d: Buffer) => client.onData(d));
        const rest = head.subarray(end + 4);
        if (rest.length) client.onData(rest);
        resolve(client);
      };
      socket.on('data', onData);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once(opts.plaintext ? 'connect' : 'secureConnect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  /** Builds one frame; by default a masked, final, binary frame as a client must send. */
  static frame(payload: Uint8Array, opts: { opcode?: number; mask?: boolean; fin?: boolean } = {}): Buffer {
    const { opcode = OP.binary, mask = true, fin = true } = opts;
    const len = payload.length;
    const ext = len < 126 ? 0 : len < 65_536 ? 2 : 8;
    const header = Buffer.alloc(2 + ext + (mask ? 4 : 0));
    header[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
    header[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
    if (ext === 2) header.writeUInt16BE(len, 2);
    if (ext === 8) header.writeBigUInt64BE(BigInt(len), 2);
    const body = Buffer.from(payload);
    if (mask) {
      const key = randomBytes(4);
      key.copy(header, 2 + ext);
      for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
    }
    return Buffer.concat([header, body]);
  }

  /** Sends raw bytes; resolves once the socket accepted them (respecting TCP backpressure). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.socket.write(bytes)) resolve();
      else {
        const done = () => {
          this.socket.off('close', done);
          this.socket.off('drain', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      }
    });
  }

  send(msg: WireMessage): Promise<void> {
    return this.write(RawWsClient.frame(encodeMessage(msg)));
  }

  /** Resolves with the first frame (already received or future) matching `pred`. */
  waitFor(pred: (f: RawFrame) => boolean, timeoutMs = 5_000): Promise<RawFrame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('frame not received in time')), timeoutMs);
      this.waiters.push((f) => {
        if (!pred(f)) return false;
        clearTimeout(timer);
        resolve(f);
        return true;
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    if (this.countOnly) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const f = this.parse();
      if (!f) return;
      if (f.opcode === OP.ping) void this.write(RawWsClient.frame(f.payload, { opcode: OP.pong }));
      if (f.opcode === OP.close) {
        this.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        this.closeReason = f.payload.subarray(2).toString('utf8');
        // Complete the closing handshake so the server releases the socket at once.
        void this.write(RawWsClient.frame(f.payload.subarray(0, 2), { opcode: OP.close }));
        this.socket.end();
      }
      this.frames.push(f);
      for (let i = 0; i < this.waiters.length; i++) {
        if (this.waiters[i]!(f)) this.waiters.splice(i--, 1);
      }
    }
  }

  private parse(): RawFrame | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    let len = b[1]! & 0x7f;
    let pos = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      pos = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      len = Number(b.readBigUInt64BE(2));
      pos = 10;
    }
    if (b.length < pos + len) return undefined;
    const frame = { opcode: b[0]! & 0x0f, payload: b.subarray(pos, pos + len) };
    this.buf = b.subarray(pos + len);
    return frame;
  }
}

/** Decodes a received binary frame as a wire message (undefined when it is not one). */
export function messageOf(f: RawFrame): WireMessage | undefined {
  if (f.opcode !== OP.binary) return undefined;
  try {
    const frame = new Uint8Array(f.payload);
    const t = peekType(frame);
    return decodeFrame(frame, t === MSG.hello || t === MSG.auth ? 'handshake' : 'authenticated');
  } catch {
    return undefined;
  }
}

/**
 * Completes the handshake as a dialer with `identity`: Hello, the listener's Hello, our Auth over
 * the TLS-bound transcript, then the listener's Auth — which it sends only after verifying ours and
 * giving us a slot, so it is the proof we are authenticated — verified as a node dialer does
 * (throws if it does not verify). Returns the listener's Hello.
 * `binding` overrides the channel binding we sign (a relay attacker signs the one it was given).
 */
export async function authenticateRaw(
  client: RawWsClient,
  identity: LocalIdentity,
  timeoutMs = 5_000,
  binding: Uint8Array = client.channelBinding,
): Promise<Hello> {
  const ours = makeHello(identity);
  await client.send(ours);
  const helloFrame = await client.waitFor(
    (f) => messageOf(f)?.t === MSG.hello || f.opcode === OP.close,
    timeoutMs,
  );
  if (client.closeCode) throw new Error(`refused: ${client.closeCode} ${client.closeReason}`);
  const theirHello = messageOf(helloFrame) as Hello;
  await client.send(makeAuth(identity, 'dialer', { dialer: ours, listener: theirHello, binding }));
  const authFrame = await client.waitFor(
    (f) => messageOf(f)?.t === MSG.auth || f.opcode === OP.close,
    timeoutMs,
  );
  if (client.closeCode) throw new Error(`refused: ${client.closeCode} ${client.closeReason}`);
  // The listener signed the channel as it sees it; a dialer that did not check this would accept
  // anyone who answers with that Hello.
  const theirs = { dialer: ours, listener: theirHello, binding: client.channelBinding };
  if (!verifyAuth(identity, 'listener', theirs, messageOf(authFrame) as Auth)) {
    throw new Error("the listener's Auth does not verify");
  }
  return theirHello;
}
