import type { RateLimit } from './rate-limits.js';
import { TokenBucket } from './token-bucket.js';

/** Peers whose buckets are remembered by default. */
export const MAX_PEER_BUCKETS = 4_096;

/**
 * One token bucket per peer key for a budget the application keeps (fetches a peer's polls may
 * cause, signature checks its gossip may cost), created full on first use. At most `maxPeers` are
 * remembered, the oldest forgotten first: a forgotten peer starts again with a full bucket, which
 * every new key gets anyway, so forgetting gives an attacker nothing it could not have for free.
 */
export class PeerBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxPeers = MAX_PEER_BUCKETS,
  ) {}

  /** The peer's bucket (full for a peer not seen, or forgotten). */
  of(peerId: string): TokenBucket {
    let bucket = this.buckets.get(peerId);
    if (!bucket) {
      if (this.buckets.size >= this.maxPeers) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.limit.perSec, this.limit.burst, this.now());
      this.buckets.set(peerId, bucket);
    }
    return bucket;
  }

  /** Takes `n` tokens from the peer's bucket if they are there. */
  take(peerId: string, n = 1): boolean {
    return this.of(peerId).take(this.now(), n);
  }
}
