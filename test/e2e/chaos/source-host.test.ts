import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultNetwork } from '../../../src/chaos/fault-network.js';

const closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server that reports the remote address of each connection it accepts. */
async function addressRecorder(): Promise<{
  port: number;
  seen: string[];
  arrived(n: number): Promise<void>;
}> {
  const seen: string[] = [];
  const sockets: Socket[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  const srv = createServer((s) => {
    sockets.push(s);
    seen.push(s.remoteAddress ?? '');
    s.on('error', () => undefined);
    if (waiting && seen.length >= waiting.n) waiting.resolve();
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return {
    port: (srv.address() as { port: number }).port,
    seen,
    arrived: (n) =>
      seen.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiting = { n, resolve };
          }),
  };
}

describe('FaultNetwork sourceHost', () => {
  it("node i's connections reach their target from node i's own loopback address", async () => {
    const targets = await Promise.all([addressRecorder(), addressRecorder(), addressRecorder()]);
    const net = await FaultNetwork.start({
      endpoints: targets.map((t) => ({ host: '127.0.0.1', port: t.port })),
      sourceHost: (i) => `127.0.0.${i + 2}`,
      seed: 1,
    });
    closers.push(() => net.close());
    for (const [from, to] of [
      [0, 1],
      [2, 1],
      [1, 0],
    ] as const) {
      const a = net.addressFor(from, to);
      const s = connect(a.port, a.host);
      closers.push(() => s.destroy());
      await once(s, 'connect');
    }
    await Promise.all([targets[1]!.arrived(2), targets[0]!.arrived(1)]);
    expect([...targets[1]!.seen].sort()).toEqual(['127.0.0.2', '127.0.0.4']);
    expect(targets[0]!.seen).toEqual(['127.0.0.3']);
  });
});
