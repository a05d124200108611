import { EventEmitter } from 'node:events';
import { compareBytes, fromHex } from '../encoding/bytes.js';
import { encodeMessage } from '../wire/codec.js';
import { MAX_PEERS_PER_MESSAGE } from '../wire/limits.js';
import {
  type Beacon,
  type BlockMsg,
  MSG,
  type PeerAddress,
  type Tx,
  type WireMessage,
} from '../wire/message-types.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { type BanList, MemoryBanList } from './ban-list.js';
import type { CloseName } from './close-codes.js';
import { type GossipKind, GossipRelay } from './gossip-relay.js';
import type { LocalIdentity } from './handshake.js';
import type { Link } from './link.js';
import type { Offence } from './misbehaviour.js';
import { P2P_DEFAULTS, type P2pNodeOptions, type PeerEndpoint } from './p2p-options.js';
import { type DialTarget, PeerDialer } from './peer-dialer.js';
import { PeerSession, type SessionHost } from './peer-session.js';
import { RequestError } from './pending-requests.js';
import { DEFAULT_RATE_LIMITS, type RateLimit } from './rate-limits.js';
import {
  RESPONSE_TYPE,
  type RequestBody,
  type RequestMessage,
  type RequestOfType,
  type RequestType,
  type ResponseBody,
  type ResponseOfType,
} from './request-types.js';
import { UwsServer } from './uws-server.js';

/** A connected, authenticated peer as the application sees it. */
export interface PeerInfo {
  readonly peerId: string;
  readonly pubkey: Uint8Array;
  readonly direction: 'inbound' | 'outbound';
  readonly host: string;
  readonly listenPort: number;
  readonly tipHeight: number;
}

export type RequestHandler<T extends RequestType> = (
  peer: PeerInfo,
  msg: RequestOfType<T>,
) => ResponseBody<T> | Promise<ResponseBody<T>>;

/**
 * The transport of one node: uWS server for inbound links, `ws` for outbound, authenticated sessions
 * (one per node identity), bans, peer exchange, gossip without echo, request/response correlation.
 * Events: peer:connected(PeerInfo), peer:disconnected({peerId, code, reason}),
 * peer:refused({host, port, direction, code, reason}), peer:banned({peerId, offence, detail, untilMs}),
 * dial:scheduled({host, port, attempt, delayMs}), listen:retry({port, attempt}), gossip:tx/block/beacon(peer, …), error(Error).
 */
export class P2pNode extends EventEmitter {
  readonly opts: Required<Omit<P2pNodeOptions, 'identity' | 'seeds' | 'banList' | 'rateLimits' | 'backoff'>>;
  private readonly server: UwsServer | undefined;
  private readonly sessions = new Set<PeerSession>();
  private readonly byPeer = new Map<string, PeerSession>();
  private readonly dialer: PeerDialer;
  private readonly gossipRelay: GossipRelay;
  private readonly banList: BanList;
  private readonly host: SessionHost;
  private readonly handlers = new Map<number, RequestHandler<RequestType>>();
  private identity: LocalIdentity;
  private exchangeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Frames received and offences by kind since start (for metrics and tests). */
  readonly counters: Record<string, number> = {};

