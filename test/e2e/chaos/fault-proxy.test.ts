import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosError } from '../../../src/chaos/chaos-error.js';
import { FaultProxy, type FaultProxyOptions } from '../../../src/chaos/fault-proxy.js';
import { Collector, deathOf, dialTcp, patternBytes, quietPeriod, TcpTarget, until } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function proxyTo(target: TcpTarget, opts: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  const proxy = new FaultProxy({ target: target.endpoint, seed: 1, ...opts });
  await proxy.listen();
  cleanup.push(() => proxy.close());
  return proxy;
}

async function target(onSocket?: (s: Socket) => void): Promise<TcpTarget> {
  const t = await TcpTarget.start(onSocket);
  cleanup.push(() => t.close());
  return t;
}

async function client(proxy: FaultProxy): Promise<Socket> {
  const s = await dialTcp(proxy.address);
  cleanup.push(() => void s.destroy());
  return s;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes `data` in pieces of 1..maxPiece bytes (seeded sizes), yielding to the event loop between pieces. */
async function writeInPieces(s: Socket, data: Buffer, maxPiece: number, seed: number): Promise<void> {
  const sizes = patternBytes(2 * data.length, seed);
  let off = 0;
  for (let i = 0; off < data.length; i += 2) {
    const n = Math.min(data.length - off, 1 + (sizes.readUInt16LE(i) % maxPiece));
    if (!s.write(data.subarray(off, off + n))) await once(s, 'drain');
    else await new Promise((r) => setImmediate(r));
    off += n;
  }
}

describe('FaultProxy: byte transparency', () => {
  it('forwards both directions at once, unchanged, and reports a free port', async () => {
    const t = await target((s) => s.pipe(s)); // echo
    const proxy = await proxyTo(t);
    expect(proxy.address.port).toBeGreaterThan(0);
    expect(proxy.address.port).not.toBe(t.port);
    const c = await client(proxy);
    const got = new Collector(c);
    const data = patternBytes(4 * 1024 * 1024, 7);
    c.end(data);
    await got.until(() => got.ended, 'echo end');
    expect(got.bytes).toBe(data.length);
    expect(sha(got.data())).toBe(sha(data));
    const st = proxy.stats();
    expect(st.forward.bytesIn).toBe(data.length);
    expect(st.forward.bytesOut).toBe(data.length);
    expect(st.reverse.bytesOut).toBe(data.length);
    expect(st.accepted).toBe(1);
  });

  it('keeps the byte order under heavy jitter (a chunk never overtakes an earlier one)', async () => {
    const t = await target();
    // Delays drawn in [2, 38] ms for chunks that arrive ~every few hundred µs: without the
    // max(previous release, ready) rule later chunks would overtake earlier ones constantly.
    const proxy = await proxyTo(t, { forward: { latencyMs: 20, jitterMs: 18 } });
    const c = await client(proxy);
    const server = new Collector(await t.nthSocket(1));
    const data = patternBytes(256 * 1024, 11);
    await writeInPieces(c, data, 700, 3);
    await server.until(() => server.bytes === data.length, 'all bytes');
    expect(sha(server.data())).toBe(sha(data));
  });

  it('propagates a half-close after the bytes before it, and the other direction keeps working', async () => {
    const t = await target();
    const proxy = await proxyTo(t, {
      forward: { latencyMs: 15, jitterMs: 10 },
      reverse: { latencyMs: 15, jitterMs: 10 },
    });
    const c = await client(proxy);
    const fromServer = new Collector(c);
    const serverSocket = await t.nthSocket(1);
    const atServer = new Collector(serverSocket);
    const request = patternBytes(50_000, 5);
    await writeInPieces(c, request, 900, 9);
    c.end();
    await atServer.until(() => atServer.ended, 'FIN at the server');
    expect(sha(atServer.data())).toBe(sha(request)); // FIN came after every byte
    const reply = patternBytes(30_000, 6);
    serverSocket.end(reply); // the half-closed client can still read
    const finished = once(proxy, 'connectionClosed');
    await fromServer.until(() => fromServer.ended, 'FIN at the client');
    expect(sha(fromServer.data())).toBe(sha(reply));
    expect(await finished).toEqual([1]);
    expect(proxy.stats().connections).toBe(0);
  });
});

describe('FaultProxy: latency', () => {
  /** Sends `count` 16-byte stamped messages through `proxy`, one every `gapMs`; returns one-way delays. */
  async function oneWayDelays(
    proxy: FaultProxy,
    t: TcpTarget,
    count: number,
    gapMs: number,
  ): Promise<number[]> {
    const c = await client(proxy);
    const serverSocket = await t.nthSocket(1);
    const sentAt: number[] = [];
    const delays: number[] = [];
    let pending = Buffer.alloc(0);
    serverSocket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 16) {
        const seq = pending.readUInt32LE(0);
        expect(seq).toBe(delays.length); // in order
        delays.push(now - sentAt[seq]!);
        pending = pending.subarray(16);
      }
    });
    for (let seq = 0; seq < count; seq++) {
      const m = Buffer.alloc(16);
      m.writeUInt32LE(seq, 0);
      sentAt.push(performance.now());
      c.write(m);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await until(() => delays.length === count, `${count} messages`);
    return delays;
  }

  it('delays every chunk by at least the configured latency (no jitter)', async () => {
    const t = await target();
    const proxy = await proxyTo(t, { forward: { latencyMs: 25 } });
    const delays = await oneWayDelays(proxy, t, 40, 3);
    const sorted = [...delays].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThanOrEqual(25);
    expect(sorted[20]).toBeLessThan(25 + 250); // median: generous for a loaded machine
  });

  it('draws delays across [latency − jitter, latency + jitter]', async () => {
    const t = await target();
    const proxy = await proxyTo(t, { forward: { latencyMs: 40, jitterMs: 30 } });
    // Gaps of 25 ms are wider than most delay differences, so order rarely compresses the draws.
    const delays = await oneWayDelays(proxy, t, 60, 25);
    const sorted = [...delays].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThanOrEqual(10);
    // Jitter is really applied: some delays well under the mean, some well over.
    expect(sorted.filter((d) => d < 30).length).toBeGreaterThan(3);
    expect(sorted.filter((d) => d > 50).length).toBeGreaterThan(3);
    expect(sorted[30]).toBeLessThan(70 + 250);
  });

  it('keeps order when the latency is lowered mid-stream (queued chunks are not overtaken)', async () => {
    const t = await target();
    const proxy = await proxyTo(t, { forward: { latencyMs: 300 } });
    const c = await client(proxy);
    const server = new Collector(await t.nthSocket(1));
    const first = patternBytes(20_000, 1);
    const second = patternBytes(20_000, 2);
    c.write(first);
    await until(() => proxy.stats().forward.queuedBytes === first.length, 'first part queued');
    proxy.setFaults('forward', { latencyMs: 0 }); // now transparent: the fast path must wait its turn
    c.write(second);
    await server.until(() => server.bytes === 40_000, 'both parts');
    expect(sha(server.data())).toBe(sha(Buffer.concat([first, second])));
  });
});

