import { randomBytes } from 'node:crypto';
import { toHex } from '../encoding/bytes.js';
import { decodeFrame, encodeMessage } from '../wire/codec.js';
import { NONCE_BYTES, PRE_AUTH_FRAME_LIMIT } from '../wire/limits.js';
import { type Auth, type Hello, MSG, type WireMessage } from '../wire/message-types.js';
import { WireError } from '../wire/wire-error.js';
import { CLOSE, CLOSE_CODE_NAME, type CloseName, closeReason } from './close-codes.js';
import {
  checkHello,
  type HandshakeRole,
  type HelloRefusal,
  type LocalIdentity,
  makeAuth,
  makeHello,
  type Transcript,
  verifyAuth,
} from './handshake.js';
import type { Link, LinkHandler } from './link.js';
import type { Offence } from './misbehaviour.js';
import { PendingRequests, RequestError } from './pending-requests.js';
import { PeerRateLimiter, type RateLimit } from './rate-limits.js';
import { TokenBucket } from './token-bucket.js';

/** Inbound byte budget of one peer (see docs/architecture.md "Byte budgets"). */
export interface InboundBudget {
  readonly bytesPerSec: number;
  /** Must be at least the largest frame (4 MiB), or a maximum-size Block could never pass. */
  readonly burstBytes: number;
  /** Frames waiting for budget beyond this many bytes close the link (4014 OVERLOADED). */
  readonly maxQueuedBytes: number;
  /** Requests from this peer being answered at once; beyond it frames wait in the queue. */
  readonly maxConcurrentRequests: number;
}

/** What a session needs from the node that owns it. */
export interface SessionHost {
  readonly identity: LocalIdentity;
  readonly rateLimits: Readonly<Record<number, RateLimit>>;
  readonly handshakeTimeoutMs: number;
  readonly maxOutstandingRequests: number;
  readonly inbound: InboundBudget;
  /** Shared by every peer: the node's total inbound bytes per second. */
  readonly totalInbound: TokenBucket;
  now(): number;
  /**
   * Their Hello passed the chain checks: the host refuses banned keys, handshake floods from one IP
   * and the like here, BEFORE any signature is made or checked.
   */
  onHello(session: PeerSession): HelloRefusal | null;
  /** Called once the peer proved its key; returns a refusal to close the session instead. */
  onAuthenticated(session: PeerSession): HelloRefusal | null;
  onMessage(session: PeerSession, msg: WireMessage): void;
  /** Scores an offence against the peer's key (if proven) and IP; may ban and close the session. */
  offend(session: PeerSession, offence: Offence, detail: string): void;
  /** Counters for operators (frames in, offences by kind). */
  count(name: string, n?: number): void;
  /** How long one frame took from decoding to the end of its dispatch (charged to the peer's CPU use). */
  observeFrame(session: PeerSession, ms: number): void;
  /** How long this peer's next frame must wait for its CPU budget (0: go on; see CpuThrottle). */
  cpuWaitMs(session: PeerSession): number;
  /**
   * Room for `bytes` more in the node-wide queue of waiting inbound frames: true, or false when
   * this session itself had to be closed to keep the total bounded (others may be closed instead).
   */
  reserveQueued(session: PeerSession, bytes: number): boolean;
  /** Queued bytes left the queue (processed, or dropped with their session). */
  releaseQueued(bytes: number): void;
  onClosed(session: PeerSession, code: number, reason: string): void;
}

type State = 'handshake' | 'ready' | 'closed';

/** How often a retiring connection looks again whether its traffic has settled. */
const RETIRE_RECHECK_MS = 100;

/**
 * One connection's protocol state: the TLS-bound Hello/Auth handshake, then validated messages
 * within a byte budget and per-type rate limits. Every frame goes through decodeFrame (size and
 * phase rules first) before anything reads it.
 *
 * Handshake order (docs/protocol.md "Handshake"): both sides send Hello at once; the dialer signs
 * first, the listener verifies the dialer's Auth before it signs its own, so a connection that
 * never proves a key costs the listener one verification (rate-limited per IP) and no signature.
 */
