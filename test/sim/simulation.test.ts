import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/encoding/bytes.js';
import { SimOptionsError } from '../../src/sim/scenario.js';
import { runSimulation, Simulation } from '../../src/sim/simulation.js';

const BETA = 20;

describe('simulated network, honest nodes', () => {
  it('100 nodes with a conflict split 55/45 settle on the lower txid everywhere, whichever side is larger', () => {
    let againstTheSplit = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const sim = new Simulation({ nodes: 100, conflicts: 1, txs: 0, conflictSplit: 0.55, seed });
      const r = sim.run();
      expect(r.safetyViolations).toBe(0);
      expect(r.conflictsResolved).toBe(1);
      expect(r.unfinalized).toBe(0);
      expect(r.rounds.count).toBe(100); // every node accepted one member (and rejected the other)
      // Ties between members with equal successes go to the lower txid, so every node that learns
      // both spends before its polls succeed moves to the same one: the split does not matter.
      const lower = compareBytes(sim.universe.txids[0]!, sim.universe.txids[1]!) < 0 ? 0 : 1;
      expect(r.conflictWinners[0]).toBe(lower);
      if (lower === 1) againstTheSplit++;
    }
    expect(againstTheSplit).toBeGreaterThan(0); // the 45 % side won at least once
  });

  it('non-conflicting transactions finalize within beta + 5 rounds at p99, no Byzantine, no loss', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = runSimulation({ nodes: 50, conflicts: 2, txs: 20, seed });
      expect(r.unfinalized).toBe(0);
      expect(r.safetyViolations).toBe(0);
      expect(r.nonConflicting.accepted).toBe(r.nonConflicting.expected);
      expect(r.nonConflicting.expected).toBe(50 * 20);
      expect(r.nonConflicting.rounds.p50).toBe(BETA); // every poll succeeds: exactly beta
      expect(r.nonConflicting.rounds.p99).toBeLessThanOrEqual(BETA + 5);
      expect(r.nonConflicting.latencyMs.p99).toBeGreaterThan(0);
    }
  });

  it('is deterministic: same seed, same result; another seed, another run', () => {
    const o = {
      nodes: 30,
      conflicts: 2,
      txs: 5,
      byzantineFraction: 0.2,
      strategy: 'balance' as const,
      loss: 0.02,
    };
    const a = runSimulation({ ...o, seed: 11 });
    expect(runSimulation({ ...o, seed: 11 })).toEqual(a);
    const b = runSimulation({ ...o, seed: 12 });
    expect(b.messages).not.toBe(a.messages);
  });

  it('tolerates message loss and latency jitter', () => {
    const r = runSimulation({
      nodes: 40,
      conflicts: 2,
      txs: 10,
      seed: 3,
      loss: 0.1,
      latencyMs: { mean: 120, jitter: 80 },
    });
    expect(r.safetyViolations).toBe(0);
    expect(r.unfinalized).toBe(0);
    expect(r.nonConflicting.rounds.p50).toBeGreaterThan(BETA); // lost answers make some polls fail
  });

  it('nodes crashing mid-run and coming back catch up, safely', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = runSimulation({
        nodes: 30,
        conflicts: 2,
        txs: 6,
        seed,
        crashes: [
          { node: 1, atMs: 300, recoverAtMs: 4_000 },
          { node: 2, atMs: 500, recoverAtMs: 6_000 },
          { node: 3, atMs: 800 }, // never returns: it is not counted as undecided
        ],
      });
      expect(r.safetyViolations).toBe(0);
      expect(r.unfinalized).toBe(0);
      expect(r.conflictsResolved).toBe(2);
      expect(r.nonConflicting.expected).toBe(29 * 6);
      expect(r.nonConflicting.accepted).toBeGreaterThanOrEqual(29 * 6);
    }
  });

  it('rejects bad options with a typed error', () => {
    expect(() => runSimulation({ nodes: 1 })).toThrow(SimOptionsError);
    expect(() => runSimulation({ nodes: 10, loss: 1 })).toThrow(SimOptionsError);
    expect(() => runSimulation({ nodes: 10, weights: [1, 2] })).toThrow(SimOptionsError);
    expect(() => runSimulation({ nodes: 10, conflicts: 0, txs: 0 })).toThrow(SimOptionsError);
    expect(() => runSimulation({ nodes: 10, strategy: 'nice' as never })).toThrow(SimOptionsError);
  });
});
