import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/consensus/snowball/prng.js';
import { type SimOutcome, summarize } from '../../src/sim/sim-result.js';
import { TxUniverse } from '../../src/sim/transactions.js';

/**
 * The safety checker on hand-made outcomes: every simulator test relies on it, and one that never
 * flags anything would pass them all.
 */
function outcome(
  accepted: [node: number, tx: number][],
  opts: { down?: number[]; byzantine?: number[] } = {},
) {
  const shape = { conflicts: 1, chains: 1, chainLength: 1, txs: 1 };
  const universe = new TxUniverse(shape, new Xoshiro128(1)); // pair 0, 1; chain x 2, y0 3, y1 4; ordinary 5
  const nodes = 3;
  const acceptedAt = new Float64Array(nodes * universe.count).fill(-1);
  for (const [n, t] of accepted) acceptedAt[n * universe.count + t] = 100;
  const sim: SimOutcome = {
    o: { seed: 1, nodes, strategy: 'silent', ...shape, weights: [1, 1, 1] },
    universe,
    txCount: universe.count,
    injectedAt: new Float64Array(universe.count).fill(0),
    acceptedAt,
    rejected: new Uint8Array(nodes * universe.count),
    roundsOf: new Int32Array(nodes * universe.count).fill(20),
    messages: 0,
    benchings: 0,
    maxBenchedWeight: 0,
    now: 1_000,
    isHonest: (n) => !(opts.byzantine ?? []).includes(n),
    isUp: (n) => !(opts.down ?? []).includes(n),
    reopenedTotal: () => 0,
  };
  return summarize(sim);
}

const everywhere = (txs: number[]) => [0, 1, 2].flatMap((n) => txs.map((t) => [n, t] as [number, number]));

describe('the simulator safety checker', () => {
  it('counts nothing when every node accepted the same conflict-free transactions', () => {
    const r = outcome(everywhere([0, 3, 4, 5]));
    expect(r.safetyViolations).toBe(0);
    expect(r.conflictsResolved).toBe(1);
    expect(r.conflictWinners).toEqual([0]);
    expect(r.chainsResolved).toBe(1);
    expect(r.unfinalized).toBe(0);
  });

  it('flags two nodes accepting the two members of a pair', () => {
    const r = outcome([...everywhere([3, 4, 5]), [0, 0], [1, 0], [2, 1]]);
    expect(r.safetyViolations).toBe(1);
    expect(r.conflictWinners).toEqual([-2]);
    expect(r.conflictsResolved).toBe(0);
  });

  it('flags a chain whose two-input member and a rival of it were accepted, even at one node', () => {
    const r = outcome([...everywhere([0, 5, 2]), [1, 4]]); // x(A, B) everywhere, y1(B) at node 1
    expect(r.safetyViolations).toBe(1);
    expect(r.chainsResolved).toBe(0);
  });

  it('counts a crashed honest node, but not a Byzantine one', () => {
    expect(outcome([...everywhere([0, 5, 3, 4]), [2, 2]], { down: [2] }).safetyViolations).toBe(1);
    expect(
      outcome([...everywhere([0, 5, 3, 4]).filter(([n]) => n !== 2), [2, 2]], { byzantine: [2] })
        .safetyViolations,
    ).toBe(0);
  });

  it('a transaction is undecided at a live node that neither accepted it nor a rival', () => {
    const r = outcome([...everywhere([0, 5]), [0, 2], [1, 2]]); // node 2 decided nothing in the chain
    expect(r.safetyViolations).toBe(0);
    expect(r.chainsResolved).toBe(0);
    expect(r.unfinalized).toBe(3);
    expect(outcome([...everywhere([0, 5]), [0, 2], [1, 2]], { down: [2] }).chainsResolved).toBe(1);
  });
});
