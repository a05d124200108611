/** Reconnect delays: exponential with "equal jitter" (half fixed, half random), capped. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Random number in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
}

export const DEFAULT_BACKOFF = Object.freeze({ baseMs: 500, maxMs: 30_000 });

/**
 * Delay before reconnect attempt `attempt` (1-based): d = min(max, base·2^(attempt−1)), returned as
 * d/2 + random·d/2. The jitter spreads reconnect storms after a node restarts; the fixed half
 * guarantees the delay still grows.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(exp / 2 + opts.random() * (exp / 2));
}
