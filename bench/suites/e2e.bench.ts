/**
 * `npm run bench -- e2e`: finality of a 5-validator devnet of real node processes under offered
 * payment load, on localhost (e2e.finality.lan) and with every link at 50 ms RTT ± 10 ms through
 * the fault proxies (e2e.finality.wan, src/chaos).
 *
 * - p50Ms / p99Ms: submit → final at the node that received the payment (the node's own
 *   first-seen → persisted-final age, from its event stream); hz = payments finalized per second.
 * - blockP50Ms / blockP99Ms: slot start → the block applied at every node (the latest of the five
 *   arrival times of its block event, as this process receives them), per block.
 *
 * E2E_BENCH_SECONDS (default 60) and E2E_BENCH_TPS (default 1000) set the run; the devnet's own
 * timing (2 s slots, 500 ms rank windows) is used. The machine is shared: loadavg is noted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { type Coin, fundedCoin, hexOf, split } from '../../src/devnet/coins.js';
import { LoadGenerator } from '../../src/devnet/load-generator.js';
import { Devnet, type DevnetFaultOptions, NodeProcess } from '../../src/devnet/node-process.js';
import { toHex } from '../../src/encoding/bytes.js';
import { DEVNET } from '../../src/params/networks.js';
import { type BenchSuite, type BenchTaskResult, BenchSuite as Suite } from '../harness.js';

const SECONDS = Number(process.env['E2E_BENCH_SECONDS'] ?? 60);
/** Offered rates: 1000 is the figure (task names without a suffix); others get `.r<rate>`. */
const RATES = (process.env['E2E_BENCH_RATES'] ?? process.env['E2E_BENCH_TPS'] ?? '1000')
  .split(',')
  .map(Number);
const KEYS = 8;

const round1 = (x: number) => Math.round(x * 10) / 10;

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))]!;
}

/** Block event arrival times per block hash, across every node (this process's clock). */
function watchBlocks(nodes: readonly NodeProcess[]): {
  arrivals: Map<string, number[]>;
  slots: Map<string, number>;
  close(): void;
} {
  const arrivals = new Map<string, number[]>();
  const slots = new Map<string, number>();
  const sockets = nodes.map((n) => {
    const ws = new WebSocket(`ws://127.0.0.1:${n.rpcPort}/events`, {
      headers: { authorization: n.authorization },
    });
    ws.on('open', () => ws.send(JSON.stringify({ subscribe: 'block' })));
    ws.on('error', () => undefined);
    ws.on('message', (m) => {
      const e = JSON.parse(String(m)) as { type: string; hash?: string; slot?: number };
      if (e.type !== 'block' || !e.hash) return;
      const at = Date.now();
      arrivals.set(e.hash, [...(arrivals.get(e.hash) ?? []), at]);
      slots.set(e.hash, e.slot!);
    });
    return ws;
  });
  return {
    arrivals,
    slots,
    close: () => {
      for (const s of sockets) s.terminate();
    },
  };
}

async function runOne(
  suite: BenchSuite,
  name: string,
  faults: DevnetFaultOptions | undefined,
  TPS: number,
): Promise<void> {
  const net = await Devnet.start({ validators: 5, ...(faults ? { faults } : {}) });
  try {
    // Coins enough for TPS × (finality + a margin) in flight; each carries ~90 payments.
    const per = Math.max(50, Math.ceil((TPS * 2) / KEYS));
    const splits = Array.from({ length: KEYS }, (_, k) => split(fundedCoin(k), per, 100_000_000n));
    for (const s of splits) await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    // Final at every node before paying through it (a node refuses a spend of an output it lacks).
    for (const n of net.nodes)
      for (const s of splits) await n.rpc('waittransactionfinality', [toHex(s.tx.txid), 60_000]);
    const coins: Coin[] = splits.flatMap((s) => s.coins);
    const blocks = watchBlocks(net.nodes);
    const load = new LoadGenerator({ nodes: () => net.nodes, coins, tps: TPS, giveUpMs: 30_000 });
    const load1 = loadavg()[0]!;
    await load.start();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    load.stop();
    const sentFor = (Date.now() - t0) / 1000;
    // Late finals of the last second still count.
    await new Promise((r) => setTimeout(r, 3_000));
    const finals = load.latencies.length;
    const blockMs: number[] = [];
    for (const [hash, times] of blocks.arrivals) {
      if (times.length < net.nodes.length) continue;
      const slotStart = DEVNET.genesisTimeMs + blocks.slots.get(hash)! * DEVNET.slotMs;
      if (slotStart < t0) continue;
      blockMs.push(Math.max(...times) - slotStart);
    }
    const res = {
      name,
      hz: round1(finals / sentFor),
      meanMs: round1(load.latencies.reduce((a, b) => a + b, 0) / Math.max(1, finals)),
      p99Ms: round1(load.percentile(0.99)),
      samples: finals,
      p50Ms: round1(load.percentile(0.5)),
      blockP50Ms: round1(percentile(blockMs, 0.5)),
      blockP99Ms: round1(percentile(blockMs, 0.99)),
      blocks: blockMs.length,
      offeredTps: TPS,
      submitted: load.submitted,
      writtenOff: load.writtenOff,
      refused: load.refused,
      busy: load.busy,
    };
    suite.record(res);
    const short = name.replace('e2e.finality.', '');
    suite.note(`${short}.submitted`, load.submitted);
    suite.note(`${short}.finalizedPerSec`, res.hz);
    suite.note(`${short}.undecidedAfter30s`, load.writtenOff);
    suite.note(`${short}.refused`, load.refused);
    suite.note(`${short}.busy`, load.busy);
    if (load.refusals.length > 0) suite.note(`${short}.refusals`, load.refusals.join(' | '));
    suite.note(`${short}.loadavg1mAtStart`, round1(load1));
    console.log(JSON.stringify(res));
    load.close();
    blocks.close();
  } finally {
    await net.stop();
    await NodeProcess.killAll();
  }
}

export async function run(): Promise<void> {
  const suite = new Suite('e2e');
  for (const rate of RATES) {
    const suffix = rate === 1_000 ? '' : `.r${rate}`;
    await runOne(suite, `e2e.finality.lan${suffix}`, undefined, rate);
    await runOne(suite, `e2e.finality.wan${suffix}`, { faults: { latencyMs: 25, jitterMs: 5 } }, rate);
  }
  // E2E_BENCH_MERGE=1 keeps the other rates' tasks and notes from the results file.
  if (process.env['E2E_BENCH_MERGE'] === '1') {
    const file = join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      '..',
      '..',
      'bench',
      'results',
      'e2e.json',
    );
    if (existsSync(file)) {
      const old = JSON.parse(readFileSync(file, 'utf8')) as {
        tasks: BenchTaskResult[];
        notes?: Record<string, string | number>;
      };
      const have = new Set(suite.results.map((t) => t.name));
      for (const t of old.tasks) if (!have.has(t.name)) suite.record(t);
      for (const [k, v] of Object.entries(old.notes ?? {})) if (!(k in suite.notes)) suite.note(k, v);
    }
  }
  suite.note('seconds', SECONDS);
  suite.note(`offeredTps`, RATES.join(','));
  suite.note(
    'setup',
    '5 validator processes (devnet, 2 s slots) on one 2-core host shared with other work; wan: every link through a user-space proxy with 25 ± 5 ms each way',
  );
  suite.write();
}
