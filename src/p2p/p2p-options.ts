import type { MessageType } from '../wire/message-types.js';
import type { BackoffOptions } from './backoff.js';
import type { BanList } from './ban-list.js';
import type { LocalIdentity } from './handshake.js';
import { BAN_THRESHOLD } from './misbehaviour.js';
import type { RateLimit } from './rate-limits.js';

export interface PeerEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Transport configuration. Chain inputs (chain id, genesis, tip) come in through `identity`. */
export interface P2pNodeOptions {
  readonly identity: Omit<LocalIdentity, 'listenPort'>;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Listen port; 0 = ephemeral (default). */
  readonly port?: number;
  /** How long a fixed listen port that is still taken is retried (default 90 s; see uws-server.ts). */
  readonly listenRetryMs?: number;
  /** false: outbound only (Hello announces listen port 0). */
  readonly listen?: boolean;
  /** WebSocket path of the p2p route. */
  readonly path?: string;
  readonly seeds?: readonly PeerEndpoint[];
  readonly banList?: BanList;
  readonly banDurationMs?: number;
  /** Per-type overrides of DEFAULT_RATE_LIMITS. */
  readonly rateLimits?: Partial<Record<MessageType, RateLimit>>;
  readonly maxPeers?: number;
  /** Inbound connections still in their handshake; more are refused at the HTTP upgrade. */
  readonly maxPendingHandshakes?: number;
  readonly handshakeTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxOutstandingRequests?: number;
  readonly idleTimeoutSec?: number;
  readonly pingIntervalMs?: number;
  readonly maxBackpressure?: number;
  readonly backoff?: Partial<Pick<BackoffOptions, 'baseMs' | 'maxMs'>>;
  readonly peerExchangeIntervalMs?: number;
  readonly dedupCapacity?: number;
  /** Misbehaviour score at which a peer is banned (default 100; see misbehaviour.ts). */
  readonly banThreshold?: number;
  /** Misbehaviour points forgiven per second. */
  readonly scoreDecayPerSec?: number;
  /** Relay fresh gossip to other peers without asking the application (probe and tests only). */
  readonly autoRelay?: boolean;
  readonly random?: () => number;
  readonly now?: () => number;
}

export const P2P_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  listenRetryMs: 90_000,
  path: '/p2p/1',
  banDurationMs: 60 * 60_000,
  maxPeers: 128,
  maxPendingHandshakes: 64,
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 2_000,
  maxOutstandingRequests: 256,
  idleTimeoutSec: 32,
  pingIntervalMs: 10_000,
  maxBackpressure: 16 * 1024 * 1024,
  peerExchangeIntervalMs: 60_000,
  dedupCapacity: 200_000,
  scoreDecayPerSec: 1,
  banThreshold: BAN_THRESHOLD,
});
