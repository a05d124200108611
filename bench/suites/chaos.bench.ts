/**
 * `npm run bench -- chaos`: the fault-injecting proxy alone, against direct connections in the
 * same run, to show it is not the bottleneck of the tests and benchmarks that use it.
 *
 * The proxies run in this process; the traffic (senders, a byte-counting sink, an echo server) runs
 * in a child process, so proxy and load each get a core of their own, and the direct figures cross
 * the same loopback with the same code minus the proxy.
 *
 * - chaos.throughput.{direct,pipeRelay,proxied} (hz = MB/s, 10^6 bytes): 256 MiB in 1 MiB writes
 *   over one connection, median of interleaved rounds; pipeRelay is the anchor, a bare
 *   `stream.pipe` relay in this process (what any Node relay costs, with no fault logic). Notes
 *   give the CPU time per GiB carried of both. chaos.throughput.delay25: 64 MiB through a link
 *   with 25 ms one-way delay, where the default 1 MiB queue bound allows at most 1 MiB per 25 ms.
 * - chaos.rtt.{direct,proxied}: round trips of 64-byte messages through an echo server, no fault
 *   configured (hz = round trips/s); p50 in notes, so the proxy's added latency is their difference.
 * - chaos.rtt.delay25j5: the same with 25 ms ± 5 ms one-way in each direction: RTT should be
 *   triangular on [40, 60] ms with mean 50; notes give the distribution and the excess over 50.
 * - chaos.fanout32.{direct,proxied}: 32 connections at once, each through its own proxy, 8 MiB
 *   each (hz = aggregate MB/s); and 32 concurrent ping-pong loops (p50/p99 RTT) with the
 *   proxy process's event-loop delay.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Endpoint } from '../../src/chaos/endpoint.js';
import { FaultProxy } from '../../src/chaos/fault-proxy.js';
import { BenchSuite, summarize } from '../harness.js';

const MIB = 1024 * 1024;
const THROUGHPUT_BYTES = 256 * MIB;
const WRITE_SIZE = MIB;
const ROUNDS = 3;
const PING_BYTES = 64;
const LINKS = 32;
const SEED = 20_261_201;

// ---------------------------------------------------------------- load child process

type LoadCommand =
  | { op: 'throughput'; ports: number[]; bytesPerLink: number }
  | { op: 'rtt'; port: number; count: number }
  | { op: 'rttFanout'; ports: number[]; durationMs: number };

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  await once(s, 'connect');
  return s;
}

/** Sends `bytes` in WRITE_SIZE writes, honouring backpressure, then half-closes. */
async function send(s: Socket, bytes: number): Promise<void> {
  const block = Buffer.alloc(WRITE_SIZE, 0xa5);
  for (let sent = 0; sent < bytes; sent += WRITE_SIZE) {
    if (!s.write(sent + WRITE_SIZE <= bytes ? block : block.subarray(0, bytes - sent)))
      await once(s, 'drain');
  }
  s.end();
}

/** Ping-pongs PING_BYTES messages until `stop()` says so; returns the round-trip times (ms). */
async function pingPong(s: Socket, stop: (n: number) => boolean): Promise<number[]> {
  const msg = Buffer.alloc(PING_BYTES, 0x42);
  const samples: number[] = [];
  let got = 0;
  let t0 = 0;
  let next: () => void = () => undefined;
  s.on('data', (c: Buffer) => {
    got += c.length;
    if (got >= PING_BYTES) {
      got -= PING_BYTES;
      samples.push(performance.now() - t0);
      next();
    }
  });
  while (!stop(samples.length)) {
    const answered = new Promise<void>((r) => {
      next = r;
    });
    t0 = performance.now();
    s.write(msg);
    await answered;
  }
  s.destroy();
  return samples;
}

