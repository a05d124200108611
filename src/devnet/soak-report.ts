/**
 * The memory and event-loop figures of a soak report (src/devnet/soak.ts), computed from the
 * per-node samples alone, so a committed report can be recomputed from its own samples
 * (`npm run soak -- --report-from FILE`).
 */

export interface Sample {
  tSec: number;
  /** Which process of this node took it: 0 for the first, +1 per kill -9 and restart. */
  life: number;
  rssMb: number;
  /** The private part of the RSS (heaps, malloc) and the mapped-file part (binary, LMDB pages). */
  anonMb: number;
  fileMb: number;
  heapMb: number;
  loopP99Ms: number;
  height: number;
}

/** One process of a node, from its start to its kill (or the end of the run). */
export interface LifeReport {
  life: number;
  startSec: number;
  endSec: number;
  /**
   * RSS after warm-up: the median of the first `window` samples from the warm-up's end after this
   * process started (0: it did not live long enough for two separate windows), and at the end: the
   * median of its last `window` samples. Medians, because one sample lands anywhere in the heap's
   * sawtooth between two collections (±25 % here), which is noise, not growth.
   */
  rssWarmMb: number;
  rssEndMb: number;
  /** (end − warm) / warm, for a process that lived past its warm-up; else 0. */
  rssGrowthPct: number;
  /** The same for the private part of the RSS, without the LMDB pages that grow with the chain. */
  anonWarmMb: number;
  anonEndMb: number;
  anonGrowthPct: number;
  /** Largest per-interval event-loop p99 of this process, and the same without its first interval (start-up, catch-up). */
  loopP99MaxMs: number;
  loopP99SteadyMaxMs: number;
}

/** Seconds between two samples of a node. */
export const SAMPLE_SEC = 10;

/** Warm-up before a process's memory is compared: a quarter of the run, at most 5 minutes. */
export function warmupSecFor(minutes: number): number {
  return Math.min(5 * 60, (minutes * 60) / 4);
}

/**
 * Samples per memory window: an eighth of the run, at least one minute and at most five. A fault
 * (a peer's restart served from our blocks, a partition's catch-up) lifts the heap for a minute
 * or two and the pages stay mapped a while after; a one-minute window that ends in such a
 * transient reads it as growth, a five-minute median does not, and a slow leak still shows.
 */
export function growthWindowFor(minutes: number): number {
  const samples = Math.floor((minutes * 60) / SAMPLE_SEC / 8);
  return Math.max(6, Math.min(30, samples));
}

/**
 * Splits a node's samples by process and reports each: memory growth from the warm-up's end after
 * the process started (the first life starts with the run's load at `runStartSec`) to its end, and
 * its event-loop p99s.
 */
export function lifeReports(
  samples: readonly Sample[],
  runStartSec: number,
  warmupSec: number,
  window: number,
): LifeReport[] {
  const lives = new Map<number, Sample[]>();
  for (const s of samples) {
    const list = lives.get(s.life);
    if (list) list.push(s);
    else lives.set(s.life, [s]);
  }
  return [...lives].map(([life, ss]) => {
    const startSec = life === 0 ? runStartSec : ss[0]!.tSec;
    const warmAt = ss.findIndex((s) => s.tSec >= startSec + warmupSec);
    // Two separate windows, or no figure: the warm one must end before the end one starts.
    const measured = warmAt >= 0 && warmAt + window <= ss.length - window;
    const warm = measured ? ss.slice(warmAt, warmAt + window) : [];
    const end = measured ? ss.slice(-window) : [];
    const growth = (pick: (s: Sample) => number) => {
      const [w, e] = [median(warm.map(pick)), median(end.map(pick))];
      return { warm: w, end: e, pct: w > 0 ? Math.round(((e - w) / w) * 1000) / 10 : 0 };
    };
    const rss = growth((s) => s.rssMb);
    const anon = growth((s) => s.anonMb);
    const loops = ss.map((s) => s.loopP99Ms);
    return {
      life,
      startSec,
      endSec: ss[ss.length - 1]!.tSec,
      rssWarmMb: rss.warm,
      rssEndMb: rss.end,
      rssGrowthPct: rss.pct,
      anonWarmMb: anon.warm,
      anonEndMb: anon.end,
      anonGrowthPct: anon.pct,
      loopP99MaxMs: Math.max(0, ...loops),
      loopP99SteadyMaxMs: Math.max(0, ...loops.slice(1)),
    };
  });
}

/**
 * How the 10-second event-loop p99s of every node's steady intervals (each process's first one
 * left out, as in loopP99SteadyMaxMs) are spread: one bad interval decides the max, this shows
 * whether it was one.
 */
export function steadyIntervals(nodes: readonly { samples: readonly Sample[] }[]) {
  // A node's samples are in time order, so a process's first one follows a sample of another life.
  const xs = nodes
    .flatMap((r) => r.samples.filter((s, i) => i > 0 && r.samples[i - 1]!.life === s.life))
    .map((s) => s.loopP99Ms)
    .sort((a, b) => a - b);
  const at = (q: number) => (xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!);
  return {
    count: xs.length,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    maxMs: xs.length === 0 ? 0 : xs[xs.length - 1]!,
    over20Ms: xs.filter((x) => x >= 20).length,
  };
}

/** The median of a list (the mean of the middle two for an even count); 0 for an empty one. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 10) / 10;
}

/** A node's report fields derived from its lives: the longest-lived process speaks for the node. */
export function nodeSummary(lives: readonly LifeReport[]) {
  // A restarted process starts small and grows into its working set, which is not growth of the node.
  const longest = [...lives].sort((a, b) => b.endSec - b.startSec - (a.endSec - a.startSec))[0];
  return {
    eventLoopP99MaxMs: Math.max(0, ...lives.map((l) => l.loopP99MaxMs)),
    eventLoopP99SteadyMaxMs: Math.max(0, ...lives.map((l) => l.loopP99SteadyMaxMs)),
    rssWarmMb: longest?.rssWarmMb ?? 0,
    rssEndMb: longest?.rssEndMb ?? 0,
    rssGrowthPct: longest?.rssGrowthPct ?? 0,
    anonGrowthPct: longest?.anonGrowthPct ?? 0,
  };
}
