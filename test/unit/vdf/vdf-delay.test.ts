import { describe, expect, it } from 'vitest';
import { rankWindowCount } from '../../../src/chain/slot-time.js';
import { DEVNET, MAINNET, TESTNET } from '../../../src/params/networks.js';
import { planProof } from '../../../src/vdf/proof-plan.js';
import {
  CUSTOM_HARDWARE_FACTOR,
  REFERENCE_OPENSSL_SQUARINGS_PER_SECOND as OPENSSL,
  REFERENCE_WASM_SQUARINGS_PER_SECOND as WASM,
} from '../../../src/vdf/vdf-delay.js';

/** Multiplications per worker to prove, as the pool splits it over `workers` (proof-plan.ts's cost). */
function proofMultiplications(t: number, workers: number): number {
  const p = planProof(t, workers);
  return t / (p.kappa * workers) + p.gamma * (2 ** (p.kappa + 1) + p.kappa);
}

describe('the VDF delay T of each network (docs/protocol.md, "Choosing T")', () => {
  for (const params of [MAINNET, TESTNET]) {
    const t = params.vdfDelay;
    const step = params.leaderFallbackStepMs / 1000;
    const slot = params.slotMs / 1000;

    it(`${params.network}: the fastest known evaluator × ${CUSTOM_HARDWARE_FACTOR} needs at least 3 publishing windows`, () => {
      expect(t / (OPENSSL * CUSTOM_HARDWARE_FACTOR)).toBeGreaterThanOrEqual(3 * step);
      // ... which is more than one window plus the clock tolerance, the anchor producer's decision time.
      expect(t / (OPENSSL * CUSTOM_HARDWARE_FACTOR)).toBeGreaterThan(
        step + params.futureBlockToleranceMs / 1000,
      );
    });

    it(`${params.network}: our WASM kernel evaluates and proves (2 workers) within a rank-0 anchor's lead, with 30 % to spare`, () => {
      const seconds = (t + proofMultiplications(t, 2)) / WASM;
      const rank0AnchorLead = 2 * slot - step; // anchor published by the end of rank 0's window in slot s − 2
      expect(seconds * 1.3).toBeLessThanOrEqual(rank0AnchorLead);
      // An anchor from a late fallback rank leaves only about one slot: then the first ranks of slot s
      // lose their windows until y is known, but some rank still has one (the slot is not lost).
      const worstLead = 2 * slot - rankWindowCount(params) * step;
      expect(seconds).toBeLessThan(worstLead + (rankWindowCount(params) - 1) * step);
    });
  }

  it('devnet keeps 2^12', () => {
    expect(DEVNET.vdfDelay).toBe(4096);
  });
});
