import { describe, expect, it } from 'vitest';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';
import { pollPool, pollQuorumMet, StakeSampler } from '../../../src/consensus/snowball/sampler.js';

const PARAMS = { k: 20, alphaPreference: 11, alphaConfidence: 14, beta: 20 };

describe('StakeSampler', () => {
  it('draws each validator in proportion to its weight (chi-square)', () => {
    // Tier weights 1 / 10 / 100 / 1000 plus odd ones.
    const validators = [
      { id: 'aa', weight: 1 },
      { id: 'bb', weight: 10 },
      { id: 'cc', weight: 100 },
      { id: 'dd', weight: 1000 },
      { id: 'ee', weight: 37 },
      { id: 'ff', weight: 250 },
      { id: 'gg', weight: 3 },
    ];
    const s = new StakeSampler(validators);
    expect(s.totalWeight).toBe(1401);
    const rng = new Xoshiro128(2026);
    const draws = 1401 * 300;
    const counts = new Map<string, number>();
    for (let i = 0; i < draws / 20; i++)
      for (const id of s.sample(20, rng)) counts.set(id, (counts.get(id) ?? 0) + 1);
    let chi = 0;
    for (const v of validators) {
      const expected = (draws * v.weight) / 1401;
      chi += ((counts.get(v.id) ?? 0) - expected) ** 2 / expected;
    }
    // 6 degrees of freedom: p = 0.001 critical value 22.46.
    expect(chi).toBeLessThan(22.46);
    // And the light validator is really drawn, roughly 300 times.
    expect(counts.get('aa')).toBeGreaterThan(230);
    expect(counts.get('aa')).toBeLessThan(370);
  });

  it('samples with replacement: one heavy validator fills most of a sample', () => {
    const s = new StakeSampler([
      { id: 'heavy', weight: 1_000_000 },
      { id: 'light', weight: 1 },
    ]);
    const sample = s.sample(20, new Xoshiro128(1));
    expect(sample).toHaveLength(20);
    expect(sample.filter((id) => id === 'heavy').length).toBeGreaterThanOrEqual(19);
  });

  it('does not depend on the order the validators were listed in', () => {
    const vs = Array.from({ length: 30 }, (_, i) => ({
      id: `node${String(i).padStart(2, '0')}`,
      weight: 1 + (i % 4) * 10,
    }));
    const shuffled = [...vs].reverse();
    const a = new StakeSampler(vs).sample(20, new Xoshiro128(9));
    const b = new StakeSampler(shuffled).sample(20, new Xoshiro128(9));
    expect(a).toEqual(b);
    expect(new StakeSampler(shuffled).ids).toEqual(vs.map((v) => v.id));
  });

  // The operator sees which validator entry is wrong and why: code, message and details.
  it.each([
    [
      'duplicate id',
      [
        { id: 'a', weight: 1 },
        { id: 'a', weight: 2 },
      ],
      /validator a listed twice/,
      { id: 'a' },
    ],
    ['zero weight', [{ id: 'a', weight: 0 }], /validator a has weight 0/, { id: 'a', weight: 0 }],
    [
      'fractional weight',
      [{ id: 'a', weight: 1.5 }],
      /validator a has weight 1\.5/,
      { id: 'a', weight: 1.5 },
    ],
    [
      'empty id',
      [
        { id: 'b', weight: 1 },
        { id: '', weight: 1 },
      ],
      /validator 0 has no id/, // its position in id order: '' sorts first
      {},
    ],
    [
      'overflowing total',
      [
        { id: 'a', weight: 2 ** 52 },
        { id: 'b', weight: 2 ** 52 },
      ],
      /total weight exceeds 2\^53 - 1/,
      {},
    ],
  ])('rejects %s as INVALID_VALIDATORS naming the entry', (_name, vs, message, details) => {
    expect(() => new StakeSampler(vs)).toThrow(SnowballError);
    expect(() => new StakeSampler(vs)).toThrow(
      expect.objectContaining({
        code: 'INVALID_VALIDATORS',
        message: expect.stringMatching(message),
        details,
      }),
    );
  });

  it('refuses to sample from nobody, or with every validator excluded, as INVALID_SAMPLE', () => {
    expect(() => new StakeSampler([]).sample(20, new Xoshiro128(1))).toThrow(
      expect.objectContaining({
        code: 'INVALID_SAMPLE',
        message: expect.stringMatching(/no validators to sample from/),
      }),
    );
    const s = new StakeSampler([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
    ]);
    expect(() => s.sample(20, new Xoshiro128(1), new Set(['a', 'b']))).toThrow(
      expect.objectContaining({
        code: 'INVALID_SAMPLE',
        message: expect.stringMatching(/every validator is excluded/),
      }),
    );
  });

  it('never draws an excluded validator, and draws the others in proportion to their weight', () => {
    const validators = [
      { id: 'aa', weight: 5 },
      { id: 'bb', weight: 10 },
      { id: 'cc', weight: 1000 },
      { id: 'dd', weight: 35 },
    ];
    const s = new StakeSampler(validators);
    expect(s.weightOf('cc')).toBe(1000);
    expect(s.weightOf('aa')).toBe(5);
    expect(s.weightOf('zz')).toBe(0);
    const rng = new Xoshiro128(4);
    const counts = new Map<string, number>();
    const draws = 50 * 300;
    for (let i = 0; i < draws / 20; i++)
      for (const id of s.sample(20, rng, new Set(['cc', 'zz']))) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.has('cc')).toBe(false);
    let chi = 0;
    for (const v of validators.filter((x) => x.id !== 'cc')) {
      const expected = (draws * v.weight) / 50;
      chi += ((counts.get(v.id) ?? 0) - expected) ** 2 / expected;
    }
    expect(chi).toBeLessThan(13.82); // 2 degrees of freedom, p = 0.001
    expect(() => s.sample(20, rng, new Set(['aa', 'bb', 'cc', 'dd']))).toThrow(SnowballError);
  });
});

