/**
 * `npm run sim:soak [-- --seeds N --workers W --nodes N --baseline-seeds B --max-ms T]`
 *
 * The long safety run: N seeds (default 10,000) of 50 nodes with 20 % of the weight Byzantine, the
 * strategy cycling silent → always-no → equivocate → balance by seed, plus B baseline seeds (no
 * Byzantine, no loss) for the finality-speed target. Every seed has two conflicting pairs, one
 * multi-input chain of length 2 (x0(A0, A1), x1(A1, A2), y0(A0), y2(A2)) and four ordinary
 * transactions. Seeds are split over worker threads; every run is deterministic, so a failing seed
 * is replayed with `timecoin sim --seed X --nodes 50 --byzantine 0.2 --strategy S --conflicts 2
 * --chains 1 --chain-length 2 --txs 4 --max-ms 60000 --stall-ms 20000`. Prints totals as JSON and
 * exits 1 if any safety violation was seen.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { STRATEGIES } from './byzantine.js';
import { ordinaryRounds, type SimResult } from './sim-result.js';
import { Simulation } from './simulation.js';

interface Job {
  from: number;
  to: number;
  nodes: number;
  baseline: boolean;
  maxTimeMs: number;
}

/** Rounds histogram buckets: one per round up to this, the last one for everything above. */
const HISTOGRAM_ROUNDS = 1_000;

interface Tally {
  runs: number;
  safetyViolations: number;
  violatingSeeds: number[];
  unfinalized: number;
  unfinalizedNonConflicting: number;
  stalledSeeds: number;
  conflicts: number;
  conflictsResolved: number;
  unresolvedConflictSeeds: number[];
  chains: number;
  chainsResolved: number;
  reopenedSets: number;
  benchings: number;
  maxBenchedWeightPct: number;
  /** Worst per-seed p99 (each seed: 40 honest nodes × 4 transactions = 160 samples). */
  maxNonConflictingRoundsP99: number;
  maxNonConflictingRounds: number;
  maxNonConflictingLatencyP99Ms: number;
  sumRoundsP50: number;
  messages: number;
  /** Rounds to acceptance of every (honest node, ordinary transaction) over all seeds. */
  roundsHistogram: number[];
}

/** The tally under `key`, created on first use. */
function tallyOf(tallies: Record<string, Tally>, key: string): Tally {
  let t = tallies[key];
  if (!t) {
    t = emptyTally();
    tallies[key] = t;
  }
  return t;
}

const emptyTally = (): Tally => ({
  runs: 0,
  safetyViolations: 0,
  violatingSeeds: [],
  unfinalized: 0,
  unfinalizedNonConflicting: 0,
  stalledSeeds: 0,
  conflicts: 0,
  conflictsResolved: 0,
  unresolvedConflictSeeds: [],
  chains: 0,
  chainsResolved: 0,
  reopenedSets: 0,
  benchings: 0,
  maxBenchedWeightPct: 0,
  maxNonConflictingRoundsP99: 0,
  maxNonConflictingRounds: 0,
  maxNonConflictingLatencyP99Ms: 0,
  sumRoundsP50: 0,
  messages: 0,
  roundsHistogram: new Array<number>(HISTOGRAM_ROUNDS + 1).fill(0),
});

function add(t: Tally, r: SimResult, ordinaryRounds: readonly number[]): void {
  t.runs++;
  t.safetyViolations += r.safetyViolations;
  if (r.safetyViolations > 0) t.violatingSeeds.push(r.seed);
  t.unfinalized += r.unfinalized;
  t.unfinalizedNonConflicting += r.unfinalizedNonConflicting;
  if (r.unfinalizedNonConflicting > 0) t.stalledSeeds++;
  t.conflicts += r.conflicts;
  t.conflictsResolved += r.conflictsResolved;
  if (r.conflictsResolved < r.conflicts && t.unresolvedConflictSeeds.length < 50)
    t.unresolvedConflictSeeds.push(r.seed);
  t.chains += r.chains;
  t.chainsResolved += r.chainsResolved;
  t.reopenedSets += r.reopenedSets;
  t.benchings += r.benchings;
  t.maxBenchedWeightPct = Math.max(t.maxBenchedWeightPct, r.maxBenchedWeightPct);
  for (const x of ordinaryRounds) t.roundsHistogram[Math.min(x, HISTOGRAM_ROUNDS)]!++;
  t.maxNonConflictingRoundsP99 = Math.max(t.maxNonConflictingRoundsP99, r.nonConflicting.rounds.p99);
  t.maxNonConflictingRounds = Math.max(t.maxNonConflictingRounds, r.nonConflicting.rounds.max);
  t.maxNonConflictingLatencyP99Ms = Math.max(t.maxNonConflictingLatencyP99Ms, r.nonConflicting.latencyMs.p99);
  t.sumRoundsP50 += r.rounds.p50;
  t.messages += r.messages;
}

function merge(into: Tally, t: Tally): void {
  for (const k of Object.keys(t) as (keyof Tally)[]) {
    if (k === 'violatingSeeds' || k === 'unresolvedConflictSeeds') into[k].push(...t[k]);
    else if (k === 'roundsHistogram') for (let i = 0; i < t[k].length; i++) into[k][i]! += t[k][i]!;
    else if (k.startsWith('max')) into[k] = Math.max(into[k] as number, t[k] as number);
    else (into[k] as number) += t[k] as number;
  }
}

