// The fault network in a helper process (compiled dist/: `npm test` builds first), driven over
// JSON lines by ChaosProcess.
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosError } from '../../../src/chaos/chaos-error.js';
import { ChaosProcess } from '../../../src/chaos/chaos-process.js';
import type { FaultNetworkStats } from '../../../src/chaos/fault-network.js';
import { WsNode, WsPeer } from './ws-support.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(n: number, args: string[] = []): Promise<{ nodes: WsNode[]; chaos: ChaosProcess }> {
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => WsNode.start(i)));
  cleanup.push(() => Promise.all(nodes.map((x) => x.close())).then(() => undefined));
  const chaos = await ChaosProcess.start({ endpoints: nodes.map((x) => x.endpoint), seed: 1234, args });
  cleanup.push(() => chaos.close());
  return { nodes, chaos };
}

async function link(chaos: ChaosProcess, from: number, to: number): Promise<WsPeer> {
  const p = new WsPeer(chaos.addressFor(from, to));
  cleanup.push(() => p.terminate());
  expect(await p.opened).toBe(true);
  return p;
}

describe('chaos helper process', () => {
  it('reports its seed and links, partitions and heals on command', async () => {
    const { chaos } = await start(3);
    expect(chaos.seed).toBe(1234);
    expect(chaos.links.size).toBe(6);
    const across = await link(chaos, 0, 2);
    expect(await across.who()).toBe('node:2');

    expect(await chaos.command({ op: 'partition', groups: [[0], [1, 2]], mode: 'reset' })).toBeNull();
    expect(await across.closed).toBe(1006);
    expect(await new WsPeer(chaos.addressFor(0, 1)).opened).toBe(false);
    expect(await (await link(chaos, 1, 2)).who()).toBe('node:2');
    const stats = (await chaos.command({ op: 'stats' })) as FaultNetworkStats;
    expect(stats.partition).toEqual([[0], [1, 2]]);
    expect(stats.links.find((l) => l.from === 0 && l.to === 1)?.refused).toBe(1);

    await chaos.command({ op: 'heal' });
    expect(await (await link(chaos, 0, 1)).who()).toBe('node:1');
    await chaos.command({ op: 'faults', from: 0, to: 1, faults: { latencyMs: 30 } });
    const slow = await link(chaos, 0, 1);
    const t0 = performance.now();
    await slow.who();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    const after = (await chaos.command({ op: 'stats' })) as FaultNetworkStats;
    expect(after.links.find((l) => l.from === 0 && l.to === 1)?.forward.faults.latencyMs).toBe(30);
    expect(after.links.find((l) => l.from === 1 && l.to === 0)?.reverse.faults.latencyMs).toBe(30);
    expect(after.links.find((l) => l.from === 1 && l.to === 0)?.forward.faults.latencyMs).toBe(0);
  });

  it('answers bad commands with typed errors and keeps running', async () => {
    const { chaos } = await start(2);
    const refusal = async (cmd: Parameters<ChaosProcess['command']>[0]) => {
      try {
        await chaos.command(cmd);
      } catch (e) {
        expect(e).toBeInstanceOf(ChaosError);
        return (e as ChaosError).code;
      }
      throw new Error(`accepted ${JSON.stringify(cmd)}`);
    };
    expect(await refusal({ op: 'faults', faults: { jitterMs: 5 } })).toBe('CHAOS_BAD_FAULTS');
    expect(await refusal({ op: 'partition', groups: [[0]] })).toBe('CHAOS_BAD_PARTITION');
    expect(await refusal({ op: 'isolate', node: 7 })).toBe('CHAOS_BAD_LINK');
    expect(await refusal({ op: 'faults', from: 0, faults: {} })).toBe('CHAOS_BAD_LINK');
    expect(await refusal({ op: 'explode' } as never)).toBe('CHAOS_BAD_COMMAND');

    const unmatched = chaos.unmatched.length;
    chaos.sendRaw('this is not json');
    chaos.sendRaw(`{"op":"heal","pad":"${'x'.repeat(100_000)}"}`); // over the line limit
    chaos.sendRaw('{"op":"heal"}');
    await chaos.command({ op: 'links' }); // answered in order: the raw lines were handled first
    const codes = chaos.unmatched.slice(unmatched).map((r) => (r.ok ? 'ok' : r.error.code));
    expect(codes).toEqual(['CHAOS_BAD_COMMAND', 'CHAOS_BAD_COMMAND', 'ok']);
    expect(await chaos.command({ op: 'reset' })).toEqual({ reset: 0 });
  });

  it('refuses bad start-up options with a typed error', async () => {
    await expect(ChaosProcess.start({ endpoints: [{ host: '127.0.0.1', port: 1 }] })).rejects.toThrow(
      /at least 2 endpoints/,
    );
    await expect(
      ChaosProcess.start({
        endpoints: [
          { host: '127.0.0.1', port: 1 },
          { host: '127.0.0.1', port: 2 },
        ],
        args: ['--jitter-ms', '5'],
      }),
    ).rejects.toThrow(/jitterMs 5 > latencyMs 0/);
    await expect(
      ChaosProcess.start({ endpoints: [{ host: '127.0.0.1', port: 1 }], args: ['--endpoint', 'localhost'] }),
    ).rejects.toThrow(/bad endpoint "localhost"/);
  });

  it('exits when its stdin closes (the parent went away), and on the close command', async () => {
    const a = await start(2);
    a.chaos.sendRaw('');
    await a.chaos.close(); // ends stdin
    expect(await a.chaos.exited).toBe(0);
    const b = await start(2);
    expect(await b.chaos.command({ op: 'close' })).toBeNull();
    expect(await b.chaos.exited).toBe(0);
    await expect(b.chaos.command({ op: 'links' })).rejects.toMatchObject({ code: 'CHAOS_NOT_RUNNING' });
  });
});
