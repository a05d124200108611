import { describe, expect, it } from 'vitest';
import { MAINNET } from '../../../src/params/networks.js';
import {
  analyticRankZeroShare,
  anchorDecisionWindow,
  effectiveVariants,
  evaluationMs,
  grindingRounds,
  simulateGrinding,
} from '../../../src/sim/anchor-grinding.js';

/**
 * The numbers of docs/protocol.md "Choosing T, and what the anchor producer can still grind",
 * recomputed from the rule functions (rank windows, clock tolerance, T) and checked by simulation
 * with the real leader ranking: a 5 %-stake grinder with 8 parallel evaluators.
 */
const OPENSSL = { name: 'OpenSSL', squaringsPerSec: 945_000 };
const CUSTOM = { name: '4 × OpenSSL', squaringsPerSec: 4 * 945_000 };
const PARALLEL = 8;
/** 19 honest masternodes of weight 1 and a grinder of weight 1: 5 % of the ranking weight. */
const NET = { honest: 19, honestWeight: 1, grinderWeight: 1 };
const TRIALS = 3_000;

describe('anchor grinding on mainnet parameters', () => {
  it('decision windows and evaluation times are the documented ones', () => {
    expect(anchorDecisionWindow(MAINNET, 'window').ms).toBe(35_000); // 30 s window + 5 s tolerance
    expect(anchorDecisionWindow(MAINNET, 'precompute').ms).toBe(635_000); // + the parent's slot
    expect(Math.round(evaluationMs(MAINNET.vdfDelay, OPENSSL) / 1000)).toBe(381);
    expect(Math.round(evaluationMs(MAINNET.vdfDelay, CUSTOM) / 1000)).toBe(95);
    expect(grindingRounds(anchorDecisionWindow(MAINNET, 'window'), MAINNET.vdfDelay, CUSTOM)).toBe(0);
    expect(grindingRounds(anchorDecisionWindow(MAINNET, 'precompute'), MAINNET.vdfDelay, OPENSSL)).toBe(1);
    expect(grindingRounds(anchorDecisionWindow(MAINNET, 'precompute'), MAINNET.vdfDelay, CUSTOM)).toBe(6);
  });

  it('deciding inside its rank window, even a 4×-OpenSSL grinder gains no measurable rank-0 share', () => {
    const rounds = grindingRounds(anchorDecisionWindow(MAINNET, 'window'), MAINNET.vdfDelay, CUSTOM);
    const sim = simulateGrinding({
      seed: 1,
      trials: TRIALS,
      variants: effectiveVariants(rounds, PARALLEL),
      ...NET,
    });
    expect(sim.variants).toBe(1);
    expect(sim.stakeShare).toBeCloseTo(0.05, 10);
    // Within 3 standard errors of its stake: no measurable gain.
    expect(Math.abs(sim.rankZeroShare - sim.stakeShare)).toBeLessThan(3 * Math.sqrt((0.05 * 0.95) / TRIALS));
  });

  it('precomputing from its parent’s arrival, it does gain: 37 % with OpenSSL, 92 % at 4× (the open gap)', () => {
    for (const [evaluator, expected] of [
      [OPENSSL, 0.37],
      [CUSTOM, 0.92],
    ] as const) {
      const rounds = grindingRounds(anchorDecisionWindow(MAINNET, 'precompute'), MAINNET.vdfDelay, evaluator);
      const variants = effectiveVariants(rounds, PARALLEL);
      const analytic = analyticRankZeroShare(0.05, variants);
      expect(analytic).toBeCloseTo(expected, 2);
      const sim = simulateGrinding({ seed: 2, trials: TRIALS, variants, ...NET });
      expect(Math.abs(sim.rankZeroShare - analytic)).toBeLessThan(
        4 * Math.sqrt((analytic * (1 - analytic)) / TRIALS),
      );
      expect(sim.rankZeroShare).toBeGreaterThan(sim.stakeShare + 10 * sim.stdError);
    }
  });

  it('with x taken from a unique per-block contribution (the proposed fix) only publish-or-withhold is left: ≤ 9.8 %', () => {
    // Two outcomes whatever its hardware: its own block's contribution, or the fallback's (it
    // withholds and forfeits the block reward).
    const sim = simulateGrinding({ seed: 3, trials: TRIALS, variants: 2, ...NET });
    const analytic = analyticRankZeroShare(0.05, 2);
    expect(analytic).toBeCloseTo(0.0975, 4);
    expect(Math.abs(sim.rankZeroShare - analytic)).toBeLessThan(
      4 * Math.sqrt((analytic * (1 - analytic)) / TRIALS),
    );
  });

  it('no T closes the precompute horizon while our WASM kernel must finish within the anchor lead', () => {
    const precompute = anchorDecisionWindow(MAINNET, 'precompute').ms / 1000;
    // Zero rounds at 4× OpenSSL needs T above this…
    const tForZeroRounds = precompute * CUSTOM.squaringsPerSec;
    // …while a rank-0 anchor leaves honest nodes 2 slots minus its window end plus tolerance.
    const leadSec = (2 * MAINNET.slotMs - MAINNET.leaderFallbackStepMs) / 1000;
    const tMaxForWasm = leadSec * 536_000;
    expect(Math.round(tForZeroRounds / 1e8) / 10).toBe(2.4); // 2.4 × 10^9
    expect(Math.round(tMaxForWasm / 1e7) / 10).toBe(6.3); // 6.3 × 10^8
    expect(tForZeroRounds).toBeGreaterThan(tMaxForWasm);
  });
});