describe('FaultProxy: bandwidth cap', () => {
  it('holds the rate to the cap, pausing the sender instead of buffering', async () => {
    const t = await target();
    const rate = 512 * 1024;
    const burst = 8 * 1024;
    const maxQueueBytes = 64 * 1024;
    const proxy = await proxyTo(t, {
      forward: { bandwidthBytesPerSec: rate, burstBytes: burst },
      maxQueueBytes,
    });
    let paused = 0;
    proxy.on('backpressure', (_id, dir, p) => {
      if (dir === 'forward' && p) paused++;
    });
    const c = await client(proxy);
    const server = new Collector(await t.nthSocket(1));
    const data = patternBytes(1024 * 1024, 4);
    let firstByteAt = 0;
    server.socket.once('data', () => {
      firstByteAt = performance.now();
    });
    const t0 = performance.now();
    c.write(data);
    let peakHeld = 0;
    const sampler = setInterval(() => {
      const f = proxy.stats().forward;
      peakHeld = Math.max(peakHeld, f.queuedBytes + f.socketBufferedBytes);
    }, 5);
    await server.until(() => server.bytes === data.length, '1 MiB', 30_000);
    clearInterval(sampler);
    const elapsed = performance.now() - t0;
    // A token bucket can never beat (bytes − burst)/rate; the load on the machine only slows it.
    expect(elapsed).toBeGreaterThanOrEqual(((data.length - burst) / rate) * 1000);
    expect(elapsed).toBeLessThan(((data.length - burst) / rate) * 1000 * 4);
    expect(firstByteAt - t0).toBeLessThan(1_000);
    expect(sha(server.data())).toBe(sha(data));
    // The sender was paused and the proxy never held much more than its bound.
    expect(paused).toBeGreaterThan(0);
    expect(proxy.stats().forward.peakQueuedBytes).toBeLessThanOrEqual(maxQueueBytes + 64 * 1024);
    expect(peakHeld).toBeLessThanOrEqual(maxQueueBytes + 2 * 64 * 1024);
  });
});