  constructor(private readonly options: P2pNodeOptions) {
    super();
    const o = options;
    this.opts = {
      host: o.host ?? P2P_DEFAULTS.host,
      port: o.port ?? P2P_DEFAULTS.port,
      listenRetryMs: o.listenRetryMs ?? P2P_DEFAULTS.listenRetryMs,
      listen: o.listen ?? true,
      path: o.path ?? P2P_DEFAULTS.path,
      banDurationMs: o.banDurationMs ?? P2P_DEFAULTS.banDurationMs,
      maxPeers: o.maxPeers ?? P2P_DEFAULTS.maxPeers,
      maxPendingHandshakes: o.maxPendingHandshakes ?? P2P_DEFAULTS.maxPendingHandshakes,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? P2P_DEFAULTS.handshakeTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs ?? P2P_DEFAULTS.requestTimeoutMs,
      maxOutstandingRequests: o.maxOutstandingRequests ?? P2P_DEFAULTS.maxOutstandingRequests,
      idleTimeoutSec: o.idleTimeoutSec ?? P2P_DEFAULTS.idleTimeoutSec,
      pingIntervalMs: o.pingIntervalMs ?? P2P_DEFAULTS.pingIntervalMs,
      maxBackpressure: o.maxBackpressure ?? P2P_DEFAULTS.maxBackpressure,
      peerExchangeIntervalMs: o.peerExchangeIntervalMs ?? P2P_DEFAULTS.peerExchangeIntervalMs,
      dedupCapacity: o.dedupCapacity ?? P2P_DEFAULTS.dedupCapacity,
      scoreDecayPerSec: o.scoreDecayPerSec ?? P2P_DEFAULTS.scoreDecayPerSec,
      banThreshold: o.banThreshold ?? P2P_DEFAULTS.banThreshold,
      autoRelay: o.autoRelay ?? false,
      random: o.random ?? Math.random,
      now: o.now ?? Date.now,
    };
    this.identity = { ...o.identity, listenPort: 0 };
    this.banList = o.banList ?? new MemoryBanList();
    this.gossipRelay = new GossipRelay(this.opts.dedupCapacity);
    const rateLimits: Record<number, RateLimit> = { ...DEFAULT_RATE_LIMITS, ...(o.rateLimits ?? {}) };
    const node = this;
    this.host = {
      get identity() {
        return node.identity;
      },
      rateLimits,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      scoreDecayPerSec: this.opts.scoreDecayPerSec,
      banThreshold: this.opts.banThreshold,
      maxOutstandingRequests: this.opts.maxOutstandingRequests,
      now: this.opts.now,
      onAuthenticated: (s) => this.onAuthenticated(s),
      onMessage: (s, m) => this.onMessage(s, m),
      onBanworthy: (s, offence, detail) => this.onBanworthy(s, offence, detail),
      count: (name) => {
        this.counters[name] = (this.counters[name] ?? 0) + 1;
      },
      onClosed: (s, code, reason) => this.onClosed(s, code, reason),
    };
    this.dialer = new PeerDialer({
      path: this.opts.path,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      pingIntervalMs: this.opts.pingIntervalMs,
      maxBackpressure: this.opts.maxBackpressure,
      backoff: { ...DEFAULT_BACKOFF, ...(o.backoff ?? {}), random: this.opts.random },
      now: this.opts.now,
      attach: (link) => this.attach(link),
      wanted: (t) => this.wantsDial(t),
      onScheduled: (e) => this.emit('dial:scheduled', e),
    });
    if (this.opts.listen) {
      this.server = new UwsServer({
        host: this.opts.host,
        port: this.opts.port,
        path: this.opts.path,
        idleTimeoutSec: this.opts.idleTimeoutSec,
        listenRetryMs: this.opts.listenRetryMs,
        onListenRetry: (attempt) => this.emit('listen:retry', { port: this.opts.port, attempt }),
        maxBackpressure: this.opts.maxBackpressure,
        maxPendingUpgrades: () => this.pendingHandshakes() < this.opts.maxPendingHandshakes,
        accept: (link) => this.attach(link),
      });
    }
  }

  /** Listens (if enabled), then dials the seeds. Returns the listen port (0 if not listening). */
  async start(): Promise<number> {
    const port = this.server ? await this.server.listen() : 0;
    this.identity = { ...this.identity, listenPort: port };
    for (const seed of this.options.seeds ?? []) this.dialer.add(seed.host, seed.port, undefined);
    this.exchangeTimer = setInterval(() => this.exchangePeers(), this.opts.peerExchangeIntervalMs);
    this.exchangeTimer.unref?.();
    return port;
  }

  get listenPort(): number {
    return this.identity.listenPort;
  }

  /** Adds a persistent peer address (dialed now, redialed with backoff whenever it drops). */
  addPeer(endpoint: PeerEndpoint): void {
    this.dialer.add(endpoint.host, endpoint.port, undefined);
  }

  /** Authenticated peers. */
  peers(): PeerInfo[] {
    return [...this.byPeer.values()].map((s) => this.info(s));
  }

  /** Registers the answer to a request type (PollRequest, GetTx, GetBlocks). */
  handle<T extends RequestType>(type: T, handler: RequestHandler<T>): void {
    this.handlers.set(type, handler as unknown as RequestHandler<RequestType>);
  }

