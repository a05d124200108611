import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/simulation.js';

const BETA = 20;

/** Honest nodes bench validators that time out on their polls (src/consensus/snowball/benchlist.ts). */
describe('benching in the simulated network', () => {
  it('keeps finality near beta rounds at 20 % silent weight, where polling them costs hundreds', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const options = {
        nodes: 30,
        byzantineFraction: 0.2,
        strategy: 'silent' as const,
        conflicts: 1,
        txs: 4,
        seed,
      };
      const benched = runSimulation(options);
      expect(benched.safetyViolations).toBe(0);
      expect(benched.unfinalized).toBe(0);
      // Each of the 24 honest nodes benched each of the 6 silent validators.
      expect(benched.benchings).toBeGreaterThanOrEqual(24 * 6);
      expect(benched.maxBenchedWeightPct).toBe(20);
      expect(benched.nonConflicting.rounds.p99).toBeLessThanOrEqual(2 * BETA + 5);
      const polled = runSimulation({ ...options, benchlist: null });
      expect(polled.benchings).toBe(0);
      expect(polled.nonConflicting.rounds.p99).toBeGreaterThan(3 * benched.nonConflicting.rounds.p99);
    }
  });

  it('never benches more than the cap, even with twice that much silent weight', () => {
    for (let seed = 1; seed <= 2; seed++) {
      const r = runSimulation({
        nodes: 20,
        byzantineFraction: 0.4,
        strategy: 'silent',
        conflicts: 0,
        txs: 2,
        seed,
        maxTimeMs: 30_000,
      });
      expect(r.byzantineWeightPct).toBe(40);
      expect(r.maxBenchedWeightPct).toBe(20); // 4 of the 8 silent validators, per node
      expect(r.safetyViolations).toBe(0);
    }
  });

  it('rarely benches honest validators on a lossy network: one lost answer is not enough once they answered', () => {
    for (let seed = 5; seed <= 7; seed++) {
      const options = { nodes: 30, conflicts: 1, txs: 6, seed, loss: 0.01 };
      const r = runSimulation(options);
      expect(r.unfinalized).toBe(0);
      // Only a validator whose first request or answer was lost (probation) gets benched.
      expect(r.benchings).toBeLessThanOrEqual(6);
      const jumpy = runSimulation({
        ...options,
        benchlist: { failureThreshold: 1, minBenchMs: 30_000, maxBenchMs: 600_000, maxBenchedPercent: 20 },
      });
      expect(jumpy.benchings).toBeGreaterThan(20 * Math.max(1, r.benchings));
    }
  });
});