describe('pollPool (who a poll draws from)', () => {
  // 10 validators of weight 10: 100 in all.
  const all = Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, weight: 10 }));
  const ids = (n: number) => all.slice(0, n).map((v) => v.id);

  it('leaves the benched out while the rest still meets the quorum', () => {
    const pool = pollPool(new StakeSampler(all), ['v0', 'v1'], 100, PARAMS)!;
    expect([...pool.excluded].sort()).toEqual(['v0', 'v1']);
    expect(pool.weight).toBe(80);
    // Exactly at the quorum (70 of 100) the benched are still left out.
    const edge = pollPool(new StakeSampler(all), ids(3), 100, PARAMS)!;
    expect(edge.weight).toBe(70);
    expect(edge.excluded.size).toBe(3);
  });

  it('samples the benched too rather than stop polling, and stops only below the quorum', () => {
    const connected = new StakeSampler(all.slice(0, 8)); // 80 of 100 connected
    const pool = pollPool(connected, ['v0', 'v1'], 100, PARAMS)!; // 60 without the benched
    expect(pool.excluded.size).toBe(0);
    expect(pool.weight).toBe(80);
    expect(pollPool(new StakeSampler(all.slice(0, 6)), [], 100, PARAMS)).toBeNull();
  });

  it('ignores benched validators that are not connected', () => {
    const connected = new StakeSampler(all.slice(0, 8));
    const pool = pollPool(connected, ['v9', 'v8', 'v0', 'v0'], 100, PARAMS)!;
    expect([...pool.excluded]).toEqual(['v0']);
    expect(pool.weight).toBe(70);
  });
});

describe('pollQuorumMet (no poll below alphaConfidence/k of the active weight)', () => {
  it('is exact at the boundary and uses alphaConfidence, not alphaPreference', () => {
    // alphaConfidence/k = 14/20 = 70 % (alphaPreference/k would be 55 %).
    expect(pollQuorumMet(55, 100, PARAMS)).toBe(false);
    expect(pollQuorumMet(70, 100, PARAMS)).toBe(true);
    expect(pollQuorumMet(69, 100, PARAMS)).toBe(false);
    expect(pollQuorumMet(7_000_000_000_007, 10_000_000_000_010, PARAMS)).toBe(true);
    expect(pollQuorumMet(7_000_000_000_006, 10_000_000_000_010, PARAMS)).toBe(false);
    expect(pollQuorumMet(0, 100, PARAMS)).toBe(false);
    expect(pollQuorumMet(0, 0, PARAMS)).toBe(false);
  });
});

