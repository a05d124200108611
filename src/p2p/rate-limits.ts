import { type MessageType, MSG } from '../wire/message-types.js';
import { TokenBucket } from './token-bucket.js';

/** Messages per second and burst for one message type from one peer. */
export interface RateLimit {
  readonly perSec: number;
  readonly burst: number;
}

/**
 * Defaults per type and per peer. Polls: a node keeps ≤ 4 polls in flight per poll round (DESIGN §5)
 * but is sampled by many pollers, so the inbound allowance is generous; floods far beyond it are
 * misbehaviour. Blocks and beacons come once per slot (≥ 2 s even on devnet) from each peer at most,
 * and a Block frame may be 4 MiB, so their allowance is small. Hello/Auth: once per connection
 * (enforced by the session, listed for the docs).
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<MessageType, RateLimit>> = Object.freeze({
  [MSG.hello]: { perSec: 1, burst: 1 },
  [MSG.auth]: { perSec: 1, burst: 1 },
  [MSG.ping]: { perSec: 5, burst: 20 },
  [MSG.pong]: { perSec: 5, burst: 20 },
  [MSG.tx]: { perSec: 500, burst: 1_000 },
  [MSG.getTx]: { perSec: 200, burst: 400 },
  [MSG.pollRequest]: { perSec: 1_000, burst: 2_000 },
  [MSG.pollResponse]: { perSec: 1_000, burst: 2_000 },
  [MSG.block]: { perSec: 2, burst: 10 },
  [MSG.getBlocks]: { perSec: 20, burst: 40 },
  [MSG.blocks]: { perSec: 20, burst: 40 },
  [MSG.beacon]: { perSec: 2, burst: 10 },
  [MSG.getPeers]: { perSec: 1, burst: 10 },
  [MSG.peers]: { perSec: 1, burst: 10 },
  [MSG.reject]: { perSec: 10, burst: 20 },
  [MSG.getInventory]: { perSec: 20, burst: 40 },
  [MSG.inventory]: { perSec: 20, burst: 40 },
  [MSG.tip]: { perSec: 2, burst: 10 },
});

/** One peer's buckets, one per message type, created lazily. */
export class PeerRateLimiter {
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(private readonly limits: Readonly<Record<number, RateLimit>>) {}

  /** True when a message of `type` is within the peer's allowance at `nowMs`. */
  allow(type: number, nowMs: number): boolean {
    let bucket = this.buckets.get(type);
    if (!bucket) {
      const limit = this.limits[type];
      if (!limit) return false;
      bucket = new TokenBucket(limit.perSec, limit.burst, nowMs);
      this.buckets.set(type, bucket);
    }
    return bucket.take(nowMs);
  }
}
