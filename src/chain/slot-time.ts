import type { ChainParams } from '../params/chain-params.js';

/** Slot s begins at genesis time + s × slot length (DESIGN §6). Pure; no clock. */
export function slotStartMs(params: ChainParams, slot: number): number {
  return params.genesisTimeMs + slot * params.slotMs;
}

/** The slot containing unix time `ms` (−1 before genesis). */
export function slotAt(params: ChainParams, ms: number): number {
  if (ms < params.genesisTimeMs) return -1;
  return Math.floor((ms - params.genesisTimeMs) / params.slotMs);
}
