import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';
import { pollQuorumMet } from '../../../src/consensus/snowball/sampler.js';
import type { Coin } from '../../../src/devnet/coins.js';
import { hexOf } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import {
  conflictViolations,
  converged,
  FAST_SLOTS,
  type Finality,
  finalityMatrix,
  fundCoins,
  lostOrDuplicated,
  payment,
} from '../../support/network-checks.js';

/**
 * Partitions of a 5-validator devnet (1 s slots) whose every link runs through a fault proxy
 * (src/chaos): the cut is a black hole, as when a path dies, so connections stay open and hold
 * their bytes until the heal. With five equal Bronze validators a side can poll only if it holds
 * α_confidence/k of the stake (14/20 = 70 %): 4 of 5 can, 3 or fewer cannot, so in a 2 | 3 split
 * neither side finalizes (docs/operations.md, "Faults and attacks").
 *
 * PARTITION_CYCLES (default 3 in CI) sets the number of random cut/heal cycles; 10 for the full run.
 */
const CYCLES = Number(process.env['PARTITION_CYCLES'] ?? 3);
const SEED = Number(process.env['PARTITION_SEED'] ?? 20_261_201);
const N = 5;
/** Heal → one tip everywhere: 5 slots, plus 3 s for a CI machine running two networks at once. */
const CONVERGE_MS = 5_000 + 3_000;

const canFinalize = (side: number) => pollQuorumMet(side, N, DEVNET.snowball);