describe('FaultProxy: black hole (drop)', () => {
  it('holds bytes while dropped, keeps the connection open, delivers them in order on heal', async () => {
    const t = await target();
    const proxy = await proxyTo(t);
    const c = await client(proxy);
    const fromServer = new Collector(c);
    const serverSocket = await t.nthSocket(1);
    const atServer = new Collector(serverSocket);
    c.write('hello');
    await atServer.until(() => atServer.bytes === 5, 'hello');

    proxy.setFaults('forward', { drop: true });
    const held = patternBytes(100_000, 8);
    c.write(held);
    await until(() => proxy.stats().forward.queuedBytes === held.length, 'bytes held at the proxy');
    // The other direction still flows: a one-way black hole.
    serverSocket.write('still here');
    await fromServer.until(() => fromServer.bytes === 10, 'reverse bytes');
    await quietPeriod(300);
    expect(atServer.bytes).toBe(5);
    expect(c.destroyed || serverSocket.destroyed).toBe(false);

    proxy.heal();
    await atServer.until(() => atServer.bytes === 5 + held.length, 'held bytes after heal');
    expect(sha(atServer.data())).toBe(sha(Buffer.concat([Buffer.from('hello'), held])));
  });

  it('defers the dial of a connection made during a black hole until heal', async () => {
    const t = await target();
    const proxy = await proxyTo(t);
    proxy.cut('blackhole');
    const accepted = once(proxy, 'connection');
    const c = await client(proxy); // the proxy accepts locally…
    expect(await accepted).toEqual([1]);
    c.write('queued request');
    await until(() => proxy.stats().forward.queuedBytes === 14, 'request held');
    await quietPeriod(200);
    expect(t.sockets.length).toBe(0); // …but the target sees nothing, as if the SYN were lost
    proxy.heal();
    const server = new Collector(await t.nthSocket(1));
    await server.until(() => server.bytes === 14, 'request after heal');
    expect(server.data().toString()).toBe('queued request');
  });
});

describe('FaultProxy: resets', () => {
  it('reset() sends an RST to both sides now', async () => {
    const t = await target();
    const proxy = await proxyTo(t);
    const c = await client(proxy);
    const serverSocket = await t.nthSocket(1);
    const clientDeath = deathOf(c);
    const serverDeath = deathOf(serverSocket);
    expect(proxy.reset()).toBe(1);
    expect(await clientDeath).toBe('ECONNRESET');
    expect(await serverDeath).toBe('ECONNRESET');
    await until(() => proxy.stats().connections === 0, 'connection gone');
    // Without refuseNew the next connection works.
    const c2 = await client(proxy);
    const server2 = new Collector(await t.nthSocket(2));
    c2.write('again');
    await server2.until(() => server2.bytes === 5, 'second connection');
  });

  it('cut("reset") refuses new connections until heal, and the target never sees them', async () => {
    const t = await target();
    const proxy = await proxyTo(t);
    proxy.cut('reset');
    const refused = once(proxy, 'refused');
    // The RST may beat the connect callback, so watch the socket from the start.
    const c = connect({ ...proxy.address });
    const death = deathOf(c);
    await refused;
    expect(['ECONNRESET', 'EPIPE']).toContain(await death);
    expect(t.sockets.length).toBe(0);
    expect(proxy.stats().refused).toBe(1);
    proxy.heal();
    const c2 = await client(proxy);
    c2.write('ok');
    const server = new Collector(await t.nthSocket(1));
    await server.until(() => server.bytes === 2, 'after heal');
  });

  it('mirrors an RST from the target to the client', async () => {
    const t = await target();
    const proxy = await proxyTo(t, { reverse: { latencyMs: 20 } });
    const c = await client(proxy);
    const got = new Collector(c);
    const serverSocket = await t.nthSocket(1);
    serverSocket.write('last words');
    // Read before the reset arrives: TCP lets an RST discard bytes the receiver has not read yet.
    await got.until(() => got.bytes === 10, 'bytes before the reset');
    const death = deathOf(c);
    serverSocket.resetAndDestroy();
    expect(await death).toBe('ECONNRESET');
    expect(got.data().toString()).toBe('last words');
  });

  it('answers a dial to a dead target with an RST, and reaches it again once it is back', async () => {
    const t = await target();
    const port = t.port;
    await t.close(); // the node was killed
    const proxy = new FaultProxy({ target: { host: '127.0.0.1', port }, seed: 1 });
    await proxy.listen();
    cleanup.push(() => proxy.close());
    const c = await client(proxy);
    expect(await deathOf(c)).toBe('ECONNRESET');
    const back = await TcpTarget.start(undefined, port); // restarted on its port
    cleanup.push(() => back.close());
    const c2 = await client(proxy);
    c2.write('back');
    const server = new Collector(await back.nthSocket(1));
    await server.until(() => server.bytes === 4, 'restarted target');
  });
});

