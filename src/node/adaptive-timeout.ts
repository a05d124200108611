/**
 * How long a poll waits for its answers, learned from the round trips this node observes: RFC
 * 6298's retransmission timer (smoothed RTT + 4 × its mean deviation), never below the network's
 * `pollTimeoutMs` and never above `ceilingMs`.
 *
 * Why: a poll applies when its answers are in or at its timeout, and a missing answer counts as a
 * "no". With a fixed 250 ms on a machine whose event loops lag (CPU saturated by a burst of
 * signatures, GC, a loaded host), a third of the polls timed out and each reset the confidence of
 * up to 1,024 transactions: finality stalled exactly when load was highest. avalanchego adapts its
 * request timeouts the same way (its adaptive timeout manager). The timeout is local: nodes may
 * use different ones without any effect on safety, only on how long a silent validator delays a
 * poll (which benching bounds).
 */
export class AdaptiveTimeout {
  private srttMs: number | undefined;
  private rttvarMs = 0;

  constructor(
    readonly floorMs: number,
    readonly ceilingMs: number,
  ) {
    if (!(floorMs > 0 && ceilingMs >= floorMs)) throw new RangeError('need 0 < floorMs ≤ ceilingMs');
  }

  /** One observed round trip (an answered request). */
  observe(rttMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    if (this.srttMs === undefined) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /** The timeout to use now, in whole milliseconds. */
  get currentMs(): number {
    if (this.srttMs === undefined) return this.floorMs;
    const rto = Math.ceil(this.srttMs + 4 * this.rttvarMs);
    return Math.min(this.ceilingMs, Math.max(this.floorMs, rto));
  }
}
