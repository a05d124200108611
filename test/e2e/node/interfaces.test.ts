import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { devnetFundedKey, devnetMasternodes } from '../../../src/chain/genesis.js';
import { fundedCoin, hexOf, pay } from '../../../src/devnet/coins.js';
import { LocalNetwork } from '../../../src/devnet/local-network.js';
import { freeP2pPort, type NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { devnetNodeKey } from '../../../src/node/node-key.js';
import { DEVNET } from '../../../src/params/networks.js';
import { encodeAddress } from '../../../src/protocol/address.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { generateKeyPair } from '../../../src/wallet/keys.js';

/**
 * The operator and wallet interfaces against a live `devnet up` network (LocalNetwork, the code
 * `npm start` runs) on 1 s slots: RPC conformance, curl, a 10,000-request fuzz, events, the CLI
 * wallet, /metrics through an independent Prometheus parser, and the dashboard in headless Chromium.
 */

const run = promisify(execFile);
const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const ZERO = '0'.repeat(64);
const addr = (payload: Uint8Array) => encodeAddress(DEVNET.addressDigit, payload);

let net: LocalNetwork;
let dir: string;
let n0: NodeProcess;
let url: string;

async function timecoin(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const post = (body: string, auth: string | null = n0.authorization) =>
  fetch(url, { method: 'POST', body, headers: auth === null ? {} : { authorization: auth } });

async function call(
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { code: number } }> {
  return (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).json()) as {
    result?: unknown;
    error?: { code: number };
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'timecoin-devnet-up-'));
  const rpcBasePort = await freeP2pPort();
  const p2pBasePort = await freeP2pPort();
  net = await LocalNetwork.up({ dir, validators: 4, load: true, slotMs: 1000, rpcBasePort, p2pBasePort });
  n0 = net.nodes[0]!;
  url = `http://127.0.0.1:${n0.rpcPort}/`;
  await Promise.all(
    net.nodes.map((n) => n.until<unknown[]>('getpeerinfo', [], (p) => p.length >= 3, 60_000)),
  );
}, 120_000);

afterAll(async () => {
  await net?.down();
  rmSync(dir, { recursive: true, force: true });
});

