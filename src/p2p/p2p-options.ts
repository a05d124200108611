import type { MessageType } from '../wire/message-types.js';
import type { BackoffOptions } from './backoff.js';
import type { BanList } from './ban-list.js';
import type { CpuAllocation } from './cpu-throttle.js';
import type { LocalIdentity } from './handshake.js';
import { BAN_THRESHOLD } from './misbehaviour.js';
import type { RateLimit } from './rate-limits.js';

export interface PeerEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * Transport configuration; every limit an operator can tune, with its default in P2P_DEFAULTS
 * (docs/operations.md lists them). Chain inputs (chain id, genesis, tip) and the TLS certificate
 * come in through `identity`.
 */
export interface P2pNodeOptions {
  readonly identity: Omit<LocalIdentity, 'listenPort'>;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Listen port; 0 = ephemeral (default). */
  readonly port?: number;
  /** How long a fixed listen port that is still taken is retried (default 90 s; see uws-server.ts). */
  readonly listenRetryMs?: number;
  /** false: outbound only (Hello announces listen port 0; no TLS certificate needed). */
  readonly listen?: boolean;
  /** WebSocket path of the p2p route. */
  readonly path?: string;
  /** Addresses dialed at start and kept connected (redialed with backoff whenever they drop). */
  readonly seeds?: readonly PeerEndpoint[];
  /**
   * false: never ask for, learn or dial addresses other than `seeds`/addPeer (and never dial an
   * inbound peer's claimed listen port): a fault-injection harness that routes each link through a
   * proxy must not be bypassed. Active masternodes are then reached only through configured addresses.
   */
  readonly peerExchange?: boolean;
  /** Accept loopback and private addresses in peer lists (devnets and tests; never on a public network). */
  readonly acceptLocalAddresses?: boolean;
  readonly banList?: BanList;
  readonly banDurationMs?: number;
  /** Per-type overrides of DEFAULT_RATE_LIMITS (what we allow each peer). */
  readonly rateLimits?: Partial<Record<MessageType, RateLimit>>;
  /** What we assume peers allow us (default: the same defaults); we send at 3/4 of it. */
  readonly peerRateLimits?: Partial<Record<MessageType, RateLimit>>;
  /** Ordinary outbound connections (peers we chose). */
  readonly maxOutbound?: number;
  /** Ordinary inbound connections. */
  readonly maxInbound?: number;
  /**
   * Inbound connections from one IP: its ip-address.ts ipSubject, an IPv4 address or an IPv6 /64
   * (one IPv6 host may take a fresh address of its /64 for every connection).
   */
  readonly maxInboundPerIp?: number;
  /** Inbound connections from one network: connectionGroupOf, a /24 (IPv4) or /48 (IPv6). */
  readonly maxInboundPerNetgroup?: number;
  /** Connections reserved for active masternodes (the set's size, capped by this). */
  readonly maxValidatorSlots?: number;
  /**
   * Inbound connections still in their handshake, in total: when all are taken the network holding
   * the most gives up its oldest of another IP (an honest handshake takes milliseconds: the oldest
   * is a staller).
   */
  readonly maxPendingHandshakes?: number;
  /** …from one IP (ipSubject); beyond it a newcomer is refused with 503 (nothing gives way to it). */
  readonly maxPendingPerIp?: number;
  /** …from one network (connectionGroupOf); at it its oldest of another IP gives way to a newcomer. */
  readonly maxPendingPerNetgroup?: number;
  /** Handshake signature checks per IP (ipSubject: an IPv4 address, an IPv6 /64; token bucket). */
  readonly handshakeRatePerIp?: RateLimit;
  readonly handshakeTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxOutstandingRequests?: number;
  /** Requests from one peer being answered at once; beyond it the peer's frames wait. */
  readonly maxConcurrentInboundRequests?: number;
  /** Inbound bytes per peer per second, burst, and how much may wait before the link is closed. */
  readonly inboundBytesPerSec?: number;
  readonly inboundBurstBytes?: number;
  readonly maxQueuedInboundBytes?: number;
  /** …and all peers' waiting frames together, beyond which the peer holding the most is closed. */
  readonly maxTotalQueuedInboundBytes?: number;
  /** Inbound bytes per second over all peers. */
  readonly totalInboundBytesPerSec?: number;
  /** What we assume each peer allows us in bytes per second and burst (we send at 3/4 of it). */
  readonly peerInboundBytesPerSec?: number;
  readonly peerInboundBurstBytes?: number;
  readonly idleTimeoutSec?: number;
  readonly pingIntervalMs?: number;
  /** Bytes queued for one peer beyond which the connection is closed (must exceed the 4 MiB frame cap). */
  readonly maxBackpressure?: number;
  /**
   * Bytes queued for all peers together; beyond it the peer holding the most (one without stake
   * before any active masternode) is closed, OVERLOADED, until the rest fit. Nothing waits for room.
   */
  readonly maxTotalBackpressure?: number;
  readonly backoff?: Partial<Pick<BackoffOptions, 'baseMs' | 'maxMs'>>;
  readonly peerExchangeIntervalMs?: number;
  /** How often our tip is re-announced to every peer. */
  readonly tipIntervalMs?: number;
  /** Heap budget of the gossip dedup cache. */
  readonly dedupMaxBytes?: number;
  /** How long the gossip dedup cache remembers an item. */
  readonly dedupMaxAgeMs?: number;
  /** How the coordinator's time for peers' frames is shared (CPU_ALLOCATION_DEFAULTS, per field). */
  readonly cpu?: Partial<CpuAllocation>;
  /** Misbehaviour score at which a node key is banned (default 100; see misbehaviour.ts). */
  readonly banThreshold?: number;
  /**
   * …and at which an IP is banned (default 200: several nodes may share one IP). An IP is its
   * ipSubject, so an IPv6 score and ban cover the /64.
   */
  readonly ipBanThreshold?: number;
  /** Misbehaviour points forgiven per second. */
  readonly scoreDecayPerSec?: number;
  /**
   * BENCHMARKS ONLY: plain WebSocket without TLS, so nothing binds the handshake to the channel and
   * a relay can impersonate anyone. It exists to measure what the secure channel costs
   * (p2p.pollRoundTrip.plain); the node's configuration does not expose it.
   */
  readonly insecurePlaintext?: boolean;
  /** Relay fresh gossip to other peers without asking the application (probe and tests only). */
  readonly autoRelay?: boolean;
  readonly random?: () => number;
  readonly now?: () => number;
}