describe('StakeSampler and pollQuorumMet edges (issue 15, snowball mutation run)', () => {
  const vs = [
    { id: 'c', weight: 5 },
    { id: 'a', weight: 1 },
    { id: 'd', weight: 2 },
    { id: 'b', weight: 9 },
  ];

  it('ids are sorted whatever the input order, so one seed draws the same sample from any order', () => {
    const orders = [vs, [...vs].reverse(), [vs[2]!, vs[0]!, vs[3]!, vs[1]!]];
    const samples = orders.map((o) => {
      const s = new StakeSampler(o);
      expect(s.ids).toEqual(['a', 'b', 'c', 'd']);
      return s.sample(50, new Xoshiro128(9));
    });
    expect(samples[1]).toEqual(samples[0]);
    expect(samples[2]).toEqual(samples[0]);
    expect(new StakeSampler(vs).weightOf('b')).toBe(9);
  });

  it('an id that is not a string is refused, even a number', () => {
    const bad = [{ id: 5 as unknown as string, weight: 1 }];
    expect(() => new StakeSampler(bad)).toThrow(SnowballError);
  });

  it('k must be an integer ≥ 1: k = 1 draws one, 0 and 1.5 are refused', () => {
    const s = new StakeSampler(vs);
    expect(s.sample(1, new Xoshiro128(1))).toHaveLength(1);
    expect(() => s.sample(0, new Xoshiro128(1))).toThrow(SnowballError);
    expect(() => s.sample(1.5, new Xoshiro128(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_SAMPLE', message: expect.stringMatching(/k = 1\.5/) }),
    );
  });

  it('no quorum over an empty or negative active weight, whatever the pool', () => {
    expect(pollQuorumMet(5, 0, PARAMS)).toBe(false);
    expect(pollQuorumMet(5, -1, PARAMS)).toBe(false);
    expect(pollQuorumMet(0, 0, PARAMS)).toBe(false);
    // 14/20 exactly is enough.
    expect(pollQuorumMet(14, 20, PARAMS)).toBe(true);
    expect(pollQuorumMet(13, 20, PARAMS)).toBe(false);
  });
});

/**
 * Every node must draw the same sample from the same seed whatever order its peer table lists the
 * validators in. 100 validators (past V8's insertion-sort cutoff, so the merging sort runs) with
 * 66-character pubkey-like ids that share everything but their last two characters.
 */
describe('StakeSampler is independent of the validators’ input order', () => {
  const prefix = `02${'ab'.repeat(31)}`;
  const sorted = Array.from({ length: 100 }, (_, i) => ({
    id: `${prefix}${i.toString(16).padStart(2, '0')}`,
    weight: 1 + ((i * 37) % 11) * 10,
  }));
  const shuffled = (seed: number) => {
    const out = [...sorted];
    const rng = new Xoshiro128(seed);
    for (let i = out.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const orders: [string, typeof sorted][] = [
    ['reversed', [...sorted].reverse()],
    ['rotated', [...sorted.slice(37), ...sorted.slice(0, 37)]],
    [
      'odd positions first',
      [...sorted.filter((_, i) => i % 2 === 1), ...sorted.filter((_, i) => i % 2 === 0)],
    ],
    ['shuffled (seed 1)', shuffled(1)],
    ['shuffled (seed 2)', shuffled(2)],
  ];
  const reference = new StakeSampler(sorted);
  const excluded = new Set([sorted[3]!.id, sorted[50]!.id, sorted[99]!.id]);

  it.each(orders)('%s: same ids, weights, samples and exclusions as the sorted list', (_name, vs) => {
    const s = new StakeSampler(vs);
    expect(s.size).toBe(100);
    expect(s.ids).toEqual(sorted.map((v) => v.id));
    expect(s.totalWeight).toBe(reference.totalWeight);
    for (const v of vs) expect(s.weightOf(v.id)).toBe(v.weight);
    for (const seed of [1, 2, 3]) {
      expect(s.sample(20, new Xoshiro128(seed))).toEqual(reference.sample(20, new Xoshiro128(seed)));
      expect(s.sample(20, new Xoshiro128(seed), excluded)).toEqual(
        reference.sample(20, new Xoshiro128(seed), excluded),
      );
    }
  });

  it('size counts the distinct validators', () => {
    expect(new StakeSampler(sorted.slice(0, 7)).size).toBe(7);
    expect(new StakeSampler([]).size).toBe(0);
  });
});
