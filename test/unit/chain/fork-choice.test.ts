import { describe, expect, it } from 'vitest';
import { compareBranches, type ForkBlock, preferredBranch } from '../../../src/chain/fork-choice.js';

const blk = (hashByte: number, rank: number, timely = true): ForkBlock => ({
  hash: new Uint8Array(32).fill(hashByte),
  rank,
  timely,
});

describe('fork choice', () => {
  it('prefers more blocks, whatever the ranks, timeliness and hashes', () => {
    const long = [blk(9, 7, false), blk(9, 7, false)];
    const short = [blk(1, 0)];
    expect(compareBranches(long, short)).toBeLessThan(0);
    expect(compareBranches(short, long)).toBeGreaterThan(0);
  });

  it('at equal length: timely beats late, then lower rank, then lower hash, decided at the first block', () => {
    expect(compareBranches([blk(1, 0, false)], [blk(2, 3, true)])).toBeGreaterThan(0);
    expect(compareBranches([blk(2, 3, true)], [blk(1, 0, false)])).toBeLessThan(0);
    expect(compareBranches([blk(2, 1)], [blk(1, 2)])).toBeLessThan(0);
    expect(compareBranches([blk(1, 2)], [blk(2, 1)])).toBeGreaterThan(0);
    expect(compareBranches([blk(1, 1)], [blk(2, 1)])).toBeLessThan(0);
    expect(compareBranches([blk(2, 1)], [blk(1, 1)])).toBeGreaterThan(0);
    // Only the first differing block counts: later blocks do not overturn it.
    expect(compareBranches([blk(1, 0), blk(9, 9, false)], [blk(2, 0), blk(0, 0)])).toBeLessThan(0);
    expect(compareBranches([blk(1, 0)], [blk(1, 0)])).toBe(0);
  });

  it('is antisymmetric and picks one winner among several branches (hand-built tree)', () => {
    // Fork at height h: four candidate branches.
    const branches = [
      [blk(5, 1), blk(6, 0)], // 2 blocks, first rank 1
      [blk(4, 0), blk(7, 2)], // 2 blocks, first rank 0  ← preferred
      [blk(3, 0, false), blk(8, 0)], // 2 blocks, first late
      [blk(1, 0)], // 1 block
    ];
    for (const x of branches)
      for (const y of branches)
        expect(Math.sign(compareBranches(x, y)) + Math.sign(compareBranches(y, x))).toBe(0);
    expect(preferredBranch(branches)).toBe(branches[1]);
    expect(preferredBranch([])).toBeUndefined();
  });

  it('equal branches compare 0 (also two empty ones), and the first of equals is preferred', () => {
    expect(compareBranches([], [])).toBe(0);
    expect(compareBranches([blk(3, 1)], [blk(3, 1)])).toBe(0);
    const a = [blk(3, 1)];
    const b = [blk(3, 1)];
    expect(preferredBranch([a, b])).toBe(a);
    expect(preferredBranch([b, a])).toBe(b);
  });
});