const MIB = 1024 * 1024;

export const P2P_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  listenRetryMs: 90_000,
  path: '/p2p/1',
  peerExchange: true,
  acceptLocalAddresses: false,
  banDurationMs: 60 * 60_000,
  maxOutbound: 8,
  maxInbound: 64,
  maxInboundPerIp: 4,
  maxInboundPerNetgroup: 16,
  maxValidatorSlots: 1_024,
  maxPendingHandshakes: 256,
  maxPendingPerIp: 8,
  maxPendingPerNetgroup: 32,
  handshakeRatePerIp: Object.freeze({ perSec: 10, burst: 20 }),
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 2_000,
  maxOutstandingRequests: 256,
  maxConcurrentInboundRequests: 32,
  inboundBytesPerSec: 8 * MIB,
  inboundBurstBytes: 16 * MIB,
  maxQueuedInboundBytes: 32 * MIB,
  maxTotalQueuedInboundBytes: 256 * MIB,
  totalInboundBytesPerSec: 64 * MIB,
  peerInboundBytesPerSec: 8 * MIB,
  peerInboundBurstBytes: 16 * MIB,
  idleTimeoutSec: 32,
  pingIntervalMs: 10_000,
  maxBackpressure: 8 * MIB,
  maxTotalBackpressure: 256 * MIB,
  peerExchangeIntervalMs: 60_000,
  tipIntervalMs: 10_000,
  dedupMaxBytes: 32 * MIB,
  dedupMaxAgeMs: 5 * 60_000,
  scoreDecayPerSec: 1,
  banThreshold: BAN_THRESHOLD,
  ipBanThreshold: 2 * BAN_THRESHOLD,
});
