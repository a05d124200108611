import { describe, expect, it } from 'vitest';
import { Benchlist, DEFAULT_BENCHLIST_CONFIG } from '../../../src/consensus/snowball/benchlist.js';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';

const CONFIG = { failureThreshold: 3, minBenchMs: 1_000, maxBenchMs: 5_000, maxBenchedPercent: 20 };
/** Ten validators of weight 10: active weight 100, so the 20 % cap is two of them. */
const TEN = Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, weight: 10 }));

function failTimes(b: Benchlist, id: string, n: number, now: number): boolean[] {
  return Array.from({ length: n }, () => b.recordFailure(id, now));
}

describe('Benchlist', () => {
  it('benches a validator that answered after exactly failureThreshold failures in a row; an answer resets the count', () => {
    const b = new Benchlist(TEN, CONFIG);
    b.recordResponse('v1', 0);
    expect(failTimes(b, 'v1', 2, 0)).toEqual([false, false]);
    b.recordResponse('v1', 10);
    expect(failTimes(b, 'v1', 2, 20)).toEqual([false, false]);
    expect(b.isBenched('v1', 20)).toBe(false);
    expect(b.recordFailure('v1', 30)).toBe(true);
    expect(b.isBenched('v1', 30)).toBe(true);
    expect(b.benched(30)).toEqual(['v1']);
    expect(b.benchedWeight(30)).toBe(10);
  });

  it('benches a validator on probation (never answered, or not since its bench) at its first failure', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(b.recordFailure('v4', 0)).toBe(true); // never answered
    expect(b.isBenched('v4', 999)).toBe(true);
    // Its bench ended and it still has not answered: one failure benches it again, for twice as long.
    expect(b.recordFailure('v4', 1_000)).toBe(true);
    expect(b.isBenched('v4', 2_999)).toBe(true);
    expect(b.isBenched('v4', 3_000)).toBe(false);
    // An answer (even a late one, for a request sent before) ends probation and the back-off.
    b.recordResponse('v4', 3_000);
    expect(failTimes(b, 'v4', 3, 3_000)).toEqual([false, false, true]);
    expect(b.isBenched('v4', 3_999)).toBe(true);
    expect(b.isBenched('v4', 4_000)).toBe(false);
  });

  it('a bench ends exactly at its end time, and failures during it are not counted', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(b.recordFailure('v2', 100)).toBe(true);
    expect(b.isBenched('v2', 1_099)).toBe(true);
    // Requests sent before the bench, timing out during it: no new strike.
    expect(failTimes(b, 'v2', 5, 500)).toEqual([false, false, false, false, false]);
    expect(b.isBenched('v2', 1_100)).toBe(false);
    expect(b.toString()).toBe('Benchlist(v2:0/1@1100)');
  });

  it('doubles the bench while the validator never answers, up to maxBenchMs; an answer resets it', () => {
    const b = new Benchlist(TEN, CONFIG);
    let now = 0;
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(b.recordFailure('v3', now)).toBe(true);
      let end = now;
      while (b.isBenched('v3', end)) end += 1;
      lengths.push(end - now);
      now = end;
    }
    expect(lengths).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    b.recordResponse('v3', now);
    expect(failTimes(b, 'v3', 3, now)).toEqual([false, false, true]);
    expect(b.isBenched('v3', now + 999)).toBe(true);
    expect(b.isBenched('v3', now + 1_000)).toBe(false);
  });

  it('never benches more than maxBenchedPercent of the active weight; the cap itself is allowed', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(b.recordFailure('v0', 0)).toBe(true);
    expect(b.recordFailure('v1', 0)).toBe(true); // 20 of 100: exactly the cap
    expect(failTimes(b, 'v2', 3, 0)).toEqual([false, false, false]);
    expect(b.recordFailure('v2', 500)).toBe(false); // still full
    expect(b.benched(500)).toEqual(['v0', 'v1']);
    // v0's bench ends at 1,000: room again, and v2's failures kept counting, so its next one benches.
    expect(b.recordFailure('v2', 1_000)).toBe(true);
    expect(b.benched(1_000)).toEqual(['v2']);
    expect(b.benchedWeight(1_000)).toBe(10);
  });

  it('weighs the cap by stake, not by count', () => {
    const heavy = [
      { id: 'gold', weight: 1_000 },
      ...Array.from({ length: 40 }, (_, i) => ({ id: `f${i}`, weight: 100 })),
    ];
    const b = new Benchlist(heavy, CONFIG); // active 5,000: cap 1,000
    expect(b.recordFailure('f0', 0)).toBe(true);
    expect(b.recordFailure('gold', 0)).toBe(false); // 1,100 > 1,000
    expect(b.recordFailure('f1', 0)).toBe(true);
    expect(b.benchedWeight(0)).toBe(200);
    const alone = new Benchlist(heavy, CONFIG);
    expect(alone.recordFailure('gold', 0)).toBe(true); // 1,000 = the cap
  });

  it('a zero cap disables benching', () => {
    const b = new Benchlist(TEN, { ...CONFIG, maxBenchedPercent: 0 });
    expect(failTimes(b, 'v0', 10, 0).some(Boolean)).toBe(false);
  });

  it('keeps state only for current validators', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(b.recordFailure('stranger', 0)).toBe(false);
    b.recordResponse('stranger', 0);
    expect(b.isBenched('stranger', 0)).toBe(false);
    b.recordFailure('v0', 0);
    b.recordResponse('v1', 0);
    failTimes(b, 'v1', 2, 0);
    b.recordFailure('v9', 0);
    b.setValidators([...TEN.slice(0, 5), { id: 'new', weight: 50 }]); // active weight still 100
    expect(b.toString()).toBe('Benchlist(v0:0/1@1000 v1:2/0)');
    expect(b.benched(0)).toEqual(['v0']);
    expect(b.recordFailure('v1', 0)).toBe(true); // its two failures survived the change
    expect(b.recordFailure('v9', 0)).toBe(false); // gone
  });

  it('rejects bad configuration, validators and times with typed errors', () => {
    const bad = (config: object) => () => new Benchlist(TEN, { ...CONFIG, ...config });
    for (const c of [
      { failureThreshold: 0 },
      { minBenchMs: 0 },
      { maxBenchMs: 999 },
      { maxBenchedPercent: 100 },
      { maxBenchedPercent: -1 },
      { maxBenchedPercent: 2.5 },
    ])
      expect(bad(c), JSON.stringify(c)).toThrow(SnowballError);
    expect(
      () =>
        new Benchlist([
          { id: 'a', weight: 1 },
          { id: 'a', weight: 2 },
        ]),
    ).toThrow(SnowballError);
    expect(() => new Benchlist([{ id: 'a', weight: 0 }])).toThrow(SnowballError);
    const b = new Benchlist(TEN);
    expect(b.config).toBe(DEFAULT_BENCHLIST_CONFIG);
    expect(() => b.recordFailure('v0', Number.NaN)).toThrow(SnowballError);
    expect(() => b.isBenched('v0', Number.POSITIVE_INFINITY)).toThrow(SnowballError);
  });
});

