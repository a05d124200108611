/**
 * A token bucket: `ratePerSec` tokens refill continuously up to `burst`; each message takes one.
 * The clock is passed in (ms), so tests drive it without waiting.
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

  /** Takes `n` tokens if available; false means the sender is over its rate. */
  take(nowMs: number, n = 1): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}
