/**
 * `npm run soak -- --minutes M --nodes N --tps R [--fault-every S] [--seed X] [--slot-ms MS]
 * [--out FILE]`: a devnet of N validator processes, every link through the fault proxies, under R
 * payments a second for M minutes, with a random fault S seconds after the previous one ended
 * (SIGKILL and restart of one validator, a 1 | N−1 or 2 | N−2 partition, 50 ms RTT on every link,
 * all connections reset); never more than one validator down. At the end it drains, checks and writes a JSON report (stdout, and
 * FILE when given): finalized, lost, forks resolved, max reorg depth, RSS and heap of each node over
 * time, event-loop delay p99, LMDB size. Exit code 1 when a finalized transaction was lost or the
 * chains differ. (`npm run sim:soak` is the simulator's soak; this one runs the real node.)
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { type Coin, fundedCoin, hexOf, split } from './coins.js';
import { LoadGenerator } from './load-generator.js';
import { Devnet, type LogLine, NodeProcess } from './node-process.js';

interface Sample {
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
interface LifeReport {
  life: number;
  startSec: number;
  endSec: number;
  /**
   * RSS after warm-up: the median of the first GROWTH_WINDOW samples from WARMUP after this process
   * started (0: it did not live long enough for two separate windows), and at the end: the median
   * of its last GROWTH_WINDOW samples. Medians, because one sample lands anywhere in the heap's
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

interface NodeReport {
  index: number;
  restarts: number;
  samples: Sample[];
  lives: LifeReport[];
  lmdbBytes: number;
  eventLoopP99MaxMs: number;
  eventLoopP99SteadyMaxMs: number;
  rssWarmMb: number;
  rssEndMb: number;
  rssGrowthPct: number;
  anonGrowthPct: number;
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '5' },
    tps: { type: 'string', default: '20' },
    'fault-every': { type: 'string', default: '20' },
    'slot-ms': { type: 'string', default: '1000' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
});
const MINUTES = Number(values.minutes);
const N = Number(values.nodes);
const TPS = Number(values.tps);
const FAULT_EVERY_MS = Number(values['fault-every']) * 1000;
const SLOT_MS = Number(values['slot-ms']);
const SEED = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 32);
const SAMPLE_MS = 10_000;
const WARMUP_MS = Math.min(5 * 60_000, (MINUTES * 60_000) / 4);
/** Samples per memory window (one minute at SAMPLE_MS), see LifeReport. */
const GROWTH_WINDOW = 6;

