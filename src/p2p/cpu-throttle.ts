import { CpuMeter, cpuDecayRate } from './cpu-meter.js';

/**
 * How the coordinator's time for peers' messages is shared, in fractions of one core (see
 * docs/architecture.md "CPU budgets").
 */
export interface CpuAllocation {
  /** Split among the other active masternodes by stake weight: each one's guaranteed share. */
  readonly validators: number;
  /**
   * Shared by every peer beyond its stake share (all a non-validator has): while peers together use
   * this much beyond their stake shares, none of them gets more.
   */
  readonly atLarge: number;
  /** …and at most this much of it for one peer. */
  readonly atLargePerPeer: number;
  /** How fast a peer's measured usage is forgotten. */
  readonly halfLifeMs: number;
  /** Longest a throttled peer's frames wait before its usage and target are looked at again. */
  readonly maxRecheckMs: number;
}

/**
 * A whole core for the masternodes: no honest masternode is throttled for using its stake's share
 * of a coordinator that has nothing else to do, and 20 % of the stake can take no more than 20 %
 * of it (plus what the at-large pool lends anyone). A quarter of a core for everyone else together (Sybil identities are free, so they
 * share one pool whatever their number), a tenth per peer: about 30 polls of 1,024 random txids a
 * second, several times what a full node needs at 1,000 tx/s.
 */
export const CPU_ALLOCATION_DEFAULTS: CpuAllocation = Object.freeze({
  validators: 1,
  atLarge: 0.25,
  atLargePerPeer: 0.1,
  halfLifeMs: 5_000,
  maxRecheckMs: 250,
});

/** Peers whose usage is remembered (by key, so reconnecting does not reset it). */
export const MAX_CPU_METERS = 4_096;
/** How often the at-large pool's lending is summed over all peers (ms). */
const RECOUNT_MS = 100;
/** A meter that has decayed below this fraction of a core is forgotten. */
const FORGET_BELOW = 1e-4;

/**
 * Per-peer CPU throttling, avalanchego's "system throttler" for our coordinator: the time spent
 * decoding and handling each peer's frames is measured and charged to its key, and a peer whose
 * recent usage is above its target has its next frames wait (they queue on the session, within
 * its queue limits, and an outbound link stops reading) until the usage has decayed to the
 * target. A peer's target is its stake share plus what the at-large pool has left for it, so a
 * flood from any key — or any number of keys — that holds no stake costs us at most the at-large
 * share, and a masternode at most its stake's share beyond it, while honest peers are never asked
 * to wait on an idle node.
 */
export class CpuThrottle {
  private readonly lambda: number;
  private readonly meters = new Map<string, CpuMeter>();
  private shares = new Map<string, number>();
  /** Σ over peers of usage beyond stake share, as of `lentAtMs` (see atLargeUsage). */
  private lent = 0;
  private lentAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly alloc: CpuAllocation,
    private readonly maxMeters = MAX_CPU_METERS,
  ) {
    this.lambda = cpuDecayRate(alloc.halfLifeMs);
  }

  /**
   * The active masternodes (peer id → stake weight). Our own weight is left out: we never send
   * ourselves frames, so the others split the whole validator share.
   */
  setValidators(weights: ReadonlyMap<string, number>, selfId: string): void {
    let total = 0;
    for (const [id, w] of weights) if (id !== selfId) total += w;
    const shares = new Map<string, number>();
    for (const [id, w] of weights)
      if (id !== selfId && w > 0) shares.set(id, (this.alloc.validators * w) / total);
    this.shares = shares;
    this.lentAtMs = Number.NEGATIVE_INFINITY;
  }

  /** The peer's guaranteed share of a core (0 for a non-validator). */
  stakeShare(peerId: string): number {
    return this.shares.get(peerId) ?? 0;
  }

  /**
   * What the peer may use at `nowMs`: its stake share plus what the at-large pool has not lent to
   * OTHER peers (its own borrowing must not count against it, or one peer alone would settle at
   * half the pool), at most atLargePerPeer. n peers flooding at once settle at atLarge / n each.
   */
  target(peerId: string, nowMs: number): number {
    const share = this.stakeShare(peerId);
    const own = Math.max(0, this.usage(peerId, nowMs) - share);
    const left = Math.max(0, this.alloc.atLarge - Math.max(0, this.atLargeUsage(nowMs) - own));
    return share + Math.min(this.alloc.atLargePerPeer, left);
  }

  /** The peer's measured usage (fraction of a core). */
  usage(peerId: string, nowMs: number): number {
    return this.meters.get(peerId)?.usage(nowMs) ?? 0;
  }

  /**
   * What the at-large pool has lent: usage beyond stake shares, all peers together. Summed over
   * every meter at most every RECOUNT_MS rather than kept as a running total, because a masternode
   * working at its share goes above and below it with every frame, and a running total of the
   * crossings would count its whole use as lent. The pass also forgets meters that decayed to
   * nothing, which keeps it short.
   */
  atLargeUsage(nowMs: number): number {
    if (nowMs - this.lentAtMs < RECOUNT_MS) return this.lent;
    let lent = 0;
    for (const [id, meter] of this.meters) {
      const u = meter.usage(nowMs);
      if (u < FORGET_BELOW) this.meters.delete(id);
      else lent += Math.max(0, u - this.stakeShare(id));
    }
    this.lent = lent;
    this.lentAtMs = nowMs;
    return lent;
  }

  /** `ms` of the coordinator's time went to a frame from `peerId`. */
  charge(peerId: string, nowMs: number, ms: number): void {
    let meter = this.meters.get(peerId);
    if (!meter) {
      // The oldest is forgotten (it starts again from zero; every new key does anyway).
      if (this.meters.size >= this.maxMeters) this.meters.delete(this.meters.keys().next().value!);
      meter = new CpuMeter(this.lambda, nowMs);
      this.meters.set(peerId, meter);
    }
    meter.record(nowMs, ms);
  }

  /**
   * How long the peer's next frame must wait (ms, 0: process it now). Never more than maxRecheckMs:
   * its target may rise sooner (the at-large pool frees up, it joins the active set).
   */
  waitMs(peerId: string, nowMs: number): number {
    const meter = this.meters.get(peerId);
    // A key with no meter (new, or forgotten) has used nothing, but its target is 0 all the same
    // while the at-large pool is used up: it waits like any other, or every fresh identity (free to
    // make) would get one frame processed, however costly, whatever the pool. A masternode's
    // target is at least its stake share, so it never waits here.
    if (!meter) return this.target(peerId, nowMs) > 0 ? 0 : this.alloc.maxRecheckMs;
    const wait = meter.msUntil(nowMs, this.target(peerId, nowMs));
    if (wait === 0) return 0;
    return Math.min(this.alloc.maxRecheckMs, Math.max(1, Math.ceil(wait)));
  }
}
