import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/consensus/snowball/prng.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { percentiles } from '../../src/sim/stats.js';

describe('EventQueue', () => {
  it('pops in (time, insertion) order, matching a stable sort', () => {
    const rng = new Xoshiro128(5);
    const q = new EventQueue<number>();
    const pushed: { t: number; v: number }[] = [];
    for (let v = 0; v < 5_000; v++) {
      const t = rng.below(300); // many equal times: stability matters
      q.push(t, v);
      pushed.push({ t, v });
      // Interleave pops to exercise the heap in every shape.
      if (v % 7 === 6) {
        const next = q.peekTime();
        const got = q.pop()!;
        const idx = pushed.reduce((best, e, i) => (e.t < pushed[best]!.t ? i : best), 0);
        expect(got).toBe(pushed[idx]!.v);
        expect(next).toBe(pushed[idx]!.t);
        pushed.splice(idx, 1);
      }
    }
    const expected = [...pushed].sort((a, b) => a.t - b.t || a.v - b.v).map((e) => e.v);
    const out: number[] = [];
    while (q.size > 0) out.push(q.pop()!);
    expect(out).toEqual(expected);
    expect(q.pop()).toBeUndefined();
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('percentiles', () => {
  it('uses nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(v)).toEqual({ p50: 50, p99: 99, max: 100, count: 100 });
    expect(percentiles([7])).toEqual({ p50: 7, p99: 7, max: 7, count: 1 });
    expect(percentiles([])).toEqual({ p50: 0, p99: 0, max: 0, count: 0 });
  });
});