const log = (msg: string) =>
  process.stderr.write(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
const t0 = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const rng = new Xoshiro128(SEED);
  log(`seed ${SEED}: ${N} validators, ${TPS} tx/s, ${MINUTES} min, a fault every ${FAULT_EVERY_MS / 1000} s`);
  const net = await Devnet.start({
    validators: N,
    node: {
      env: {
        TIMECOIN_CHAIN_SLOT_MS: String(SLOT_MS),
        TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: String(Math.floor(SLOT_MS / 5)),
      },
    },
    faults: { seed: SEED },
  });
  const faults = net.faults!;
  const reports: NodeReport[] = net.nodes.map((_, index) => ({
    index,
    restarts: 0,
    samples: [],
    lives: [],
    lmdbBytes: 0,
    eventLoopP99MaxMs: 0,
    eventLoopP99SteadyMaxMs: 0,
    rssWarmMb: 0,
    rssEndMb: 0,
    rssGrowthPct: 0,
    anonGrowthPct: 0,
  }));
  let forks = 0;
  let maxReorgDepth = 0;
  const watchLogs = (node: NodeProcess) =>
    node.onLog((l: LogLine) => {
      if (l.msg === 'reorg: reverted to the fork point') {
        forks++;
        maxReorgDepth = Math.max(maxReorgDepth, Number(l['depth'] ?? 0));
      }
    });
  for (const n of net.nodes) watchLogs(n);

  // Coins: each funded key split into coins; a coin carries ~900 payments of 10,000 sat.
  // Enough for 30 s of load in flight: a fault can hold payments undecided that long.
  const perKey = Math.max(40, Math.ceil((TPS * 30) / 8));
  const splits = Array.from({ length: 8 }, (_, k) => split(fundedCoin(k), perKey, 100_000_000n));
  for (const s of splits) await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
  const coins: Coin[] = splits.flatMap((s) => s.coins);
  // Final at every node before paying through it (a node refuses a spend of an output it lacks).
  for (const n of net.nodes)
    for (const s of splits)
      await n.rpc('waittransactionfinality', [Buffer.from(s.tx.txid).toString('hex'), 60_000]);
  // The run's minutes count from here: start-up and funding are not soak time.
  const runStart = Date.now();

  const down = new Set<number>();
  const load = new LoadGenerator({
    nodes: () => net.nodes,
    live: (i) => !down.has(i),
    coins,
    tps: TPS,
    giveUpMs: 60_000,
  });
  await load.start();
  const faultLog: string[] = [];

  const sample = async () => {
    const tSec = Math.round((Date.now() - t0) / 1000);
    await Promise.all(
      net.nodes.map(async (n, i) => {
        if (down.has(i) || n.exitCode !== undefined) return;
        try {
          const text = await n.metricsText();
          const metric = (name: string) =>
            Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
          // The scrape's p99 covers the interval since the previous scrape (the gauge resets).
          const loopP99 = Number(
            /^timecoin_event_loop_delay_seconds\{quantile="0\.99"\} ([0-9.e+-]+)$/m.exec(text)?.[1] ?? 0,
          );
          reports[i]!.samples.push({
            tSec,
            life: reports[i]!.restarts,
            rssMb: Math.round(metric('timecoin_process_rss_bytes') / 1e5) / 10,
            anonMb: Math.round(metric('timecoin_process_rss_anon_bytes') / 1e5) / 10,
            fileMb: Math.round(metric('timecoin_process_rss_file_bytes') / 1e5) / 10,
            heapMb: Math.round(metric('timecoin_process_heap_used_bytes') / 1e5) / 10,
            loopP99Ms: Math.round(loopP99 * 10_000) / 10,
            height: metric('timecoin_chain_height'),
          });
        } catch {
          // A node mid-restart: no sample this round.
        }
      }),
    );
  };

  const faultOnce = async () => {
    const kind = rng.nextU32() % 5;
    const victim = rng.nextU32() % N;
    const order = [...Array(N).keys()];
    for (let i = N - 1; i > 0; i--) {
      const j = rng.nextU32() % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const at = Math.round((Date.now() - t0) / 1000);
    if (kind === 0) {
      down.add(victim);
      await net.nodes[victim]!.kill('SIGKILL');
      await sleep(1_000 + (rng.nextU32() % 3_000));
      const fresh = await net.restart(victim);
      reports[victim]!.restarts++;
      watchLogs(fresh);
      await fresh
        .until<unknown[]>('getpeerinfo', [], (p) => p.length >= N - 1, 60_000)
        .catch(() => undefined);
      down.delete(victim);
      await load.watchAll();
      faultLog.push(`${at}s kill -9 node ${victim}`);
    } else if (kind === 1 || kind === 2) {
      const cut = kind === 1 ? 1 : 2;
      faults.partition([order.slice(0, cut), order.slice(cut)]);
      await sleep(3_000 + (rng.nextU32() % 5_000));
      faults.heal();
      faultLog.push(`${at}s partition ${cut}|${N - cut}`);
    } else if (kind === 3) {
      faults.setFaults({ latencyMs: 25, jitterMs: 5 });
      await sleep(10_000);
      faults.setFaults({ latencyMs: 0, jitterMs: 0 });
      faultLog.push(`${at}s 50 ms RTT for 10 s`);
    } else {
      const n = faults.reset();
      faultLog.push(`${at}s reset ${n} connections`);
    }
  };

  const end = runStart + MINUTES * 60_000;
  let nextSample = Date.now();
  let nextFault = Date.now() + FAULT_EVERY_MS;
  while (Date.now() < end) {
    if (Date.now() >= nextSample) {
      await sample();
      nextSample += SAMPLE_MS;
      log(
        `submitted ${load.submitted}, final ${load.everFinal.size}, in flight ${load.inFlight}, coins ${load.freeCoins}`,
      );
    }
    if (Date.now() >= nextFault && Date.now() < end - 20_000) {
      await faultOnce();
      nextFault = Date.now() + FAULT_EVERY_MS;
    }
    await sleep(200);
  }
  load.stop();
  faults.heal();
  log('load stopped; draining');

  // One chain everywhere first (the last fault may have left a node a few slots behind).
  let tips: string[] = [];
  for (let i = 0; i < 200; i++) {
    tips = await Promise.all(net.nodes.map((n) => n.rpc<string>('getbestblockhash')));
    if (tips.every((t) => t === tips[0])) break;
    await sleep(300);
  }
  // Drain: every txid any node reported final must reach a block. Walk node 0's chain (the others
  // hold the same tip, hence the same blocks) and wait for what is missing, up to 2 minutes.
  const everFinal = [...load.everFinal];
  const counts = new Map<string, number>();
  let walked = 0;
  const hashes: string[] = [];
  const walk = async () => {
    const top = (await net.nodes[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    for (let h = walked + 1; h <= top; h++) {
      const hash = await net.nodes[0]!.rpc<string>('getblockhash', [h]);
      hashes[h] = hash;
      const b = await net.nodes[0]!.rpc<{ tx: string[] }>('getblock', [hash, 1]);
      for (const t of b.tx.slice(1)) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    walked = top;
    return top;
  };
  let height = await walk();
  const drainUntil = Date.now() + 120_000;
  let missing = everFinal.filter((t) => !counts.has(t));
  while (missing.length > 0 && Date.now() < drainUntil) {
    await sleep(1_000);
    height = await walk();
    missing = missing.filter((t) => !counts.has(t));
  }
  // A reorg during the drain would make the walk stale: if a walked block changed, walk it all again.
  for (let h = Math.max(1, walked - 32); h <= walked; h++) {
    if ((await net.nodes[0]!.rpc<string>('getblockhash', [h])) !== hashes[h]) {
      counts.clear();
      walked = 0;
      height = await walk();
      missing = everFinal.filter((t) => !counts.has(t));
      break;
    }
  }
  tips = await Promise.all(net.nodes.map((n) => n.rpc<string>('getbestblockhash')));
  const sameChain = tips.every((t) => t === tips[0]);
  const lost = missing;
  const duplicated = everFinal.filter((t) => (counts.get(t) ?? 0) > 1).length;

  for (const r of reports) {
    const n = net.nodes[r.index]!;
    try {
      r.lmdbBytes = statSync(join(n.datadir, 'chain.mdb')).size;
    } catch {
      r.lmdbBytes = -1;
    }
    r.lives = lifeReports(r.samples, (runStart - t0) / 1000);
    r.eventLoopP99MaxMs = Math.max(0, ...r.lives.map((l) => l.loopP99MaxMs));
    r.eventLoopP99SteadyMaxMs = Math.max(0, ...r.lives.map((l) => l.loopP99SteadyMaxMs));
    // The node's RSS growth: that of its longest-lived process (a restarted process starts small and
    // grows into its working set, which is not growth of the node).
    const longest = [...r.lives].sort((a, b) => b.endSec - b.startSec - (a.endSec - a.startSec))[0];
    r.rssWarmMb = longest?.rssWarmMb ?? 0;
    r.rssEndMb = longest?.rssEndMb ?? 0;
    r.rssGrowthPct = longest?.rssGrowthPct ?? 0;
    r.anonGrowthPct = longest?.anonGrowthPct ?? 0;
  }
  const report = {
    suite: 'soak',
    date: new Date().toISOString(),
    node: process.version,
    config: {
      minutes: MINUTES,
      nodes: N,
      tps: TPS,
      faultEverySec: FAULT_EVERY_MS / 1000,
      slotMs: SLOT_MS,
      seed: SEED,
    },
    warmupSec: WARMUP_MS / 1000,
    submitted: load.submitted,
    finalized: everFinal.length,
    lost: lost.length,
    duplicated,
    writtenOff: load.writtenOff,
    refused: load.refused,
    refusals: load.refusals,
    sameChainAtEnd: sameChain,
    height,
    forksResolved: forks,
    maxReorgDepth,
    finality: { p50Ms: load.percentile(0.5), p99Ms: load.percentile(0.99), samples: load.latencies.length },
    faults: faultLog,
    eventLoopP99MaxMs: Math.max(...reports.map((r) => r.eventLoopP99MaxMs)),
    eventLoopP99SteadyMaxMs: Math.max(...reports.map((r) => r.eventLoopP99SteadyMaxMs)),
    eventLoopSteadyIntervals: steadyIntervals(reports),
    rssGrowthMaxPct: Math.max(...reports.flatMap((r) => r.lives.map((l) => l.rssGrowthPct))),
    rssAnonGrowthMaxPct: Math.max(...reports.flatMap((r) => r.lives.map((l) => l.anonGrowthPct))),
    nodes: reports,
    proxy: { seed: faults.seed },
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, json);
  process.stdout.write(json);
  load.close();
  await net.stop();
  return lost.length === 0 && duplicated === 0 && sameChain ? 0 : 1;
}

/**
 * Splits a node's samples by process and reports each: RSS growth from WARMUP after the process
 * started (the first life starts with the run's load) to its end, and its event-loop p99s.
 */
function lifeReports(samples: readonly Sample[], runStartSec: number): LifeReport[] {
  const lives = new Map<number, Sample[]>();
  for (const s of samples) lives.set(s.life, [...(lives.get(s.life) ?? []), s]);
  return [...lives].map(([life, ss]) => {
    const startSec = life === 0 ? runStartSec : ss[0]!.tSec;
    const warmAt = ss.findIndex((s) => s.tSec >= startSec + WARMUP_MS / 1000);
    // Two separate windows, or no figure: the warm one must end before the end one starts.
    const measured = warmAt >= 0 && warmAt + GROWTH_WINDOW <= ss.length - GROWTH_WINDOW;
    const warm = measured ? ss.slice(warmAt, warmAt + GROWTH_WINDOW) : [];
    const end = measured ? ss.slice(-GROWTH_WINDOW) : [];
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
function steadyIntervals(reports: readonly NodeReport[]) {
  // A node's samples are in time order, so a process's first one follows a sample of another life.
  const xs = reports
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
function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 10) / 10;
}

main().then(
  (code) => process.exit(code),
  async (err: Error) => {
    process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
    await NodeProcess.killAll();
    process.exit(2);
  },
);