describe('partitions through the fault proxies (5 validators, 1 s slots)', () => {
  let net: Devnet;
  let coins: Coin[] = [];
  let nextCoin = 0;
  let nextLabel = 50_000;
  const everFinal = new Set<string>();
  const pairs: [string, string][] = [];
  const take = () => {
    const c = coins[nextCoin++];
    if (!c) throw new Error('out of coins');
    return c;
  };

  beforeAll(async () => {
    net = await Devnet.start({ validators: N, node: { env: FAST_SLOTS }, faults: { seed: SEED } });
    const splits = await fundCoins(net.nodes[0]!, [0, 1, 2, 3], 40, net.nodes);
    coins = splits;
  }, 180_000);

  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  /** Records every txid of `txids` that some node reports final now. */
  async function noteFinal(txids: readonly string[]): Promise<void> {
    const m = await finalityMatrix(net.nodes, txids);
    txids.forEach((t, i) => {
      if (m.some((row) => row[i]!.final)) everFinal.add(t);
    });
  }

  async function heights(idx: readonly number[]): Promise<number[]> {
    return Promise.all(
      idx.map(async (i) => (await net.nodes[i]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks),
    );
  }

  /** Waits until each txid is in a block at every node (final txs end in the chain). */
  async function inBlockEverywhere(txids: readonly string[], timeoutMs = 60_000): Promise<void> {
    for (const node of net.nodes)
      for (const txid of txids)
        await node.until<Finality>(
          'gettransactionfinality',
          [txid],
          (r) => r.status === 'in-block',
          timeoutMs,
        );
  }

  it('2 | 3 for 6 slots: neither side reaches the 70 % quorum, so nothing is finalized; after the heal one chain within 5 slots (+3 s CI margin), the double spend resolves to one side, nothing final lost', async () => {
    const nodes = net.nodes;
    expect(canFinalize(2)).toBe(false);
    expect(canFinalize(3)).toBe(false);
    expect(canFinalize(4)).toBe(true);
    const before = await converged(nodes, 1, 30_000);
    // The funding splits, final before any fault: they must survive every cycle.
    for (const c of coins) everFinal.add(toHex(c.outpoint.txid));

    net.faults!.partition([
      [0, 1],
      [2, 3, 4],
    ]);
    // Payments on both sides, and one coin spent differently on each side.
    const a = [take(), take(), take()].map((c) => payment(c, nextLabel++));
    const b = [take(), take(), take()].map((c) => payment(c, nextLabel++));
    const dbl = take();
    const aSpend = payment(dbl, nextLabel++);
    const bSpend = payment(dbl, nextLabel++);
    for (const t of [...a, aSpend]) await nodes[0]!.rpc('sendrawtransaction', [hexOf(t)]);
    for (const t of [...b, bSpend]) await nodes[3]!.rpc('sendrawtransaction', [hexOf(t)]);
    const cutTxids = [...a, ...b, aSpend, bSpend].map((t) => toHex(t.txid));
    pairs.push([toHex(aSpend.txid), toHex(bSpend.txid)]);

    // Six slots of partition, watched: nobody finalizes a cut-time transaction, nobody produces.
    const h0 = await heights([0, 1, 2, 3, 4]);
    const cutUntil = Date.now() + 6_000;
    while (Date.now() < cutUntil) {
      const m = await finalityMatrix(nodes, cutTxids);
      expect(m.flat().filter((f) => f.final)).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
    }
    const h1 = await heights([0, 1, 2, 3, 4]);
    // Blocks during the cut are allowed (a side that has not yet noticed the dead links may still
    // produce, with nothing final to carry); fork choice settles them at the heal.
    console.log(`2 | 3: heights at the cut ${h0.join(' ')}, at the heal ${h1.join(' ')}`);

    net.faults!.heal();
    const after = await converged(nodes, Math.max(...h1), CONVERGE_MS);
    expect(after.afterMs).toBeLessThanOrEqual(CONVERGE_MS);
    expect(after.height).toBeGreaterThanOrEqual(before.height);

    // Both sides' payments now finalize everywhere; the double spend finalizes one way only.
    const payments = [...a, ...b].map((t) => toHex(t.txid));
    await inBlockEverywhere(payments);
    const winner = await Promise.race(
      [aSpend, bSpend].map((t) =>
        nodes[2]!
          .until<Finality>('gettransactionfinality', [toHex(t.txid)], (r) => r.final, 60_000)
          .then(() => toHex(t.txid)),
      ),
    );
    await inBlockEverywhere([winner]);
    await noteFinal(cutTxids);
    expect(await conflictViolations(nodes, pairs)).toEqual([]);
  }, 600_000);

  it(`${CYCLES} random partition/heal cycles (1 | 4, 2 | 3, isolated leader): 0 safety violations, one chain within 5 slots (+3 s) of each heal, every final transaction in one block everywhere`, async () => {
    const rng = new Xoshiro128(SEED);
    const nodes = net.nodes;
    const kinds = ['1|4', '2|3', 'leader'] as const;
    const log: string[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const kind = kinds[cycle % kinds.length]!;
      const order = [...Array(N).keys()];
      for (let i = N - 1; i > 0; i--) {
        const j = rng.nextU32() % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let groups: number[][];
      if (kind === '1|4') groups = [order.slice(0, 1), order.slice(1)];
      else if (kind === '2|3') groups = [order.slice(0, 2), order.slice(2)];
      else {
        // The leader of the slot now starting: the node whose last 'slot' log line has rank 0.
        const leader = nodes.findIndex((n) => {
          const last = [...n.logs].reverse().find((l) => l.msg === 'slot');
          return last?.['rank'] === 0;
        });
        const l = leader >= 0 ? leader : order[0]!;
        groups = [[l], order.filter((i) => i !== l)];
      }
      net.faults!.partition(groups);
      // One payment per node, and a coin spent on both sides of the cut.
      const pays = nodes.map((n) => ({ node: n, tx: payment(take(), nextLabel++) }));
      const dbl = take();
      const s0 = payment(dbl, nextLabel++);
      const s1 = payment(dbl, nextLabel++);
      for (const p of pays) await p.node.rpc('sendrawtransaction', [hexOf(p.tx)]);
      await nodes[groups[0]![0]!]!.rpc('sendrawtransaction', [hexOf(s0)]);
      await nodes[groups[1]![0]!]!.rpc('sendrawtransaction', [hexOf(s1)]);
      pairs.push([toHex(s0.txid), toHex(s1.txid)]);
      const txids = [...pays.map((p) => p.tx), s0, s1].map((t) => toHex(t.txid));

      // The majority side of a 1 | 4 keeps going: its payments finalize during the cut.
      const big = groups.find((g) => canFinalize(g.length));
      if (big) {
        const local = pays.filter((_, i) => big.includes(i)).map((p) => toHex(p.tx.txid));
        for (const i of big)
          for (const t of local) {
            const r = await nodes[i]!.rpc<Finality>('waittransactionfinality', [t, 20_000]);
            expect(r.final, `cycle ${cycle} ${kind}: ${t.slice(0, 8)} at node ${i}`).toBe(true);
          }
      }
      const cutMs = 3_000 + (rng.nextU32() % 4) * 1_000;
      await new Promise((r) => setTimeout(r, cutMs)); // the cut's length is the fault itself
      await noteFinal(txids);
      expect(await conflictViolations(nodes, pairs)).toEqual([]);
      const hs = await heights(order);
      net.faults!.heal();
      const c = await converged(nodes, Math.max(...hs), CONVERGE_MS);
      log.push(`${kind} ${JSON.stringify(groups)} cut ${cutMs} ms, one tip after ${c.afterMs} ms`);
      await noteFinal(txids);
      expect(await conflictViolations(nodes, pairs)).toEqual([]);
    }
    console.log(`partition cycles (seed ${net.faults!.seed}):\n  ${log.join('\n  ')}`);
    // Every transaction any node ever reported final: in exactly one block of one shared chain.
    await inBlockEverywhere([...everFinal]);
    await converged(nodes, 1, 30_000);
    expect(await lostOrDuplicated(nodes, everFinal)).toEqual([]);
    expect(await conflictViolations(nodes, pairs)).toEqual([]);
  }, 600_000);
});