describe('Benchlist edges (issue 15, snowball mutation run)', () => {
  it('the smallest valid config: failureThreshold 1, minBenchMs 1, maxBenchMs = minBenchMs', () => {
    expect(
      () => new Benchlist(TEN, { failureThreshold: 1, minBenchMs: 1, maxBenchMs: 1, maxBenchedPercent: 0 }),
    ).not.toThrow();
    for (const bad of [
      { ...CONFIG, failureThreshold: 0 },
      { ...CONFIG, minBenchMs: 0 },
      { ...CONFIG, maxBenchMs: CONFIG.minBenchMs - 1 },
    ])
      expect(() => new Benchlist(TEN, bad)).toThrow(SnowballError);
  });

  it('benched() lists ids sorted whatever order the validators came in', () => {
    const vs = [{ id: 'z', weight: 10 }, { id: 'm', weight: 10 }, { id: 'a', weight: 10 }, ...TEN.slice(3)];
    const b = new Benchlist(vs, CONFIG); // z before a: kept in input order, benched() would be [z, a]
    expect(b.recordFailure('z', 0)).toBe(true);
    expect(b.recordFailure('a', 0)).toBe(true);
    expect(b.benched(1)).toEqual(['a', 'z']);
  });

  it('refuses an empty, a non-string or a repeated id, and a total weight past 2^53 − 1', () => {
    for (const vs of [
      [{ id: '', weight: 1 }],
      [{ id: 7 as unknown as string, weight: 1 }],
      [
        { id: 'a', weight: 1 },
        { id: 'a', weight: 2 },
      ],
      [
        { id: 'a', weight: 2 ** 52 },
        { id: 'b', weight: 2 ** 52 },
      ],
    ])
      expect(() => new Benchlist(vs, CONFIG)).toThrow(SnowballError);
  });

  it('setValidators keeps the state of validators still present and starts new ones clean', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(b.recordFailure('v1', 0)).toBe(true); // on probation: benched at its first failure
    b.recordResponse('v2', 0);
    expect(failTimes(b, 'v2', 2, 0)).toEqual([false, false]);
    b.setValidators([...TEN, { id: 'v10', weight: 10 }]);
    expect(b.isBenched('v1', 1)).toBe(true);
    expect(b.recordFailure('v2', 1)).toBe(true); // its two earlier failures still count
    expect(b.isBenched('v10', 1)).toBe(false);
    expect(b.toString()).not.toContain('v10');
  });

  it('back-off doubles up to maxBenchMs and the strike count stops growing there', () => {
    const b = new Benchlist(TEN, { ...CONFIG, failureThreshold: 1, minBenchMs: 100, maxBenchMs: 400 });
    let now = 0;
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(b.recordFailure('v0', now)).toBe(true);
      let until = now;
      while (b.isBenched('v0', until)) until++;
      lengths.push(until - now);
      now = until;
    }
    expect(lengths).toEqual([100, 200, 400, 400, 400]);
    expect(b.toString()).toBe(`Benchlist(v0:0/2@${now})`);
  });

  it('a validator benched once with minBenchMs = maxBenchMs still shows in the snapshot', () => {
    const b = new Benchlist(TEN, { ...CONFIG, minBenchMs: 500, maxBenchMs: 500 });
    expect(b.recordFailure('v4', 0)).toBe(true);
    expect(b.toString()).toBe('Benchlist(v4:0/0@500)');
  });
});