describe('RPC conformance on a running devnet', () => {
  it('every method answers good params and refuses bad ones with the documented codes', async () => {
    const help = (await call('help', [])).result as string[];
    const methods = new Set(help.map((l) => l.split(' ')[0]!));
    const genesisHash = (await call('getblockhash', [0])).result as string;
    const coinbase = ((await call('getblock', [genesisHash, 1])).result as { tx: string[] }).tx[0]!;
    const funded = addr(devnetFundedKey(5).addressPayload);
    const good: [string, unknown[]][] = [
      ['help', []],
      ['help', ['getblock']],
      ['uptime', []],
      ['getnetworkinfo', []],
      ['getpeerinfo', []],
      ['getmempoolinfo', []],
      ['getrawmempool', [true]],
      ['getconsensusinfo', []],
      ['getblockchaininfo', []],
      ['getbestblockhash', []],
      ['getblockhash', [0]],
      ['getblock', [genesisHash, 0]],
      ['getblock', [genesisHash, 2]],
      ['getrawtransaction', [coinbase, true]],
      ['gettransactionfinality', [ZERO]],
      ['waittransactionfinality', [ZERO, 10]],
      ['validateaddress', [funded]],
      ['getbalance', [funded]],
      ['listunspent', [funded, 0, 5]],
      ['masternodelist', []],
      ['masternodelist', [true]],
      ['listbanned', []],
      ['getdoublesignevidence', []],
      ['getdoublesignevidence', [ZERO]],
    ];
    const bad: [string, unknown[], number][] = [
      ['help', [5], -32602],
      ['help', ['nope'], -8],
      ['uptime', [1], -32602],
      ['getnetworkinfo', [1], -32602],
      ['getpeerinfo', ['x'], -32602],
      ['getmempoolinfo', [{}], -32602],
      ['getrawmempool', ['yes'], -32602],
      ['getconsensusinfo', [1], -32602],
      ['getblockchaininfo', [1], -32602],
      ['getbestblockhash', [1], -32602],
      ['getblockhash', ['x'], -32602],
      ['getblockhash', [2 ** 40], -32602],
      ['getblockhash', [99_999_999], -8],
      ['getblock', ['zz'], -32602],
      ['getblock', [ZERO], -5],
      ['getblock', [genesisHash, 3], -32602],
      ['getrawtransaction', [ZERO], -5],
      ['sendrawtransaction', ['00ff'], -22],
      ['sendrawtransaction', [12], -32602],
      ['gettransactionfinality', ['x'], -32602],
      ['waittransactionfinality', [ZERO, -1], -32602],
      ['validateaddress', [{}], -32602],
      ['getbalance', ['TIME2notanaddress'], -5],
      ['getbalance', [], -32602],
      ['listunspent', [funded, -1], -32602],
      ['listunspent', [funded, 0, 10_000_001], -32602],
      ['masternodelist', ['all'], -32602],
      ['listbanned', [1], -32602],
      ['getdoublesignevidence', ['zz'], -32602],
      ['stop', [1], -32602],
    ];
    for (const [m, p] of good) {
      const r = await call(m, p);
      expect(r.error, `${m} ${JSON.stringify(p)}`).toBeUndefined();
      expect(r.result, m).not.toBeUndefined();
    }
    for (const [m, p, code] of bad)
      expect((await call(m, p)).error?.code, `${m} ${JSON.stringify(p)}`).toBe(code);
    // Every registered method is covered by the tables (sendrawtransaction's good case is curl's below).
    const covered = new Set([...good.map(([m]) => m), ...bad.map(([m]) => m)]);
    expect([...methods].filter((m) => !covered.has(m))).toEqual([]);
    // Amounts: 8-decimal strings and integer sat strings, never floats.
    const b = (await call('getbalance', [funded])).result as { value: string; sat: string };
    expect(b.value).toMatch(/^\d+\.\d{8}$/);
    expect(b.sat).toMatch(/^\d+$/);
    expect(BigInt(b.sat)).toBe(fundedCoin(5).value);
    const mns = (await call('masternodelist', [])).result as { status: string; tier: string }[];
    expect(mns.length).toBe(5);
    expect(mns.every((m) => m.status === 'active' && m.tier === 'bronze')).toBe(true);
  });

  it('curl sends a transaction and waits for its finality; the events socket reports it, by address', async () => {
    const to = generateKeyPair().addressPayload;
    const ws = new WebSocket(`ws://127.0.0.1:${n0.rpcPort}/events`, {
      headers: { authorization: n0.authorization },
    });
    const events: Record<string, unknown>[] = [];
    ws.on('message', (m) => events.push(JSON.parse(m.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: 'tx', address: toHex(to) }));
    ws.send(JSON.stringify({ subscribe: 'block' }));
    const subscribed = () => events.filter((e) => e['type'] === 'subscribed').length === 2;
    while (!subscribed()) await new Promise((r) => setTimeout(r, 20));

    const tx = pay(fundedCoin(2), to, 300_000_000n);
    const user = readFileSync(join(n0.datadir, '.cookie'), 'utf8');
    const curl = async (method: string, params: unknown[]) => {
      const { stdout } = await run('curl', [
        '-s',
        '--user',
        user,
        '-H',
        'content-type: application/json',
        '--data-binary',
        JSON.stringify({ jsonrpc: '2.0', id: 'curl', method, params }),
        url,
      ]);
      return JSON.parse(stdout) as { result: unknown };
    };
    expect((await curl('sendrawtransaction', [hexOf(tx)])).result).toBe(toHex(tx.txid));
    const f = (await curl('waittransactionfinality', [toHex(tx.txid), 30_000])).result as { final: boolean };
    expect(f.final).toBe(true);
    const deadline = Date.now() + 15_000;
    const seen = () =>
      events.some((e) => e['type'] === 'tx' && e['txid'] === toHex(tx.txid) && e['status'] === 'finalized') &&
      events.some((e) => e['type'] === 'block');
    while (!seen() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen()).toBe(true);
    ws.close();
    // The address index answers for the recipient on every node once a block carries it.
    for (const n of net.nodes)
      await n.until<{ confirmed: { sat: string } }>(
        'getbalance',
        [addr(to)],
        (b) => b.confirmed.sat === '300000000',
        30_000,
      );
  });

  it('10,000 random and mutated requests each get a JSON-RPC or HTTP error; the node keeps serving, memory bounded', async () => {
    const rss = () => {
      const s = readFileSync(`/proc/${n0.child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(s)![1]) * 1024;
    };
    const before = rss();
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed % n;
    };
    const valid = [
      '{"jsonrpc":"2.0","id":1,"method":"getblockhash","params":[0]}',
      '{"jsonrpc":"2.0","id":2,"method":"getbalance","params":["TIME2B438mvg3BVom38RXeK1R9D596dbjjJDj"]}',
      `{"jsonrpc":"2.0","id":3,"method":"getblock","params":["${ZERO}",1]}`,
    ];
    const weird = [1e308, -1, 2 ** 64, '9'.repeat(400), null, true, {}, [], 'x'.repeat(1000), -0, 0.5];
    const request = (i: number): { body: string; auth: string | null; kind: string } => {
      const k = i % 8;
      const base = valid[rnd(valid.length)]!;
      if (k === 0)
        return { body: base.slice(0, rnd(base.length)), auth: n0.authorization, kind: 'truncated' };
      if (k === 1) {
        const m = ['getblockhash', 'getblock', 'getbalance', 'listunspent', 'sendrawtransaction', 'nope', 5][
          rnd(7)
        ];
        return {
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: i,
            method: m,
            params: [weird[rnd(weird.length)], weird[rnd(weird.length)]],
          }),
          auth: n0.authorization,
          kind: 'types',
        };
      }
      if (k === 2) {
        // Deep nesting, unterminated (a parse error) or complete (a valid JSON array of arrays).
        const depth = 1 + rnd(50_000);
        return {
          body: `${'['.repeat(depth)}1${rnd(2) ? ']'.repeat(depth) : ''}`,
          auth: n0.authorization,
          kind: 'nesting',
        };
      }
      if (k === 3) return { body: base, auth: null, kind: 'unauthenticated' };
      if (k === 4)
        return {
          body: base,
          auth: `Basic ${Buffer.from(`__cookie__:${rnd(1e9)}`).toString('base64')}`,
          kind: 'wrong auth',
        };
      if (k === 5) {
        const b = Buffer.from(base);
        for (let j = 0; j < 3; j++) b[rnd(b.length)] = rnd(256);
        return { body: b.toString('latin1'), auth: n0.authorization, kind: 'bytes' };
      }
      if (k === 6)
        return {
          body: JSON.stringify({
            jsonrpc: rnd(2) ? '1.0' : 3,
            id: weird[rnd(weird.length)],
            method: weird[rnd(weird.length)],
          }),
          auth: n0.authorization,
          kind: 'envelope',
        };
      return {
        body: JSON.stringify(
          Array.from({ length: 1 + rnd(20) }, () => ({
            jsonrpc: '2.0',
            id: 1,
            method: 'getblock',
            params: [rnd(9)],
          })),
        ),
        auth: n0.authorization,
        kind: 'batch',
      };
    };
    const counts = { http: 0, rpcError: 0, result: 0, oversizeReset: 0 };
    const check = async (i: number) => {
      const { body, auth } = request(i);
      const res = await post(body, auth);
      const text = await res.text();
      if (res.status !== 200) {
        expect([204, 401, 413, 503]).toContain(res.status);
        counts.http++;
        return;
      }
      const parsed = JSON.parse(text) as unknown;
      const items = (Array.isArray(parsed) ? parsed : [parsed]) as {
        jsonrpc: string;
        error?: { code: number };
      }[];
      for (const r of items) {
        expect(r.jsonrpc).toBe('2.0');
        if (r.error) {
          expect(Number.isInteger(r.error.code)).toBe(true);
          counts.rpcError++;
        } else counts.result++;
      }
    };
    const N = 10_000;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) await check(next++);
      }),
    );
    // Oversize bodies (5 MiB over a 4 MiB limit): 413, or the connection closed after it.
    for (let i = 0; i < 4; i++) {
      const r = await post(
        `{"jsonrpc":"2.0","id":1,"method":"uptime","params":["${'a'.repeat(5 << 20)}"]}`,
      ).catch(() => null);
      if (r === null) counts.oversizeReset++;
      else expect(r.status).toBe(413);
    }
    console.log(`fuzz: ${JSON.stringify(counts)} in ${Math.round(performance.now() - started)} ms`);
    expect(counts.http + counts.rpcError).toBeGreaterThan(N * 0.9);
    // Still serving, still producing blocks.
    const h = ((await call('getblockchaininfo', [])).result as { blocks: number }).blocks;
    await n0.until<{ blocks: number }>('getblockchaininfo', [], (c) => c.blocks >= h + 2, 30_000);
    expect(rss() - before).toBeLessThan(256 * 1024 * 1024);
  }, 240_000);

  it('/metrics parses as Prometheus text and has the documented series', async () => {
    const families = parsePrometheusTextFormat(await n0.metricsText()) as { name: string; type: string }[];
    const byName = new Map(families.map((f) => [f.name, f.type]));
    expect(byName.get('timecoin_finality_latency_seconds')).toBe('HISTOGRAM');
    // Every transaction this node finalized took at least β = 20 of its own polls.
    expect(byName.get('timecoin_tx_polls')).toBe('HISTOGRAM');
    const text = await n0.metricsText();
    const polled = Number(/^timecoin_tx_polls_count (\d+)$/m.exec(text)?.[1]);
    expect(polled).toBeGreaterThan(0);
    expect(Number(/^timecoin_tx_polls_bucket\{le="19"\} (\d+)$/m.exec(text)?.[1])).toBe(0);
    expect(Number(/^timecoin_tx_polls_bucket\{le="\+Inf"\} (\d+)$/m.exec(text)?.[1])).toBe(polled);
    for (const name of [
      'timecoin_polls_started_total',
      'timecoin_blocks_applied_total',
      'timecoin_slot',
      'timecoin_rank',
      'timecoin_beacon_evaluation_seconds',
      'timecoin_beacon_evaluation_slot',
      'timecoin_peers',
      'timecoin_p2p_connections',
      'timecoin_mempool_transactions',
      'timecoin_pool_queue_depth',
      'timecoin_event_loop_delay_seconds',
      'timecoin_lmdb_bytes',
      'timecoin_chain_height',
      'timecoin_tx_finalized_total',
    ])
      expect(byName.has(name), name).toBe(true);
    expect(await n0.metricsText()).toContain('# TYPE timecoin_bans_total counter');
  });
});

describe('the timecoin CLI against the devnet', () => {
  it('wallet create → funded from a devnet key → send → the balance changes on every node', async () => {
    const wdir = mkdtempSync(join(tmpdir(), 'timecoin-wallet-'));
    try {
      const conn = (n: NodeProcess) => ['--datadir', n.datadir, '--rpc-port', String(n.rpcPort)];
      const me = join(wdir, 'me.json');
      const funder = join(wdir, 'funder.json');
      const env = { TIMECOIN_WALLET_PASSPHRASE: 'correct horse battery staple' };
      expect((await timecoin(['wallet', 'create', '--wallet', me], env)).code).toBe(0);
      expect(readFileSync(me, 'utf8')).not.toContain('secretKey');
      const myAddress = (await timecoin(['wallet', 'address', '--wallet', me])).stdout.trim();
      expect(
        (await timecoin(['wallet', 'import', toHex(devnetFundedKey(0).secretKey), '--wallet', funder])).code,
      ).toBe(0);

      const sent = await timecoin(['send', myAddress, '25', '--wallet', funder, ...conn(n0)]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toMatch(/final in \d+ ms/);
      for (const n of net.nodes) {
        await n.until<{ value: string }>('getbalance', [myAddress], (b) => b.value === '25.00000000', 30_000);
        const shown = await timecoin(['balance', '--wallet', me, ...conn(n)]);
        expect(shown.stdout).toContain('final      25.00000000 TIME');
      }
      // Spending from the passphrase-protected wallet, through another node.
      const back = await timecoin(
        [
          'send',
          addr(devnetFundedKey(0).addressPayload),
          '10',
          '--wallet',
          me,
          '--json',
          ...conn(net.nodes[2]!),
        ],
        env,
      );
      expect(back.code, back.stderr).toBe(0);
      const out = JSON.parse(back.stdout) as { final: boolean; fee: string };
      expect(out.final).toBe(true);
      const left = 15_00000000n - BigInt(out.fee.replace('.', ''));
      for (const n of net.nodes)
        await n.until<{ sat: string }>('getbalance', [myAddress], (b) => b.sat === left.toString(), 30_000);
      // Clear failures with their exit codes.
      expect((await timecoin(['send', myAddress, '1000', '--wallet', me, ...conn(n0)], env)).code).toBe(5);
      expect((await timecoin(['send', myAddress, '1', '--wallet', me, ...conn(n0)], {})).code).toBe(1);
      expect(
        (
          await timecoin([
            'status',
            '--rpc-port',
            String(n0.rpcPort),
            '--rpc-user',
            'x',
            '--rpc-password',
            'y',
          ])
        ).code,
      ).toBe(4);
      expect((await timecoin(['status', '--rpc-port', '1', '--datadir', n0.datadir])).code).toBe(3);
      const rpc = await timecoin(['rpc', 'getblockhash', '0', ...conn(n0)]);
      expect(rpc.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      rmSync(wdir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('the dashboard in headless Chromium', () => {
  it('shows new blocks and a non-empty finality histogram, without console errors', async () => {
    const browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${n0.rpcPort}/`);
      const top = async () =>
        Number((await page.locator('#blocks tbody tr').first().getAttribute('data-height')) ?? -1);
      await page.waitForSelector('#blocks tbody tr', { timeout: 30_000 });
      const first = await top();
      await page.waitForFunction(
        (h) => Number(document.querySelector('#blocks tbody tr')?.getAttribute('data-height') ?? -1) >= h + 2,
        first,
        { timeout: 30_000 },
      );
      await page.waitForFunction(
        () => Number(document.getElementById('finality-count')?.textContent) > 0,
        undefined,
        {
          timeout: 30_000,
        },
      );
      await page.waitForSelector('#finality-chart canvas');
      await page.waitForSelector('#tps-chart canvas', { timeout: 15_000 });
      // The committed screenshot (docs/dashboard.png) gets a tx/s curve with some history first.
      if (process.env['UPDATE_SCREENSHOT']) await page.waitForTimeout(20_000);
      const shot = join(packageRoot(), 'test-results', 'dashboard.png');
      await page.screenshot({ path: shot });
      if (process.env['UPDATE_SCREENSHOT']) copyFileSync(shot, join(packageRoot(), 'docs', 'dashboard.png'));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('masternode register and deregister through the CLI', () => {
  interface Listed {
    pubkey: string;
    tier: string;
    status: string;
    collateral: { txid: string; vout: number } | null;
    deregisteredheight: number | null;
  }

  // Runs last: it changes the active set. The network runs 4 of the 5 genesis masternodes, so a
  // registered masternode that never comes online would leave 4 of 6 equal weights reachable, below
  // alpha/k (70 %), and stall it; the down genesis masternode (index 4) is deregistered first.
  it('deregisters the down genesis masternode with its owner key; registers a new bronze one and deregisters it through another node', async () => {
    const wdir = mkdtempSync(join(tmpdir(), 'timecoin-mn-'));
    try {
      const conn = (n: NodeProcess) => ['--datadir', n.datadir, '--rpc-port', String(n.rpcPort)];
      const untilStatus = (pubkey: string, status: string) =>
        Promise.all(
          net.nodes.map((n) =>
            n.until<Listed[]>(
              'masternodelist',
              [true],
              (l) => l.some((x) => x.pubkey === pubkey && x.status === status),
              60_000,
            ),
          ),
        );
      const activeEverywhere = async (pubkey: string) => {
        for (const n of net.nodes) {
          const active = await n.rpc<Listed[]>('masternodelist', []);
          expect(active.map((x) => x.pubkey).includes(pubkey), n.datadir).toBe(false);
        }
      };

      // 1. The genesis masternode that is not running, deregistered by its collateral owner.
      const down = toHex(devnetMasternodes()[4]!.nodeKey.publicKey);
      const genesisOwner = join(wdir, 'genesis-owner.json');
      const ownerSecret = toHex(devnetMasternodes()[4]!.ownerKey.secretKey);
      expect((await timecoin(['wallet', 'import', ownerSecret, '--wallet', genesisOwner])).code).toBe(0);
      const off = await timecoin(['masternode', 'deregister', down, '--wallet', genesisOwner, ...conn(n0)]);
      expect(off.code, off.stderr).toBe(0);
      expect(off.stdout).toMatch(/deregister final in \d+ ms/);
      await untilStatus(down, 'deregistered');
      await activeEverywhere(down);

      // 2. A new bronze masternode, paid from an imported funded wallet.
      const owner = join(wdir, 'owner.json');
      const ownerKey = devnetFundedKey(3);
      expect((await timecoin(['wallet', 'import', toHex(ownerKey.secretKey), '--wallet', owner])).code).toBe(
        0,
      );
      const pubkey = toHex(devnetNodeKey(8).publicKey);
      const register = (tier: string) =>
        timecoin([
          'masternode',
          'register',
          '--tier',
          tier,
          '--devnet-index',
          '8',
          '--wallet',
          owner,
          ...conn(n0),
        ]);
      // Refusals first, each with its exit code.
      const free = await register('free');
      expect(free.code, free.stderr).toBe(2);
      const unknown = await timecoin(['masternode', 'deregister', pubkey, '--wallet', owner, ...conn(n0)]);
      expect(unknown.code, unknown.stderr).toBe(1);
      expect(unknown.stderr).toContain(`no registered masternode ${pubkey}`);

      const reg = await register('bronze');
      expect(reg.code, reg.stderr).toBe(0);
      expect(reg.stdout).toMatch(/register final in \d+ ms/);
      const regTxid = reg.stdout.split('\n')[0]!.trim();
      for (const m of await untilStatus(pubkey, 'active')) {
        const mine = m.find((x) => x.pubkey === pubkey)!;
        expect(mine.tier).toBe('bronze');
        expect(mine.collateral).toEqual({ txid: regTxid, vout: 0 });
        expect(mine.deregisteredheight).toBeNull();
      }
      // The collateral output holds exactly the bronze amount, paid to the owner.
      const raw = await n0.rpc<{ vout: { sat: string; address: string }[] }>('getrawtransaction', [
        regTxid,
        true,
      ]);
      expect(BigInt(raw.vout[0]!.sat)).toBe(DEVNET.tiers[1]!.collateral);
      expect(raw.vout[0]!.address).toBe(toHex(ownerKey.addressPayload));

      // 3. Its deregistration through another node: the owner's signature is enough (no node key).
      const dereg = await timecoin([
        'masternode',
        'deregister',
        pubkey,
        '--wallet',
        owner,
        ...conn(net.nodes[1]!),
      ]);
      expect(dereg.code, dereg.stderr).toBe(0);
      expect(dereg.stdout).toMatch(/deregister final in \d+ ms/);
      await untilStatus(pubkey, 'deregistered');
      await activeEverywhere(pubkey);
    } finally {
      rmSync(wdir, { recursive: true, force: true });
    }
  }, 240_000);
});