async function loadMain(): Promise<void> {
  let sinkEnds = 0;
  let sinkBytes = 0;
  let onSinkEnd: () => void = () => undefined;
  const sink = createServer({ noDelay: true }, (s) => {
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
    });
    s.on('end', () => {
      sinkBytes += n;
      sinkEnds++;
      s.end();
      onSinkEnd();
    });
    s.on('error', () => undefined);
  });
  const echo = createServer({ noDelay: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  sink.listen(0, '127.0.0.1');
  echo.listen(0, '127.0.0.1');
  await Promise.all([once(sink, 'listening'), once(echo, 'listening')]);
  const port = (srv: typeof sink) => (srv.address() as { port: number }).port;
  const reply = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  reply({ ready: true, sinkPort: port(sink), echoPort: port(echo) });

  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as LoadCommand;
    if (cmd.op === 'throughput') {
      const sockets = await Promise.all(cmd.ports.map(dial));
      sinkEnds = 0;
      sinkBytes = 0;
      const allIn = new Promise<void>((r) => {
        onSinkEnd = () => {
          if (sinkEnds === sockets.length) r();
        };
      });
      const t0 = performance.now();
      await Promise.all(sockets.map((s) => send(s, cmd.bytesPerLink)));
      await allIn;
      const ms = performance.now() - t0;
      for (const s of sockets) s.destroy();
      reply({ ms, bytes: sinkBytes });
    } else if (cmd.op === 'rtt') {
      const s = await dial(cmd.port);
      reply({ samples: await pingPong(s, (n) => n >= cmd.count) });
    } else {
      const sockets = await Promise.all(cmd.ports.map(dial));
      const until = performance.now() + cmd.durationMs;
      const all = await Promise.all(sockets.map((s) => pingPong(s, () => performance.now() >= until)));
      reply({ samples: all.flat() });
    }
  }
  process.exit(0); // stdin closed: the bench is done (the servers would keep the process alive)
}

