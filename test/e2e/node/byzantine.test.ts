import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coin } from '../../../src/devnet/coins.js';
import { hexOf } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { decodeBlockHeader, headerHash } from '../../../src/protocol/block.js';
import type { DoubleSignEvidence } from '../../../src/storage/double-sign-store.js';
import {
  conflictViolations,
  converged,
  FAST_SLOTS,
  fundCoins,
  lostOrDuplicated,
  payment,
  waitFinal,
} from '../../support/network-checks.js';

/**
 * One of five validators (20 % of the stake) runs each Byzantine mode of the real node binary in
 * turn (`--test-switches`, flipped over RPC): the four honest nodes keep finalizing ordinary
 * transactions, never finalize both sides of a double spend, record the double-signer's evidence,
 * and ban the spammer. Links run through the fault proxies only so each node has an address of its
 * own (127.0.0.x): an IP ban then hits the spammer alone, as it would on a real network.
 */
const N = 5;
const BAD = 4;

describe('Byzantine validators (1 of 5, each mode in turn, 1 s slots)', () => {
  let net: Devnet;
  let coins: Coin[] = [];
  let label = 70_000;
  const everFinal = new Set<string>();
  const pairs: [string, string][] = [];
  const honest = () => net.nodes.slice(0, BAD);
  const bad = () => net.nodes[BAD]!;

  beforeAll(async () => {
    net = await Devnet.start({
      validators: N,
      node: { env: FAST_SLOTS, testSwitches: true },
      faults: {},
    });
    coins = await fundCoins(net.nodes[0]!, [0, 1, 2, 3], 30, net.nodes);
    for (const c of coins) everFinal.add(toHex(c.outpoint.txid));
  }, 180_000);

  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  /**
   * Under the current mode: 4 payments (one per honest node) final at every honest node, and one
   * coin spent twice (to two honest nodes) final one way at most.
   */
  async function ordinaryTrafficFinalizes(mode: string): Promise<void> {
    const pays = honest().map((n) => ({ n, tx: payment(coins.pop()!, label++) }));
    const dbl = coins.pop()!;
    const [s0, s1] = [payment(dbl, label++), payment(dbl, label++)];
    for (const p of pays) await p.n.rpc('sendrawtransaction', [hexOf(p.tx)]);
    // The rival spends go to different nodes at once: each node prefers the one it saw first.
    await Promise.all([
      honest()[0]!
        .rpc('sendrawtransaction', [hexOf(s0)])
        .catch(() => undefined),
      honest()[2]!
        .rpc('sendrawtransaction', [hexOf(s1)])
        .catch(() => undefined),
    ]);
    pairs.push([toHex(s0.txid), toHex(s1.txid)]);
    for (const n of honest())
      for (const p of pays) {
        await waitFinal(n, toHex(p.tx.txid), 30_000).catch(async (err: Error) => {
          // What the stuck node saw: its consensus state and its last warnings.
          const info = await n.rpc('getconsensusinfo').catch(() => undefined);
          const warns = n.logs.filter((l) => Number(l['level']) >= 40).slice(-15);
          throw new Error(
            `mode ${mode}: ${err.message}; consensus ${JSON.stringify(info)}; warnings ${JSON.stringify(warns)}`,
          );
        });
        everFinal.add(toHex(p.tx.txid));
      }
    expect(await conflictViolations(honest(), pairs), `mode ${mode}`).toEqual([]);
  }

  const setMode = (changes: Record<string, boolean>) => bad().rpc('test_setbehaviour', [changes]);

  for (const mode of ['silent', 'equivocate', 'alwaysNo', 'withhold', 'wrongBeacon'] as const) {
    it(`${mode}: ordinary transactions still finalize at every honest node, no conflicting pair finalizes both ways`, async () => {
      await setMode({ [mode]: true });
      try {
        await ordinaryTrafficFinalizes(mode);
        if (mode === 'withhold') {
          // Its rank came up at least once meanwhile, or wait for it: the slot fell to rank 1.
          await bad().waitForLog((l) => l.msg === 'test switch withhold: block not published', 30_000);
          const before = (await honest()[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
          await honest()[0]!.until<{ blocks: number }>(
            'getblockchaininfo',
            [],
            (r) => r.blocks >= before + 2,
          );
        }
      } finally {
        await setMode({ [mode]: false });
      }
    }, 120_000);
  }

  it('doubleSign: every honest node records the evidence (two headers, both signed by the producer) and all converge on one block', async () => {
    const producer = bad().pubkey;
    const from = bad().logs.length;
    await setMode({ doubleSign: true });
    try {
      // Off as soon as it has done it once: a second offence would get it banned (50 points each).
      await bad().waitForLog((l) => l.msg === 'test switch doubleSign: rival block published', 60_000, from);
    } finally {
      await setMode({ doubleSign: false });
    }
    const evidence = await Promise.all(
      honest().map((n) =>
        n.until<DoubleSignEvidence[]>('getdoublesignevidence', [producer], (r) => r.length >= 1, 20_000),
      ),
    );
    const first = evidence[0]![0]!;
    for (const e of evidence) {
      expect(e[0]!.slot).toBe(first.slot);
      expect(e[0]!.hashes).toEqual(first.hashes);
    }
    // The evidence stands on its own: two distinct headers of that slot by that producer, whose
    // bytes hash to the recorded hashes.
    const headers = first.headers.map((h) => decodeBlockHeader(Buffer.from(h, 'hex')));
    expect(headers.map((h) => toHex(headerHash(h.header)))).toEqual(first.hashes);
    expect(first.hashes[0]).not.toBe(first.hashes[1]);
    for (const h of headers) {
      expect(h.header.slot).toBe(first.slot);
      expect(toHex(h.header.producerPubkey)).toBe(producer);
    }
    // Fork choice picks one of the two everywhere; traffic goes on.
    const height = (await honest()[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    await converged(net.nodes, height + 1, 30_000);
    const at = await honest()[0]!
      .rpc<string>('getblockhash', [first.height])
      .catch(() => '');
    const byzantineBlockKept = first.hashes.includes(at);
    console.log(
      `double-sign at slot ${first.slot}: the chain kept ${byzantineBlockKept ? 'one of the two' : 'another rank'}`,
    );
    await ordinaryTrafficFinalizes('after doubleSign');
  }, 180_000);

  it('spam (invalid transactions, malformed block frames): honest nodes ban it, ordinary transactions still finalize', async () => {
    const spammer = bad().pubkey;
    await setMode({ spam: true });
    try {
      await Promise.all(
        honest().map((n) =>
          n.until<{ key: string }[]>('listbanned', [], (r) => r.some((b) => b.key === spammer), 30_000),
        ),
      );
      await ordinaryTrafficFinalizes('spam');
      for (const n of honest()) {
        const peers = await n.rpc<{ id?: string; pubkey?: string }[]>('getpeerinfo');
        expect(JSON.stringify(peers)).not.toContain(spammer);
      }
    } finally {
      await setMode({ spam: false });
    }
  }, 180_000);

  it('at the end: one chain at the honest nodes, every final transaction in exactly one block', async () => {
    const h = (await honest()[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    // Every final payment ends in a block (the finalized pool drains into the next blocks).
    for (const n of honest())
      for (const txid of everFinal)
        await n.until<{ status: string }>(
          'gettransactionfinality',
          [txid],
          (r) => r.status === 'in-block',
          30_000,
        );
    await converged(honest(), h, 30_000);
    expect(await lostOrDuplicated(honest(), everFinal)).toEqual([]);
    expect(await conflictViolations(honest(), pairs)).toEqual([]);
  }, 180_000);
});
