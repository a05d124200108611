import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/consensus/snowball/prng.js';
import { resolveOptions } from '../../src/sim/scenario.js';
import { pickByzantine, planInjections } from '../../src/sim/setup.js';

describe('simulation setup', () => {
  it('gives the Byzantine side at most the requested weight share, exactly when weights allow', () => {
    const equal = pickByzantine(new Array(50).fill(1), 0.2, new Xoshiro128(1));
    expect(equal).toHaveLength(10);
    expect(new Set(equal).size).toBe(10);
    const tiers = [1000, 100, 10, 1, 1000, 100, 10, 1];
    for (let seed = 0; seed < 20; seed++) {
      const byz = pickByzantine(tiers, 0.2, new Xoshiro128(seed));
      const w = byz.reduce((s, i) => s + tiers[i]!, 0);
      expect(w * 5).toBeLessThanOrEqual(2222);
    }
    expect(pickByzantine(new Array(10).fill(1), 0, new Xoshiro128(1))).toEqual([]);
  });

  it('injects each conflicting pair at two different honest nodes at the same time', () => {
    const o = resolveOptions({ nodes: 10, conflicts: 3, txs: 4, crashes: [{ node: 2, atMs: 0 }] });
    const honest = [0, 1, 2, 3, 4, 5, 6];
    const plan = planInjections(o, honest, new Xoshiro128(3));
    expect(plan.map((p) => p.tx).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let c = 0; c < 3; c++) {
      const [a, b] = [plan.find((p) => p.tx === 2 * c)!, plan.find((p) => p.tx === 2 * c + 1)!];
      expect(a.atMs).toBe(b.atMs);
      expect(a.node).not.toBe(b.node);
    }
    for (const p of plan) {
      expect(honest).toContain(p.node);
      expect(p.node).not.toBe(2); // down for the whole run
    }
  });

  it('splits a conflict over every honest node with conflictSplit', () => {
    const o = resolveOptions({ nodes: 20, conflicts: 1, txs: 0, conflictSplit: 0.55 });
    const plan = planInjections(
      o,
      Array.from({ length: 20 }, (_, i) => i),
      new Xoshiro128(1),
    );
    expect(plan.filter((p) => p.tx === 0)).toHaveLength(11);
    expect(plan.filter((p) => p.tx === 1)).toHaveLength(9);
    expect(new Set(plan.map((p) => p.node)).size).toBe(20);
  });
});