describe('FaultProxy: bounded memory', () => {
  async function stuffUntilStalled(proxy: FaultProxy, c: Socket): Promise<void> {
    // Far more than any kernel buffer: the sender must end up blocked, not the proxy bloated.
    const block = Buffer.alloc(1024 * 1024, 0x5a);
    for (let i = 0; i < 64; i++) c.write(block);
    await once(proxy, 'backpressure');
    // Steady state: the proxy stops reading once kernel buffers on both sides are full.
    let last = -1;
    await until(() => {
      const now = proxy.stats().forward.bytesIn;
      const stable = now === last;
      last = now;
      return stable;
    }, 'the proxy to stop reading');
  }

  for (const [name, setup] of [
    ['the far side never reads', (_p: FaultProxy, s: Socket) => s.pause()],
    [
      'the far side never reads and the path is delayed',
      (p: FaultProxy, s: Socket) => {
        s.pause();
        p.setFaults('forward', { latencyMs: 2 });
      },
    ],
    ['the path is black-holed', (p: FaultProxy) => p.setFaults('forward', { drop: true })],
    ['the delay is long', (p: FaultProxy) => p.setFaults('forward', { latencyMs: 30_000 })],
  ] as const) {
    it(`stays within its queue bound when ${name}`, async () => {
      const t = await target();
      const maxQueueBytes = 256 * 1024;
      const proxy = await proxyTo(t, { maxQueueBytes });
      const c = await client(proxy);
      const serverSocket = await t.nthSocket(1);
      setup(proxy, serverSocket);
      await stuffUntilStalled(proxy, c);
      const f = proxy.stats().forward;
      expect(f.pausedReads).toBe(1);
      expect(f.peakQueuedBytes).toBeLessThanOrEqual(maxQueueBytes + 64 * 1024);
      expect(f.queuedBytes + f.socketBufferedBytes).toBeLessThanOrEqual(maxQueueBytes + 2 * 64 * 1024);
      expect(c.writableLength).toBeGreaterThan(32 * 1024 * 1024); // the sender holds the rest
    }, 60_000);
  }
});

describe('FaultProxy: settings', () => {
  it('refuses bad faults with a typed error and changes nothing', async () => {
    const t = await target();
    const proxy = await proxyTo(t, { forward: { latencyMs: 10, jitterMs: 5 } });
    const bad = [
      { jitterMs: 11 },
      { latencyMs: -1 },
      { bandwidthBytesPerSec: 0 },
      { latencyMs: Number.NaN },
      { speed: 1 },
    ];
    for (const update of bad) {
      const err = (() => {
        try {
          proxy.setFaults('both', update as never);
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(update)).toBeInstanceOf(ChaosError);
      expect((err as ChaosError).code).toBe('CHAOS_BAD_FAULTS');
    }
    // 'both' is all or nothing: reverse (latency 0) would refuse jitter 5, so forward keeps its value.
    expect(() => proxy.setFaults('both', { jitterMs: 8 })).toThrow(ChaosError);
    expect(proxy.faults('forward')).toMatchObject({ latencyMs: 10, jitterMs: 5 });
    expect(() => new FaultProxy({ target: t.endpoint, seed: 1, maxQueueBytes: 10 })).toThrow(/maxQueueBytes/);
    const taken = new FaultProxy({ target: t.endpoint, seed: 1, port: proxy.address.port });
    await expect(taken.listen()).rejects.toMatchObject({ code: 'CHAOS_LISTEN_FAILED' });
    await taken.close();
  });
});
