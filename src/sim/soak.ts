/**
 * `npm run sim:soak [-- --seeds N --workers W --nodes N --baseline-seeds B --max-ms T]`
 *
 * The long safety run of issue 5: N seeds (default 10,000) of 50 nodes with 20 % of the weight
 * Byzantine, the strategy cycling silent → always-no → equivocate → balance by seed, plus B
 * baseline seeds (no Byzantine, no loss) for the finality-speed target (non-conflicting
 * transactions final in <= beta + 5 rounds at p99). Seeds are split over worker threads; every run
 * is deterministic, so a failing seed is replayed with `timecoin sim --seed X ...`. Prints totals
 * as JSON and exits 1 if any safety violation was seen.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { STRATEGIES } from './byzantine.js';
import type { SimResult } from './sim-result.js';
import { runSimulation } from './simulation.js';

interface Job {
  from: number;
  to: number;
  nodes: number;
  baseline: boolean;
  maxTimeMs: number;
}

interface Tally {
  runs: number;
  safetyViolations: number;
  violatingSeeds: number[];
  unfinalized: number;
  unfinalizedNonConflicting: number;
  stalledSeeds: number;
  conflicts: number;
  conflictsResolved: number;
  maxNonConflictingRoundsP99: number;
  maxNonConflictingRounds: number;
  maxNonConflictingLatencyP99Ms: number;
  sumRoundsP50: number;
  messages: number;
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
  maxNonConflictingRoundsP99: 0,
  maxNonConflictingRounds: 0,
  maxNonConflictingLatencyP99Ms: 0,
  sumRoundsP50: 0,
  messages: 0,
});

function add(t: Tally, r: SimResult): void {
  t.runs++;
  t.safetyViolations += r.safetyViolations;
  if (r.safetyViolations > 0) t.violatingSeeds.push(r.seed);
  t.unfinalized += r.unfinalized;
  t.unfinalizedNonConflicting += r.unfinalizedNonConflicting;
  if (r.unfinalizedNonConflicting > 0) t.stalledSeeds++;
  t.conflicts += r.conflicts;
  t.conflictsResolved += r.conflictsResolved;
  t.maxNonConflictingRoundsP99 = Math.max(t.maxNonConflictingRoundsP99, r.nonConflicting.rounds.p99);
  t.maxNonConflictingRounds = Math.max(t.maxNonConflictingRounds, r.nonConflicting.rounds.max);
  t.maxNonConflictingLatencyP99Ms = Math.max(t.maxNonConflictingLatencyP99Ms, r.nonConflicting.latencyMs.p99);
  t.sumRoundsP50 += r.rounds.p50;
  t.messages += r.messages;
}

function merge(into: Tally, t: Tally): void {
  for (const k of Object.keys(t) as (keyof Tally)[]) {
    if (k === 'violatingSeeds') into.violatingSeeds.push(...t.violatingSeeds);
    else if (k.startsWith('max')) into[k] = Math.max(into[k] as number, t[k] as number);
    else (into[k] as number) += t[k] as number;
  }
}

const SOAK = { conflicts: 2, txs: 4, byzantineFraction: 0.2 };
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
    const r = runSimulation({
      nodes: job.nodes,
      conflicts: SOAK.conflicts,
      txs: SOAK.txs,
      byzantineFraction: job.baseline ? 0 : SOAK.byzantineFraction,
      strategy,
      seed,
      maxTimeMs: job.maxTimeMs,
      stallMs: STALL_MS,
    });
    const key = job.baseline ? 'baseline' : strategy;
    add(tallyOf(out, key), r);
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
    byzantine: all,
    perStrategy: Object.fromEntries(STRATEGIES.map((s) => [s, totals[s] ?? emptyTally()])),
    baseline: totals.baseline ?? emptyTally(),
  };
  console.log(JSON.stringify(report, null, 2));
  return all.safetyViolations === 0 && report.baseline.safetyViolations === 0 ? 0 : 1;
}

if (isMainThread) process.exitCode = await main();
else parentPort!.postMessage({ result: work(workerData as Job) });