describe('Benchlist is independent of the validators’ input order', () => {
  // Pubkey-like ids that differ only in their last two characters; 100 of them so V8's merging sort
  // runs, not just its insertion sort.
  const prefix = `03${'cd'.repeat(31)}`;
  const sorted = Array.from({ length: 100 }, (_, i) => ({
    id: `${prefix}${i.toString(16).padStart(2, '0')}`,
    weight: 10 + (i % 3),
  }));
  const orders: [string, typeof sorted][] = [
    ['as sorted', sorted],
    ['reversed', [...sorted].reverse()],
    ['rotated', [...sorted.slice(61), ...sorted.slice(0, 61)]],
    [
      'odd positions first',
      [...sorted.filter((_, i) => i % 2 === 1), ...sorted.filter((_, i) => i % 2 === 0)],
    ],
  ];
  /** The same failures on every node: ids picked from both ends and the middle of the order. */
  const run = (vs: typeof sorted) => {
    const b = new Benchlist(vs, CONFIG);
    const picks = [97, 2, 55, 0, 99, 31].map((i) => sorted[i]!.id);
    const benchedNow = picks.map((id, t) => b.recordFailure(id, t * 100));
    b.recordResponse(sorted[31]!.id, 700);
    return { benchedNow, benched: b.benched(700), weight: b.benchedWeight(700), state: b.toString() };
  };

  it.each(orders)('%s: the same validators benched, listed in id order', (_name, vs) => {
    const r = run(vs);
    expect(r).toEqual(run(sorted));
    expect(r.benched).toEqual([...r.benched].sort());
    expect(r.benched).toHaveLength(6);
    expect(r.weight).toBe([97, 2, 55, 0, 99, 31].reduce((w, i) => w + sorted[i]!.weight, 0));
  });
});

describe('Benchlist across active-set changes and on bad input (snowball mutation run 2)', () => {
  it('a validator that answered keeps the benefit of the doubt across an active-set change', () => {
    const b = new Benchlist(TEN, CONFIG);
    b.recordResponse('v0', 0);
    b.setValidators([...TEN, { id: 'v10', weight: 10 }]);
    // v0 answered before the change: it needs failureThreshold failures, not one.
    expect(failTimes(b, 'v0', 3, 1)).toEqual([false, false, true]);
    // The newcomer has never answered: on probation, benched at its first failure.
    expect(b.recordFailure('v10', 1)).toBe(true);
  });

  it.each([
    ['failureThreshold 0', { failureThreshold: 0 }, /failureThreshold >= 1/],
    ['minBenchMs 0', { minBenchMs: 0 }, /minBenchMs >= 1/],
    ['maxBenchMs below minBenchMs', { maxBenchMs: 999 }, /maxBenchMs >= minBenchMs/],
    ['maxBenchedPercent 100', { maxBenchedPercent: 100 }, /maxBenchedPercent is an integer in \[0, 100\)/],
  ])(
    '%s is INVALID_BENCHLIST_CONFIG naming the broken rule, with the whole config in details',
    (_name, change, rule) => {
      const config = { ...CONFIG, ...change };
      expect(() => new Benchlist(TEN, config)).toThrow(
        expect.objectContaining({
          code: 'INVALID_BENCHLIST_CONFIG',
          message: expect.stringMatching(rule),
          details: config,
        }),
      );
    },
  );

  it.each([
    [
      'a repeated id',
      [
        { id: 'a', weight: 1 },
        { id: 'a', weight: 2 },
      ],
      /"a" is empty or repeated/,
    ],
    ['an empty id', [{ id: '', weight: 1 }], /"" is empty or repeated/],
    ['a zero weight', [{ id: 'a', weight: 0 }], /validator a has weight 0/],
    [
      'an overflowing total',
      [
        { id: 'a', weight: 2 ** 52 },
        { id: 'b', weight: 2 ** 52 },
      ],
      /total weight exceeds 2\^53 - 1/,
    ],
  ])('%s is INVALID_VALIDATORS naming the offender', (_name, vs, message) => {
    expect(() => new Benchlist(vs, CONFIG)).toThrow(
      expect.objectContaining({ code: 'INVALID_VALIDATORS', message: expect.stringMatching(message) }),
    );
  });

  it('a time that is not a finite number is INVALID_TIME naming it', () => {
    const b = new Benchlist(TEN, CONFIG);
    expect(() => b.recordFailure('v0', Number.NaN)).toThrow(
      expect.objectContaining({
        code: 'INVALID_TIME',
        message: expect.stringMatching(/time NaN is not a finite/),
      }),
    );
    expect(() => b.benched(Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: 'INVALID_TIME', message: expect.stringMatching(/time Infinity /) }),
    );
  });
});
