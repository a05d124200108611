import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Bench, type Fn } from 'tinybench';
import { packageRoot } from '../src/util/package-root.js';

/** One line of a results file; `hz` is in the unit the task's name promises (ops, batches, sigs…/s). */
export interface BenchTaskResult {
  name: string;
  hz: number;
  meanMs: number;
  p99Ms: number;
  samples: number;
}

/** The results file format shared by every suite (bench/results/<suite>.json). */
export interface BenchResults {
  suite: string;
  date: string;
  node: string;
  cpu: string;
  tasks: BenchTaskResult[];
  /** Figures that are not rates (event-loop delay under load, ratios to anchors…). */
  notes?: Record<string, number | string>;
}

export interface TaskOptions {
  /** hz is multiplied by this: e.g. 64 for "signatures/s" when one op verifies 64. */
  itemsPerOp?: number;
  beforeAll?: () => void | Promise<void>;
  beforeEach?: () => void | Promise<void>;
}

/**
 * A suite: tinybench tasks plus manually measured ones, written to bench/results/<suite>.json.
 * Tasks that compare against an anchor must be added to the same suite, so both run on the same
 * machine in the same process.
 */
export class BenchSuite {
  readonly results: BenchTaskResult[] = [];
  readonly notes: Record<string, number | string> = {};

  constructor(
    readonly suite: string,
    private readonly timeMs = 1_000,
  ) {}

  async task(name: string, fn: Fn, opts: TaskOptions = {}): Promise<BenchTaskResult> {
    const bench = new Bench({ time: this.timeMs, warmupTime: Math.min(250, this.timeMs / 4) });
    bench.add(name, fn, {
      ...(opts.beforeAll ? { beforeAll: opts.beforeAll } : {}),
      ...(opts.beforeEach ? { beforeEach: opts.beforeEach } : {}),
    });
    await bench.run();
    const r = bench.tasks[0]?.result;
    if (r?.state !== 'completed') throw new Error(`bench task ${name} did not complete: ${r?.state}`);
    const items = opts.itemsPerOp ?? 1;
    return this.record({
      name,
      hz: r.throughput.mean * items,
      meanMs: r.latency.mean,
      p99Ms: r.latency.p99,
      samples: r.latency.samplesCount,
    });
  }

  /** For measurements tinybench cannot drive (long VDF runs, two-process round trips). */
  record(result: BenchTaskResult): BenchTaskResult {
    this.results.push(result);
    console.log(
      `${result.name.padEnd(40)} ${result.hz.toFixed(1).padStart(14)} /s  mean ${result.meanMs.toFixed(4)} ms  p99 ${result.p99Ms.toFixed(4)} ms  n=${result.samples}`,
    );
    return result;
  }

  note(key: string, value: number | string): void {
    this.notes[key] = value;
    console.log(`${key}: ${value}`);
  }

  write(): string {
    const out: BenchResults = {
      suite: this.suite,
      date: new Date().toISOString(),
      node: process.version,
      cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
      tasks: this.results,
      ...(Object.keys(this.notes).length ? { notes: this.notes } : {}),
    };
    const dir = join(packageRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    // Results of a run on another Node major than the machine's default go beside the default file
    // (`BENCH_RESULT_TAG=node22` → <suite>.node22.json) so both stay committed side by side.
    const tag = process.env['BENCH_RESULT_TAG'];
    const file = join(dir, tag ? `${this.suite}.${tag}.json` : `${this.suite}.json`);
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${file}`);
    return file;
  }
}

/** Summary statistics of manually timed samples (ms), for `BenchSuite.record`. */
export function summarize(name: string, samplesMs: number[], itemsPerSample = 1): BenchTaskResult {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? mean;
  return { name, hz: (1000 / mean) * itemsPerSample, meanMs: mean, p99Ms: p99, samples: sorted.length };
}
