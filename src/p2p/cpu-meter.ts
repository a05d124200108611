/**
 * How much of one core something has been keeping busy lately: an exponentially decaying average
 * of the fraction of wall time spent on it, with a half-life. Recording `ms` of work at time t adds
 * ms·λ (λ = ln 2 / half-life), and the sum decays by e^(−λ·Δt); a steady load of f of a core
 * therefore settles at f, and after the load stops the reading halves every half-life. This is the
 * continuous-time meter avalanchego's resource tracker uses, so usage needs no window of samples
 * and the time until it falls to a level has a closed form.
 */
export class CpuMeter {
  private value = 0;
  private lastMs: number;

  constructor(
    /** ln 2 / half-life, per millisecond (see cpuDecayRate). */
    private readonly lambda: number,
    nowMs: number,
  ) {
    this.lastMs = nowMs;
  }

  /** The fraction of one core in use at `nowMs` (0 when idle; 1 = a whole core). */
  usage(nowMs: number): number {
    if (nowMs > this.lastMs) {
      this.value *= Math.exp(-this.lambda * (nowMs - this.lastMs));
      this.lastMs = nowMs;
    }
    return this.value;
  }

  /** `workMs` of CPU spent at `nowMs`. */
  record(nowMs: number, workMs: number): void {
    this.value = this.usage(nowMs) + workMs * this.lambda;
  }

  /** Milliseconds from `nowMs` until usage has decayed to `target` (0 if it is there; ∞ for target 0). */
  msUntil(nowMs: number, target: number): number {
    const u = this.usage(nowMs);
    if (u <= target) return 0;
    return Math.log(u / target) / this.lambda; // ∞ for a target of 0
  }
}

/** λ for a half-life in milliseconds. */
export function cpuDecayRate(halfLifeMs: number): number {
  return Math.LN2 / halfLifeMs;
}
