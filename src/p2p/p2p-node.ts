import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { compareBytes, fromHex, toHex } from '../encoding/bytes.js';
import { CodedError } from '../util/coded-error.js';
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
import { AddressBook, type BookEntry } from './address-book.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { type BanList, type BanRecord, MemoryBanList } from './ban-list.js';
import type { CloseName } from './close-codes.js';
import { admit, classOf, type SlotClass, type SlotPeer } from './connection-slots.js';
import { CPU_ALLOCATION_DEFAULTS, type CpuAllocation, CpuThrottle } from './cpu-throttle.js';
import { type GossipKind, GossipRelay } from './gossip-relay.js';
import type { ChainTip, HelloRefusal, LocalIdentity } from './handshake.js';
import { connectionGroupOf, ipBanKeys, ipKeyBytes, ipSubject, normalizeIp } from './ip-address.js';
import type { Link } from './link.js';
import {
  APPLICATION_OFFENCES,
  type ApplicationOffence,
  OFFENCE_POINTS,
  type Offence,
} from './misbehaviour.js';
import { OutboundPacer } from './outbound-pacer.js';
import { P2P_DEFAULTS, type P2pNodeOptions, type PeerEndpoint } from './p2p-options.js';
import { PeerBuckets } from './peer-buckets.js';
import { PeerDialer } from './peer-dialer.js';
import { ScoreBook } from './peer-scores.js';
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
import { TokenBucket } from './token-bucket.js';
import { UwsServer } from './uws-server.js';

/** A connected, authenticated peer as the application sees it. */
export interface PeerInfo {
  readonly peerId: string;
  readonly pubkey: Uint8Array;
  readonly direction: 'inbound' | 'outbound';
  /** The peer's IP (or the configured host we dialed). */
  readonly host: string;
  readonly listenPort: number;
  /** The latest tip the peer announced (Hello, then Tip messages). */
  readonly tipHeight: number;
  readonly tipHash: Uint8Array;
  readonly tipSlot: number;
  /** Its key is in the active masternode set given to setValidators. */
  readonly isValidator: boolean;
}

export type RequestHandler<T extends RequestType> = (
  peer: PeerInfo,
  msg: RequestOfType<T>,
) => ResponseBody<T> | Promise<ResponseBody<T>>;

/** An active masternode's node key and stake weight (setValidators). */
export interface WeightedKey {
  readonly pubkey: Uint8Array | string;
  readonly weight: number;
}

export class P2pConfigError extends CodedError<'P2P_TLS_REQUIRED' | 'P2P_BAD_OFFENCE'> {}

type Resolved = Required<
  Omit<P2pNodeOptions, 'identity' | 'seeds' | 'banList' | 'rateLimits' | 'peerRateLimits' | 'backoff' | 'cpu'>
> & { readonly cpu: CpuAllocation };

/** Remembered handshake buckets (one per IP subject), least recently used forgotten first. */
const MAX_HANDSHAKE_BUCKETS = 4_096;
/** Subjects in each score book (keys, IPs). */
const MAX_SCORED = 4_096;
const MAINTAIN_INTERVAL_MS = 1_000;
const BAN_PRUNE_INTERVAL_MS = 60_000;
/**
 * While an active masternode has no known address, peer lists are asked for this often instead of
 * every peerExchangeIntervalMs: a node whose seed had not yet verified the others' addresses when
 * it first asked would otherwise reach too few validators to poll (no quorum) for a whole interval.
 */
const VALIDATOR_SEARCH_EXCHANGE_MS = 3_000;
/** A replaced connection closes within this many request timeouts, settled or not. */
const RETIRE_MAX_REQUEST_TIMEOUTS = 4;

/**
 * The transport of one node: a uWS TLS server for inbound links, `ws` over TLS for outbound, one
 * authenticated session per node identity, connection slots, the address book, scores and bans by
 * key and IP, paced gossip without echo, request/response correlation.
 *
 * Events (listeners that throw are counted as `handlerErrors` and reported as `handler:error`):
 * peer:connected(PeerInfo), peer:disconnected({peerId, code, reason}), peer:tip(PeerInfo, ChainTip),
 * peer:refused({host, direction, code, reason}), peer:banned({peerId, offence, detail, untilMs}),
 * ip:banned({ip, offence, detail, untilMs}) (`ip` the IP subject: "198.51.100.7", "2a01:4f8:1:2::/64"),
 * peer:reject({peerId, code, reason}),
 * dial:scheduled({host, port, attempt, delayMs}), listen:retry({port, attempt}),
 * gossip:tx(PeerInfo, txs), gossip:block(PeerInfo, Block), gossip:beacon(PeerInfo, Beacon),
 * handler:error({peerId, type, error}).
 */
export class P2pNode extends EventEmitter {
  readonly opts: Resolved;
  private readonly server: UwsServer | undefined;
  private readonly sessions = new Set<PeerSession>();
  private readonly byPeer = new Map<string, PeerSession>();
  /** Connections replaced by a newer one to the same peer, still settling (at most one per peer). */
  private readonly retiring = new Map<string, PeerSession>();
  private readonly pacers = new WeakMap<PeerSession, OutboundPacer>();
  private readonly theirTips = new WeakMap<PeerSession, Required<ChainTip>>();
  private readonly book: AddressBook;
  private readonly dialer: PeerDialer;
  private readonly gossipRelay: GossipRelay;
  private readonly banList: BanList;
  private readonly keyScores: ScoreBook;
  private readonly ipScores: ScoreBook;
  /**
   * The only signature check an unauthenticated connection can make us do: a budget per IP subject
   * (ip-address.ts ipSubject: an IPv4 address, an IPv6 /64).
   */
  private readonly handshakeBuckets: PeerBuckets;
  /** Each session's IP subject and netgroup, worked out once from its remote address. */
  private readonly origins = new WeakMap<
    PeerSession,
    { readonly subject: string; readonly netgroup: string }
  >();
  private readonly host: SessionHost;
  private readonly handlers = new Map<number, RequestHandler<RequestType>>();
  private readonly peerRates: Record<number, RateLimit>;
  private readonly secret = new Uint8Array(randomBytes(32));
  private validators = new Set<string>();
  private readonly cpu: CpuThrottle;
  /** Bytes of inbound frames waiting in every session's queue together. */
  private queuedInbound = 0;
  /**
   * All open links' send buffers as last measured plus the frames paced, answered or broadcast
   * since (drained bytes are not subtracted until the next measurement): makeSendRoom.
   */
  private sendBuffered = 0;
  private identity: LocalIdentity;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastExchangeMs = 0;
  /**
   * Entries whose latest dial was a masternode's target address (isValidatorTarget), which does not
   * take an ordinary outbound slot; every other learned entry's dial does.
   */
  private readonly validatorDials = new WeakSet<BookEntry>();
  private stopped = false;
  /** Frames received, offences and drops by kind since start (for metrics and tests). */
  readonly counters: Record<string, number> = {};
  /** The longest time one inbound frame took to decode and dispatch (ms), since start. */
  slowestFrameMs = 0;

