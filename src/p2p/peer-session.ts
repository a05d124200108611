import { randomBytes } from 'node:crypto';
import { toHex } from '../encoding/bytes.js';
import { decodeFrame, encodeMessage } from '../wire/codec.js';
import { NONCE_BYTES } from '../wire/limits.js';
import { type Hello, MSG, type WireMessage } from '../wire/message-types.js';
import { WireError } from '../wire/wire-error.js';
import { CLOSE, CLOSE_CODE_NAME, type CloseName, closeReason } from './close-codes.js';
import { checkHello, type LocalIdentity, makeAuth, makeHello, verifyAuth } from './handshake.js';
import type { Link, LinkHandler } from './link.js';
import { MisbehaviourScore, type Offence } from './misbehaviour.js';
import { PendingRequests, RequestError } from './pending-requests.js';
import { PeerRateLimiter, type RateLimit } from './rate-limits.js';

/** What a session needs from the node that owns it. */
export interface SessionHost {
  readonly identity: LocalIdentity;
  readonly rateLimits: Readonly<Record<number, RateLimit>>;
  readonly handshakeTimeoutMs: number;
  readonly scoreDecayPerSec: number;
  readonly banThreshold: number;
  readonly maxOutstandingRequests: number;
  now(): number;
  /** Called once the peer proved its key; returns a refusal to close the session instead. */
  onAuthenticated(session: PeerSession): { close: CloseName; reason: string } | null;
  onMessage(session: PeerSession, msg: WireMessage): void;
  /** Score reached the ban threshold: the host bans the identity (the session closes itself). */
  onBanworthy(session: PeerSession, offence: Offence, detail: string): void;
  /** Counters for operators (frames in, offences by kind). */
  count(name: string): void;
  onClosed(session: PeerSession, code: number, reason: string): void;
}

type State = 'handshake' | 'ready' | 'closed';

/**
 * One connection's protocol state: the Hello/Auth handshake, then validated messages with per-type
 * rate limits and a misbehaviour score. Every frame goes through decodeFrame before anything reads it.
 */
export class PeerSession implements LinkHandler {
  private state: State = 'handshake';
  private readonly ourNonce = new Uint8Array(randomBytes(NONCE_BYTES));
  private theirHello: Hello | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly limiter: PeerRateLimiter;
  private readonly score: MisbehaviourScore;
  readonly requests: PendingRequests<WireMessage>;
  /** Hex of the authenticated public key ('' until authenticated). */
  peerId = '';
  closeCode = 0;
  closeText = '';
  readonly openedAtMs: number;

  constructor(
    readonly link: Link,
    private readonly host: SessionHost,
  ) {
    this.openedAtMs = host.now();
    this.limiter = new PeerRateLimiter(host.rateLimits);
    this.score = new MisbehaviourScore(host.scoreDecayPerSec, this.openedAtMs);
    this.requests = new PendingRequests(host.maxOutstandingRequests);
    this.handshakeTimer = setTimeout(
      () => this.shutdown('handshakeTimeout', `no authenticated Hello within ${host.handshakeTimeoutMs} ms`),
      host.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref?.();
    this.send(makeHello(host.identity, this.ourNonce));
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** The peer's Hello (defined once the handshake has started on their side). */
  get hello(): Hello | undefined {
    return this.theirHello;
  }

  send(msg: WireMessage): boolean {
    if (this.state === 'closed') return false;
    return this.link.send(encodeMessage(msg));
  }

  /** Sends an already encoded frame (broadcast encodes once for all peers). */
  sendFrame(frame: Uint8Array): boolean {
    if (this.state !== 'ready') return false;
    return this.link.send(frame);
  }

  /** Sends a Reject with the close reason (best effort), then closes. */
  shutdown(name: CloseName, reason: string): void {
    if (this.state === 'closed') return;
    this.send({ t: MSG.reject, id: 0, code: CLOSE_CODE_NAME[name], reason: reason.slice(0, 256) });
    this.link.close(CLOSE[name], closeReason(`${CLOSE_CODE_NAME[name]}: ${reason}`));
  }

  onTextFrame(): void {
    this.offend('TEXT_FRAME', 'text frame');
  }

  onFrame(frame: Uint8Array): void {
    // Frames still in flight after we decided to close are dropped unread.
    if (this.state === 'closed' || !this.link.isOpen) return;
    this.host.count('framesIn');
    let msg: WireMessage;
    try {
      msg = decodeFrame(frame, this.state === 'handshake' ? 'handshake' : 'authenticated');
    } catch (err) {
      if (err instanceof WireError) {
        // Before the handshake there is no identity to score: an invalid frame ends the connection.
        if (this.state === 'handshake') this.shutdown('protocolViolation', err.message);
        else this.offend(err.code, err.message);
        return;
      }
      throw err;
    }
    if (this.state === 'handshake') {
      this.onHandshakeMessage(msg);
      return;
    }
    if (!this.limiter.allow(msg.t, this.host.now())) {
      this.offend('RATE_LIMITED', `type ${msg.t}`);
      return;
    }
    this.host.onMessage(this, msg);
  }

  /** Scores an offence; at the threshold the host bans the peer and we close. */
  offend(offence: Offence, detail: string): void {
    if (this.state === 'closed') return;
    this.host.count(offence);
    const score = this.score.add(offence, this.host.now());
    if (score < this.host.banThreshold) return;
    if (this.state === 'ready') this.host.onBanworthy(this, offence, detail);
    this.shutdown(this.state === 'ready' ? 'banned' : 'protocolViolation', `${offence}: ${detail}`);
  }

  private onHandshakeMessage(msg: WireMessage): void {
    if (msg.t === MSG.hello && !this.theirHello) {
      const refusal = checkHello(this.host.identity, msg);
      if (refusal) {
        this.shutdown(refusal.close, refusal.reason);
        return;
      }
      this.theirHello = msg;
      this.send(makeAuth(this.host.identity, msg));
      return;
    }
    if (msg.t === MSG.auth && this.theirHello) {
      if (!verifyAuth(this.host.identity, this.ourNonce, this.theirHello, msg)) {
        this.shutdown('badSignature', 'Auth signature does not verify for the announced key');
        return;
      }
      clearTimeout(this.handshakeTimer);
      this.peerId = toHex(this.theirHello.pubkey);
      const refusal = this.host.onAuthenticated(this);
      if (refusal) {
        this.shutdown(refusal.close, refusal.reason);
        return;
      }
      this.state = 'ready';
      return;
    }
    if (msg.t === MSG.reject) return; // the other side is refusing us; its close follows
    this.shutdown('protocolViolation', `message type ${msg.t} before the handshake completed`);
  }

  onClose(code: number, reason: string): void {
    if (this.state === 'closed') return;
    // uWS reports a frame over maxPayloadLength as 1006 'Received too big message', ws as 1009.
    if (this.state === 'ready' && (code === 1009 || reason === 'Received too big message')) {
      this.host.onBanworthy(this, 'FRAME_OVER_CAP', reason);
    }
    this.state = 'closed';
    this.closeCode = code;
    this.closeText = reason;
    clearTimeout(this.handshakeTimer);
    this.requests.failAll(new RequestError('P2P_PEER_GONE', `peer closed: ${code} ${reason}`, { code }));
    this.host.onClosed(this, code, reason);
  }
}
