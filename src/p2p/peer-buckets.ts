import type { RateLimit } from './rate-limits.js';
import { TokenBucket } from './token-bucket.js';

/** Peers whose buckets are remembered by default. */
export const MAX_PEER_BUCKETS = 4_096;

/**
 * One token bucket per key for a budget (fetches a peer's polls may cause, signature checks its
 * gossip may cost, handshakes from one IP), created full on first use. At most `maxPeers` are
 * remembered, the least recently used forgotten first: a forgotten key starts again with a full
 * bucket, which every new key gets anyway, so forgetting gives an attacker nothing it could not
 * have for free; and a key in use is never forgotten, so a drained bucket stays drained while its
 * owner keeps asking, however many other keys come and go.
 */
export class PeerBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxPeers = MAX_PEER_BUCKETS,
  ) {}

  /** The peer's bucket (full for a peer not seen, or forgotten), now the most recently used. */
  of(peerId: string): TokenBucket {
    let bucket = this.buckets.get(peerId);
    // Map order is insertion order: re-inserting makes it the last to be forgotten.
    if (bucket) this.buckets.delete(peerId);
    else {
      if (this.buckets.size >= this.maxPeers) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.limit.perSec, this.limit.burst, this.now());
    }
    this.buckets.set(peerId, bucket);
    return bucket;
  }

  /** Takes `n` tokens from the peer's bucket if they are there. */
  take(peerId: string, n = 1): boolean {
    return this.of(peerId).take(this.now(), n);
  }
}
