import { z } from 'zod';
import { ChaosError } from './chaos-error.js';

/**
 * The faults applied to the bytes flowing in one direction of a proxied link. Times are
 * milliseconds (fractions allowed: draws are made in whole microseconds), rates bytes per second.
 */
export interface LinkFaults {
  /** Mean one-way delay added to every chunk. */
  readonly latencyMs: number;
  /** Each chunk's delay is uniform in [latency − jitter, latency + jitter]; jitter ≤ latency. */
  readonly jitterMs: number;
  /** Token-bucket rate cap; null = unlimited. */
  readonly bandwidthBytesPerSec: number | null;
  /** Token-bucket depth (largest burst sent at line speed); null = max(4 KiB, 10 ms at the rate). */
  readonly burstBytes: number | null;
  /** Black hole: bytes are held, not delivered, until the flag is cleared (see fault-pipe.ts). */
  readonly drop: boolean;
}

export const NO_FAULTS: LinkFaults = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSec: null,
  burstBytes: null,
  drop: false,
});

/** An upper bound that catches unit mistakes (seconds given as ms·1000) rather than limits use. */
const MAX_DELAY_MS = 60_000;
const MAX_BURST_BYTES = 16 * 1024 * 1024;

/** The shape of a partial fault update, shared with the control protocol. */
export const LinkFaultsUpdateSchema = z
  .object({
    latencyMs: z.number().finite().min(0).max(MAX_DELAY_MS),
    jitterMs: z.number().finite().min(0).max(MAX_DELAY_MS),
    bandwidthBytesPerSec: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
    burstBytes: z.number().int().min(1).max(MAX_BURST_BYTES).nullable(),
    drop: z.boolean(),
  })
  .partial()
  .strict();

export type LinkFaultsUpdate = z.infer<typeof LinkFaultsUpdateSchema>;

/**
 * Applies `update` to `current` and checks the result; a typed CHAOS_BAD_FAULTS error names the
 * offending field, and `current` is never half-updated.
 */
export function mergeLinkFaults(current: LinkFaults, update: unknown): LinkFaults {
  const parsed = LinkFaultsUpdateSchema.safeParse(update);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ChaosError('CHAOS_BAD_FAULTS', `${issue.path.join('.') || 'faults'}: ${issue.message}`, {
      update,
    });
  }
  const merged: LinkFaults = { ...current, ...parsed.data };
  if (merged.jitterMs > merged.latencyMs)
    throw new ChaosError(
      'CHAOS_BAD_FAULTS',
      `jitterMs ${merged.jitterMs} > latencyMs ${merged.latencyMs}: a delay cannot be negative`,
      { update },
    );
  return Object.freeze(merged);
}

/** The burst a token bucket of `faults` allows (bytes). */
export function effectiveBurstBytes(faults: LinkFaults): number {
  if (faults.bandwidthBytesPerSec === null) return Number.POSITIVE_INFINITY;
  return faults.burstBytes ?? Math.max(4096, Math.ceil(faults.bandwidthBytesPerSec / 100));
}
