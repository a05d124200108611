/**
 * `npm run bench -- node`: the running node, measured end to end with real processes.
 *
 * - node.ingest.poolVerifyAnchor: the crypto pool's raw verify rate (2 workers, 64-signature batches)
 *   in this run: the ceiling ingest is compared with.
 * - node.ingest: one node process; a separate process (this one) sends signed 1-in-2-out
 *   transactions, signed beforehand, over the wire in Tx batches as a peer holding a masternode
 *   key; hz = transactions admitted (signature-verified, in the mempool) per second.
 *   Targets: ≥ 20,000/s and ≥ 0.6 × anchor.
 * - node.finality: 5 validators on localhost, 1,000 tx/s offered (NODE_BENCH_FINALITY_TPS: another
 *   rate, e.g. one this machine sustains, for A/B runs of latency) for NODE_BENCH_SECONDS (30 s),
 *   round-robin over RPC; each transaction's submit → final time at the node it was sent to
 *   (waittransactionfinality); p50Ms / p99Ms. Targets: p50 ≤ 250 ms, p99 ≤ 750 ms.
 * - node.finalizedThroughput (+ .poolVerifyAnchor): the same network with the offered load raised
 *   step by step until the backlog grows; hz = the highest offered rate every node finalized in
 *   full (sustained finalized tx/s at every node). Every validator verifies every signature, so the
 *   ceiling is the machine's raw verify rate ÷ 5; target ≥ 0.5 × anchor ÷ 5.
 *
 * Work per transaction, which a shared machine distorts less than rates (CPU time from /proc):
 * node.ingest.coordinatorCpuUsPerTx / processCpuUsPerTx (the node's main thread; all its threads),
 * and per throughput step pollsPerTxPerNode (polls started), pollsPerFinalizedTx (the
 * timecoin_tx_polls mean: β = 20 at least), coordinatorCpuUsPerTxPerNode, processCpuUsPerTxPerNode.
 *
 * Coins are prefunded: the split transactions are written as final into every data dir before the
 * nodes start (src/devnet/prefund.ts), so runs measure transactions, not set-up. Each node runs
 * `--workers 1` (five nodes share two cores; more workers per node only add contention).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { genesisBlock } from '../../src/chain/genesis.js';
import { type Coin, hexOf, pay, recipient } from '../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../src/devnet/node-process.js';
import { opensslSigner } from '../../src/devnet/openssl-signer.js';
import { prefundCoins, writeFinalized } from '../../src/devnet/prefund.js';
import { toHex } from '../../src/encoding/bytes.js';
import { devnetNodeKey } from '../../src/node/node-key.js';
import { P2pNode } from '../../src/p2p/p2p-node.js';
import { DEVNET } from '../../src/params/networks.js';
import { headerHash } from '../../src/protocol/block.js';
import type { EncodedTx } from '../../src/protocol/tx-codec.js';
import { generateKeyPair } from '../../src/wallet/keys.js';
import { MAX_TXS_PER_BATCH } from '../../src/wire/limits.js';
import { CryptoPool } from '../../src/workers/crypto-pool.js';
import { BenchSuite, summarize } from '../harness.js';
import { processCpuMs, threadCpuMs } from '../support/proc-cpu.js';

const params = DEVNET;
const SECONDS = Number(process.env['NODE_BENCH_SECONDS'] ?? 30);
const FINALITY_TPS = Number(process.env['NODE_BENCH_FINALITY_TPS'] ?? 1_000);
const INGEST_TXS = Number(process.env['NODE_BENCH_INGEST_TXS'] ?? 100_000);
const NODE_ENV = { TIMECOIN_MEMPOOL_MAX_COUNT: '2000000', TIMECOIN_MEMPOOL_MAX_BYTES: '1000000000' };

const signer = opensslSigner();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raw pool verification rate: 2 workers, batches of 64 valid signatures, for `ms`. */
async function poolVerifyRate(ms = 3_000): Promise<number> {
  const pool = new CryptoPool({ threads: 2 });
  try {
    const k = generateKeyPair();
    const items = Array.from({ length: 64 }, (_, i) => {
      const message = randomBytes(40 + (i % 8));
      return { publicKey: k.publicKey, message, signature: signer(message, k.secretKey) };
    });
    await pool.verifyBatch(items);
    let verified = 0;
    const start = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    while (performance.now() - start < ms) {
      while (inFlight.size < pool.threads * 4) {
        const p: Promise<unknown> = pool.verifyBatch(items).then((r) => {
          verified += r.length;
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return (verified * 1000) / (performance.now() - start);
  } finally {
    await pool.close();
  }
}

function freshDirs(n: number, finalTxs: readonly EncodedTx[]): Promise<string[]> {
  const dirs = Array.from({ length: n }, () => mkdtempSync(join(tmpdir(), 'timecoin-bench-node-')));
  return Promise.all(
    dirs.map(async (d) => {
      await writeFinalized(d, params, finalTxs);
      return d;
    }),
  );
}

function spends(coins: readonly Coin[], offset = 0): EncodedTx[] {
  return coins.map((c, i) => pay(c, recipient(offset + i), 1_000_000n, params, signer));
}

async function ingest(suite: BenchSuite, anchor: number): Promise<void> {
  const { txs: funding, coins } = prefundCoins(params, INGEST_TXS, 10_000_000n, signer);
  const load = spends(coins);
  const [dir] = await freshDirs(1, funding);
  const node = await NodeProcess.start({ datadir: dir!, env: NODE_ENV, extraArgs: ['--workers', '2'] });
  // The loader is a masternode (devnet key 1), as the peers that relay a network's transactions
  // are: a key without stake is held to the verify and CPU budgets for anonymous peers (a few
  // hundred transactions a second), which would measure those budgets, not ingest.
  const key = devnetNodeKey(1);
  const loader = new P2pNode({
    identity: {
      chainId: params.chainId,
      genesisHash: headerHash(genesisBlock(params).header),
      publicKey: key.publicKey,
      secretKey: key.secretKey,
      tip: () => ({ height: 0, hash: headerHash(genesisBlock(params).header) }),
    },
    listen: false,
    seeds: [{ host: '127.0.0.1', port: node.p2pPort }],
  });
  try {
    await loader.start();
    while (loader.peers().length === 0) await sleep(10);
    const base = (await node.rpc<{ size: number }>('getmempoolinfo')).size;
    // Keep at most WINDOW transactions sent but not yet admitted: the node sheds gossip beyond its
    // intake bound (a shed transaction would come back through polls in a network, not here).
    const WINDOW = 6_000;
    let sent = 0;
    let admitted = 0;
    const pid = node.child.pid!;
    const nodeCpu0 = processCpuMs(pid);
    const mainCpu0 = threadCpuMs(pid);
    const start = performance.now();
    let lastProgress = start;
    while (admitted < load.length) {
      while (sent < load.length && sent - admitted < WINDOW) {
        const batch = load.slice(sent, sent + MAX_TXS_PER_BATCH).map((t) => t.bytes);
        loader.gossipTxs(batch);
        sent += batch.length;
      }
      await sleep(5);
      const now = (await node.rpc<{ size: number }>('getmempoolinfo')).size - base;
      if (now > admitted) lastProgress = performance.now();
      admitted = now;
      // A shed transaction never comes back here (no polls): fail with the reason, not hang.
      if (performance.now() - lastProgress > 30_000)
        throw new Error(
          `node.ingest stalled at ${admitted} of ${load.length} admitted:\n` +
            (await node.metricsText())
              .split('\n')
              .filter((l) => l.startsWith('timecoin_tx_'))
              .join('\n'),
        );
    }
    const ms = performance.now() - start;
    const r = summarize('node.ingest', [ms], load.length);
    suite.record({ ...r, samples: load.length });
    suite.note('node.ingest.vsAnchor', Number((r.hz / anchor).toFixed(3)));
    // CPU per admitted transaction, whatever share of the two cores the node got: the coordinator
    // thread's alone, and the whole process's (workers: signature verification).
    const perTx = (cpuMs: number) => Number(((cpuMs * 1000) / load.length).toFixed(1));
    suite.note('node.ingest.coordinatorCpuUsPerTx', perTx(threadCpuMs(pid) - mainCpu0));
    suite.note('node.ingest.processCpuUsPerTx', perTx(processCpuMs(pid) - nodeCpu0));
  } finally {
    await loader.stop();
    await node.stop();
    rmSync(dir!, { recursive: true, force: true });
  }
}

/**
 * Submits `txs` round-robin at `rate`/s over RPC and resolves with each transaction's submit → final
 * ms at the node it was sent to, read from that node's event stream (`{"subscribe":"tx"}`): one
 * WebSocket per node however many transactions are in flight (a long-poll per transaction ran the
 * bench process out of file descriptors at 1,000 tx/s). Waits until every transaction is decided
 * or `settleMs` after the last submission.
 */
async function offer(
  net: Devnet,
  txs: readonly EncodedTx[],
  rate: number,
  settleMs = 60_000,
): Promise<number[]> {
  const latencies: number[] = [];
  const sentAt = new Map<string, { node: number; t0: number }>();
  let decided = 0;
  let refused = 0;
  const sockets = await Promise.all(
    net.nodes.map(
      (node, n) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/events`, {
            headers: { authorization: node.authorization },
          });
          ws.on('message', (m) => {
            const e = JSON.parse(String(m)) as { type: string; txid?: string; status?: string };
            if (e.type !== 'tx' || e.txid === undefined) return;
            const s = sentAt.get(e.txid);
            if (!s || s.node !== n) return;
            sentAt.delete(e.txid);
            decided++;
            if (e.status === 'finalized') latencies.push(performance.now() - s.t0);
          });
          ws.once('error', reject);
          ws.once('open', () => {
            ws.send(JSON.stringify({ subscribe: 'tx' }));
            resolve(ws);
          });
        }),
    ),
  );
  try {
    const start = performance.now();
    for (let i = 0; i < txs.length; i++) {
      const due = start + (i * 1000) / rate;
      const ahead = due - performance.now();
      if (ahead > 1) await sleep(ahead);
      const n = i % net.nodes.length;
      const tx = txs[i]!;
      sentAt.set(toHex(tx.txid), { node: n, t0: performance.now() });
      net.nodes[n]!.rpcKeepAlive('sendrawtransaction', [hexOf(tx)]).catch((err: Error) => {
        if (refused++ < 3) console.error(`node bench: refused at ${rate} tx/s: ${err.message.slice(0, 200)}`);
        if (sentAt.delete(toHex(tx.txid))) decided++;
      });
    }
    const until = performance.now() + settleMs;
    while (decided < txs.length && performance.now() < until) await sleep(20);
    if (refused > 0) console.error(`node bench: ${refused} submissions refused at ${rate} tx/s`);
    return latencies;
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? Number.NaN;
}

/** Waits (up to `maxMs`) until no node has a processing transaction left. */
async function drained(net: Devnet, maxMs = 180_000): Promise<void> {
  const until = performance.now() + maxMs;
  while (performance.now() < until) {
    const processing = await Promise.all(net.nodes.map((n) => n.metric('timecoin_mempool_processing')));
    if (processing.every((p) => p === 0)) return;
    await sleep(500);
  }
}

/** Waits (up to `maxMs`) until every node holds no final transaction outside a block. */
async function inBlocks(net: Devnet, maxMs = 300_000): Promise<void> {
  const until = performance.now() + maxMs;
  for (;;) {
    const infos = await Promise.all(net.nodes.map((n) => n.rpc<{ finalized: number }>('getmempoolinfo')));
    if (infos.every((i) => i.finalized === 0)) return;
    if (performance.now() > until) throw new Error('node bench: the prefund is still not in blocks');
    await sleep(500);
  }
}

/** Polls started, polls counted per finalized transaction and CPU used so far, summed over the nodes. */
async function networkCost(net: Devnet): Promise<{
  polls: number;
  txPollsSum: number;
  txPollsCount: number;
  coordinatorCpuMs: number;
  processCpuMs: number;
  cpuThrottled: number;
}> {
  const sum = async (name: string) =>
    (await Promise.all(net.nodes.map((n) => n.metric(name)))).reduce((a, b) => a + b, 0);
  const pids = net.nodes.map((n) => n.child.pid!);
  return {
    polls: await sum('timecoin_polls_started_total'),
    txPollsSum: await sum('timecoin_tx_polls_sum'),
    txPollsCount: await sum('timecoin_tx_polls_count'),
    coordinatorCpuMs: pids.reduce((a, pid) => a + threadCpuMs(pid), 0),
    processCpuMs: pids.reduce((a, pid) => a + processCpuMs(pid), 0),
    // Times a peer's frame was held for its CPU budget: honest masternodes should never be.
    cpuThrottled: await sum(CPU_THROTTLED),
  };
}

const CPU_THROTTLED = 'timecoin_p2p_events_total{event="cpuThrottled"}';

function finalizedCount(node: NodeProcess): Promise<number> {
  return node.metric('timecoin_tx_finalized_total');
}

async function network(suite: BenchSuite, anchor: number): Promise<void> {
  // From a rate the 2-core reference box sustains (five nodes share it) up to what faster hosts
  // reach; the run stops at the first step some node does not finalize in full.
  const steps = (process.env['NODE_BENCH_STEPS'] ?? '250,350,450,600,800,1000,1500,2000,3000,4000,6000,8000')
    .split(',')
    .map(Number);
  const stepSeconds = Number(process.env['NODE_BENCH_STEP_SECONDS'] ?? 10);
  const needed = FINALITY_TPS * SECONDS + steps.reduce((s, r) => s + r * stepSeconds, 0);
  const { txs: funding, coins } = prefundCoins(params, needed, 10_000_000n, signer);
  const all = spends(coins);
  const dirs = await freshDirs(5, funding);
  const net = await Devnet.start({
    validators: 5,
    datadirs: dirs,
    // Each data dir holds every prefunded transaction as final; loading them takes a while on a busy box.
    node: { env: NODE_ENV, extraArgs: ['--workers', '1'], logLevel: 'warn', readyTimeoutMs: 300_000 },
  });
  try {
    // The prefund splits are final but in no block yet: the first slots include them (3,000
    // outputs each, up to ~100 of them), and applying those blocks at every node would land in
    // the measurement (with ~310,000 coins the 350 tx/s step failed that passed without them).
    await inBlocks(net);
    // node.finality: FINALITY_TPS (1,000) tx/s for SECONDS.
    const finality = all.slice(0, FINALITY_TPS * SECONDS);
    const throttled0 = (await networkCost(net)).cpuThrottled;
    const lat = (await offer(net, finality, FINALITY_TPS)).sort((a, b) => a - b);
    suite.note('node.finality.cpuThrottled', (await networkCost(net)).cpuThrottled - throttled0);
    suite.record({
      ...summarize('node.finality', lat, 1),
      hz: (lat.length * 1000) / (SECONDS * 1000),
    });
    suite.note('node.finality.p50Ms', Number(percentile(lat, 0.5).toFixed(1)));
    suite.note('node.finality.p99Ms', Number(percentile(lat, 0.99).toFixed(1)));
    suite.note('node.finality.finalized', `${lat.length} of ${finality.length}`);
    suite.note('node.finality.offeredTps', FINALITY_TPS);

    // node.finalizedThroughput: raise the offered rate until some node falls behind.
    let offset = finality.length;
    let sustained = 0;
    for (const rate of steps) {
      // Each step starts on an idle network: a backlog left by the step before (or by the finality
      // phase) would be counted against this one.
      await drained(net);
      const batch = all.slice(offset, offset + rate * stepSeconds);
      offset += batch.length;
      const before = await Promise.all(net.nodes.map(finalizedCount));
      const cost0 = await networkCost(net);
      const t0 = performance.now();
      await offer(net, batch, rate);
      const seconds = (performance.now() - t0) / 1000;
      const after = await Promise.all(net.nodes.map(finalizedCount));
      const slowest = Math.min(...after.map((a, i) => a - before[i]!));
      const achieved = slowest / seconds;
      suite.note(`node.finalizedThroughput.step${rate}`, Number(achieved.toFixed(0)));
      // What a transaction cost each node on this step: where the network's CPU goes.
      const cost = await networkCost(net);
      const perTx = (v: number) => Number((v / Math.max(1, slowest) / net.nodes.length).toFixed(1));
      suite.note(`node.finalizedThroughput.step${rate}.pollsPerTxPerNode`, perTx(cost.polls - cost0.polls));
      // Polls each finalized transaction was counted in (β = 20 at least), averaged over the nodes.
      suite.note(
        `node.finalizedThroughput.step${rate}.pollsPerFinalizedTx`,
        Number(
          (
            (cost.txPollsSum - cost0.txPollsSum) /
            Math.max(1, cost.txPollsCount - cost0.txPollsCount)
          ).toFixed(1),
        ),
      );
      suite.note(
        `node.finalizedThroughput.step${rate}.coordinatorCpuUsPerTxPerNode`,
        perTx((cost.coordinatorCpuMs - cost0.coordinatorCpuMs) * 1000),
      );
      suite.note(
        `node.finalizedThroughput.step${rate}.processCpuUsPerTxPerNode`,
        perTx((cost.processCpuMs - cost0.processCpuMs) * 1000),
      );
      suite.note(`node.finalizedThroughput.step${rate}.cpuThrottled`, cost.cpuThrottled - cost0.cpuThrottled);
      if (slowest < batch.length || seconds > stepSeconds * 1.2) break;
      sustained = achieved;
    }
    suite.record({ name: 'node.finalizedThroughput', hz: sustained, meanMs: 0, p99Ms: 0, samples: offset });
    suite.note('node.finalizedThroughput.vsAnchorOver5', Number((sustained / (anchor / 5)).toFixed(3)));
  } finally {
    await net.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('node');
  // NODE_BENCH_ONLY=network skips the ingest phase (for iterating on finality; the JSON then lacks it).
  if (process.env['NODE_BENCH_ONLY'] !== 'network') {
    const anchor = await poolVerifyRate();
    suite.record({ name: 'node.ingest.poolVerifyAnchor', hz: anchor, meanMs: 0, p99Ms: 0, samples: 1 });
    await ingest(suite, anchor);
  }
  // NODE_BENCH_ONLY=ingest skips the network phase (A/B runs of the ingest path).
  if (process.env['NODE_BENCH_ONLY'] !== 'ingest') {
    const anchor2 = await poolVerifyRate();
    suite.record({
      name: 'node.finalizedThroughput.poolVerifyAnchor',
      hz: anchor2,
      meanMs: 0,
      p99Ms: 0,
      samples: 1,
    });
    await network(suite, anchor2);
  }
  suite.note('workersPerNode', 'ingest: 2; network: 1 per node (5 nodes on 2 cores)');
  suite.write();
}
