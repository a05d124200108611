import { describe, expect, it } from 'vitest';
import {
  growthWindowFor,
  lifeReports,
  median,
  nodeSummary,
  type Sample,
  steadyIntervals,
  warmupSecFor,
} from '../../../src/devnet/soak-report.js';

/** Samples every 10 s from `fromSec` for one life, memory from `mb(i)`. */
function life(lifeNo: number, fromSec: number, count: number, mb: (i: number) => number, loop = 5): Sample[] {
  return Array.from({ length: count }, (_, i) => ({
    tSec: fromSec + i * 10,
    life: lifeNo,
    rssMb: mb(i) + 50,
    anonMb: mb(i),
    fileMb: 50,
    heapMb: mb(i) / 4,
    loopP99Ms: i === 0 ? 99 : loop,
    height: i,
  }));
}

describe('soak report windows', () => {
  it('warm-up is a quarter of the run up to 5 minutes; windows an eighth, between 1 and 5 minutes', () => {
    expect(warmupSecFor(3)).toBe(45);
    expect(warmupSecFor(20)).toBe(300);
    expect(warmupSecFor(60)).toBe(300);
    expect(growthWindowFor(3)).toBe(6);
    expect(growthWindowFor(8)).toBe(6);
    expect(growthWindowFor(16)).toBe(12);
    expect(growthWindowFor(40)).toBe(30);
    expect(growthWindowFor(60)).toBe(30);
  });

  it('median: middle value, mean of the middle two, 0 for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});

describe('lifeReports', () => {
  it('a transient at the end does not read as growth with a five-minute window; a steady climb does', () => {
    // 40 minutes of one process: flat at 100 MB, then a two-minute heap transient at 150 MB.
    const flat = life(0, 0, 240, (i) => (i >= 228 ? 150 : 100));
    const [one] = lifeReports(flat, 0, 300, 6);
    expect(one!.anonGrowthPct).toBe(50);
    const [five] = lifeReports(flat, 0, 300, 30);
    expect(five).toMatchObject({ anonWarmMb: 100, anonEndMb: 100, anonGrowthPct: 0, rssGrowthPct: 0 });
    // A leak of 0.1 MB a sample shows whatever the window.
    const leak = life(0, 0, 240, (i) => 100 + i / 10);
    const [l] = lifeReports(leak, 0, 300, 30);
    expect(l!.anonWarmMb).toBeCloseTo(104.5, 5);
    expect(l!.anonEndMb).toBeCloseTo(122.5, 5);
    expect(l!.anonGrowthPct).toBe(17.2);
  });

  it('one report per process; too short a life has no figure; the first interval is not steady', () => {
    const samples = [...life(0, 5, 40, () => 100), ...life(1, 420, 120, (i) => 100 + (i >= 60 ? 20 : 0), 7)];
    const lives = lifeReports(samples, 5, 300, 6);
    expect(lives.map((l) => [l.life, l.startSec, l.endSec])).toEqual([
      [0, 5, 395],
      [1, 420, 1610],
    ]);
    // Life 0: warm-up ends at 305 s, 10 samples remain: not two separate 6-sample windows.
    expect(lives[0]).toMatchObject({ rssWarmMb: 0, rssGrowthPct: 0, anonGrowthPct: 0 });
    expect(lives[1]).toMatchObject({
      anonWarmMb: 100,
      anonEndMb: 120,
      anonGrowthPct: 20,
      rssGrowthPct: 13.3,
    });
    expect(lives[1]).toMatchObject({ loopP99MaxMs: 99, loopP99SteadyMaxMs: 7 });
    // The node's figure is its longest-lived process's.
    expect(nodeSummary(lives)).toEqual({
      eventLoopP99MaxMs: 99,
      eventLoopP99SteadyMaxMs: 7,
      rssWarmMb: 150,
      rssEndMb: 170,
      rssGrowthPct: 13.3,
      anonGrowthPct: 20,
    });
  });

  it('exactly two separate windows are enough; one sample fewer is not', () => {
    // Warm-up ends at 300 s = sample 30; 42 samples leave 6 + 6 after it.
    const enough = life(0, 0, 42, (i) => (i >= 36 ? 110 : 100));
    expect(lifeReports(enough, 0, 300, 6)[0]!.anonGrowthPct).toBe(10);
    const short = life(0, 0, 41, (i) => (i >= 35 ? 110 : 100));
    expect(lifeReports(short, 0, 300, 6)[0]!.anonGrowthPct).toBe(0);
  });
});

describe('steadyIntervals', () => {
  it('leaves out each process’s first interval and counts those of 20 ms or more', () => {
    const node = { samples: [...life(0, 0, 5, () => 1, 10), ...life(1, 100, 5, () => 1, 20)] };
    expect(steadyIntervals([node])).toEqual({ count: 8, p50Ms: 20, p90Ms: 20, maxMs: 20, over20Ms: 4 });
    expect(steadyIntervals([])).toEqual({ count: 0, p50Ms: 0, p90Ms: 0, maxMs: 0, over20Ms: 0 });
  });
});
