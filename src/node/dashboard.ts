import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../encoding/bytes.js';
import type { GetRoute } from '../rpc/rpc-server.js';
import { packageRoot } from '../util/package-root.js';
import type { TimeNode } from './node.js';

/**
 * The live dashboard of a local devnet (`timecoin devnet up`), served by a node started with
 * `--dashboard` on its (loopback) RPC port: the page and its scripts from `dashboard/` and uPlot
 * from npm (vendored by the package, no CDN), and `/dashboard/state`, a small read-only JSON view
 * the page polls every second. No credentials, so a browser opens it directly; the config allows it
 * only on a loopback bind, and nothing in it can change the node.
 */

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

function staticFile(path: string): GetRoute {
  // Read once at start-up: the files are small and never change while the node runs.
  const body = readFileSync(path, 'utf8');
  const type = TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  return () => ({ contentType: type, body });
}

export function dashboardRoutes(node: TimeNode): Record<string, GetRoute> {
  const root = packageRoot();
  const page = join(root, 'dashboard');
  const uplot = join(root, 'node_modules', 'uplot', 'dist');
  return {
    '/': staticFile(join(page, 'index.html')),
    '/dashboard.js': staticFile(join(page, 'dashboard.js')),
    '/dashboard.css': staticFile(join(page, 'dashboard.css')),
    '/uPlot.iife.min.js': staticFile(join(uplot, 'uPlot.iife.min.js')),
    '/uPlot.min.css': staticFile(join(uplot, 'uPlot.min.css')),
    '/dashboard/state': async () => ({
      contentType: 'application/json',
      body: JSON.stringify(await dashboardState(node)),
    }),
  };
}

/** Everything the page draws, in one answer. */
export async function dashboardState(node: TimeNode): Promise<unknown> {
  const hist = await node.metrics.finalityLatency.get();
  const buckets = hist.values
    .filter((v) => v.metricName === 'timecoin_finality_latency_seconds_bucket')
    .map((v) => ({ le: String(v.labels['le']), count: v.value }));
  const count =
    hist.values.find((v) => v.metricName === 'timecoin_finality_latency_seconds_count')?.value ?? 0;
  const sum = hist.values.find((v) => v.metricName === 'timecoin_finality_latency_seconds_sum')?.value ?? 0;
  const counter = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await c.get()).values.reduce((s, v) => s + v.value, 0);
  const tip = node.store.tip();
  const mp = node.ledger.mempool;
  const evaluating = node.beacons.progress();
  return {
    nowMs: Date.now(),
    node: { id: node.nodeId, role: node.role, rpcPort: node.rpcPort, p2pPort: node.p2pPort },
    chain: { height: tip.height, slot: tip.slot, hash: toHex(tip.hash) },
    blocks: node.events.recentBlocks,
    finality: { buckets, count, sum },
    tx: {
      finalized: await counter(node.metrics.txFinalized),
      rejected: await counter(node.metrics.txRejected),
      admitted: await counter(node.metrics.txAdmitted),
    },
    mempool: { size: mp.count, processing: node.engine.processingCount, bytes: mp.totalBytes },
    peers: node.p2p.peers().map((p) => ({
      id: p.peerId,
      addr: `${p.host}:${p.listenPort}`,
      inbound: p.direction === 'inbound',
      masternode: node.validators.isActive(p.peerId),
      height: p.tipHeight,
    })),
    beacon: {
      lastSlot: node.events.lastBeaconSlot,
      evaluating: evaluating ?? null,
      vdfDelay: node.params.vdfDelay,
    },
  };
}