class Load {
  sinkPort = 0;
  echoPort = 0;
  private readonly answers: ((v: unknown) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<Load> {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const load = new Load(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`load process exited ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { ready?: boolean; sinkPort: number; echoPort: number };
        if (m.ready) {
          load.sinkPort = m.sinkPort;
          load.echoPort = m.echoPort;
          resolve();
        } else load.answers.shift()?.(m);
      });
    });
    return load;
  }

  run<T>(cmd: LoadCommand): Promise<T> {
    return new Promise((resolve) => {
      this.answers.push(resolve as (v: unknown) => void);
      this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.stdin!.end();
    await exited;
  }
}

// ---------------------------------------------------------------- suite

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (x: number) => Number(x.toFixed(3));

async function proxyTo(target: Endpoint): Promise<FaultProxy> {
  const p = new FaultProxy({ target, seed: SEED });
  await p.listen();
  return p;
}

/** The baseline relay: accept, dial `target`, `pipe` both ways. */
async function pipeRelay(target: Endpoint): Promise<{ server: Server; port: number }> {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ ...target, noDelay: true });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

export async function run(): Promise<void> {
  const suite = new BenchSuite('chaos');
  // The machine is shared: the load average says how much of the figures is other people's work.
  const loadAtStart = loadavg()[0]!;
  const load = await Load.start();
  const sink: Endpoint = { host: '127.0.0.1', port: load.sinkPort };
  const echo: Endpoint = { host: '127.0.0.1', port: load.echoPort };

  // 1. throughput of one connection, direct vs proxied, interleaved rounds; the anchor is the
  // least a user-space relay in Node can do (stream.pipe both ways, no fault logic).
  const sinkProxy = await proxyTo(sink);
  const relay = await pipeRelay(sink);
  const transfer = (port: number, links = 1, bytesPerLink = THROUGHPUT_BYTES) =>
    load.run<{ ms: number; bytes: number }>({
      op: 'throughput',
      ports: Array(links).fill(port),
      bytesPerLink,
    });
  await transfer(load.sinkPort, 1, 32 * MIB); // warm-up
  await transfer(relay.port, 1, 32 * MIB);
  await transfer(sinkProxy.address.port, 1, 32 * MIB);
  const direct: number[] = [];
  const piped: number[] = [];
  const proxied: number[] = [];
  let pipeCpuMs = 0;
  let proxyCpuMs = 0;
  const cpuMsSince = (since: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(since);
    return (c.user + c.system) / 1000;
  };
  for (let r = 0; r < ROUNDS; r++) {
    const d = await transfer(load.sinkPort);
    let cpu0 = process.cpuUsage();
    const q = await transfer(relay.port);
    pipeCpuMs += cpuMsSince(cpu0);
    cpu0 = process.cpuUsage();
    const p = await transfer(sinkProxy.address.port);
    proxyCpuMs += cpuMsSince(cpu0);
    for (const x of [d, q, p]) if (x.bytes !== THROUGHPUT_BYTES) throw new Error('bytes lost in transfer');
    direct.push(d.ms);
    piped.push(q.ms);
    proxied.push(p.ms);
  }
  const mb = THROUGHPUT_BYTES / 1e6;
  const record = (name: string, ms: number[]) =>
    suite.record({ ...summarize(name, [median(ms)], mb), samples: ROUNDS });
  const directT = record('chaos.throughput.direct', direct);
  const pipeT = record('chaos.throughput.pipeRelay', piped);
  const proxiedT = record('chaos.throughput.proxied', proxied);
  const rounds = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  suite.note(
    'throughput.roundsMs',
    `direct ${rounds(direct)}; pipe relay ${rounds(piped)}; proxied ${rounds(proxied)}`,
  );
  suite.note('throughput.proxied_vs_direct', round3(proxiedT.hz / directT.hz));
  suite.note('throughput.proxied_vs_pipeRelay', round3(proxiedT.hz / pipeT.hz));
  const gib = (ROUNDS * THROUGHPUT_BYTES) / (1024 * MIB);
  suite.note('throughput.proxyCpuMsPerGiB', Math.round(proxyCpuMs / gib));
  suite.note('throughput.pipeRelayCpuMsPerGiB', Math.round(pipeCpuMs / gib));
  await new Promise((r) => relay.server.close(r));
  // The queue bound caps a delayed link at maxQueueBytes per one-way delay (1 MiB / 25 ms ≈ 42 MB/s).
  sinkProxy.setFaults('forward', { latencyMs: 25 });
  const delayedT = await transfer(sinkProxy.address.port, 1, 64 * MIB);
  suite.record({ ...summarize('chaos.throughput.delay25', [delayedT.ms], (64 * MIB) / 1e6), samples: 1 });
  await sinkProxy.close();

  // 2. added latency at zero configured delay
  const echoProxy = await proxyTo(echo);
  const rtt = async (port: number, count: number) => {
    const { samples } = await load.run<{ samples: number[] }>({ op: 'rtt', port, count });
    return samples;
  };
  await rtt(load.echoPort, 500); // warm-up
  await rtt(echoProxy.address.port, 500);
  const rttDirect: number[] = [];
  const rttProxied: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rttDirect.push(...(await rtt(load.echoPort, 2_000)));
    rttProxied.push(...(await rtt(echoProxy.address.port, 2_000)));
  }
  const sd = [...rttDirect].sort((a, b) => a - b);
  const sp = [...rttProxied].sort((a, b) => a - b);
  suite.record(summarize('chaos.rtt.direct', rttDirect));
  suite.record(summarize('chaos.rtt.proxied', rttProxied));
  suite.note('rtt.direct.p50Ms', round3(percentile(sd, 0.5)));
  suite.note('rtt.direct.p99Ms', round3(percentile(sd, 0.99)));
  suite.note('rtt.proxied.p50Ms', round3(percentile(sp, 0.5)));
  suite.note('rtt.proxied.p99Ms', round3(percentile(sp, 0.99)));
  suite.note('rtt.addedByProxy.p50Ms', round3(percentile(sp, 0.5) - percentile(sd, 0.5)));
  suite.note('rtt.addedByProxy.p99Ms', round3(percentile(sp, 0.99) - percentile(sd, 0.99)));

  // 3. accuracy of 25 ms ± 5 ms one-way (both directions): RTT triangular on [40, 60], mean 50
  echoProxy.setFaults('both', { latencyMs: 25, jitterMs: 5 });
  const delayed = await rtt(echoProxy.address.port, 400);
  const sdl = [...delayed].sort((a, b) => a - b);
  const mean = delayed.reduce((a, b) => a + b, 0) / delayed.length;
  suite.record(summarize('chaos.rtt.delay25j5', delayed));
  suite.note('delay25j5.expected', 'RTT in [40, 60] ms, triangular, mean 50, p1 ≈ 41.4, p99 ≈ 58.6');
  suite.note('delay25j5.minMs', round3(sdl[0]!));
  suite.note('delay25j5.p1Ms', round3(percentile(sdl, 0.01)));
  suite.note('delay25j5.p50Ms', round3(percentile(sdl, 0.5)));
  suite.note('delay25j5.meanMs', round3(mean));
  suite.note('delay25j5.p99Ms', round3(percentile(sdl, 0.99)));
  suite.note('delay25j5.maxMs', round3(sdl[sdl.length - 1]!));
  suite.note('delay25j5.meanExcessMs', round3(mean - 50));
  suite.note('delay25j5.belowMinimum', delayed.filter((x) => x < 40).length);
  await echoProxy.close();

  // 4. fan-out: 32 connections at once, each through its own proxy
  const sinkProxies = await Promise.all(Array.from({ length: LINKS }, () => proxyTo(sink)));
  const echoProxies = await Promise.all(Array.from({ length: LINKS }, () => proxyTo(echo)));
  const perLink = 8 * MIB;
  const fan = (ports: number[]) =>
    load.run<{ ms: number; bytes: number }>({ op: 'throughput', ports, bytesPerLink: perLink });
  const fanDirect: number[] = [];
  const fanProxied: number[] = [];
  const directPorts = Array<number>(LINKS).fill(load.sinkPort);
  const proxyPorts = sinkProxies.map((p) => p.address.port);
  await fan(proxyPorts); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const d = await fan(directPorts);
    const p = await fan(proxyPorts);
    if (d.bytes !== LINKS * perLink || p.bytes !== LINKS * perLink) throw new Error('bytes lost in fan-out');
    fanDirect.push(d.ms);
    fanProxied.push(p.ms);
  }
  const fanMb = (LINKS * perLink) / 1e6;
  const fd = suite.record({
    ...summarize('chaos.fanout32.direct', [median(fanDirect)], fanMb),
    samples: ROUNDS,
  });
  const fp = suite.record({
    ...summarize('chaos.fanout32.proxied', [median(fanProxied)], fanMb),
    samples: ROUNDS,
  });
  suite.note('fanout32.proxied_vs_direct', round3(fp.hz / fd.hz));

  const rttFan = async (ports: number[]) =>
    (await load.run<{ samples: number[] }>({ op: 'rttFanout', ports, durationMs: 3_000 })).samples;
  const fanRttDirect = await rttFan(Array<number>(LINKS).fill(load.echoPort));
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const fanRttProxied = await rttFan(echoProxies.map((p) => p.address.port));
  loopDelay.disable();
  const fdr = [...fanRttDirect].sort((a, b) => a - b);
  const fpr = [...fanRttProxied].sort((a, b) => a - b);
  suite.record(summarize('chaos.fanout32.rtt.direct', fanRttDirect));
  suite.record(summarize('chaos.fanout32.rtt.proxied', fanRttProxied));
  suite.note('fanout32.rtt.direct.p50Ms', round3(percentile(fdr, 0.5)));
  suite.note('fanout32.rtt.direct.p99Ms', round3(percentile(fdr, 0.99)));
  suite.note('fanout32.rtt.proxied.p50Ms', round3(percentile(fpr, 0.5)));
  suite.note('fanout32.rtt.proxied.p99Ms', round3(percentile(fpr, 0.99)));
  suite.note('fanout32.proxyEventLoopDelay.p99Ms', round3(loopDelay.percentile(99) / 1e6));
  await Promise.all([...sinkProxies, ...echoProxies].map((p) => p.close()));

  await load.stop();
  suite.note('seed', SEED);
  suite.note('loadavg1mAtStart', round3(loadAtStart));
  suite.note(
    'setup',
    'proxies in the bench process; senders, sink and echo server in one child process; 127.0.0.1',
  );
  suite.write();
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--load'
) {
  await loadMain();
}
