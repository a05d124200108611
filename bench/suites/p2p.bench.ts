/**
 * `npm run bench -- p2p`: wire decode+validate of a vote-sized message (hand-written guards, with
 * zod 4 measured in the same run as the alternative we did not choose); complete handshakes (TLS,
 * WebSocket upgrade, both node-key signatures and checks) between two processes; poll round trips
 * between two processes (1,024 txids each) over the secure channel and over plain WebSocket, taking
 * turns; and a 1 KiB broadcast to 32 peers: our uWS TLS transport (one `publish`, encrypted per socket
 * in C++) against a `ws` server over TLS sending the same frames to the same receivers, and the
 * same pair without TLS.
 *
 * Receivers run in a child process on raw sockets that only count bytes, so the receiving side is
 * never the bottleneck and the figure measures the sender's transport. Comparisons interleave
 * rounds of both sides and record the median round: one long round per side swung ratios between
 * 3.5× and 7.7× on this shared machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { type LocalIdentity, makeAuth, makeHello } from '../../src/p2p/handshake.js';
import { P2pNode } from '../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../src/p2p/raw-ws-client.js';
import { loadOrCreateTlsMaterial } from '../../src/p2p/tls-certificate.js';
import { packageRoot } from '../../src/util/package-root.js';
import { devnetKeyPair } from '../../src/wallet/keys.js';
import { decodeFrame, encodeMessage } from '../../src/wire/codec.js';
import { MSG, type WireMessage } from '../../src/wire/message-types.js';
import { BenchSuite, summarize } from '../harness.js';
import { processCpuMs } from '../support/proc-cpu.js';

const GENESIS = new Uint8Array(32);
const PEERS = 32;
/** Server→client frame of a 1,024-byte payload: 2-byte header + 2-byte extended length. */
const WIRE_FRAME = 1024 + 4;
const MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const ROUNDS = 5;

