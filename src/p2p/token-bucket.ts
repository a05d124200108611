/**
 * A token bucket: `ratePerSec` tokens refill continuously up to `burst`; a message takes one token
 * (message limits) or its length (byte budgets). The clock is passed in (ms), so tests drive it
 * without waiting.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Tokens available at `nowMs`. */
  available(nowMs: number): number {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000);
      this.lastMs = nowMs;
    }
    return this.tokens;
  }

  /** Takes `n` tokens if available; false means the sender is over its rate. */
  take(nowMs: number, n = 1): boolean {
    if (this.available(nowMs) < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens whether or not they are there: the balance may go negative, a debt the refill
   * repays before anything else may be taken (for bytes already sent that could not wait).
   */
  charge(nowMs: number, n: number): void {
    this.available(nowMs);
    this.tokens -= n;
  }

  /** Milliseconds from `nowMs` until the bucket holds its whole burst again (0 if it does). */
  msUntilFull(nowMs: number): number {
    return Math.ceil(((this.burst - this.available(nowMs)) * 1000) / this.ratePerSec);
  }

  /** Milliseconds from `nowMs` until `n` tokens are available (0 if they are; Infinity beyond burst). */
  msUntil(nowMs: number, n = 1): number {
    const missing = n - this.available(nowMs);
    if (missing <= 0) return 0;
    if (n > this.burst) return Number.POSITIVE_INFINITY;
    return Math.ceil((missing * 1000) / this.ratePerSec);
  }
}
