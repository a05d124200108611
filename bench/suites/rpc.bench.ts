/**
 * `npm run bench -- rpc`: JSON-RPC round trips per second against one node process over HTTP
 * keep-alive, 32 concurrent clients (bench/support/http-keepalive.ts).
 *
 * - rpc.getblockchaininfo: a read answered from memory and one LMDB read. Target ≥ 20,000/s.
 * - rpc.sendrawtransaction: distinct signed 1-in-2-out transactions spending prefunded coins; each
 *   answer comes once the transaction is signature-verified and admitted as processing. Target
 *   ≥ 8,000/s. The node runs `--workers 2` (the machine's two cores).
 * - rpc.getbalance: an address's balance with the mempool that run left (tens of thousands of
 *   processing transactions), 4 clients; what a wallet or exchange polling balances costs the
 *   coordinator. No target; notes give the mempool size.
 *
 * Every answer is checked (HTTP 200 and a `result`), so an error storm cannot pass for speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexOf, pay, recipient } from '../../src/devnet/coins.js';
import { NodeProcess } from '../../src/devnet/node-process.js';
import { opensslSigner } from '../../src/devnet/openssl-signer.js';
import { prefundCoins, writeFinalized } from '../../src/devnet/prefund.js';
import { DEVNET } from '../../src/params/networks.js';
import { encodeAddress } from '../../src/protocol/address.js';
import { BenchSuite, summarize } from '../harness.js';
import { keepAliveLoad, rpcRequest } from '../support/http-keepalive.js';
import { processCpuMs } from '../support/proc-cpu.js';

const CLIENTS = 32;
const SECONDS = Number(process.env['RPC_BENCH_SECONDS'] ?? 5);
const TXS = Number(process.env['RPC_BENCH_TXS'] ?? 60_000);
// The node runs alone, so nothing it admits ever finalizes: the submit backlog limit would refuse
// all but the first consensus.maxSubmitBacklog transactions of a bench that measures admission.
const NODE_ENV = {
  TIMECOIN_MEMPOOL_MAX_COUNT: '2000000',
  TIMECOIN_MEMPOOL_MAX_BYTES: '1000000000',
  TIMECOIN_CONSENSUS_MAX_SUBMIT_BACKLOG: '100000000',
};

export async function run(): Promise<void> {
  const suite = new BenchSuite('rpc');
  // The machine is shared: the 1-minute load average says how much of it this run had.
  suite.note('loadavg1.start', Number(loadavg()[0]!.toFixed(2)));
  const signer = opensslSigner();
  const { txs: funding, coins } = prefundCoins(DEVNET, TXS, 10_000_000n, signer);
  const bodies = coins.map((c, i) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id: i,
      method: 'sendrawtransaction',
      params: [hexOf(pay(c, recipient(i), 1_000_000n, DEVNET, signer))],
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'timecoin-bench-rpc-'));
  await writeFinalized(dir, DEVNET, funding);
  const node = await NodeProcess.start({
    datadir: dir,
    env: NODE_ENV,
    extraArgs: ['--workers', '2'],
  });
  try {
    let bad = 0;
    const check = (status: number, body: string) => {
      if (status !== 200 || !body.includes('"result"')) bad++;
    };
    const info = rpcRequest(node.authorization, '{"jsonrpc":"2.0","id":1,"method":"getblockchaininfo"}');
    // Warm-up, then the measured run.
    await keepAliveLoad({ port: node.rpcPort, clients: CLIENTS, durationMs: 1_000, request: () => info });
    const r1 = await keepAliveLoad({
      port: node.rpcPort,
      clients: CLIENTS,
      durationMs: SECONDS * 1000,
      request: () => info,
      onResponse: check,
    });
    suite.record({ ...summarize('rpc.getblockchaininfo', r1.latenciesMs), hz: (r1.done * 1000) / r1.ms });
    suite.note('rpc.getblockchaininfo.errors', bad);

    bad = 0;
    const requests = bodies.map((b) => rpcRequest(node.authorization, b));
    // The load generator shares the two cores with the node: record what each used, so the node's
    // cost per request is known apart from the share of the machine it got.
    const nodeCpu0 = processCpuMs(node.child.pid!);
    const clientCpu0 = process.cpuUsage();
    const r2 = await keepAliveLoad({
      port: node.rpcPort,
      clients: CLIENTS,
      durationMs: SECONDS * 1000,
      request: (i) => requests[i] ?? null,
      onResponse: check,
    });
    const nodeCpuMs = processCpuMs(node.child.pid!) - nodeCpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    suite.record({ ...summarize('rpc.sendrawtransaction', r2.latenciesMs), hz: (r2.done * 1000) / r2.ms });
    suite.note('rpc.sendrawtransaction.nodeCores', Number((nodeCpuMs / r2.ms).toFixed(2)));
    suite.note(
      'rpc.sendrawtransaction.clientCores',
      Number(((clientCpu.user + clientCpu.system) / 1000 / r2.ms).toFixed(2)),
    );
    // Requests per second one core of the node (all its threads together) sustains.
    suite.note('rpc.sendrawtransaction.perNodeCore', Math.round((r2.done * 1000) / nodeCpuMs));
    suite.note('rpc.sendrawtransaction.errors', bad);
    suite.note('rpc.sendrawtransaction.ranOutOfTxs', r2.done >= requests.length ? 'yes' : 'no');

    // A wallet's balance query with the mempool the run above left (every admitted transaction is
    // still processing here): getbalance adds the mempool's effect on the address to its confirmed
    // total, so its cost grows with the mempool, and it runs on the coordinator.
    const mempoolSize = ((await node.rpc('getmempoolinfo')) as { size: number }).size;
    bad = 0;
    const balance = rpcRequest(
      node.authorization,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'getbalance',
        params: [encodeAddress(DEVNET.addressDigit, recipient(0))],
      }),
    );
    const r3 = await keepAliveLoad({
      port: node.rpcPort,
      clients: 4,
      durationMs: SECONDS * 1000,
      request: () => balance,
      onResponse: check,
    });
    suite.record({ ...summarize('rpc.getbalance', r3.latenciesMs), hz: (r3.done * 1000) / r3.ms });
    suite.note('rpc.getbalance.mempoolSize', mempoolSize);
    suite.note('rpc.getbalance.errors', bad);
    suite.note('clients', CLIENTS);
    suite.note('nodeWorkers', 2);
    suite.note('loadavg1.end', Number(loadavg()[0]!.toFixed(2)));
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  suite.write();
}