  /** Sends a request to one peer and resolves with its answer, or rejects with a RequestError. */
  request<M extends RequestBody>(
    peerId: string,
    msg: M,
    timeoutMs?: number,
  ): Promise<ResponseOfType<M['t']>> {
    const session = this.byPeer.get(peerId);
    if (!session?.isReady) {
      return Promise.reject(new RequestError('P2P_PEER_GONE', `no connected peer ${peerId.slice(0, 16)}`));
    }
    const { id, response } = session.requests.open(
      RESPONSE_TYPE[msg.t],
      timeoutMs ?? this.opts.requestTimeoutMs,
    );
    if (id !== 0) session.send({ ...msg, id } as WireMessage);
    return response as Promise<ResponseOfType<M['t']>>;
  }

  /**
   * Sends one message to every connected peer, encoded once. Inbound peers are reached with one uWS
   * publish (batched per socket by uWS); outbound peers with one `ws` send each. With `except`, every
   * peer gets its own send. Returns the number of peers the message was handed to.
   */
  broadcast(msg: WireMessage, except?: ReadonlySet<string>): number {
    const frame = encodeMessage(msg);
    let sent = 0;
    const publish = this.server !== undefined && (except === undefined || except.size === 0);
    for (const [peerId, s] of this.byPeer) {
      if (except?.has(peerId)) continue;
      if (publish && s.link.joinBroadcast) continue;
      if (s.sendFrame(frame)) sent++;
    }
    if (publish) {
      this.server!.publish(frame);
      sent += this.server!.broadcastPeers();
    }
    return sent;
  }

  /** Gossips transactions to every peer that does not already have them. */
  gossipTxs(txs: readonly Uint8Array[]): void {
    const keyed = txs.map((tx) => ({ tx, key: GossipRelay.key('tx', tx) }));
    for (const k of keyed) this.gossipRelay.local(k.key);
    for (const [peerId, s] of this.byPeer) {
      const batch = keyed.filter((k) => this.gossipRelay.claimSend(k.key, peerId)).map((k) => k.tx);
      if (batch.length > 0) s.send({ t: MSG.tx, id: 0, txs: batch });
    }
  }

  gossipBlock(block: Uint8Array): void {
    this.gossipItem('block', block, { t: MSG.block, block });
  }

  gossipBeacon(slot: number, y: Uint8Array, proof: Uint8Array): void {
    const msg: Beacon = { t: MSG.beacon, slot, y, proof };
    this.gossipItem('beacon', encodeMessage(msg), msg);
  }

  private gossipItem(kind: GossipKind, item: Uint8Array, msg: WireMessage): void {
    const key = GossipRelay.key(kind, item);
    this.gossipRelay.local(key);
    let frame: Uint8Array | undefined;
    for (const [peerId, s] of this.byPeer) {
      if (!this.gossipRelay.claimSend(key, peerId)) continue;
      frame ??= encodeMessage(msg);
      s.sendFrame(frame);
    }
  }

