import type { ChainParams } from '../params/chain-params.js';

/**
 * The fallback rule (DESIGN §6): rank r may publish its block for a slot once r × fallback step
 * has passed since the slot began. Rank 0 publishes at once; if it is silent, rank 1 a step later,
 * and so on. Integer milliseconds throughout.
 */

/** Delay into the slot after which rank r may publish. */
export function publishDelayMs(rank: number, fallbackStepMs: number): number {
  if (!Number.isSafeInteger(rank) || rank < 0)
    throw new RangeError(`rank must be a non-negative integer: ${rank}`);
  return rank * fallbackStepMs;
}

/** Unix ms at which slot `slot` begins. */
export function slotStartMs(params: Pick<ChainParams, 'genesisTimeMs' | 'slotMs'>, slot: number): number {
  return params.genesisTimeMs + slot * params.slotMs;
}

/** Earliest unix ms at which rank r may publish in `slot`. */
export function earliestPublishMs(
  params: Pick<ChainParams, 'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs'>,
  slot: number,
  rank: number,
): number {
  return slotStartMs(params, slot) + publishDelayMs(rank, params.leaderFallbackStepMs);
}

/** True when rank r may publish at `nowMs` (peers apply the same rule to received blocks). */
export function mayPublish(
  params: Pick<ChainParams, 'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs'>,
  slot: number,
  rank: number,
  nowMs: number,
): boolean {
  return nowMs >= earliestPublishMs(params, slot, rank);
}
