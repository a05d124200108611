import type { ChainParams } from '../params/chain-params.js';

/**
 * Slot and rank-window arithmetic (DESIGN §6), the one copy for producer, validator and node. Pure,
 * integer milliseconds, no clock.
 */

type SlotTiming = Pick<ChainParams, 'genesisTimeMs' | 'slotMs'>;
type WindowTiming = Pick<ChainParams, 'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs'>;

/** Slot s begins at genesis time + s × slot length. */
export function slotStartMs(params: SlotTiming, slot: number): number {
  return params.genesisTimeMs + slot * params.slotMs;
}

/** The slot containing unix time `ms` (−1 before genesis). */
export function slotAt(params: SlotTiming, ms: number): number {
  if (ms < params.genesisTimeMs) return -1;
  return Math.floor((ms - params.genesisTimeMs) / params.slotMs);
}

/**
 * How many ranks have a publishing window inside a slot: ⌊slot length / fallback step⌋ (20 on
 * mainnet, 4 on devnet). A rank at or beyond it can never produce: its window would lie in the next
 * slot, where it would compete with that slot's own blocks.
 */
export function rankWindowCount(params: Pick<ChainParams, 'slotMs' | 'leaderFallbackStepMs'>): number {
  return Math.floor(params.slotMs / params.leaderFallbackStepMs);
}

/** Half-open interval [startMs, endMs) of unix milliseconds. */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Rank r's publishing window in slot s: [slot start + r × step, slot start + (r + 1) × step). A
 * block's timestamp must lie in the window of its own rank (a validity rule, from the header alone),
 * so a late rank-0 block cannot pose as timely and each rank decides within one step.
 */
export function rankWindow(params: WindowTiming, slot: number, rank: number): TimeWindow {
  if (!Number.isSafeInteger(rank) || rank < 0)
    throw new RangeError(`rank must be a non-negative integer: ${rank}`);
  const startMs = slotStartMs(params, slot) + rank * params.leaderFallbackStepMs;
  return { startMs, endMs: startMs + params.leaderFallbackStepMs };
}