  /** Closes every connection and the listener; pending requests fail with P2P_PEER_GONE. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.exchangeTimer) clearInterval(this.exchangeTimer);
    this.dialer.stop();
    this.server?.close();
    for (const s of [...this.sessions]) s.shutdown('shutdown', 'node stopping');
    this.sessions.clear();
    this.byPeer.clear();
  }

  // ---- session host ----

  private attach(link: Link): PeerSession {
    const session = new PeerSession(link, this.host);
    this.sessions.add(session);
    return session;
  }

  private pendingHandshakes(): number {
    let n = 0;
    for (const s of this.sessions) if (!s.isReady) n++;
    return n;
  }

  private info(s: PeerSession): PeerInfo {
    const hello = s.hello!;
    return {
      peerId: s.peerId,
      pubkey: hello.pubkey,
      direction: s.link.direction,
      host: s.link.remoteHost,
      listenPort: hello.listenPort,
      tipHeight: hello.tipHeight,
    };
  }

  private onAuthenticated(s: PeerSession): { close: CloseName; reason: string } | null {
    if (this.stopped) return { close: 'shutdown', reason: 'node stopping' };
    const hello = s.hello!;
    const ban = this.banList.get(hello.pubkey, this.opts.now());
    if (ban)
      return {
        close: 'banned',
        reason: `banned until ${new Date(ban.untilMs).toISOString()}: ${ban.reason}`,
      };
    const existing = this.byPeer.get(s.peerId);
    if (existing && existing !== s) {
      if (!this.keepNewer(existing, s))
        return { close: 'duplicate', reason: 'already connected to this node' };
      this.byPeer.delete(s.peerId);
      existing.shutdown('duplicate', 'replaced by a newer connection');
    } else if (this.byPeer.size >= this.opts.maxPeers) {
      return { close: 'tooManyPeers', reason: `peer limit ${this.opts.maxPeers} reached` };
    }
    this.byPeer.set(s.peerId, s);
    const endpointHost = s.link.remoteHost;
    const target =
      this.dialer.targetOf(s) ??
      (hello.listenPort > 0 ? this.dialer.add(endpointHost, hello.listenPort, s.peerId, false) : undefined);
    if (target) this.dialer.connected(target, s.peerId);
    queueMicrotask(() => {
      if (!s.isReady) return;
      s.link.joinBroadcast?.();
      this.emit('peer:connected', this.info(s));
      this.askPeers(s);
    });
    return null;
  }

  /**
   * Two authenticated connections to one identity: both ends must keep the same one. Keep the
   * connection dialed by the node with the lower public key; if one node dialed both, keep the newer
   * (the older is likely half-dead).
   */
  private keepNewer(existing: PeerSession, incoming: PeerSession): boolean {
    const ours = this.identity.publicKey;
    const dialerOf = (x: PeerSession) => (x.link.direction === 'outbound' ? ours : x.hello!.pubkey);
    const a = dialerOf(existing);
    const b = dialerOf(incoming);
    const cmp = compareBytes(a, b);
    return cmp === 0 ? true : cmp > 0;
  }

  private onBanworthy(s: PeerSession, offence: Offence, detail: string): void {
    const now = this.opts.now();
    const untilMs = now + this.opts.banDurationMs;
    this.banList.ban(s.hello!.pubkey, {
      untilMs,
      reason: `${offence}: ${detail}`.slice(0, 200),
      bannedAtMs: now,
    });
    this.emit('peer:banned', { peerId: s.peerId, offence, detail, untilMs });
  }

  private onClosed(s: PeerSession, code: number, reason: string): void {
    this.sessions.delete(s);
    const wasCurrent = s.peerId !== '' && this.byPeer.get(s.peerId) === s;
    if (wasCurrent) {
      this.byPeer.delete(s.peerId);
      this.emit('peer:disconnected', { peerId: s.peerId, code, reason });
    }
    if (code >= 4001 && code <= 4004 && !wasCurrent) {
      this.emit('peer:refused', {
        host: s.link.remoteHost,
        direction: s.link.direction,
        code,
        reason,
      });
    }
    if (!this.stopped) this.dialer.closed(s, code, wasCurrent);
  }

  private wantsDial(t: DialTarget): boolean {
    if (this.stopped) return false;
    if (t.peerId && this.byPeer.has(t.peerId)) return false;
    if (t.peerId && t.peerId === this.myId()) return false;
    return this.byPeer.size < this.opts.maxPeers;
  }

  private myId(): string {
    return Buffer.from(this.identity.publicKey).toString('hex');
  }

  /**
   * A throwing application listener or handler must not take the transport (or the process) down:
   * it is counted and reported as a `handler:error` event, and the connection carries on.
   */
  private onMessage(s: PeerSession, msg: WireMessage): void {
    try {
      this.dispatch(s, msg);
    } catch (err) {
      this.counters['handlerErrors'] = (this.counters['handlerErrors'] ?? 0) + 1;
      this.emit('handler:error', { peerId: s.peerId, type: msg.t, error: err });
    }
  }

