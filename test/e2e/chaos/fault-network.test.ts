import { afterEach, describe, expect, it } from 'vitest';
import { ChaosError } from '../../../src/chaos/chaos-error.js';
import { FaultNetwork } from '../../../src/chaos/fault-network.js';
import { quietPeriod, until } from './support.js';
import { WsNode, WsPeer } from './ws-support.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function mesh(n: number, seed = 5): Promise<{ nodes: WsNode[]; net: FaultNetwork }> {
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => WsNode.start(i)));
  cleanup.push(() => Promise.all(nodes.map((x) => x.close())).then(() => undefined));
  const net = await FaultNetwork.start({ endpoints: nodes.map((x) => x.endpoint), seed });
  cleanup.push(() => net.close());
  return { nodes, net };
}

/** Node `from` dials node `to` through the network and waits for the WebSocket to open. */
async function link(net: FaultNetwork, from: number, to: number): Promise<WsPeer> {
  const p = new WsPeer(net.addressFor(from, to));
  cleanup.push(() => p.terminate());
  expect(await p.opened).toBe(true);
  return p;
}

function caught(f: () => void): ChaosError {
  try {
    f();
  } catch (e) {
    if (e instanceof ChaosError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('FaultNetwork: addressing', () => {
  it('gives every directed link its own proxy, and addressFor(i, j) reaches node j', async () => {
    const { net } = await mesh(4);
    const ports = new Set<number>();
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        if (i === j) continue;
        ports.add(net.addressFor(i, j).port);
        const p = await link(net, i, j);
        expect(await p.who()).toBe(`node:${j}`);
        expect(net.proxy(i, j).stats().accepted).toBe(1);
      }
    expect(ports.size).toBe(12);
    expect(caught(() => net.addressFor(1, 1)).code).toBe('CHAOS_BAD_LINK');
    expect(caught(() => net.addressFor(0, 4)).code).toBe('CHAOS_BAD_LINK');
  });

  it('derives every link seed from the network seed', async () => {
    const a = await mesh(3, 77);
    const b = await mesh(3, 77);
    const c = await mesh(3, 78);
    const seeds = (net: FaultNetwork) => net.stats().links.map((l) => l.seed);
    expect(seeds(a.net)).toEqual(seeds(b.net));
    expect(new Set(seeds(a.net)).size).toBe(6);
    expect(seeds(c.net)).not.toEqual(seeds(a.net));
  });
});

describe('FaultNetwork: partitions', () => {
  it('2 | 3 as a black hole: cross links go silent but stay open, and catch up on heal', async () => {
    const { net } = await mesh(5);
    const inside = await link(net, 0, 1);
    const across = await link(net, 0, 3);
    const acrossBack = await link(net, 4, 1); // dialed from the other side
    const otherInside = await link(net, 3, 4);
    for (const p of [inside, across, acrossBack, otherInside]) await p.who();

    net.partition([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(net.stats().partition).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(await inside.who()).toBe('node:1');
    expect(await otherInside.who()).toBe('node:4');
    across.send('who');
    acrossBack.send('who');
    const fresh = new WsPeer(net.addressFor(2, 0)); // a new connection across: its upgrade is held
    cleanup.push(() => fresh.terminate());
    await quietPeriod(400);
    expect(across.inbox).toEqual([]);
    expect(acrossBack.inbox).toEqual([]);
    expect(across.open && acrossBack.open).toBe(true);
    expect(fresh.ws.readyState).toBe(fresh.ws.CONNECTING);

    net.heal();
    expect(net.stats().partition).toBeNull();
    expect(await across.next()).toBe('node:3');
    expect(await acrossBack.next()).toBe('node:1');
    expect(await fresh.opened).toBe(true);
    expect(await fresh.who()).toBe('node:0');
  });

  it('1 | 4 with resets: cross connections die, new ones are refused until heal', async () => {
    const { net } = await mesh(5);
    const across = [await link(net, 0, 2), await link(net, 3, 0)];
    const inside = await link(net, 1, 4);
    net.partition([[0], [1, 2, 3, 4]], 'reset');
    for (const p of across) expect(await p.closed).toBe(1006); // abnormal: the TCP connection was reset
    expect(await inside.who()).toBe('node:4');
    const refused = new WsPeer(net.addressFor(0, 4));
    expect(await refused.opened).toBe(false);
    expect(net.proxy(0, 4).stats().refused).toBe(1);

    // Switching the same cut to a black hole stops refusing: a new connection is held instead.
    net.partition([[0], [1, 2, 3, 4]], 'blackhole');
    const held = new WsPeer(net.addressFor(0, 3));
    cleanup.push(() => held.terminate());
    await until(() => net.proxy(0, 3).stats().connections === 1, 'connection held at the proxy');
    expect(net.proxy(0, 3).stats().refused).toBe(0);

    net.heal();
    expect(await held.opened).toBe(true);
    const again = await link(net, 0, 4);
    expect(await again.who()).toBe('node:4');
  });

  it('isolates a leader and brings it back; a new partition replaces the old one', async () => {
    const { net } = await mesh(5);
    const peers = [1, 2, 3, 4].map((j) => link(net, 0, j));
    const toLeader = await Promise.all(peers);
    net.isolate(0);
    for (const p of toLeader) p.send('who');
    await quietPeriod(300);
    for (const p of toLeader) expect(p.inbox).toEqual([]);

    // Moving from "0 isolated" to 0 | 1 with 1 joining 0: 0→1 flows again (held bytes delivered),
    // the others stay cut without releasing anything.
    net.partition([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(await toLeader[0]!.next()).toBe('node:1');
    await quietPeriod(200);
    for (const p of toLeader.slice(1)) expect(p.inbox).toEqual([]);

    net.heal();
    for (const [k, p] of toLeader.slice(1).entries()) expect(await p.next()).toBe(`node:${k + 2}`);
  });

  it('refuses partitions that are not a split of every node', async () => {
    const { net } = await mesh(3);
    expect(caught(() => net.partition([[0], [1]])).code).toBe('CHAOS_BAD_PARTITION');
    expect(
      caught(() =>
        net.partition([
          [0, 1],
          [1, 2],
        ]),
      ).code,
    ).toBe('CHAOS_BAD_PARTITION');
    expect(caught(() => net.partition([[0, 1, 2, 3]])).code).toBe('CHAOS_BAD_PARTITION');
    expect(caught(() => net.partition([[0, 1.5], [2]])).code).toBe('CHAOS_BAD_PARTITION');
    expect(caught(() => net.isolate(3)).code).toBe('CHAOS_BAD_LINK');
    expect(net.stats().partition).toBeNull();
  });
});

describe('FaultNetwork: per-flow faults', () => {
  it('drops the bytes from i to j only, whichever side dialed', async () => {
    const { nodes, net } = await mesh(3);
    const dialedBy1 = await link(net, 1, 0);
    net.setLinkFaults(0, 1, { drop: true });
    // 1 → 0 still flows (node 0 gets the request), 0 → 1 is held (the answer never comes).
    const before = nodes[0]!.received;
    dialedBy1.send('who');
    await until(() => nodes[0]!.received === before + 1, 'request at node 0');
    const dialedBy0 = new WsPeer(net.addressFor(0, 1)); // its upgrade request is 0 → 1 bytes
    cleanup.push(() => dialedBy0.terminate());
    await quietPeriod(300);
    expect(dialedBy1.inbox).toEqual([]);
    expect(dialedBy0.ws.readyState).toBe(dialedBy0.ws.CONNECTING);
    expect(await (await link(net, 2, 1)).who()).toBe('node:1'); // other flows untouched

    net.heal();
    expect(await dialedBy1.next()).toBe('node:0');
    expect(await dialedBy0.opened).toBe(true);
  });

  it('adds latency to every flow: 50 ms RTT ± 10 ms', async () => {
    const { net } = await mesh(3);
    net.setFaults({ latencyMs: 25, jitterMs: 5 });
    const p = await link(net, 2, 0);
    const rtts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      expect(await p.who()).toBe('node:0');
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    expect(rtts[0]).toBeGreaterThanOrEqual(40);
    expect(rtts[10]).toBeLessThan(60 + 250);
    expect(net.proxy(2, 0).faults('forward')).toMatchObject({ latencyMs: 25, jitterMs: 5 });
    expect(net.proxy(0, 2).faults('reverse')).toMatchObject({ latencyMs: 25, jitterMs: 5 });
  });

  it('checks an update against every proxy it touches before changing any', async () => {
    const { net } = await mesh(2);
    net.proxy(0, 1).setFaults('forward', { latencyMs: 10 });
    expect(caught(() => net.setLinkFaults(0, 1, { jitterMs: 5 })).code).toBe('CHAOS_BAD_FAULTS');
    expect(net.proxy(0, 1).faults('forward').jitterMs).toBe(0);
    // The same for the whole network: one link refusing leaves every link as it was.
    // Link 0→1 would accept it, link 1→0 (checked after it) refuses: its reverse has no latency.
    net.proxy(0, 1).setFaults('reverse', { latencyMs: 10 });
    net.proxy(1, 0).setFaults('forward', { latencyMs: 10 });
    expect(caught(() => net.setFaults({ jitterMs: 5 })).code).toBe('CHAOS_BAD_FAULTS');
    expect(
      net.stats().links.every((l) => l.forward.faults.jitterMs === 0 && l.reverse.faults.jitterMs === 0),
    ).toBe(true);
  });
});
