import { PeerBuckets } from '../p2p/peer-buckets.js';
import type { RateLimit } from '../p2p/rate-limits.js';
import { TokenBucket } from '../p2p/token-bucket.js';

/**
 * Transactions from one peer without stake that we verify, per second and at once. A transaction
 * whose inputs exist costs a signature check per input in the pool whatever its signatures are
 * worth, and before the first refusal comes back (and scores the sender) one key could have 8,192
 * of them in flight: 32 Tx frames of 256. Keys and IPv6 addresses are free, so without a budget a
 * stream of fresh identities could keep the workers busy with garbage while honest transactions
 * waited. An honest full node relays what its wallets submit, far below this.
 */
export const PEER_VERIFY_BUDGET: RateLimit = Object.freeze({ perSec: 512, burst: 1_024 });

/** …and for all peers without stake together, however many keys they hold. */
export const AT_LARGE_VERIFY_BUDGET: RateLimit = Object.freeze({ perSec: 2_048, burst: 4_096 });

export interface VerifyBudgetOptions {
  /** True for an active masternode: its relays are never budgeted (it verified them first). */
  readonly isStaked: (peerId: string) => boolean;
  readonly now: () => number;
  readonly perPeer?: RateLimit;
  readonly atLarge?: RateLimit;
  readonly maxPeers?: number;
}

/**
 * Which peers' transactions go to signature verification (TxIntake.fromPeer): every active
 * masternode's, and others' within their own budget and a budget all of them share — the CPU
 * throttle's stake rule applied to the worker pool. A transaction over budget is dropped unread;
 * if it is real, a masternode's poll names it and fetches it again later.
 */
export class VerifyBudget {
  private readonly perPeer: PeerBuckets;
  private readonly atLarge: TokenBucket;

  constructor(private readonly o: VerifyBudgetOptions) {
    this.perPeer = new PeerBuckets(o.perPeer ?? PEER_VERIFY_BUDGET, o.now, o.maxPeers);
    const shared = o.atLarge ?? AT_LARGE_VERIFY_BUDGET;
    this.atLarge = new TokenBucket(shared.perSec, shared.burst, o.now());
  }

  /** May one transaction from `peerId` be verified now? Takes from both budgets, or neither. */
  allow(peerId: string): boolean {
    if (this.o.isStaked(peerId)) return true;
    const now = this.o.now();
    const own = this.perPeer.of(peerId);
    if (own.available(now) < 1 || this.atLarge.available(now) < 1) return false;
    own.take(now);
    this.atLarge.take(now);
    return true;
  }
}
