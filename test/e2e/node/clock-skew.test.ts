import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coin } from '../../../src/devnet/coins.js';
import { hexOf } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { chainTxs, converged, fundCoins, payment, waitFinal } from '../../support/network-checks.js';

/**
 * Clock skew (docs/operations.md, "Clock skew"): with 2 s slots, validator 3 runs 2 s ahead and
 * validator 4 runs 2 s behind (`--test-clock-offset-ms`, devnet only). The devnet's clock tolerance
 * is 1 s, so the skewed nodes' blocks fall outside it:
 * - the fast node publishes 2 s early: honest nodes see its block as from the future and drop it
 *   (the slot falls to the next rank); it is not invalid and nobody is scored for it;
 * - the slow node publishes 2 s late: its block arrives after its rank window plus the tolerance, is
 *   kept but not timely, and loses fork choice to a timely block of the same height; and to it
 *   honest blocks are from the future, so it may stop following the chain (one run: stuck at
 *   height 2 while the others reached 14; others: it followed).
 * Transactions do not depend on clocks (Snowball has no timestamps), so they finalize as usual,
 * and the chain of the three honest clocks keeps going — more slowly: one run made 3 blocks in
 * 12 slots. Not yet explained; a likely cause is the fast node announcing tips above everyone's
 * (its own blocks, dropped by the others as from the future), which would keep honest producers in
 * their "syncing, do not produce" state (to be checked: BlockSync's peer tips).
 */
const SLOT_MS = 2_000;
const ENV = {
  TIMECOIN_CHAIN_SLOT_MS: String(SLOT_MS),
  TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: '400',
};
const AHEAD = 3;
const BEHIND = 4;

describe('clock skew: one validator 2 s ahead, one 2 s behind (2 s slots)', () => {
  let net: Devnet;
  let coins: Coin[] = [];

  beforeAll(async () => {
    net = await Devnet.start({
      validators: 5,
      node: { env: ENV },
      argsFor: (i) =>
        i === AHEAD ? ['--test-clock-offset-ms=2000'] : i === BEHIND ? ['--test-clock-offset-ms=-2000'] : [],
    });
    coins = await fundCoins(net.nodes[0]!, [0, 1, 2], 30, net.nodes);
  }, 180_000);

  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  it('over 12 slots the chain keeps going (more slowly), transactions finalize everywhere, skewed blocks treated per the policy', async () => {
    const honest = net.nodes.slice(0, 3);
    const start = (await honest[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    const t0 = Date.now();
    const txids: string[] = [];
    let label = 95_000;
    while (Date.now() - t0 < 12 * SLOT_MS) {
      const node = net.nodes[txids.length % net.nodes.length]!;
      const tx = payment(coins.pop()!, label++);
      await node.rpc('sendrawtransaction', [hexOf(tx)]);
      txids.push(toHex(tx.txid));
      await new Promise((r) => setTimeout(r, 500));
    }
    // Finality: every node, skewed or not (votes carry no time).
    for (const n of net.nodes) for (const t of txids) await waitFinal(n, t, 30_000);
    const end = (await honest[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    // The chain keeps going, but slower: measured 3 blocks in 12 slots here (docs/operations.md,
    // "Clock skew": the fast node's blocks and tips run ahead of everyone's clock).
    expect(end - start).toBeGreaterThanOrEqual(2);
    const c = await converged(honest, end, 30_000);

    // What became of the skewed producers' blocks (the policy in the file comment).
    const chain = await chainTxs(honest[0]!);
    const producers = await Promise.all(
      chain.hashes
        .slice(start + 1)
        .map(async (h) => (await honest[0]!.rpc<{ producer: string }>('getblock', [h])).producer),
    );
    const count = (i: number) => producers.filter((p) => p === net.nodes[i]!.pubkey).length;
    const ahead = net.nodes[AHEAD]!.logs.filter((l) => l.msg === 'block produced').length;
    const behind = net.nodes[BEHIND]!.logs.filter((l) => l.msg === 'block produced').length;
    console.log(
      `clock skew: honest chain ${start}→${c.height}; blocks in it by the fast node ${count(AHEAD)} (it produced ${ahead}), by the slow node ${count(BEHIND)} (it produced ${behind}); by honest producers ${[0, 1, 2].map(count).join('/')}`,
    );
    // Honest producers' blocks keep landing.
    expect([0, 1, 2].map(count).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    // The fast node follows the honest chain (to it, honest blocks are merely late). The slow node
    // sees honest blocks as from the future (more than the 1 s tolerance ahead of its clock) and
    // may stop following until its clock is fixed (docs/operations.md): logged, not asserted.
    await net.nodes[AHEAD]!.until<{ blocks: number }>(
      'getblockchaininfo',
      [],
      (r) => r.blocks >= end,
      30_000,
    );
    const slow = (await net.nodes[BEHIND]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    console.log(`clock skew: the slow node is at height ${slow}, the honest chain at ${end}`);
  }, 300_000);
});
