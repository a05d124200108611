// The timing model alone (no sockets): exact token-bucket arithmetic and seeded delay draws.
import { describe, expect, it } from 'vitest';
import { ChaosError } from '../../../src/chaos/chaos-error.js';
import { mergeLinkFaults, NO_FAULTS } from '../../../src/chaos/link-faults.js';
import { LinkShaper } from '../../../src/chaos/link-shaper.js';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';

function shaper(update: object, seed = 42): LinkShaper {
  const s = new LinkShaper(new Xoshiro128(seed));
  s.update(update);
  return s;
}

describe('LinkShaper: token bucket', () => {
  // 1,000 B/s = 1 ms per byte; a bucket of 100 bytes.
  const bw = { bandwidthBytesPerSec: 1000, burstBytes: 100 };

  it('lets one full burst through at once, then one byte per ms', () => {
    const s = shaper(bw);
    expect(s.readyAt(0, 100)).toBe(0);
    expect(s.readyAt(0, 100)).toBe(100);
    expect(s.readyAt(0, 50)).toBe(150);
    expect(s.readyAt(0, 50)).toBe(200);
    expect(s.readyAt(0, 1)).toBe(201);
  });

  it('holds the long-run rate exactly: 10,000 bytes take (10,000 − burst) ms', () => {
    const s = shaper(bw);
    let last = 0;
    for (let i = 0; i < 100; i++) last = s.readyAt(0, 100);
    expect(last).toBe(9_900);
  });

  it('refills while idle but never beyond one burst', () => {
    const s = shaper(bw);
    s.readyAt(0, 100);
    s.readyAt(0, 100); // bucket empty until 200
    expect(s.readyAt(150, 50)).toBe(150); // 50 tokens back by 150
    expect(s.readyAt(150, 10)).toBe(160);
    expect(s.readyAt(5_000, 100)).toBe(5_000); // long idle: full…
    expect(s.readyAt(5_000, 100)).toBe(5_100); // …but only one burst's worth
  });

  it('adds the delay after the rate cap, and a new rate starts with a full bucket', () => {
    const s = shaper({ ...bw, latencyMs: 10 });
    expect(s.readyAt(0, 100)).toBe(10);
    expect(s.readyAt(0, 100)).toBe(110);
    s.update({ bandwidthBytesPerSec: 2000 });
    expect(s.readyAt(0, 100)).toBe(10);
    expect(s.readyAt(0, 100)).toBe(60);
  });

  it('defaults the burst to max(4 KiB, 10 ms at the rate) and splits no chunk when unlimited', () => {
    expect(shaper({ bandwidthBytesPerSec: 100_000 }).maxSliceBytes).toBe(4096);
    expect(shaper({ bandwidthBytesPerSec: 10_000_000 }).maxSliceBytes).toBe(100_000);
    expect(shaper({}).maxSliceBytes).toBe(Number.POSITIVE_INFINITY);
    expect(shaper({}).transparent).toBe(true);
    expect(shaper({ latencyMs: 1 }).transparent).toBe(false);
    expect(shaper({ bandwidthBytesPerSec: 1 }).transparent).toBe(false);
    expect(shaper({ drop: true }).transparent).toBe(false);
  });
});

