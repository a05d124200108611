import { describe, expect, it } from 'vitest';
import type { SimOptions } from '../../src/sim/scenario.js';
import { Simulation } from '../../src/sim/simulation.js';

/** The conflicting transactions a node accepted, as a bit string (for comparing nodes). */
function acceptedConflicting(sim: Simulation, node: number): string {
  let out = '';
  for (let t = 0; t < sim.universe.firstOrdinary; t++)
    out += sim.acceptedAt[node * sim.txCount + t]! >= 0 ? '1' : '0';
  return out;
}

/**
 * Multi-input conflicts (chains: x_i spends A_i and A_{i+1}, y_0 spends A_0, y_L spends A_L; length 1
 * is the triangle t1(A, B), t2(A), t3(B)) run through the whole network with the safety checker: no
 * two honest nodes may accept transactions spending one outpoint, and every member must be decided
 * the same way everywhere.
 */
describe('multi-input conflicts in the simulated network', () => {
  it('honest nodes decide every chain, of every length, the same way', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const chainLength = 1 + (seed % 4);
      const sim = new Simulation({ nodes: 24, conflicts: 1, chains: 2, chainLength, txs: 2, seed });
      const r = sim.run();
      expect(r.safetyViolations, `seed ${seed}`).toBe(0);
      expect(r.chainsResolved, `seed ${seed}`).toBe(2);
      expect(r.unfinalized).toBe(0);
      const reference = acceptedConflicting(sim, 0);
      expect(reference).toContain('1');
      for (let n = 1; n < 24; n++) expect(acceptedConflicting(sim, n)).toBe(reference);
    }
  });

  it('every member of a chain split over all honest nodes at once is still decided everywhere', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const r = new Simulation({
        nodes: 24,
        conflicts: 0,
        chains: 2,
        chainLength: 2,
        txs: 0,
        conflictSplit: 0.5,
        seed,
      }).run();
      expect(r.safetyViolations).toBe(0);
      expect(r.chainsResolved).toBe(2);
    }
  });

  it('nodes restarting with an empty engine (their ledger kept) reach the same decisions as the rest', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const options: SimOptions = {
        nodes: 30,
        conflicts: 2,
        chains: 2,
        chainLength: 2,
        txs: 4,
        seed,
        crashes: [
          { node: 1, atMs: 300, recoverAtMs: 4_000, restart: true }, // before most decisions
          { node: 2, atMs: 2_500, recoverAtMs: 5_000, restart: true }, // after them
          { node: 3, atMs: 800 }, // never returns
          // Back within a poll timeout: answers to the old life's polls arrive after the restart.
          { node: 4, atMs: 1_200, recoverAtMs: 1_300, restart: true },
        ],
      };
      const sim = new Simulation(options);
      const r = sim.run();
      expect(r.safetyViolations).toBe(0);
      expect(r.unfinalized).toBe(0);
      expect(r.conflictsResolved).toBe(2);
      expect(r.chainsResolved).toBe(2);
      const reference = acceptedConflicting(sim, 0);
      for (const n of [1, 2, 4]) expect(acceptedConflicting(sim, n)).toBe(reference);
      // Node 2 restarted after every conflict was decided: its new engine never saw them. The
      // ledger answers for what it accepted and refuses their rivals, which never reach the engine.
      const engine = sim.engineOf(2)!;
      for (let t = 0; t < sim.universe.firstOrdinary; t++)
        expect(engine.statusOf(sim.universe.txids[t]!), `tx ${t}`).toBe('unknown');
    }
  });
});
