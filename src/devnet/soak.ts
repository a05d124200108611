/**
 * `npm run soak -- --minutes M --nodes N --tps R [--fault-every S] [--seed X] [--slot-ms MS]
 * [--out FILE]`: a devnet of N validator processes, every link through the fault proxies, under R
 * payments a second for M minutes, with a random fault S seconds after the previous one ended
 * (SIGKILL and restart of one validator, a 1 | N−1 or 2 | N−2 partition, 50 ms RTT on every link,
 * all connections reset); never more than one validator down. At the end it drains, checks and writes a JSON report (stdout, and
 * FILE when given): finalized, lost, forks resolved, max reorg depth, RSS and heap of each node over
 * time, event-loop delay p99, LMDB size. Exit code 1 when a finalized transaction was lost or the
 * chains differ. (`npm run sim:soak` is the simulator's soak; this one runs the real node.)
 * `--report-from FILE [--out FILE2]` recomputes a saved report's memory and event-loop figures from
 * its samples (src/devnet/soak-report.ts) without running anything.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { type Coin, fundedCoin, hexOf, split } from './coins.js';
import { LoadGenerator } from './load-generator.js';
import { Devnet, type LogLine, NodeProcess } from './node-process.js';
import {
  growthWindowFor,
  type LifeReport,
  lifeReports,
  nodeSummary,
  SAMPLE_SEC,
  type Sample,
  steadyIntervals,
  warmupSecFor,
} from './soak-report.js';

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
    'report-from': { type: 'string' },
  },
});
const MINUTES = Number(values.minutes);
const N = Number(values.nodes);
const TPS = Number(values.tps);
const FAULT_EVERY_MS = Number(values['fault-every']) * 1000;
const SLOT_MS = Number(values['slot-ms']);
const SEED = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 32);
const SAMPLE_MS = SAMPLE_SEC * 1000;
const WARMUP_SEC = warmupSecFor(MINUTES);
/** Samples per memory window, see LifeReport. */
const GROWTH_WINDOW = growthWindowFor(MINUTES);

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
  // Enough for 30 s of load in flight: a fault can hold payments undecided that long. At most
  // 3,300 outputs (~28 bytes each) so the split stays under the 100,000-byte transaction limit.
  const perKey = Math.min(3_300, Math.max(40, Math.ceil((TPS * 30) / 8)));
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

  // One chain everywhere: every node's tip the same at one moment, looked at every 300 ms. Blocks
  // keep coming (an empty one every slot), so a single look can catch one on its way to some nodes.
  const oneChain = async (tries: number): Promise<boolean> => {
    for (let i = 0; i < tries; i++) {
      const tips = await Promise.all(net.nodes.map((n) => n.rpc<string>('getbestblockhash')));
      if (tips.every((t) => t === tips[0])) return true;
      await sleep(300);
    }
    return false;
  };
  // First (the last fault may have left a node a few slots behind).
  await oneChain(200);
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
  // …and again after the drain: within 40 looks (12 s, a dozen 1 s slots), or the chains differ.
  const sameChain = await oneChain(40);
  // Times a peer's frame waited for its CPU budget, per node: honest masternodes never should.
  const cpuThrottled = await Promise.all(
    net.nodes.map((n) => n.metric('timecoin_p2p_events_total{event="cpuThrottled"}').catch(() => -1)),
  );
  const lost = missing;
  const duplicated = everFinal.filter((t) => (counts.get(t) ?? 0) > 1).length;

  for (const r of reports) {
    const n = net.nodes[r.index]!;
    try {
      r.lmdbBytes = statSync(join(n.datadir, 'chain.mdb')).size;
    } catch {
      r.lmdbBytes = -1;
    }
    r.lives = lifeReports(r.samples, (runStart - t0) / 1000, WARMUP_SEC, GROWTH_WINDOW);
    Object.assign(r, nodeSummary(r.lives));
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
    warmupSec: WARMUP_SEC,
    growthWindowSamples: GROWTH_WINDOW,
    submitted: load.submitted,
    finalized: everFinal.length,
    lost: lost.length,
    duplicated,
    writtenOff: load.writtenOff,
    refused: load.refused,
    busy: load.busy,
    refusals: load.refusals,
    sameChainAtEnd: sameChain,
    cpuThrottled,
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
 * `--report-from FILE`: the memory and event-loop figures of a saved report recomputed from its own
 * samples with this build's windows (its run length and warm-up come from the file).
 */
function reReport(file: string): number {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    config: { minutes: number };
    warmupSec: number;
    growthWindowSamples?: number;
    nodes: (NodeReport & Record<string, unknown>)[];
    [key: string]: unknown;
  };
  const window = growthWindowFor(report.config.minutes);
  for (const r of report.nodes) {
    // Life 0 started with the run's load: its first sample is the nearest record of that moment.
    const runStartSec = r.lives.find((l) => l.life === 0)?.startSec ?? 0;
    r.lives = lifeReports(r.samples, runStartSec, report.warmupSec, window);
    Object.assign(r, nodeSummary(r.lives));
  }
  const { nodes, ...head } = report;
  const out = {
    ...head,
    growthWindowSamples: window,
    eventLoopSteadyIntervals: steadyIntervals(nodes),
    rssGrowthMaxPct: Math.max(...nodes.flatMap((r) => r.lives.map((l: LifeReport) => l.rssGrowthPct))),
    rssAnonGrowthMaxPct: Math.max(...nodes.flatMap((r) => r.lives.map((l: LifeReport) => l.anonGrowthPct))),
    nodes,
  };
  const json = `${JSON.stringify(out, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, json);
  process.stdout.write(json);
  return 0;
}

const reportFrom = values['report-from'];
if (reportFrom !== undefined) process.exit(reReport(reportFrom));

main().then(
  (code) => process.exit(code),
  async (err: Error) => {
    process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
    await NodeProcess.killAll();
    process.exit(2);
  },
);