describe('LinkShaper: delay draws', () => {
  it('draws uniformly in [latency − jitter, latency + jitter], in whole microseconds', () => {
    const s = shaper({ latencyMs: 25, jitterMs: 5 });
    const draws = Array.from({ length: 20_000 }, () => s.drawDelayMs());
    const min = Math.min(...draws);
    const max = Math.max(...draws);
    expect(min).toBeGreaterThanOrEqual(20);
    expect(max).toBeLessThanOrEqual(30);
    expect(min).toBeLessThan(20.01); // the whole range is reached
    expect(max).toBeGreaterThan(29.99);
    for (const d of draws.slice(0, 500)) expect(Math.abs(d * 1000 - Math.round(d * 1000))).toBeLessThan(1e-6);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(Math.abs(mean - 25)).toBeLessThan(0.1); // σ of the mean ≈ 0.02 ms
    // Uniform, not bunched: each 1 ms bin holds about a tenth.
    const bins = new Array(10).fill(0);
    for (const d of draws) bins[Math.min(9, Math.floor(d - 20))]++;
    for (const b of bins) expect(b).toBeGreaterThan(1_600);
  });

  it('reaches both ends of the range exactly', () => {
    // latency 1 ms ± 2 µs: five possible draws, each about a fifth of the time.
    const s = shaper({ latencyMs: 1, jitterMs: 0.002 });
    const seen = new Map<number, number>();
    for (let i = 0; i < 1_000; i++) {
      const d = s.drawDelayMs();
      seen.set(d, (seen.get(d) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([0.998, 0.999, 1, 1.001, 1.002]);
    for (const n of seen.values()) expect(n).toBeGreaterThan(120);
  });

  it('replays the same draws from the same seed, and other draws from another seed', () => {
    const a = shaper({ latencyMs: 25, jitterMs: 5 }, 7);
    const b = shaper({ latencyMs: 25, jitterMs: 5 }, 7);
    const c = shaper({ latencyMs: 25, jitterMs: 5 }, 8);
    const da = Array.from({ length: 100 }, () => a.drawDelayMs());
    expect(Array.from({ length: 100 }, () => b.drawDelayMs())).toEqual(da);
    expect(Array.from({ length: 100 }, () => c.drawDelayMs())).not.toEqual(da);
  });

  it('consumes no randomness without jitter, so enabling jitter later replays a fresh seed', () => {
    const a = shaper({ latencyMs: 25 }, 9);
    for (let i = 0; i < 50; i++) expect(a.drawDelayMs()).toBe(25);
    a.update({ jitterMs: 5 });
    const fresh = shaper({ latencyMs: 25, jitterMs: 5 }, 9);
    expect(Array.from({ length: 20 }, () => a.drawDelayMs())).toEqual(
      Array.from({ length: 20 }, () => fresh.drawDelayMs()),
    );
  });
});

describe('mergeLinkFaults', () => {
  it('merges a partial update and freezes the result', () => {
    const f = mergeLinkFaults(NO_FAULTS, { latencyMs: 25, jitterMs: 5 });
    expect(f).toEqual({ ...NO_FAULTS, latencyMs: 25, jitterMs: 5 });
    expect(Object.isFrozen(f)).toBe(true);
    expect(mergeLinkFaults(f, { bandwidthBytesPerSec: null, drop: true })).toMatchObject({
      latencyMs: 25,
      drop: true,
    });
  });

  it.each([
    [{ jitterMs: 1 }, /jitterMs 1 > latencyMs 0/],
    [{ latencyMs: -0.5 }, /latencyMs/],
    [{ latencyMs: 60_001 }, /latencyMs/],
    [{ latencyMs: Number.POSITIVE_INFINITY }, /latencyMs/],
    [{ bandwidthBytesPerSec: 1.5 }, /bandwidthBytesPerSec/],
    [{ bandwidthBytesPerSec: 0 }, /bandwidthBytesPerSec/],
    [{ burstBytes: 0 }, /burstBytes/],
    [{ drop: 'yes' }, /drop/],
    [{ loss: 0.1 }, /loss|unrecognized/i],
    ['fast', /faults/],
  ])('refuses %j with CHAOS_BAD_FAULTS', (update, message) => {
    let err: unknown;
    try {
      mergeLinkFaults(NO_FAULTS, update);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).code).toBe('CHAOS_BAD_FAULTS');
    expect((err as ChaosError).message).toMatch(message);
  });

  it('accepts the boundaries: jitter equal to latency, a zero latency, one byte per second', () => {
    expect(mergeLinkFaults(NO_FAULTS, { latencyMs: 5, jitterMs: 5 }).jitterMs).toBe(5);
    expect(mergeLinkFaults(NO_FAULTS, { latencyMs: 0, bandwidthBytesPerSec: 1 }).bandwidthBytesPerSec).toBe(
      1,
    );
    expect(mergeLinkFaults(NO_FAULTS, { latencyMs: 60_000 }).latencyMs).toBe(60_000);
  });
});
