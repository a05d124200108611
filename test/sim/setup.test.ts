import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/consensus/snowball/prng.js';
import { resolveOptions } from '../../src/sim/scenario.js';
import { pickByzantine, planInjections } from '../../src/sim/setup.js';
import { TxUniverse } from '../../src/sim/transactions.js';

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

  it('injects the members of each conflict group at different honest nodes at the same time', () => {
    const o = resolveOptions({
      nodes: 10,
      conflicts: 3,
      chains: 1,
      chainLength: 2,
      txs: 4,
      crashes: [{ node: 2, atMs: 0 }],
    });
    const honest = [0, 1, 2, 3, 4, 5, 6];
    const u = new TxUniverse(o, new Xoshiro128(1));
    const plan = planInjections(o, u, honest, new Xoshiro128(3));
    expect(plan.map((p) => p.tx).sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    for (const g of u.groups) {
      const at = g.txs.map((t) => plan.find((p) => p.tx === t)!);
      expect(new Set(at.map((p) => p.atMs)).size).toBe(1);
      expect(new Set(at.map((p) => p.node)).size).toBe(g.txs.length);
    }
    for (const p of plan) {
      expect(honest).toContain(p.node);
      expect(p.node).not.toBe(2); // down for the whole run
    }
  });

  it('builds chains of two-input transactions with a single-input spender at each end', () => {
    const u = new TxUniverse({ conflicts: 1, chains: 2, chainLength: 2, txs: 3 }, new Xoshiro128(5));
    expect(u.count).toBe(2 + 2 * 4 + 3);
    expect(u.firstOrdinary).toBe(10);
    // Pair: txs 0, 1 on outpoint 0. Chain 0: outpoints 1..3; x0(1, 2), x1(2, 3), y0(1), y2(3).
    expect(u.inputsOf.slice(0, 6)).toEqual([[0], [0], [1, 2], [2, 3], [1], [3]]);
    expect(u.groups.map((g) => [g.kind, g.txs])).toEqual([
      ['pair', [0, 1]],
      ['chain', [2, 3, 4, 5]],
      ['chain', [6, 7, 8, 9]],
    ]);
    expect(u.rivalsOf(3)).toEqual([2, 5]);
    expect(u.conflict(2, 4)).toBe(true);
    expect(u.conflict(2, 5)).toBe(false);
    expect(u.rivalsOf(10)).toEqual([]);
    expect(new Set(u.keys.flat().map((k) => Buffer.from(k).toString('hex'))).size).toBe(1 + 2 * 3 + 3);
    expect(new Set(u.txids.map((t) => Buffer.from(t).toString('hex'))).size).toBe(u.count);
  });

  it('splits a conflict over every honest node with conflictSplit', () => {
    const o = resolveOptions({ nodes: 20, conflicts: 1, txs: 0, conflictSplit: 0.55 });
    const plan = planInjections(
      o,
      new TxUniverse(o, new Xoshiro128(1)),
      Array.from({ length: 20 }, (_, i) => i),
      new Xoshiro128(1),
    );
    expect(plan.filter((p) => p.tx === 0)).toHaveLength(11);
    expect(plan.filter((p) => p.tx === 1)).toHaveLength(9);
    expect(new Set(plan.map((p) => p.node)).size).toBe(20);
  });
});