  constructor(private readonly options: P2pNodeOptions) {
    super();
    const o = options;
    const d = P2P_DEFAULTS;
    this.opts = {
      host: o.host ?? d.host,
      port: o.port ?? d.port,
      listenRetryMs: o.listenRetryMs ?? d.listenRetryMs,
      listen: o.listen ?? true,
      path: o.path ?? d.path,
      peerExchange: o.peerExchange ?? d.peerExchange,
      acceptLocalAddresses: o.acceptLocalAddresses ?? d.acceptLocalAddresses,
      banDurationMs: o.banDurationMs ?? d.banDurationMs,
      maxOutbound: o.maxOutbound ?? d.maxOutbound,
      maxInbound: o.maxInbound ?? d.maxInbound,
      maxInboundPerIp: o.maxInboundPerIp ?? d.maxInboundPerIp,
      maxInboundPerNetgroup: o.maxInboundPerNetgroup ?? d.maxInboundPerNetgroup,
      maxValidatorSlots: o.maxValidatorSlots ?? d.maxValidatorSlots,
      maxPendingHandshakes: o.maxPendingHandshakes ?? d.maxPendingHandshakes,
      maxPendingPerIp: o.maxPendingPerIp ?? d.maxPendingPerIp,
      maxPendingPerNetgroup: o.maxPendingPerNetgroup ?? d.maxPendingPerNetgroup,
      handshakeRatePerIp: o.handshakeRatePerIp ?? d.handshakeRatePerIp,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? d.handshakeTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs ?? d.requestTimeoutMs,
      maxOutstandingRequests: o.maxOutstandingRequests ?? d.maxOutstandingRequests,
      maxConcurrentInboundRequests: o.maxConcurrentInboundRequests ?? d.maxConcurrentInboundRequests,
      inboundBytesPerSec: o.inboundBytesPerSec ?? d.inboundBytesPerSec,
      inboundBurstBytes: o.inboundBurstBytes ?? d.inboundBurstBytes,
      maxQueuedInboundBytes: o.maxQueuedInboundBytes ?? d.maxQueuedInboundBytes,
      maxTotalQueuedInboundBytes: o.maxTotalQueuedInboundBytes ?? d.maxTotalQueuedInboundBytes,
      totalInboundBytesPerSec: o.totalInboundBytesPerSec ?? d.totalInboundBytesPerSec,
      peerInboundBytesPerSec: o.peerInboundBytesPerSec ?? d.peerInboundBytesPerSec,
      peerInboundBurstBytes: o.peerInboundBurstBytes ?? d.peerInboundBurstBytes,
      idleTimeoutSec: o.idleTimeoutSec ?? d.idleTimeoutSec,
      pingIntervalMs: o.pingIntervalMs ?? d.pingIntervalMs,
      maxBackpressure: o.maxBackpressure ?? d.maxBackpressure,
      maxTotalBackpressure: o.maxTotalBackpressure ?? d.maxTotalBackpressure,
      peerExchangeIntervalMs: o.peerExchangeIntervalMs ?? d.peerExchangeIntervalMs,
      tipIntervalMs: o.tipIntervalMs ?? d.tipIntervalMs,
      dedupMaxBytes: o.dedupMaxBytes ?? d.dedupMaxBytes,
      dedupMaxAgeMs: o.dedupMaxAgeMs ?? d.dedupMaxAgeMs,
      scoreDecayPerSec: o.scoreDecayPerSec ?? d.scoreDecayPerSec,
      cpu: { ...CPU_ALLOCATION_DEFAULTS, ...(o.cpu ?? {}) },
      banThreshold: o.banThreshold ?? d.banThreshold,
      ipBanThreshold: o.ipBanThreshold ?? d.ipBanThreshold,
      autoRelay: o.autoRelay ?? false,
      insecurePlaintext: o.insecurePlaintext ?? false,
      random: o.random ?? Math.random,
      now: o.now ?? Date.now,
    };
    const opts = this.opts;
    this.identity = { ...o.identity, listenPort: 0 };
    this.banList = o.banList ?? new MemoryBanList();
    this.keyScores = new ScoreBook(opts.scoreDecayPerSec, MAX_SCORED);
    this.handshakeBuckets = new PeerBuckets(opts.handshakeRatePerIp, opts.now, MAX_HANDSHAKE_BUCKETS);
    this.ipScores = new ScoreBook(opts.scoreDecayPerSec, MAX_SCORED);
    this.gossipRelay = new GossipRelay(opts.dedupMaxBytes, opts.dedupMaxAgeMs, opts.now);
    this.book = new AddressBook({
      secret: this.secret,
      acceptLocalAddresses: opts.acceptLocalAddresses,
      // An address the book dropped is not redialed: its backoff and dial state go with it.
      onRemove: (e) => this.dialer.forget(e),
    });
    this.peerRates = { ...DEFAULT_RATE_LIMITS, ...(o.peerRateLimits ?? {}) };
    const rateLimits: Record<number, RateLimit> = { ...DEFAULT_RATE_LIMITS, ...(o.rateLimits ?? {}) };
    const node = this;
    this.cpu = new CpuThrottle(opts.cpu);
    const totalInbound = new TokenBucket(
      opts.totalInboundBytesPerSec,
      opts.totalInboundBytesPerSec,
      opts.now(),
    );
    this.host = {
      get identity() {
        return node.identity;
      },
      rateLimits,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      maxOutstandingRequests: opts.maxOutstandingRequests,
      inbound: {
        bytesPerSec: opts.inboundBytesPerSec,
        burstBytes: opts.inboundBurstBytes,
        maxQueuedBytes: opts.maxQueuedInboundBytes,
        maxConcurrentRequests: opts.maxConcurrentInboundRequests,
      },
      totalInbound,
      now: opts.now,
      onHello: (s) => this.onHello(s),
      onAuthenticated: (s) => this.onAuthenticated(s),
      onMessage: (s, m) => this.onMessage(s, m),
      offend: (s, offence, detail) => this.offend(s, offence, detail),
      count: (name, n = 1) => this.count(name, n),
      observeFrame: (s, ms) => {
        if (ms > this.slowestFrameMs) this.slowestFrameMs = ms;
        if (s.peerId !== '') this.cpu.charge(s.peerId, opts.now(), ms);
      },
      cpuWaitMs: (s) => this.cpu.waitMs(s.peerId, opts.now()),
      reserveQueued: (s, bytes) => this.reserveQueued(s, bytes),
      releaseQueued: (bytes) => {
        this.queuedInbound -= bytes;
      },
      onClosed: (s, code, reason) => this.onClosed(s, code, reason),
    };
    this.dialer = new PeerDialer({
      path: opts.path,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      pingIntervalMs: opts.pingIntervalMs,
      maxBackpressure: opts.maxBackpressure,
      tls: !opts.insecurePlaintext,
      backoff: { ...DEFAULT_BACKOFF, ...(o.backoff ?? {}), random: opts.random },
      attach: (link) => this.attach(link),
      wanted: (e) => this.wantsDial(e),
      onScheduled: (e) => this.safeEmit('dial:scheduled', e),
      onFailed: (e) => this.book.markFailed(e),
    });
    if (opts.listen) {
      const tls = opts.insecurePlaintext ? undefined : o.identity.tls;
      if (!tls && !opts.insecurePlaintext) {
        throw new P2pConfigError(
          'P2P_TLS_REQUIRED',
          'a listening node needs identity.tls (loadOrCreateTlsMaterial)',
        );
      }
      this.server = new UwsServer({
        host: opts.host,
        port: opts.port,
        path: opts.path,
        tls,
        idleTimeoutSec: opts.idleTimeoutSec,
        listenRetryMs: opts.listenRetryMs,
        onListenRetry: (attempt) => this.safeEmit('listen:retry', { port: opts.port, attempt }),
        maxBackpressure: opts.maxBackpressure,
        admit: (ip) => this.admitUpgrade(ip),
        accept: (link) => this.attach(link),
      });
    }
  }