  private dispatch(s: PeerSession, msg: WireMessage): void {
    switch (msg.t) {
      case MSG.ping:
        s.send({ t: MSG.pong, n: msg.n });
        return;
      case MSG.pong:
        return;
      case MSG.reject:
        if (msg.id !== 0)
          s.requests.fail(msg.id, new RequestError('P2P_REJECTED', `${msg.code}: ${msg.reason}`));
        else this.emit('peer:reject', { peerId: s.peerId, code: msg.code, reason: msg.reason });
        return;
      case MSG.pollResponse:
      case MSG.blocks:
      case MSG.peers:
        if (msg.t === MSG.peers) this.learnPeers(msg.peers);
        if (!s.requests.settle(msg.id, msg))
          s.offend('UNSOLICITED_RESPONSE', `answer to unknown request ${msg.id}`);
        return;
      case MSG.tx:
        if (msg.id !== 0) {
          if (!s.requests.settle(msg.id, msg))
            s.offend('UNSOLICITED_RESPONSE', `answer to unknown request ${msg.id}`);
          return;
        }
        this.onTxGossip(s, msg);
        return;
      case MSG.block:
        this.onItemGossip(s, 'block', msg.block, msg);
        return;
      case MSG.beacon:
        this.onItemGossip(s, 'beacon', encodeMessage(msg), msg);
        return;
      case MSG.getPeers:
        s.send({ t: MSG.peers, id: msg.id, peers: this.peerAddresses(s.peerId) });
        return;
      case MSG.pollRequest:
      case MSG.getTx:
      case MSG.getBlocks:
        this.answer(s, msg);
        return;
      default:
        return;
    }
  }

  private answer(s: PeerSession, msg: RequestMessage): void {
    const handler = this.handlers.get(msg.t);
    if (!handler) {
      s.send({ t: MSG.reject, id: msg.id, code: 'UNSUPPORTED', reason: `no handler for type ${msg.t}` });
      return;
    }
    const reply = (r: Omit<WireMessage, 'id'>) => s.send({ ...r, id: msg.id } as WireMessage);
    try {
      const out = handler(this.info(s), msg);
      if (out instanceof Promise) {
        out.then(reply, (err: Error) =>
          s.send({
            t: MSG.reject,
            id: msg.id,
            code: 'HANDLER_FAILED',
            reason: String(err.message).slice(0, 200),
          }),
        );
      } else reply(out);
    } catch (err) {
      s.send({
        t: MSG.reject,
        id: msg.id,
        code: 'HANDLER_FAILED',
        reason: String((err as Error).message).slice(0, 200),
      });
    }
  }

  private onTxGossip(s: PeerSession, msg: Tx): void {
    const fresh = msg.txs.filter((tx) => this.gossipRelay.received(GossipRelay.key('tx', tx), s.peerId));
    if (fresh.length === 0) return;
    this.emit('gossip:tx', this.info(s), fresh);
    if (this.opts.autoRelay) this.gossipTxs(fresh);
  }

  private onItemGossip(s: PeerSession, kind: GossipKind, item: Uint8Array, msg: BlockMsg | Beacon): void {
    if (!this.gossipRelay.received(GossipRelay.key(kind, item), s.peerId)) return;
    this.emit(`gossip:${kind}`, this.info(s), msg);
    if (this.opts.autoRelay) this.gossipItem(kind, item, msg);
  }

  private peerAddresses(exceptPeerId: string): PeerAddress[] {
    const out: PeerAddress[] = [];
    for (const s of this.byPeer.values()) {
      const hello = s.hello!;
      if (s.peerId === exceptPeerId || hello.listenPort === 0) continue;
      out.push({ host: s.link.remoteHost, port: hello.listenPort, pubkey: hello.pubkey });
      if (out.length >= MAX_PEERS_PER_MESSAGE) break;
    }
    return out;
  }

  private learnPeers(peers: readonly PeerAddress[]): void {
    const me = this.myId();
    for (const p of peers) {
      const peerId = Buffer.from(p.pubkey).toString('hex');
      if (peerId === me || this.byPeer.has(peerId)) continue;
      if (this.banList.get(p.pubkey, this.opts.now())) continue;
      this.dialer.add(p.host, p.port, peerId);
    }
  }

  private askPeers(s: PeerSession): void {
    this.request(s.peerId, { t: MSG.getPeers }).catch(() => {
      // peer exchange is best effort: the next interval asks again
    });
  }

  private exchangePeers(): void {
    for (const s of this.byPeer.values()) if (s.isReady) this.askPeers(s);
  }
}

/** Hex peer id → public key bytes. */
export function pubkeyOfPeerId(peerId: string): Uint8Array {
  return fromHex(peerId, 32);
}
