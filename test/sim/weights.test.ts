import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/simulation.js';

// 4 gold (1000), 8 silver (100), 8 bronze (10), 8 free (1): total 4,888.
const TIERS = [...Array(4).fill(1000), ...Array(8).fill(100), ...Array(8).fill(10), ...Array(8).fill(1)];
const LIGHT = Array.from({ length: 16 }, (_, i) => 12 + i); // every bronze and free node: 57 % of nodes, 1.8 % of weight
const HEAVY = [0, 1]; // two gold nodes: 7 % of nodes, 41 % of weight

describe('unequal tier weights (1/10/100/1000)', () => {
  it('many light Byzantine nodes barely matter: everything finalizes at beta rounds', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = runSimulation({
        nodes: 28,
        weights: TIERS,
        byzantineNodes: LIGHT,
        strategy: 'always-no',
        conflicts: 1,
        txs: 4,
        seed,
      });
      expect(r.byzantineWeightPct).toBeCloseTo(1.8, 2);
      expect(r.safetyViolations).toBe(0);
      expect(r.unfinalized).toBe(0);
      expect(r.nonConflicting.rounds.p50).toBeLessThanOrEqual(22);
    }
  });

  it('two heavy Byzantine nodes (41 % of the weight) voting no stall finality, safely', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = runSimulation({
        nodes: 28,
        weights: TIERS,
        byzantineNodes: HEAVY,
        strategy: 'always-no',
        conflicts: 1,
        txs: 4,
        seed,
        maxTimeMs: 10_000,
      });
      expect(r.byzantineWeightPct).toBeCloseTo(40.92, 2);
      expect(r.safetyViolations).toBe(0);
      // Expected yes votes 20 × 0.59 = 11.8 < alpha = 14: beta consecutive successes essentially never happen.
      expect(r.nonConflicting.accepted).toBe(0);
      expect(r.unfinalizedNonConflicting).toBe(4);
    }
  });
});

describe('losing a heavy validator', () => {
  // One gold node holds 1000 of 1,800 weight: without it connected weight is 44 % < alpha/k = 70 %.
  const weights = [1000, ...Array(8).fill(100)];
  it('stalls polls while it is away and finalizes everything once it returns', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const away = runSimulation({
        nodes: 9,
        weights,
        conflicts: 1,
        txs: 5,
        seed,
        crashes: [{ node: 0, atMs: 0 }],
        maxTimeMs: 20_000,
      });
      expect(away.safetyViolations).toBe(0);
      expect(away.rounds.count).toBe(0); // nobody accepted anything...
      expect(away.unfinalized).toBe(7); // ...because no poll was ever sent
      expect(away.messages).toBeLessThan(9 * 8 * 7); // only the transaction gossip went out

      const back = runSimulation({
        nodes: 9,
        weights,
        conflicts: 1,
        txs: 5,
        seed,
        crashes: [{ node: 0, atMs: 0, recoverAtMs: 20_000 }],
        maxTimeMs: 60_000,
      });
      expect(back.safetyViolations).toBe(0);
      expect(back.unfinalized).toBe(0);
      expect(back.conflictsResolved).toBe(1);
      expect(back.latencyMs.p50).toBeGreaterThan(20_000 - 1_000); // nothing final before it came back
      expect(back.nonConflicting.accepted).toBe(9 * 5);
    }
  });
});