function identity(phrase: string, i: number, listenPort = 0): LocalIdentity {
  const k = devnetKeyPair(phrase, i);
  return {
    chainId: 3,
    genesisHash: GENESIS,
    publicKey: k.publicKey,
    secretKey: k.secretKey,
    listenPort,
    tip: () => ({ height: 0, hash: GENESIS }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Limits a benchmark peer lifts: it measures throughput, not the protection. */
const UNLIMITED = { perSec: 1_000_000_000, burst: 1_000_000_000 };
const GIB = 1024 * 1024 * 1024;
const unlimitedNode = {
  maxInbound: 1_000,
  maxInboundPerIp: 1_000,
  maxInboundPerNetgroup: 1_000,
  maxPendingPerIp: 1_000,
  maxPendingPerNetgroup: 1_000,
  maxPendingHandshakes: 1_000,
  handshakeRatePerIp: UNLIMITED,
  inboundBytesPerSec: GIB,
  inboundBurstBytes: GIB,
  totalInboundBytesPerSec: GIB,
  peerInboundBytesPerSec: GIB,
  peerInboundBurstBytes: GIB,
  rateLimits: { [MSG.pollResponse]: UNLIMITED, [MSG.pollRequest]: UNLIMITED },
  peerRateLimits: { [MSG.pollRequest]: UNLIMITED, [MSG.pollResponse]: UNLIMITED },
} as const;
const unlimitedProbeArgs = [
  '--rate',
  'pollRequest=1000000000:1000000000',
  '--peer-rate',
  'pollRequest=1000000000:1000000000',
  '--handshake-rate',
  '1000000000:1000000000',
  ...[
    'maxInbound=1000',
    'maxInboundPerIp=1000',
    'maxInboundPerNetgroup=1000',
    'maxPendingPerIp=1000',
    'maxPendingPerNetgroup=1000',
    'maxPendingHandshakes=1000',
    `inboundBytesPerSec=${GIB}`,
    `inboundBurstBytes=${GIB}`,
    `totalInboundBytesPerSec=${GIB}`,
    `peerInboundBytesPerSec=${GIB}`,
    `peerInboundBurstBytes=${GIB}`,
  ].flatMap((o) => ['--opt', o]),
];

async function startProbe(args: string[]): Promise<{ child: ChildProcess; port: number; pubkey: string }> {
  const child = spawn(process.execPath, [MAIN, 'p2p-probe', ...unlimitedProbeArgs, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await new Promise<{ port: number; pubkey: string }>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { event: string; port: number; pubkey: string };
      if (e.event === 'listening') resolve(e);
    });
  });
  return { child, ...info };
}

// ---------------------------------------------------------------- receiver child process

/** Child mode: open `n` TLS raw connections (authenticated if `auth`), then report byte counts. */
async function receiverMain(port: number, n: number, path: string, auth: boolean): Promise<void> {
  const clients: RawWsClient[] = [];
  const plaintext = path.endsWith('#plain');
  for (let i = 0; i < n; i++) {
    const c = await RawWsClient.connect('127.0.0.1', port, path.replace('#plain', ''), { plaintext });
    if (auth) await authenticateRaw(c, identity('bench-receiver', i));
    c.countOnly = true;
    c.bytesReceived = 0;
    clients.push(c);
  }
  const total = () => clients.reduce((s, c) => s + c.bytesReceived, 0);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const timer = setInterval(() => process.stdout.write(`${JSON.stringify({ bytes: total() })}\n`), 2);
  process.stdin.on('data', () => undefined);
  process.stdin.on('close', () => {
    clearInterval(timer);
    for (const c of clients) c.destroy();
  });
}

class Receivers {
  bytes = 0;
  private constructor(private readonly child: ChildProcess) {}

  static async start(port: number, path: string, auth: boolean): Promise<Receivers> {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(
      process.execPath,
      [self, '--receivers', String(port), String(PEERS), path, auth ? '1' : '0'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const r = new Receivers(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`receiver process exited ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { ready?: boolean; bytes?: number };
        if (m.ready) resolve();
        if (m.bytes !== undefined) r.bytes = m.bytes;
      });
    });
    return r;
  }

  async waitBytes(atLeast: number): Promise<void> {
    while (this.bytes < atLeast) await new Promise((r) => setTimeout(r, 1));
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}

/**
 * Sends `messages` broadcasts with a window of `window` messages in flight per peer (below the
 * backpressure limit) and times until every byte reached the receivers.
 */
/** CPU time (user + system, ms) this process spent in the last timeBroadcast. */
let lastCpuMs = 0;

async function timeBroadcast(
  receivers: Receivers,
  send: () => void,
  messages: number,
  window = 2_000,
): Promise<number> {
  const base = receivers.bytes;
  const perMessage = PEERS * WIRE_FRAME;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  while (sent < messages) {
    const batch = Math.min(250, messages - sent);
    for (let i = 0; i < batch; i++) send();
    sent += batch;
    await receivers.waitBytes(base + Math.max(0, sent - window) * perMessage);
  }
  await receivers.waitBytes(base + messages * perMessage);
  const cpu = process.cpuUsage(cpu0);
  lastCpuMs = (cpu.user + cpu.system) / 1000;
  return performance.now() - start;
}

/** Interleaved rounds of two senders; returns the median round of each (ms). */
async function interleave(a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ra.push(await a());
    rb.push(await b());
  }
  return [ra, rb];
}

// ---------------------------------------------------------------- suite

export async function run(): Promise<void> {
  const suite = new BenchSuite('p2p', 1_000);
  const tls = await loadOrCreateTlsMaterial(
    (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'timecoin-bench-tls-')),
  );

  // 1. decode + schema check of a vote-sized message
  const vote: WireMessage = { t: MSG.pollResponse, id: 123_456, votes: new Uint8Array(16).fill(1) };
  const voteFrame = encodeMessage(vote);
  suite.note('vote.frameBytes', voteFrame.length);
  const LOOP = 1_000;
  await suite.task(
    'wire.decodeValidate.vote',
    () => {
      for (let i = 0; i < LOOP; i++) decodeFrame(voteFrame);
    },
    { itemsPerOp: LOOP },
  );
  const { decode } = await import('cbor-x');
  const zodVote = z.strictObject({
    t: z.literal(MSG.pollResponse),
    id: z.number().int().min(1).max(0xffff_ffff),
    votes: z.instanceof(Uint8Array).refine((v) => v.length >= 1 && v.length <= 1024),
  });
  await suite.task(
    'wire.decodeValidate.vote.zod',
    () => {
      for (let i = 0; i < LOOP; i++) {
        const r = zodVote.safeParse(decode(voteFrame));
        if (!r.success) throw new Error('zod rejected a valid vote');
      }
    },
    { itemsPerOp: LOOP },
  );

  // 2. complete handshakes against a p2p-probe process, 16 at a time
  {
    const target = await startProbe(['--key-index', '8']);
    // Client identities made beforehand: deriving a key, and importing it into OpenSSL (which a
    // node does once at start; makeAuth caches it), are not part of a handshake. The listener
    // meets every identity for the first time, as it would a new peer.
    const ids = Array.from({ length: 20_000 }, (_, i) => identity('bench-handshake', i));
    for (const id of ids)
      makeAuth(id, 'dialer', { dialer: makeHello(id), listener: makeHello(id), binding: GENESIS });
    let done = 0;
    let n = 0;
    const handshakes = async (ms: number) => {
      const until = performance.now() + ms;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < until) {
            const c = await RawWsClient.connect('127.0.0.1', target.port, '/p2p/1');
            await authenticateRaw(c, ids[n++ % ids.length]!);
            done++;
            c.destroy();
          }
        }),
      );
    };
    await handshakes(500); // warm-up
    done = 0;
    const cpu0 = { listener: processCpuMs(target.child.pid!), dialers: process.cpuUsage() };
    const t0 = performance.now();
    await handshakes(3_000);
    const ms = performance.now() - t0;
    // CPU per handshake on each side (a shared machine distorts it less than the rate): the
    // listener is the node's cost; the dialers are this process (16 raw TLS clients).
    const dialersUs = process.cpuUsage(cpu0.dialers);
    suite.note(
      'p2p.handshake.listenerCpuMsPerHandshake',
      Number(((processCpuMs(target.child.pid!) - cpu0.listener) / done).toFixed(3)),
    );
    suite.note(
      'p2p.handshake.dialerCpuMsPerHandshake',
      Number(((dialersUs.user + dialersUs.system) / 1000 / done).toFixed(3)),
    );
    suite.record({
      name: 'p2p.handshake',
      hz: (done * 1000) / ms,
      meanMs: (ms * 16) / done,
      p99Ms: 0,
      samples: done,
    });
    target.child.stdin!.end();
    target.child.kill();
  }

  // 3. poll round trips (1,024 txids) to a p2p-probe process, secure and plain, taking turns
  const txids = new Uint8Array(32 * 1024);
  for (let i = 0; i < txids.length; i++) txids[i] = (i * 31) & 0xff;
  const pollers = await Promise.all(
    [false, true].map(async (plain) => {
      const probe = await startProbe([
        '--key-index',
        plain ? '6' : '7',
        ...(plain ? ['--insecure-plaintext'] : []),
      ]);
      const poller = new P2pNode({
        identity: identity('bench-poller', plain ? 1 : 0),
        listen: false,
        seeds: [{ host: '127.0.0.1', port: probe.port }],
        insecurePlaintext: plain,
        ...unlimitedNode,
      });
      await poller.start();
      while (poller.peers().length === 0) await new Promise((r) => setTimeout(r, 10));
      const poll = async () => {
        const res = await poller.request(probe.pubkey, { t: MSG.pollRequest, txids });
        if (res.votes.length !== 1024) throw new Error('short poll response');
      };
      for (let i = 0; i < 200; i++) await poll(); // warm-up
      return { probe, poller, poll };
    }),
  );
  const pollRound = (poll: () => Promise<void>, samples: number[]) => async () => {
    const until = performance.now() + 1_000;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() < until) {
      const s = performance.now();
      await poll();
      samples.push(performance.now() - s);
      n++;
    }
    return (performance.now() - t0) / n;
  };
  const secureSamples: number[] = [];
  const plainSamples: number[] = [];
  const [secureRounds, plainRounds] = await interleave(
    pollRound(pollers[0]!.poll, secureSamples),
    pollRound(pollers[1]!.poll, plainSamples),
  );
  const secureP99 = summarize('x', secureSamples).p99Ms;
  const plainP99 = summarize('x', plainSamples).p99Ms;
  const secureMs = median(secureRounds);
  const plainMs = median(plainRounds);
  suite.record({
    name: 'p2p.pollRoundTrip',
    hz: 1000 / secureMs,
    meanMs: secureMs,
    p99Ms: secureP99,
    samples: secureSamples.length,
  });
  suite.record({
    name: 'p2p.pollRoundTrip.plain',
    hz: 1000 / plainMs,
    meanMs: plainMs,
    p99Ms: plainP99,
    samples: plainSamples.length,
  });
  // The protocol keeps up to 4 polls in flight (DESIGN §5): measure that too, secure.
  const inFlight: number[] = [];
  const t4 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() - t4 < 2_000) {
        const t0 = performance.now();
        await pollers[0]!.poll();
        inFlight.push(performance.now() - t0);
      }
    }),
  );
  const ms4 = performance.now() - t4;
  suite.record({
    ...summarize('p2p.pollRoundTrip.4inFlight', inFlight),
    hz: (inFlight.length * 1000) / ms4,
  });
  for (const p of pollers) {
    await p.poller.stop();
    p.probe.child.stdin!.end();
    p.probe.child.kill();
  }

  // 4. broadcast of a 1 KiB message to 32 peers
  // A Tx gossip message whose CBOR frame is exactly 1,024 bytes.
  const overhead = encodeMessage({ t: MSG.tx, id: 0, txs: [new Uint8Array(1000)] }).length - 1000;
  const msg: WireMessage = { t: MSG.tx, id: 0, txs: [new Uint8Array(1024 - overhead).fill(0xab)] };
  const payload = encodeMessage(msg);
  if (payload.length !== 1024) throw new Error(`broadcast payload is ${payload.length} bytes, not 1024`);
  const MESSAGES = 20_000;
  const results: Record<string, number> = {};
  for (const secure of [true, false]) {
    const server = new P2pNode({
      identity: { ...identity('bench-broadcaster', secure ? 0 : 1), tls },
      insecurePlaintext: !secure,
      // The receivers only count bytes and never answer pings: no idle timeout.
      idleTimeoutSec: 0,
      ...unlimitedNode,
    });
    const port = await server.start();
    const uwsReceivers = await Receivers.start(port, secure ? '/p2p/1' : '/p2p/1#plain', true);
    while (server.peers().length < PEERS) await new Promise((r) => setTimeout(r, 10));
    const https = secure
      ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) })
      : undefined;
    const wss = https
      ? new WebSocketServer({ server: https, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 })
      : new WebSocketServer({
          host: '127.0.0.1',
          port: 0,
          perMessageDeflate: false,
          maxPayload: 4 * 1024 * 1024,
        });
    if (https) await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    else await new Promise((r) => wss.once('listening', r));
    const wsPort = ((https ?? wss).address() as { port: number }).port;
    const wsReceivers = await Receivers.start(wsPort, secure ? '/' : '/#plain', false);
    while (wss.clients.size < PEERS) await new Promise((r) => setTimeout(r, 10));
    const uwsSend = () => server.broadcast(msg);
    const wsSend = () => {
      for (const c of wss.clients) c.send(payload, { binary: true });
    };
    await timeBroadcast(uwsReceivers, uwsSend, 2_000); // warm-up
    await timeBroadcast(wsReceivers, wsSend, 2_000);
    // Wall time is bounded by the receivers on a shared 2-core machine (they decrypt every byte);
    // the sender's own CPU time per delivery is what the transport costs.
    const uwsCpu: number[] = [];
    const wsCpu: number[] = [];
    const [uwsRounds, wsRounds] = await interleave(
      async () => {
        const ms = await timeBroadcast(uwsReceivers, uwsSend, MESSAGES);
        uwsCpu.push(lastCpuMs);
        return ms;
      },
      async () => {
        const ms = await timeBroadcast(wsReceivers, wsSend, MESSAGES);
        wsCpu.push(lastCpuMs);
        return ms;
      },
    );
    const name = secure ? 'p2p.broadcast32.secure' : 'p2p.broadcast32';
    const u = summarize(name, [median(uwsRounds)], MESSAGES * PEERS);
    suite.record({ ...u, samples: MESSAGES * PEERS * ROUNDS });
    const w = summarize(`${name}.ws`, [median(wsRounds)], MESSAGES * PEERS);
    suite.record({ ...w, samples: MESSAGES * PEERS * ROUNDS });
    results[name] = u.hz / w.hz;
    const perDelivery = (cpuMs: number[]) => (median(cpuMs) * 1000) / (MESSAGES * PEERS);
    suite.note(`${name}.senderCpuUsPerDelivery`, Number(perDelivery(uwsCpu).toFixed(3)));
    suite.note(`${name}.ws.senderCpuUsPerDelivery`, Number(perDelivery(wsCpu).toFixed(3)));
    results[`${name}.cpu`] = perDelivery(wsCpu) / perDelivery(uwsCpu);
    suite.note(
      `${name}.roundsMs`,
      `uWS ${uwsRounds.map((x) => x.toFixed(0)).join(' ')}; ws ${wsRounds.map((x) => x.toFixed(0)).join(' ')}`,
    );
    uwsReceivers.stop();
    wsReceivers.stop();
    await server.stop();
    await new Promise((r) => wss.close(r));
    https?.close();
  }

  const hz = (name: string) => suite.results.find((r) => r.name === name)!.hz;
  suite.note(
    'guards_vs_zod',
    Number((hz('wire.decodeValidate.vote') / hz('wire.decodeValidate.vote.zod')).toFixed(2)),
  );
  suite.note('broadcast_secure_uws_vs_ws', Number(results['p2p.broadcast32.secure']!.toFixed(2)));
  suite.note('broadcast_plain_uws_vs_ws', Number(results['p2p.broadcast32']!.toFixed(2)));
  suite.note(
    'broadcast_secure_uws_vs_ws_by_sender_cpu',
    Number(results['p2p.broadcast32.secure.cpu']!.toFixed(2)),
  );
  suite.note('broadcast_plain_uws_vs_ws_by_sender_cpu', Number(results['p2p.broadcast32.cpu']!.toFixed(2)));
  suite.note('pollRoundTrip_secure_vs_plain', Number((plainMs / secureMs).toFixed(2)));
  suite.note('poll.txids', 1024);
  suite.note(
    'pollRoundTrip.mode',
    'sequential, one poll in flight, bench process (ws client) ↔ p2p-probe process (uWS); secure and plain rounds of 1 s interleaved 5×, median round',
  );
  suite.note(
    'handshake.mode',
    '16 concurrent raw TLS clients, a new identity each time, ↔ p2p-probe process: TLS 1.3, WebSocket upgrade, both Ed25519 signatures and checks',
  );
  const { loadavg } = await import('node:os');
  suite.note('loadavg1', Number(loadavg()[0]!.toFixed(2)));
  suite.write();
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--receivers'
) {
  const [, , , port, n, path, auth] = process.argv;
  await receiverMain(Number(port), Number(n), path!, auth === '1');
}