  /** Listens (if enabled), then dials the seeds. Returns the listen port (0 if not listening). */
  async start(): Promise<number> {
    const port = this.server ? await this.server.listen() : 0;
    this.identity = { ...this.identity, listenPort: port };
    this.banList.prune(this.opts.now());
    for (const seed of this.options.seeds ?? []) this.book.addConfigured(seed.host, seed.port);
    const every = (ms: number, f: () => void) => {
      const t = setInterval(() => this.guard('timer', f), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(MAINTAIN_INTERVAL_MS, () => this.maintain());
    if (this.opts.peerExchange) every(this.opts.peerExchangeIntervalMs, () => this.exchangePeers());
    every(this.opts.tipIntervalMs, () => this.announceTip());
    every(BAN_PRUNE_INTERVAL_MS, () => this.banList.prune(this.opts.now()));
    this.maintain();
    return port;
  }

  get listenPort(): number {
    return this.identity.listenPort;
  }

  /** Adds a persistent peer address (dialed now, redialed with backoff whenever it drops). */
  addPeer(endpoint: PeerEndpoint): void {
    this.dialer.offer(this.book.addConfigured(endpoint.host, endpoint.port));
  }

  /**
   * The active masternode set (node public keys, bytes or hex, each with its stake weight, 1 if
   * only the key is given). Their connections get reserved, eviction-protected slots, the node
   * dials every one it has an address for, and each is guaranteed its stake's share of our CPU
   * (CpuThrottle). Call again whenever the set changes.
   */
  setValidators(validators: Iterable<Uint8Array | string | WeightedKey>): void {
    const weights = new Map<string, number>();
    for (const v of validators) {
      const { pubkey, weight } =
        typeof v === 'string' || v instanceof Uint8Array ? { pubkey: v, weight: 1 } : v;
      const id = typeof pubkey === 'string' ? pubkey.toLowerCase() : toHex(pubkey);
      weights.set(id, (weights.get(id) ?? 0) + weight);
    }
    this.validators = new Set(weights.keys());
    this.cpu.setValidators(weights, toHex(this.identity.publicKey));
    this.maintain();
  }

  /**
   * A peer's CPU use and target (fractions of one core; see CpuThrottle), and the usage beyond
   * stake shares of all peers together.
   */
  cpuUsage(peerId?: string): { usage: number; target: number; atLarge: number } {
    const now = this.opts.now();
    return {
      usage: peerId === undefined ? 0 : this.cpu.usage(peerId, now),
      target: peerId === undefined ? 0 : this.cpu.target(peerId, now),
      atLarge: this.cpu.atLargeUsage(now),
    };
  }

  /** Bytes of inbound frames waiting for their peers' byte or CPU budgets, all peers together. */
  get queuedInboundBytes(): number {
    return this.queuedInbound;
  }

  /** Open connections: authenticated peers, handshakes under way and replaced ones still settling. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Authenticated peers (not those we are closing: their close event may still be on its way). */
  /** True while an authenticated session with `peerId` is open. */
  isConnected(peerId: string): boolean {
    return this.byPeer.has(peerId);
  }

  peers(): PeerInfo[] {
    return [...this.byPeer.values()].filter((s) => s.link.isOpen).map((s) => this.info(s));
  }

  /** Registers the answer to a request type (PollRequest, GetTx, GetBlocks, GetInventory). */
  handle<T extends RequestType>(type: T, handler: RequestHandler<T>): void {
    this.handlers.set(type, handler as unknown as RequestHandler<RequestType>);
  }

  /**
   * Sends a request to one peer (paced below the peer's limits) and resolves with its answer, or
   * rejects with a RequestError. An answer that arrives after the timeout is dropped silently.
   */
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
    if (id !== 0) this.pacers.get(session)?.queue({ ...msg, id } as WireMessage, false);
    return response as Promise<ResponseOfType<M['t']>>;
  }

  /**
   * Reports an application offence (an invalid transaction, block or beacon, an answer that does not
   * fit its request) found after decoding; it feeds the same score and bans, by key and by IP, as
   * wire offences. Points per offence: misbehaviour.ts.
   */
  misbehaved(peerId: string, offence: ApplicationOffence, detail: string): void {
    if (!(APPLICATION_OFFENCES as readonly string[]).includes(offence)) {
      throw new P2pConfigError('P2P_BAD_OFFENCE', `not an application offence: ${offence}`);
    }
    this.count(offence);
    const session = this.byPeer.get(peerId);
    if (session) {
      this.offend(session, offence, detail);
      return;
    }
    const score = this.keyScores.add(peerId, OFFENCE_POINTS[offence], this.opts.now());
    if (score >= this.opts.banThreshold) this.banKey(peerId, offence, detail);
  }

  /**
   * Sends one message to every connected peer, encoded once, NOT paced (for messages the caller
   * limits itself). Inbound peers are reached with one uWS publish (TLS in C++, batched per socket);
   * outbound peers with one `ws` send each. With `except`, every peer gets its own send. Returns
   * the number of peers the message was handed to.
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
    this.makeSendRoom(frame.length * sent);
    return sent;
  }

  /** Gossips transactions to every peer that does not already have them, batched and paced. */
  gossipTxs(txs: readonly Uint8Array[]): void {
    const keyed = txs.map((tx) => ({ tx, key: GossipRelay.key('tx', tx) }));
    for (const [peerId, s] of this.byPeer) {
      const batch = keyed.filter((k) => this.gossipRelay.needs(k.key, peerId, s.readyAtMs)).map((k) => k.tx);
      if (batch.length > 0) this.pacers.get(s)?.queueTxs(batch);
    }
    const now = this.opts.now();
    for (const k of keyed) this.gossipRelay.relayed(k.key, now);
  }

  gossipBlock(block: Uint8Array): void {
    this.gossipItem('block', block, { t: MSG.block, block });
  }

  gossipBeacon(slot: number, y: Uint8Array, proof: Uint8Array): void {
    const msg: Beacon = { t: MSG.beacon, slot, y, proof };
    this.gossipItem('beacon', encodeMessage(msg), msg);
  }

  /** Announces our tip (identity.tip()) to every peer now; call on each new block. */
  announceTip(): void {
    const frame = this.tipFrame();
    for (const s of this.byPeer.values()) this.pacers.get(s)?.queueTip(frame);
  }

  private tipFrame(): Uint8Array {
    const tip = this.identity.tip();
    return encodeMessage({ t: MSG.tip, height: tip.height, hash: tip.hash, slot: tip.slot ?? 0 });
  }

  private gossipItem(kind: GossipKind, item: Uint8Array, msg: WireMessage): void {
    const key = GossipRelay.key(kind, item);
    let frame: Uint8Array | undefined;
    for (const [peerId, s] of this.byPeer) {
      if (!this.gossipRelay.needs(key, peerId, s.readyAtMs)) continue;
      frame ??= encodeMessage(msg);
      this.pacers.get(s)?.queueFrame(msg.t, frame, true);
    }
    this.gossipRelay.relayed(key, this.opts.now());
  }

  /** Closes every connection and the listener; pending requests fail with P2P_PEER_GONE. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.dialer.stop();
    this.server?.close();
    for (const s of [...this.sessions]) {
      this.pacers.get(s)?.stop();
      s.shutdown('shutdown', 'node stopping');
    }
    this.sessions.clear();
    this.byPeer.clear();
  }

  // ---- admission ----

  /**
   * At the HTTP upgrade: IP bans and pending-handshake limits, before a session exists. Per-IP
   * limits count the IP subject (an IPv6 /64), per-netgroup ones its connectionGroupOf (a /24, an
   * IPv6 /48).
   *
   * A pending handshake costs its opener nothing but a TCP and TLS handshake, and an honest one
   * completes in milliseconds, while a silent one holds its slot for handshakeTimeoutMs and can be
   * reopened at once: so when a limit is reached, the oldest pending connection of the network
   * (per-netgroup limit) or of the biggest network (all pending slots taken; between networks of
   * one size, the oldest of theirs) gives way, and that is almost always a staller. Only another
   * IP's connection gives way: one IP over its own share (the per-IP limit, or a table it fills
   * alone) is refused, with 503.
   */
  private admitUpgrade(ip: string): string | null {
    if (this.stopped) return 'stopping';
    if (ip === '') return 'no remote address';
    if (this.ipBan(ip)) {
      this.count('refusedBannedIp');
      return 'banned';
    }
    // A connection we have closed holds no slot, though its close event may still be on its way.
    const pending = [...this.sessions].filter(
      (s) => !s.isReady && s.link.direction === 'inbound' && s.link.isOpen,
    );
    const subject = ipSubject(ip);
    const group = connectionGroupOf(ip);
    if (pending.filter((s) => this.originOf(s).subject === subject).length >= this.opts.maxPendingPerIp) {
      this.count('refusedPendingPerIp');
      return 'too many pending connections from this address';
    }
    // Candidates to give way, oldest first (sessions are kept in the order they were opened).
    const others = pending
      .filter((s) => this.originOf(s).subject !== subject)
      .sort((a, b) => a.openedAtMs - b.openedAtMs);
    if (
      pending.filter((s) => this.originOf(s).netgroup === group).length >= this.opts.maxPendingPerNetgroup
    ) {
      const victim = others.find((s) => this.originOf(s).netgroup === group);
      if (victim === undefined) {
        this.count('refusedPendingPerNetgroup');
        return 'too many pending connections from this network';
      }
      this.evictPending(victim);
      return null;
    }
    if (pending.length >= this.opts.maxPendingHandshakes) {
      const size = new Map<string, number>();
      for (const s of pending)
        size.set(this.originOf(s).netgroup, (size.get(this.originOf(s).netgroup) ?? 0) + 1);
      let victim: PeerSession | undefined;
      let victimSize = 0;
      for (const s of others) {
        const n = size.get(this.originOf(s).netgroup)!;
        if (n > victimSize) [victim, victimSize] = [s, n];
      }
      if (victim === undefined) {
        this.count('refusedPendingTotal');
        return 'too many pending connections';
      }
      this.evictPending(victim);
    }
    return null;
  }

  private evictPending(victim: PeerSession): void {
    this.count('evictedPending');
    victim.shutdown('evicted', 'pending handshake evicted');
  }

  private attach(link: Link): PeerSession {
    const session = new PeerSession(link, this.host);
    this.sessions.add(session);
    return session;
  }

  private originOf(s: PeerSession): { readonly subject: string; readonly netgroup: string } {
    let o = this.origins.get(s);
    if (o === undefined) {
      o = { subject: ipSubject(s.link.remoteHost), netgroup: connectionGroupOf(s.link.remoteHost) };
      this.origins.set(s, o);
    }
    return o;
  }

  /**
   * The ban in force on an address: on its IP subject, or (written before IPv6 was keyed per /64)
   * on the exact address.
   */
  private ipBan(ip: string): BanRecord | undefined {
    const now = this.opts.now();
    for (const key of ipBanKeys(ip)) {
      const ban = this.banList.get(key, now);
      if (ban) return ban;
    }
    return undefined;
  }

  private onHello(s: PeerSession): HelloRefusal | null {
    const hello = s.hello!;
    const now = this.opts.now();
    const ban = this.banList.get(hello.pubkey, now);
    if (ban)
      return {
        close: 'banned',
        reason: `banned until ${new Date(ban.untilMs).toISOString()}: ${ban.reason}`,
      };
    if (s.role === 'listener') {
      const ip = this.originOf(s).subject;
      if (!this.handshakeBuckets.take(ip)) {
        this.count('handshakeRateLimited');
        return {
          close: 'handshakeRateLimited',
          reason: `more than ${this.opts.handshakeRatePerIp.perSec} handshakes/s from ${ip}`,
        };
      }
    }
    return null;
  }

  private slotPeer(s: PeerSession): SlotPeer {
    return {
      peerId: s.peerId,
      direction: s.link.direction,
      ip: this.originOf(s).subject,
      netgroup: this.originOf(s).netgroup,
      connectedAtMs: s.readyAtMs || s.openedAtMs,
      lastUsefulMs: s.lastUsefulMs,
    };
  }

  private classOfSession(s: PeerSession): SlotClass {
    const entry = this.dialer.entryOf(s);
    return classOf(s.link.direction, this.validators.has(s.peerId), entry?.persistent === true);
  }

  private onAuthenticated(s: PeerSession): HelloRefusal | null {
    if (this.stopped) return { close: 'shutdown', reason: 'node stopping' };
    // Our dial to this address reached this key: the address is proven, whatever happens next
    // (a feeler to a peer already connected inbound ends as a duplicate, its job done).
    const entry = this.dialer.entryOf(s);
    if (entry) {
      this.book.markConnected(entry, s.peerId, this.opts.now());
      this.dialer.connected(entry);
    }
    const existing = this.byPeer.get(s.peerId);
    if (existing && existing !== s) {
      if (!this.keepNewer(existing, s))
        return { close: 'duplicate', reason: 'already connected to this node' };
    }
    // A session we already closed holds no slot, though its close event may still be on its way.
    const current = [...this.byPeer.values()]
      .filter((x) => x !== existing && x.link.isOpen)
      .map((x) => ({ peer: this.slotPeer(x), cls: this.classOfSession(x) }));
    const decision = admit(
      this.slotPeer(s),
      this.classOfSession(s),
      current,
      this.opts,
      this.validators.size,
      this.secret,
    );
    if (!decision.ok) {
      this.count('refusedSlots');
      return { close: 'tooManyPeers', reason: decision.reason };
    }
    if (existing && existing !== s) {
      this.byPeer.delete(s.peerId);
      this.retire(existing);
    }
    if (decision.evict !== undefined) {
      this.count('evicted');
      this.byPeer.get(decision.evict)?.shutdown('evicted', 'inbound slot given to another peer');
    }
    this.byPeer.set(s.peerId, s);
    const hello = s.hello!;
    this.theirTips.set(s, { height: hello.tipHeight, hash: hello.tipHash, slot: 0 });
    this.pacers.set(
      s,
      new OutboundPacer(
        {
          peerRates: this.peerRates,
          peerBytesPerSec: this.opts.peerInboundBytesPerSec,
          peerBurstBytes: this.opts.peerInboundBurstBytes,
          maxQueuedTxs: 4_096,
          maxQueuedTxBytes: 8 * 1024 * 1024,
          maxQueuedMessages: 512,
        },
        this.opts.now,
        (frame) => {
          if (!s.sendFrame(frame)) return false;
          this.sendBuffered += frame.length;
          return true;
        },
        // Room is made by closing whoever holds the most, never by holding this peer's traffic.
        () => this.makeSendRoom() && s.link.isOpen,
      ),
    );
    if (!entry && this.opts.peerExchange && hello.listenPort > 0) {
      // Believed only once our own dial to it completes a handshake with this key.
      this.book.addLearned(s.link.remoteHost, hello.listenPort, s.peerId, s.link.remoteHost);
    }
    queueMicrotask(() => {
      if (!s.isReady) return;
      s.link.joinBroadcast?.();
      this.pacers.get(s)?.queueTip(this.tipFrame());
      this.safeEmit('peer:connected', this.info(s));
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
    const cmp = compareBytes(dialerOf(existing), dialerOf(incoming));
    return cmp === 0 ? true : cmp > 0;
  }

  /**
   * `old` was replaced by a newer connection to the same peer (both ends keep the same one): it
   * carries no more broadcasts or new requests and closes once its traffic has settled, so a poll
   * in flight during the swap is still answered (PeerSession.retire). At most one retiring
   * connection per peer: a further swap closes the older one at once.
   */
  private retire(old: PeerSession): void {
    this.retiring.get(old.peerId)?.shutdown('duplicate', 'replaced by a newer connection');
    this.retiring.set(old.peerId, old);
    this.count('connectionsReplaced');
    old.link.leaveBroadcast?.();
    old.retire(this.opts.requestTimeoutMs, RETIRE_MAX_REQUEST_TIMEOUTS * this.opts.requestTimeoutMs);
  }

  /** Bytes in every open link's send buffer, measured now (the running estimate starts again from it). */
  private measureSendBuffers(): number {
    let total = 0;
    for (const s of this.sessions) if (s.link.isOpen) total += s.link.bufferedAmount();
    this.sendBuffered = total;
    return total;
  }

  /**
   * Keeps all peers' send buffers together within maxTotalBackpressure, `sent` being bytes just
   * handed to a link. One peer that does not read is closed at maxBackpressure of its own, but 32
   * of them just under it fill 256 MiB; waiting for room (as gossip once did) would then hold every
   * poll, request, gossip and Tip we send to all the peers that do read. So instead the peer holding
   * the largest buffer is closed (OVERLOADED; not scored: a slow link is no proof of malice), one
   * without stake before any active masternode, until the rest fit (counter `sendBufferEvictions`).
   * Sessions are measured only when the running estimate (last measurement plus what we sent
   * since) crosses the limit, and once a second by maintain(). False only if no room could be made.
   */
  private makeSendRoom(sent = 0): boolean {
    this.sendBuffered += sent;
    const limit = this.opts.maxTotalBackpressure;
    if (this.sendBuffered <= limit) return true;
    // Each pass closes one open session with bytes buffered; the bound only guards against a link
    // that would still report them after closing (a bug), which would otherwise spin here.
    let passes = this.sessions.size;
    while (this.measureSendBuffers() > limit && passes-- > 0) {
      let victim: PeerSession | undefined;
      let victimBytes = 0;
      let victimStake = true;
      for (const s of this.sessions) {
        if (!s.link.isOpen) continue;
        const bytes = s.link.bufferedAmount();
        if (bytes <= 0) continue;
        const stake = this.validators.has(s.peerId);
        if (victim === undefined || (stake !== victimStake ? !stake : bytes > victimBytes)) {
          victim = s;
          victimBytes = bytes;
          victimStake = stake;
        }
      }
      if (victim === undefined) break;
      this.count('sendBufferEvictions');
      victim.shutdown(
        'overloaded',
        `the node's send buffers are over ${limit} bytes and this peer's ${victimBytes} go first`,
      );
    }
    return this.sendBuffered <= limit;
  }

  // ---- scores and bans ----

  private offend(s: PeerSession, offence: Offence, detail: string): void {
    const now = this.opts.now();
    const points = OFFENCE_POINTS[offence];
    const ip = this.originOf(s).subject;
    if (this.ipScores.add(ip, points, now) >= this.opts.ipBanThreshold)
      this.banIp(s.link.remoteHost, offence, detail);
    if (s.peerId === '') return; // no key proven yet: the session closes itself
    if (this.keyScores.add(s.peerId, points, now) >= this.opts.banThreshold) {
      this.banKey(s.peerId, offence, detail);
    }
  }

  private banKey(peerId: string, offence: Offence, detail: string): void {
    const now = this.opts.now();
    const untilMs = now + this.opts.banDurationMs;
    this.keyScores.clear(peerId);
    this.banList.ban(fromHex(peerId, 32), {
      untilMs,
      reason: `${offence}: ${detail}`.slice(0, 200),
      bannedAtMs: now,
    });
    this.safeEmit('peer:banned', { peerId, offence, detail, untilMs });
    this.byPeer.get(peerId)?.shutdown('banned', `${offence}: ${detail}`);
    this.retiring.get(peerId)?.shutdown('banned', `${offence}: ${detail}`);
  }

  /** Bans the IP subject of `address` (the IPv4 address, the IPv6 /64), by its ipKeyBytes. */
  private banIp(address: string, offence: Offence, detail: string): void {
    const now = this.opts.now();
    const untilMs = now + this.opts.banDurationMs;
    const ip = ipSubject(address);
    this.ipScores.clear(ip);
    this.banList.ban(ipKeyBytes(address), {
      untilMs,
      reason: `${offence}: ${detail}`.slice(0, 200),
      bannedAtMs: now,
    });
    this.safeEmit('ip:banned', { ip, offence, detail, untilMs });
    // Active masternodes behind the address keep their connections (their keys answer for them).
    for (const s of [...this.sessions]) {
      if (this.originOf(s).subject === ip && !this.validators.has(s.peerId))
        s.shutdown('banned', `address banned: ${offence}`);
    }
  }

  private onClosed(s: PeerSession, code: number, reason: string): void {
    this.sessions.delete(s);
    this.pacers.get(s)?.stop();
    if (this.retiring.get(s.peerId) === s) this.retiring.delete(s.peerId);
    const wasCurrent = s.peerId !== '' && this.byPeer.get(s.peerId) === s;
    if (wasCurrent) {
      this.byPeer.delete(s.peerId);
      this.safeEmit('peer:disconnected', { peerId: s.peerId, code, reason });
    }
    if (code >= 4001 && code <= 4004 && !wasCurrent) {
      this.safeEmit('peer:refused', { host: s.link.remoteHost, direction: s.link.direction, code, reason });
    }
    if (!this.stopped) this.dialer.closed(s, code, wasCurrent);
  }

  // ---- dialing ----

  private keyOf(e: BookEntry): string | undefined {
    return e.verifiedKey ?? e.claimedKey;
  }

  private wantsDial(e: BookEntry): 'dial' | 'wait' | 'skip' {
    if (this.stopped) return 'skip';
    const key = this.keyOf(e);
    if (key === toHex(this.identity.publicKey)) return 'skip';
    // A connected peer's claimed listen address is dialed once to prove it (a feeler, as in
    // Bitcoin Core): only proven addresses are handed to others.
    const feeler = e.verifiedKey === undefined && !e.persistent && e.attempts === 0 && this.opts.peerExchange;
    if (key !== undefined && this.byPeer.has(key) && !feeler) return 'skip';
    const validator = this.isValidatorTarget(e);
    const ip = normalizeIp(e.host);
    if (ip !== undefined && !validator && this.ipBan(ip)) return 'wait';
    if (key !== undefined && !validator && this.banList.get(fromHex(key, 32), this.opts.now())) return 'wait';
    if (e.persistent) return 'dial';
    if (validator) {
      this.validatorDials.add(e);
      return 'dial';
    }
    if (this.ordinaryOutbound() >= this.opts.maxOutbound) return 'skip';
    this.validatorDials.delete(e);
    return 'dial';
  }

  /**
   * The one address dialed for an active masternode beyond the ordinary outbound slots: the entry
   * the book names for its key (addressOf: one our dial proved, else the claimed one with the
   * fewest failed dials), as maintain() offers it. A peer list is cheap to forge, so any number of
   * other entries may claim the same key: they are ordinary candidates and count against
   * maxOutbound, or one peer's answer could make us dial 64 addresses at once.
   */
  private isValidatorTarget(e: BookEntry): boolean {
    const key = this.keyOf(e);
    return key !== undefined && this.validators.has(key) && this.book.addressOf(key) === e;
  }

  /** Ordinary outbound connections plus dials under way for learned addresses (not masternode targets). */
  private ordinaryOutbound(): number {
    let n = 0;
    for (const s of this.byPeer.values()) if (this.classOfSession(s) === 'outbound') n++;
    return n + this.dialer.dialingCount((e) => !e.persistent && !this.validatorDials.has(e));
  }

  /**
   * Once a second: redial configured addresses and every active masternode we have an address
   * for, and fill the ordinary outbound slots from the address book.
   */
  private maintain(): void {
    if (this.stopped) return;
    this.measureSendBuffers();
    this.makeSendRoom();
    for (const e of this.book.all()) if (e.persistent) this.dialer.offer(e);
    let unknownValidator = false;
    const me = toHex(this.identity.publicKey);
    for (const key of this.validators) {
      if (this.byPeer.has(key) || key === me) continue;
      const e = this.book.addressOf(key);
      if (e) this.dialer.offer(e);
      else unknownValidator = true;
    }
    if (!this.opts.peerExchange) return;
    if (unknownValidator && this.opts.now() - this.lastExchangeMs >= VALIDATOR_SEARCH_EXCHANGE_MS)
      this.exchangePeers();
    for (const e of this.book.candidates()) {
      if (this.ordinaryOutbound() >= this.opts.maxOutbound) break;
      this.dialer.offer(e);
    }
  }

  // ---- messages ----

  private info(s: PeerSession): PeerInfo {
    const hello = s.hello!;
    const tip = this.theirTips.get(s) ?? { height: hello.tipHeight, hash: hello.tipHash, slot: 0 };
    return {
      peerId: s.peerId,
      pubkey: hello.pubkey,
      direction: s.link.direction,
      host: s.link.remoteHost,
      listenPort: hello.listenPort,
      tipHeight: tip.height,
      tipHash: tip.hash,
      tipSlot: tip.slot,
      isValidator: this.validators.has(s.peerId),
    };
  }

  private count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /**
   * Runs application code (listeners, handlers, timers) so that a bug there is a counted error and
   * a `handler:error` event, never an exception through the transport or the process.
   */
  private guard(context: string, f: () => void, peerId = '', type = 0): void {
    try {
      f();
    } catch (error) {
      this.count('handlerErrors');
      try {
        this.emit('handler:error', { peerId, type, context, error });
      } catch {
        // a throwing handler:error listener has nobody left to tell
      }
    }
  }

  private safeEmit(event: string, ...args: unknown[]): void {
    this.guard(event, () => this.emit(event, ...args));
  }

  /**
   * uWS cannot stop reading a socket, so frames over a peer's budgets wait in memory: 32 MiB per
   * peer, but 64 inbound peers (free keys) would hold 2 GiB. Beyond the node-wide limit the
   * session holding the most is closed (OVERLOADED), a peer without stake before any masternode,
   * until the new frame fits; if that is the arriving frame's own session, the frame goes with it.
   */
  private reserveQueued(s: PeerSession, bytes: number): boolean {
    const held = (o: PeerSession) => o.queuedInboundBytes + (o === s ? bytes : 0);
    const stake = (o: PeerSession) => this.validators.has(o.peerId);
    const evictsBefore = (a: PeerSession, b: PeerSession) =>
      stake(a) !== stake(b) ? !stake(a) : held(a) > held(b);
    // Each pass closes a session that gives its queue back; the count only guards against one that
    // would not (a bug), which would otherwise spin here: then the arriving frame's session goes.
    let passes = this.sessions.size + 1;
    while (this.queuedInbound + bytes > this.opts.maxTotalQueuedInboundBytes) {
      let victim = s;
      if (--passes > 0) for (const o of this.sessions) if (held(o) > 0 && evictsBefore(o, victim)) victim = o;
      this.count('inboundQueueEvictions');
      // Closing a session releases everything it had queued (PeerSession.shutdown).
      victim.shutdown(
        'overloaded',
        `the node's queue of waiting frames is full (${this.opts.maxTotalQueuedInboundBytes} bytes) and this peer held the most`,
      );
      if (victim === s) return false;
    }
    this.queuedInbound += bytes;
    return true;
  }

  private onMessage(s: PeerSession, msg: WireMessage): void {
    this.guard(`message ${msg.t}`, () => this.dispatch(s, msg), s.peerId, msg.t);
  }

  private dispatch(s: PeerSession, msg: WireMessage): void {
    switch (msg.t) {
      case MSG.ping:
        s.send({ t: MSG.pong, n: msg.n });
        return;
      case MSG.pong:
        return;
      case MSG.reject:
        if (msg.id === 0) {
          this.emit('peer:reject', { peerId: s.peerId, code: msg.code, reason: msg.reason });
          return;
        }
        this.onAnswerOutcome(
          s,
          msg.id,
          s.requests.fail(msg.id, new RequestError('P2P_REJECTED', `${msg.code}: ${msg.reason}`)),
        );
        return;
      case MSG.pollResponse:
      case MSG.blocks:
      case MSG.inventory:
      case MSG.peers:
        this.onAnswer(s, msg);
        return;
      case MSG.tx:
        if (msg.id !== 0) this.onAnswer(s, msg);
        else this.onTxGossip(s, msg);
        return;
      case MSG.block:
        this.onItemGossip(s, 'block', msg.block, msg);
        return;
      case MSG.beacon:
        this.onItemGossip(s, 'beacon', encodeMessage(msg), msg);
        return;
      case MSG.tip: {
        const tip = { height: msg.height, hash: msg.hash, slot: msg.slot };
        this.theirTips.set(s, tip);
        this.emit('peer:tip', this.info(s), tip);
        return;
      }
      case MSG.getPeers:
        s.send({ t: MSG.peers, id: msg.id, peers: this.peerAddresses(s.peerId) });
        return;
      case MSG.pollRequest:
      case MSG.getTx:
      case MSG.getBlocks:
      case MSG.getInventory:
        this.answer(s, msg);
        return;
      default:
        return;
    }
  }

  /** An answer (by type) to one of our requests: settled, late (dropped, no blame) or unsolicited. */
  private onAnswer(s: PeerSession, msg: Exclude<WireMessage, { id?: undefined }> & { id: number }): void {
    const outcome = s.requests.settle(msg.id, msg);
    if (outcome === 'settled') {
      s.lastUsefulMs = this.opts.now();
      // Peer lists are learned only from answers to our own GetPeers.
      if (msg.t === MSG.peers && this.opts.peerExchange) this.learnPeers(s, msg.peers);
    }
    this.onAnswerOutcome(s, msg.id, outcome);
  }

  private onAnswerOutcome(s: PeerSession, id: number, outcome: 'settled' | 'late' | 'unsolicited'): void {
    if (outcome === 'late') this.count('lateAnswers');
    if (outcome === 'unsolicited') s.offend('UNSOLICITED_RESPONSE', `answer to unknown request ${id}`);
  }

  private answer(s: PeerSession, msg: RequestMessage): void {
    const handler = this.handlers.get(msg.t);
    if (!handler) {
      s.send({ t: MSG.reject, id: msg.id, code: 'UNSUPPORTED', reason: `no handler for type ${msg.t}` });
      return;
    }
    // A tiny request may ask for megabytes (50 blocks, a 1,024-txid page, a frame of transactions):
    // while our answers have overdrawn this peer's byte budget, those requests are refused before
    // any work, so one peer cannot take our upload at its request rate. Polls are always answered:
    // their answers are a byte a txid, and a refused poll would cost the asker our vote.
    const pacer = this.pacers.get(s);
    if (msg.t !== MSG.pollRequest && pacer?.overdrawn) {
      this.count('answersRefused');
      s.send({
        t: MSG.reject,
        id: msg.id,
        code: 'BUSY',
        reason: "answers over this peer's byte budget; retry later",
      });
      return;
    }
    const reply = (r: Omit<WireMessage, 'id'>) => {
      const frame = encodeMessage({ ...r, id: msg.id } as WireMessage);
      pacer?.chargeAnswer(frame.length);
      if (s.sendFrame(frame)) this.makeSendRoom(frame.length);
    };
    const fail = (err: unknown) =>
      s.send({
        t: MSG.reject,
        id: msg.id,
        code: 'HANDLER_FAILED',
        reason: String((err as Error)?.message ?? err).slice(0, 200),
      });
    let out: ReturnType<RequestHandler<RequestType>>;
    try {
      out = handler(this.info(s), msg);
    } catch (err) {
      this.count('handlerErrors');
      fail(err);
      return;
    }
    if (!(out instanceof Promise)) {
      this.guard('reply', () => reply(out));
      return;
    }
    // An async answer holds one of the peer's concurrent-request slots until it settles or times out.
    s.requestStarted();
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.requestDone();
      this.guard('reply', f);
    };
    const timer = setTimeout(
      () => finish(() => fail(new Error('handler timed out'))),
      2 * this.opts.requestTimeoutMs,
    );
    timer.unref?.();
    out.then(
      (r) => finish(() => reply(r)),
      (err: unknown) => {
        this.count('handlerErrors');
        finish(() => fail(err));
      },
    );
  }

  private onTxGossip(s: PeerSession, msg: Tx): void {
    const fresh = msg.txs.filter((tx) => this.gossipRelay.received(GossipRelay.key('tx', tx), s.peerId));
    if (fresh.length === 0) return;
    s.lastUsefulMs = this.opts.now();
    this.emit('gossip:tx', this.info(s), fresh);
    if (this.opts.autoRelay) this.gossipTxs(fresh);
  }

  private onItemGossip(s: PeerSession, kind: GossipKind, item: Uint8Array, msg: BlockMsg | Beacon): void {
    if (!this.gossipRelay.received(GossipRelay.key(kind, item), s.peerId)) return;
    s.lastUsefulMs = this.opts.now();
    this.emit(`gossip:${kind}`, this.info(s), msg);
    if (this.opts.autoRelay) this.gossipItem(kind, item, msg);
  }

  /** Addresses we proved by our own dials (never what others merely claimed). */
  private peerAddresses(exceptPeerId: string): PeerAddress[] {
    if (!this.opts.peerExchange) return [];
    return this.book
      .verified(MAX_PEERS_PER_MESSAGE + 1)
      .filter((e) => e.verifiedKey !== exceptPeerId)
      .slice(0, MAX_PEERS_PER_MESSAGE)
      .map((e) => ({ host: e.host, port: e.port, pubkey: fromHex(e.verifiedKey!, 32) }));
  }

  private learnPeers(s: PeerSession, peers: readonly PeerAddress[]): void {
    const me = toHex(this.identity.publicKey);
    let added = 0;
    for (const p of peers) {
      const key = toHex(p.pubkey);
      if (key === me) continue;
      if (this.book.addLearned(p.host, p.port, key, s.link.remoteHost)) added++;
    }
    this.count('addressesLearned', added);
  }

  private askPeers(s: PeerSession): void {
    if (!this.opts.peerExchange) return;
    this.request(s.peerId, { t: MSG.getPeers }).catch(() => {
      // peer exchange is best effort: the next interval asks again
    });
  }

  private exchangePeers(): void {
    this.lastExchangeMs = this.opts.now();
    for (const s of this.byPeer.values()) if (s.isReady) this.askPeers(s);
  }
}

/** Hex peer id → public key bytes. */
export function pubkeyOfPeerId(peerId: string): Uint8Array {
  return fromHex(peerId, 32);
}

export type { CloseName };