const SOAK = { conflicts: 2, chains: 1, chainLength: 2, txs: 4, byzantineFraction: 0.2 };
/**
 * A run whose only undecided transactions are conflicting ones and where nothing was decided for
 * 20 virtual seconds stops (the balance attack can hold a conflict for the whole run, and polling
 * it to maxTimeMs would triple the soak's cost). Those conflicts are counted as unfinalized.
 */
const STALL_MS = 20_000;

/** Runs seeds [from, to): returns one tally per strategy (or one 'baseline' tally). */
function work(job: Job): Record<string, Tally> {
  const out: Record<string, Tally> = {};
  for (let seed = job.from; seed < job.to; seed++) {
    const strategy = job.baseline ? 'silent' : STRATEGIES[seed % STRATEGIES.length]!;
    const sim = new Simulation({
      nodes: job.nodes,
      conflicts: SOAK.conflicts,
      chains: SOAK.chains,
      chainLength: SOAK.chainLength,
      txs: SOAK.txs,
      byzantineFraction: job.baseline ? 0 : SOAK.byzantineFraction,
      strategy,
      seed,
      maxTimeMs: job.maxTimeMs,
      stallMs: STALL_MS,
    });
    const r = sim.run();
    const key = job.baseline ? 'baseline' : strategy;
    add(tallyOf(out, key), r, ordinaryRounds(sim));
    if (!job.baseline && (seed - job.from) % 250 === 249) parentPort?.postMessage({ progress: 250 });
  }
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '10000' },
      'baseline-seeds': { type: 'string', default: '1000' },
      workers: { type: 'string', default: String(Math.min(2, cpus().length)) },
      nodes: { type: 'string', default: '50' },
      'max-ms': { type: 'string', default: '60000' },
    },
  });
  const seeds = Number(values.seeds);
  const baselineSeeds = Number(values['baseline-seeds']);
  const workers = Math.max(1, Number(values.workers));
  const nodes = Number(values.nodes);
  const maxTimeMs = Number(values['max-ms']);
  const started = performance.now();
  const jobs: Job[] = [];
  const chunk = (from: number, count: number, baseline: boolean) => {
    const per = Math.ceil(count / workers);
    for (let i = 0; i < workers && i * per < count; i++)
      jobs.push({
        from: from + i * per,
        to: from + Math.min(count, (i + 1) * per),
        nodes,
        baseline,
        maxTimeMs,
      });
  };
  chunk(1, seeds, false);
  chunk(1_000_001, baselineSeeds, true);
  let done = 0;
  const totals: Record<string, Tally> = {};
  await Promise.all(
    jobs.map(
      (job) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: job });
          w.on('message', (m: { progress?: number; result?: Record<string, Tally> }) => {
            if (m.progress) {
              done += m.progress;
              if (done % 1000 === 0)
                console.error(
                  `  ${done}/${seeds} seeds, ${((performance.now() - started) / 1000).toFixed(0)} s`,
                );
            }
            if (m.result) for (const [k, t] of Object.entries(m.result)) merge(tallyOf(totals, k), t);
          });
          w.on('error', reject);
          w.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`soak worker exited with ${code}`)),
          );
        }),
    ),
  );
  const all = emptyTally();
  for (const s of STRATEGIES) if (totals[s]) merge(all, totals[s]);
  const summary = (t: Tally) => {
    const { roundsHistogram, ...rest } = t;
    return { ...rest, pooledNonConflictingRounds: histogramPercentiles(roundsHistogram) };
  };
  const report = {
    config: {
      seeds,
      baselineSeeds,
      nodes,
      ...SOAK,
      maxTimeMs,
      stallMs: STALL_MS,
      latencyMs: '50,20',
      loss: 0,
      workers,
    },
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    byzantine: summary(all),
    perStrategy: Object.fromEntries(STRATEGIES.map((s) => [s, summary(totals[s] ?? emptyTally())])),
    baseline: summary(totals.baseline ?? emptyTally()),
  };
  console.log(JSON.stringify(report, null, 2));
  return all.safetyViolations === 0 && report.baseline.safetyViolations === 0 ? 0 : 1;
}

/** Nearest-rank p50/p99/max of a rounds histogram (the last bucket means "that many or more"). */
function histogramPercentiles(h: readonly number[]): {
  p50: number;
  p99: number;
  max: number;
  count: number;
} {
  const count = h.reduce((s, c) => s + c, 0);
  const rank = (p: number) => {
    const want = Math.max(1, Math.ceil(count * p));
    let seen = 0;
    for (let i = 0; i < h.length; i++) {
      seen += h[i]!;
      if (seen >= want) return i;
    }
    return 0;
  };
  let max = 0;
  h.forEach((c, i) => {
    if (c > 0) max = i;
  });
  return { p50: rank(0.5), p99: rank(0.99), max, count };
}

if (isMainThread) process.exitCode = await main();
else parentPort!.postMessage({ result: work(workerData as Job) });
