import { describe, expect, it } from 'vitest';
import { AdaptiveTimeout } from '../../../src/node/adaptive-timeout.js';

describe('AdaptiveTimeout (RFC 6298 timer, clamped)', () => {
  it('starts at the floor, and stays there while round trips are short', () => {
    const t = new AdaptiveTimeout(250, 2_000);
    expect(t.currentMs).toBe(250);
    for (let i = 0; i < 50; i++) t.observe(3);
    expect(t.currentMs).toBe(250);
  });

  it('follows srtt + 4 × rttvar exactly once that is above the floor', () => {
    const t = new AdaptiveTimeout(10, 10_000);
    t.observe(100); // srtt 100, rttvar 50 → 300
    expect(t.currentMs).toBe(300);
    t.observe(200); // rttvar = 0.75·50 + 0.25·100 = 62.5; srtt = 87.5 + 25 = 112.5 → 362.5 → 363
    expect(t.currentMs).toBe(363);
  });

  it('grows when answers slow down, never past the ceiling, and comes back down when they recover', () => {
    const t = new AdaptiveTimeout(250, 2_000);
    for (let i = 0; i < 20; i++) t.observe(400);
    const slow = t.currentMs;
    expect(slow).toBeGreaterThan(400);
    expect(slow).toBeLessThanOrEqual(2_000);
    for (let i = 0; i < 20; i++) t.observe(5_000);
    expect(t.currentMs).toBe(2_000);
    for (let i = 0; i < 200; i++) t.observe(2);
    expect(t.currentMs).toBe(250);
  });

  it('ignores samples that are not durations', () => {
    const t = new AdaptiveTimeout(250, 2_000);
    t.observe(Number.NaN);
    t.observe(-5);
    t.observe(Number.POSITIVE_INFINITY);
    expect(t.currentMs).toBe(250);
    // Above the floor too: after a real sample, none of them moves the estimate.
    const u = new AdaptiveTimeout(10, 100_000);
    u.observe(100); // srtt 100, rttvar 50 → 300
    u.observe(-5_000);
    u.observe(Number.NaN);
    u.observe(Number.NEGATIVE_INFINITY);
    expect(u.currentMs).toBe(300);
    expect(() => new AdaptiveTimeout(0, 10)).toThrow(RangeError);
    expect(() => new AdaptiveTimeout(10, 9)).toThrow(RangeError);
  });

  it('a 0 ms round trip (an answer within the clock resolution) is a sample', () => {
    const t = new AdaptiveTimeout(10, 10_000);
    t.observe(100); // srtt 100, rttvar 50 → 300
    t.observe(0); // rttvar = 0.75·50 + 0.25·100 = 62.5; srtt = 87.5 → 337.5 → 338
    expect(t.currentMs).toBe(338);
  });

  it('a fixed timeout (floor = ceiling) is allowed; a refusal names the rule', () => {
    const t = new AdaptiveTimeout(250, 250);
    t.observe(5_000);
    expect(t.currentMs).toBe(250);
    expect(() => new AdaptiveTimeout(10, 9)).toThrow(/0 < floorMs ≤ ceilingMs/);
  });
});