export class PeerSession implements LinkHandler {
  private state: State = 'handshake';
  readonly role: HandshakeRole;
  private readonly ourHello: Hello;
  private theirHello: Hello | undefined;
  private authSent = false;
  /** They sent a Reject before the handshake completed: their last frame (see onFrame). */
  private refusedByThem = false;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly limiter: PeerRateLimiter;
  private readonly budget: TokenBucket;
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private requestsInProgress = 0;
  private retireTimer: NodeJS.Timeout | undefined;
  readonly requests: PendingRequests<WireMessage>;
  /** Hex of the authenticated public key ('' until authenticated). */
  peerId = '';
  closeCode = 0;
  closeText = '';
  readonly openedAtMs: number;
  /** When the handshake completed (0 before). */
  readyAtMs = 0;
  /** Last time this peer sent us something new (fresh gossip, an answer): eviction protects it. */
  lastUsefulMs = 0;

  constructor(
    readonly link: Link,
    private readonly host: SessionHost,
  ) {
    this.role = link.direction === 'outbound' ? 'dialer' : 'listener';
    this.openedAtMs = host.now();
    this.limiter = new PeerRateLimiter(host.rateLimits);
    this.budget = new TokenBucket(host.inbound.bytesPerSec, host.inbound.burstBytes, this.openedAtMs);
    this.requests = new PendingRequests(host.maxOutstandingRequests, host.now);
    this.handshakeTimer = setTimeout(
      () => this.shutdown('handshakeTimeout', `no authenticated Hello within ${host.handshakeTimeoutMs} ms`),
      host.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref?.();
    this.ourHello = makeHello(host.identity, new Uint8Array(randomBytes(NONCE_BYTES)));
    this.send(this.ourHello);
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Ends a connection that a newer one to the same peer replaced without losing what is in flight
   * on it. The node no longer routes requests here; requests either side already sent are still
   * answered. The peer swaps connections at most about one round trip after us, so its last requests
   * here arrive within `minMs`: after that the link closes as soon as none of ours is open and none
   * of theirs is being answered, and at `maxMs` in any case.
   */
  retire(minMs: number, maxMs: number): void {
    if (this.state !== 'ready' || this.retireTimer) return;
    // Counted in timer turns, not read from host.now(): a test's frozen clock must not keep it open.
    let rechecks = Math.ceil(Math.max(0, maxMs - minMs) / RETIRE_RECHECK_MS);
    const check = () => {
      const busy = this.requests.size > 0 || this.requestsInProgress > 0 || this.queue.length > 0;
      if (busy && rechecks-- > 0) {
        this.retireTimer = setTimeout(check, RETIRE_RECHECK_MS);
        this.retireTimer.unref?.();
        return;
      }
      this.shutdown('duplicate', 'replaced by a newer connection');
    };
    this.retireTimer = setTimeout(check, minMs);
    this.retireTimer.unref?.();
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

  /** Bytes of this peer's frames waiting for its budgets. */
  get queuedInboundBytes(): number {
    return this.queuedBytes;
  }

  /** Sends a Reject with the close reason (best effort), then closes. */
  shutdown(name: CloseName, reason: string): void {
    this.dropQueue(); // nothing of a closing peer is read any more
    if (this.state === 'closed' || !this.link.isOpen) return;
    this.send({ t: MSG.reject, id: 0, code: CLOSE_CODE_NAME[name], reason: reason.slice(0, 256) });
    this.link.close(CLOSE[name], closeReason(`${CLOSE_CODE_NAME[name]}: ${reason}`));
  }

  onTextFrame(): void {
    this.offend('TEXT_FRAME', 'text frame');
  }

  acceptsFrameOf(bytes: number): boolean {
    if (this.state === 'closed' || !this.link.isOpen) return false;
    if (this.state === 'handshake' && bytes > PRE_AUTH_FRAME_LIMIT) {
      this.offend('WIRE_FRAME_TOO_LARGE', `${bytes}-byte frame before the handshake completed`);
      return false;
    }
    return true;
  }

  onFrame(frame: Uint8Array): void {
    // Frames still in flight after we decided to close are dropped unread.
    if (this.state === 'closed' || !this.link.isOpen) return;
    this.host.count('framesIn');
    if (this.state === 'handshake') {
      // An honest peer's Reject before the handshake is the last frame it sends (shutdown sends it,
      // then closes), and we wait for that close to learn its code. Anything after the Reject is
      // refused unread: pre-auth frames are charged to no byte budget, CPU meter or key, so
      // without this one connection could make us decode Rejects for the whole handshake timeout.
      if (this.refusedByThem) {
        this.offend('WIRE_UNEXPECTED_TYPE', 'a frame after their Reject before the handshake completed');
        return;
      }
      this.process(frame);
      return;
    }
    if (this.queue.length === 0 && this.canProcess(frame.length)) {
      this.process(frame);
      return;
    }
    if (this.queuedBytes + frame.length > this.host.inbound.maxQueuedBytes) {
      this.host.count('inboundOverloaded');
      this.shutdown(
        'overloaded',
        `more than ${this.host.inbound.maxQueuedBytes} bytes waiting for the byte budget`,
      );
      return;
    }
    if (!this.host.reserveQueued(this, frame.length)) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.link.pauseReading?.();
    this.scheduleDrain();
  }

  /**
   * Takes budget for `bytes` from this peer's and the node's buckets (both or neither), if the peer
   * is also within its CPU budget.
   */
  private canProcess(bytes: number): boolean {
    if (this.requestsInProgress >= this.host.inbound.maxConcurrentRequests) return false;
    if (this.host.cpuWaitMs(this) > 0) {
      this.host.count('cpuThrottled');
      return false;
    }
    const now = this.host.now();
    if (this.budget.available(now) < bytes || this.host.totalInbound.available(now) < bytes) return false;
    this.budget.take(now, bytes);
    this.host.totalInbound.take(now, bytes);
    return true;
  }

  private scheduleDrain(): void {
    if (this.drainTimer || this.queue.length === 0 || this.state === 'closed') return;
    if (this.requestsInProgress >= this.host.inbound.maxConcurrentRequests) return; // requestDone() resumes
    const bytes = this.queue[0]!.length;
    const now = this.host.now();
    const wait = Math.max(
      this.budget.msUntil(now, bytes),
      this.host.totalInbound.msUntil(now, bytes),
      this.host.cpuWaitMs(this),
      1,
    );
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.drain();
    }, wait);
  }

  private drain(): void {
    while (this.queue.length > 0 && this.state === 'ready' && this.canProcess(this.queue[0]!.length)) {
      const frame = this.queue.shift()!;
      this.queuedBytes -= frame.length;
      this.host.releaseQueued(frame.length);
      this.process(frame);
    }
    if (this.queue.length === 0) this.link.resumeReading?.();
    else this.scheduleDrain();
  }

  private dropQueue(): void {
    if (this.queuedBytes > 0) this.host.releaseQueued(this.queuedBytes);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /** The node started answering a request from this peer (an async handler). */
  requestStarted(): void {
    this.requestsInProgress++;
  }

  /** …and finished it: queued frames may proceed. */
  requestDone(): void {
    this.requestsInProgress--;
    if (this.queue.length > 0) this.scheduleDrain();
  }

  private process(frame: Uint8Array): void {
    const started = performance.now();
    try {
      this.decodeAndDispatch(frame);
    } finally {
      this.host.observeFrame(this, performance.now() - started);
    }
  }

  private decodeAndDispatch(frame: Uint8Array): void {
    let msg: WireMessage;
    try {
      msg = decodeFrame(frame, this.state === 'handshake' ? 'handshake' : 'authenticated');
    } catch (err) {
      if (err instanceof WireError) {
        this.offend(err.code, err.message);
        return;
      }
      throw err;
    }
    if (this.state === 'handshake') {
      this.onHandshakeMessage(msg);
      return;
    }
    // Over-rate messages are dropped here: no handler ever sees them.
    if (!this.limiter.allow(msg.t, this.host.now())) {
      this.offend('RATE_LIMITED', `type ${msg.t}`);
      return;
    }
    this.host.onMessage(this, msg);
  }

  /**
   * Scores an offence. Before the handshake there is no key to score, so an invalid frame also
   * ends the connection (the IP is scored by the host).
   */
  offend(offence: Offence, detail: string): void {
    if (this.state === 'closed') return;
    this.host.count(offence);
    this.host.offend(this, offence, detail);
    if (this.state === 'handshake') this.shutdown('protocolViolation', `${offence}: ${detail}`);
  }

  private transcript(): Transcript {
    const theirs = this.theirHello!;
    return this.role === 'dialer'
      ? { dialer: this.ourHello, listener: theirs, binding: this.link.channelBinding }
      : { dialer: theirs, listener: this.ourHello, binding: this.link.channelBinding };
  }

  private onHandshakeMessage(msg: WireMessage): void {
    if (msg.t === MSG.hello && !this.theirHello) {
      const bad = checkHello(this.host.identity, msg);
      if (bad) {
        this.shutdown(bad.close, bad.reason);
        return;
      }
      this.theirHello = msg;
      const refusal = this.host.onHello(this);
      if (refusal) {
        this.shutdown(refusal.close, refusal.reason);
        return;
      }
      if (this.role === 'dialer') this.sendAuth();
      return;
    }
    if (msg.t === MSG.auth && this.theirHello && (this.role === 'listener' || this.authSent)) {
      this.onAuth(msg);
      return;
    }
    if (msg.t === MSG.reject) {
      // The other side is refusing us; its close (code and reason, reported by the host) follows.
      this.refusedByThem = true;
      return;
    }
    this.offend('WIRE_UNEXPECTED_TYPE', `message type ${msg.t} out of handshake order`);
  }

  private sendAuth(): void {
    this.authSent = true;
    this.send(makeAuth(this.host.identity, this.role, this.transcript()));
  }

  private onAuth(auth: Auth): void {
    const other: HandshakeRole = this.role === 'dialer' ? 'listener' : 'dialer';
    if (!verifyAuth(this.host.identity, other, this.transcript(), auth)) {
      this.host.count('BAD_SIGNATURE');
      this.host.offend(this, 'BAD_SIGNATURE', 'Auth does not verify for the announced key on this channel');
      this.shutdown('badSignature', 'Auth signature does not verify for the announced key on this channel');
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.peerId = toHex(this.theirHello!.pubkey);
    const refusal = this.host.onAuthenticated(this);
    if (refusal) {
      // A duplicate still gets our signature: the dialer then knows this address is ours (a
      // feeler's whole purpose) and closes its side as a duplicate too.
      if (refusal.close === 'duplicate' && this.role === 'listener') this.sendAuth();
      this.shutdown(refusal.close, refusal.reason);
      return;
    }
    // The listener signs only now, for a dialer that proved its key and got a slot.
    if (this.role === 'listener') this.sendAuth();
    this.state = 'ready';
    this.readyAtMs = this.host.now();
  }

  onClose(code: number, reason: string): void {
    if (this.state === 'closed') return;
    // uWS reports a frame over maxPayloadLength as 1006 'Received too big message', ws as 1009.
    if (this.state === 'ready' && (code === 1009 || reason === 'Received too big message')) {
      this.host.count('FRAME_OVER_CAP');
      this.host.offend(this, 'FRAME_OVER_CAP', reason || `close ${code}`);
    }
    this.state = 'closed';
    this.closeCode = code;
    this.closeText = reason;
    clearTimeout(this.handshakeTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    clearTimeout(this.retireTimer);
    this.dropQueue();
    this.requests.failAll(new RequestError('P2P_PEER_GONE', `peer closed: ${code} ${reason}`, { code }));
    this.host.onClosed(this, code, reason);
  }
}
