import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';
import type { Coin } from '../../../src/devnet/coins.js';
import { hexOf } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';
import {
  converged,
  FAST_SLOTS,
  type Finality,
  fundCoins,
  lostOrDuplicated,
  payment,
} from '../../support/network-checks.js';

/**
 * SIGKILL loop under steady load: a random validator is killed (never more than one of five down,
 * so 80 % of the stake stays reachable, above the 70 % polling quorum), restarted on its data dir
 * after 1–3 s, and the next one is killed once it has caught up. KILL_LOOP_KILLS (default 3 in CI;
 * 30 for the full run) sets the number of kills.
 *
 * At the end: every txid any node ever reported final is final at every node and in exactly one
 * block, all chains are identical, and every killed node has produced a block again.
 */
const KILLS = Number(process.env['KILL_LOOP_KILLS'] ?? 3);
const SEED = Number(process.env['KILL_LOOP_SEED'] ?? 20_261_202);
const N = 5;
const TPS = 5;
/** Each kill cycle (outage, restart, catch-up) takes 4–8 s here; leave room for a loaded machine. */
const TIMEOUT_MS = Math.max(900_000, 120_000 + KILLS * 45_000);

describe(`kill -9 loop: ${KILLS} SIGKILLs of random validators under ${TPS} tx/s (1 s slots)`, () => {
  let net: Devnet;
  let coins: Coin[] = [];

  beforeAll(async () => {
    net = await Devnet.start({ validators: N, node: { env: FAST_SLOTS }, faults: { seed: SEED } });
    coins = await fundCoins(net.nodes[0]!, [0, 1, 2, 3, 4, 5], Math.max(40, KILLS * 12), net.nodes);
  }, 180_000);

  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  it('0 finalized transactions lost, one chain at the end, every killed node produces again', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const rng = new Xoshiro128(SEED);
    const down = new Set<number>();
    const submitted: string[] = [];
    const everFinal = new Set<string>();
    let label = 90_000;
    let loading = true;

    // Steady load: one payment every 1000/TPS ms to a random node that is up.
    const load = (async () => {
      while (loading && coins.length > 0) {
        const up = [...Array(N).keys()].filter((i) => !down.has(i));
        const node = net.nodes[up[rng.nextU32() % up.length]!]!;
        const tx = payment(coins.pop()!, label++);
        try {
          await node.rpc('sendrawtransaction', [hexOf(tx)]);
          submitted.push(toHex(tx.txid));
        } catch {
          // The node died under the request: the transaction may or may not have gone out.
          submitted.push(toHex(tx.txid));
        }
        await new Promise((r) => setTimeout(r, 1_000 / TPS));
      }
    })();
    // A watcher: what live nodes report final, as it happens (a txid reported final even once
    // must never be lost, including by the node that said so and then died).
    let watched = 0;
    const watch = (async () => {
      while (loading) {
        const up = [...Array(N).keys()].filter((i) => !down.has(i));
        const node = net.nodes[up[rng.nextU32() % up.length]!]!;
        for (const txid of submitted.slice(watched)) {
          const r = await node.rpc<Finality>('gettransactionfinality', [txid]).catch(() => undefined);
          if (r?.final) everFinal.add(txid);
        }
        watched = Math.max(0, submitted.length - 40);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    const killed = new Set<number>();
    const timeline: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const i = rng.nextU32() % N;
      down.add(i);
      const t0 = Date.now();
      await net.nodes[i]!.kill('SIGKILL');
      killed.add(i);
      await new Promise((r) => setTimeout(r, 1_000 + (rng.nextU32() % 2_000))); // the outage itself
      const fresh = await net.restart(i);
      // Back: connected to the others and caught up with them, before anyone else goes down.
      await fresh.until<unknown[]>('getpeerinfo', [], (p) => p.length >= N - 1, 60_000);
      const other = net.nodes[(i + 1) % N]!;
      const target = (await other.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
      await fresh.until<{ blocks: number }>('getblockchaininfo', [], (r) => r.blocks >= target, 60_000);
      down.delete(i);
      timeline.push(`kill ${k}: node ${i}, back in ${Date.now() - t0} ms at height ${target}`);
    }
    loading = false;
    await load;
    await watch;
    console.log(`kill loop (seed ${SEED}):\n  ${timeline.join('\n  ')}`);

    // Every killed node produces again (each has rank 0 about one slot in five).
    await Promise.all(
      [...killed].map((i) => net.nodes[i]!.waitForLog((l) => l.msg === 'block produced', 90_000)),
    );
    // Every submitted txid any node reports final now counts too.
    for (const node of net.nodes)
      for (const txid of submitted) {
        const r = await node.rpc<Finality>('gettransactionfinality', [txid]);
        if (r.final) everFinal.add(txid);
      }
    expect(everFinal.size).toBeGreaterThan(submitted.length / 2);
    for (const node of net.nodes)
      for (const txid of everFinal)
        await node.until<Finality>('gettransactionfinality', [txid], (r) => r.status === 'in-block', 60_000);
    const h = (await net.nodes[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    await converged(net.nodes, h, 30_000);
    expect(await lostOrDuplicated(net.nodes, everFinal)).toEqual([]);
    console.log(`kill loop: ${submitted.length} submitted, ${everFinal.size} final, 0 lost`);
  });
});
