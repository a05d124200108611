import type { Rng } from '../consensus/snowball/prng.js';
import { effectiveBurstBytes, type LinkFaults, mergeLinkFaults, NO_FAULTS } from './link-faults.js';

/**
 * The timing model of one direction of a proxied link, shared by every connection on it (a link's
 * bandwidth is shared, as on a real wire): a token bucket for the rate cap, then a delay drawn per
 * chunk. Pure: the clock is passed in and randomness comes from a seeded `Rng`, so the sequence of
 * delays is reproducible and the model is tested without sockets.
 *
 * Order is not this class's business: a pipe releases a chunk at max(its previous release,
 * readyAt(...)), which is what keeps a byte stream in order under jitter.
 */
export class LinkShaper {
  private current: LinkFaults = NO_FAULTS;
  /**
   * Token bucket as a time: the moment the bucket would be full again. Tokens at time t < fullAt are
   * burst − (fullAt − t)·rate; the bucket starts full (fullAt = −∞).
   */
  private fullAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly rng: Rng) {}

  get faults(): LinkFaults {
    return this.current;
  }

  /** Validates and applies a partial update (typed CHAOS_BAD_FAULTS on a bad field). */
  update(update: unknown): LinkFaults {
    const next = mergeLinkFaults(this.current, update);
    if (
      next.bandwidthBytesPerSec !== this.current.bandwidthBytesPerSec ||
      next.burstBytes !== this.current.burstBytes
    )
      this.fullAtMs = Number.NEGATIVE_INFINITY; // a new bucket starts full
    this.current = next;
    return next;
  }

  /** True when chunks pass untouched: no delay, no rate cap, no black hole (the pipe's fast path). */
  get transparent(): boolean {
    const f = this.current;
    return f.latencyMs === 0 && f.bandwidthBytesPerSec === null && !f.drop;
  }

  /** The largest chunk the rate cap lets through at once; larger chunks are split by the pipe. */
  get maxSliceBytes(): number {
    return effectiveBurstBytes(this.current);
  }

  /**
   * When a chunk of `bytes` (≤ maxSliceBytes) that arrived at `nowMs` may be delivered, ignoring
   * order: when the bucket holds `bytes` tokens, plus one delay draw. Takes the tokens.
   */
  readyAt(nowMs: number, bytes: number): number {
    let sentMs = nowMs;
    const rate = this.current.bandwidthBytesPerSec;
    if (rate !== null) {
      const msPerByte = 1000 / rate;
      const burst = effectiveBurstBytes(this.current);
      // Earliest s with burst − (fullAt − s)/msPerByte ≥ bytes.
      sentMs = Math.max(nowMs, this.fullAtMs - (burst - bytes) * msPerByte);
      this.fullAtMs = Math.max(this.fullAtMs, sentMs) + bytes * msPerByte;
    }
    return sentMs + this.drawDelayMs();
  }

  /**
   * One delay, uniform in [latency − jitter, latency + jitter] in whole microseconds. The generator
   * is consumed only when there is jitter, so a seed replays the same draws for the same settings.
   */
  drawDelayMs(): number {
    const { latencyMs, jitterMs } = this.current;
    if (jitterMs === 0) return latencyMs;
    const lowUs = Math.round((latencyMs - jitterMs) * 1000);
    const spanUs = Math.round(2 * jitterMs * 1000);
    return (lowUs + this.rng.below(spanUs + 1)) / 1000;
  }
}
