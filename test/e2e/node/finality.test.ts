import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Coin, fundedCoin, hexOf, pay, recipient, split } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { fromHex, toHex } from '../../../src/encoding/bytes.js';
import { POLL_FETCH_BUDGET } from '../../../src/node/tx-fetcher.js';
import { AT_LARGE_VERIFY_BUDGET } from '../../../src/node/verify-budget.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import { MSG, VOTE } from '../../../src/wire/message-types.js';
import { peekType } from '../../../src/wire/peek-type.js';
import { testIdentity } from '../../support/p2p-identity.js';

interface Finality {
  status: string;
  final: boolean;
}

/**
 * Transactions finalized by Snowball over real peers: validator processes (devnet masternode keys)
 * and a full node, each with its own LMDB, crypto pool and uWS/ws transport, on 127.0.0.1.
 */
describe('finality across real node processes', () => {
  let net: Devnet;
  const VALIDATORS = 5;

  beforeAll(async () => {
    net = await Devnet.start({ validators: VALIDATORS, fullNodes: 1, node: { testSwitches: true } });
  }, 120_000);

  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  async function finalEverywhere(txids: string[], timeoutMs = 60_000): Promise<void> {
    await Promise.all(
      net.nodes.map(async (node) => {
        for (const txid of txids) {
          const r = await node.rpc<Finality>('waittransactionfinality', [txid, timeoutMs]);
          if (!r.final) throw new Error(`${txid} is ${r.status} at node ${node.pubkey.slice(0, 8)}`);
        }
      }),
    );
  }

  it('every node reports itself validator or full node by its key', () => {
    expect(net.nodes.slice(0, VALIDATORS).every((n) => n.role === 'validator')).toBe(true);
    expect(net.nodes[VALIDATORS]!.role).toBe('full');
  });

  it('1,000 transactions submitted round-robin are final at every node, with identical finalized sets', async () => {
    // Funding: 10 funded keys each split into 100 coins; one split per key, submitted to node 0.
    const splits = Array.from({ length: 10 }, (_, i) => split(fundedCoin(i), 100, 10_000_000n));
    for (const s of splits) await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    await finalEverywhere(splits.map((s) => toHex(s.tx.txid)));

    // Node 0's event stream must report every one of them final (uWS publish/subscribe).
    const finalEvents = new Set<string>();
    const events = new WebSocket(`ws://127.0.0.1:${net.nodes[0]!.rpcPort}/events`, {
      headers: { authorization: net.nodes[0]!.authorization },
    });
    events.on('message', (m) => {
      const e = JSON.parse(String(m)) as { type: string; txid?: string; status?: string };
      if (e.type === 'tx' && e.status === 'finalized') finalEvents.add(e.txid!);
    });
    await new Promise((resolve, reject) => {
      events.once('error', reject);
      events.once('message', resolve); // the subscription's confirmation
      events.once('open', () => events.send(JSON.stringify({ subscribe: 'tx' })));
    });

    const coins: Coin[] = splits.flatMap((s) => s.coins);
    const txs = coins.map((c, i) => pay(c, recipient(i), 1_000_000n));
    const txids = txs.map((t) => toHex(t.txid));
    // Like a real client: a bounded number of requests in flight (64 per node).
    await inBatches(txs, 64 * net.nodes.length, (t, i) =>
      net.nodes[i % net.nodes.length]!.rpc<string>('sendrawtransaction', [hexOf(t)]),
    );
    await finalEverywhere(txids);

    // Identical final sets: at every node each of the 1,010 is final (in the finalized pool, or
    // already in a block: blocks keep being produced), and nothing else was finalized meanwhile.
    const all = [...txids, ...splits.map((s) => toHex(s.tx.txid))];
    const expected = [...all].sort();
    const sets = await Promise.all(
      net.nodes.map(async (n) => {
        const final: string[] = [];
        for (const id of all)
          if ((await n.rpc<Finality>('gettransactionfinality', [id])).final) final.push(id);
        const pool = await n.rpc<Record<string, { status: string }>>('getrawmempool', [true]);
        for (const [id, e] of Object.entries(pool))
          if (e.status === 'finalized' && !all.includes(id)) final.push(id);
        return final.sort();
      }),
    );
    for (const s of sets) expect(s).toEqual(expected);
    while (finalEvents.size < txids.length) await new Promise((r) => setTimeout(r, 20));
    expect([...finalEvents].sort()).toEqual([...txids].sort());
    events.close();

    // Every node heard of every transaction by gossip before a poll named it: a node flushes its
    // gossip before it polls, so no GetTx round trip (and no UNKNOWN vote it stands for) was needed.
    const fetches = await Promise.all(net.nodes.map((n) => n.metric('timecoin_tx_fetch_requests_total')));
    expect(fetches).toEqual(net.nodes.map(() => 0));
  }, 180_000);

  it('a double spend sent to two nodes at once: exactly one spend is final everywhere, the other rejected', async () => {
    // Funded key 9's allocation was split above; split its change into two fresh coins.
    const s = split(fundedCoinFromChange(9), 2, 20_000_000n);
    await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    await finalEverywhere([toHex(s.tx.txid)]);
    const victim = s.coins[0]!;
    const a = pay(victim, recipient(5001), 1_000_000n);
    const b = pay(victim, recipient(5002), 2_000_000n);
    const [ra, rb] = await Promise.allSettled([
      net.nodes[1]!.rpc('sendrawtransaction', [hexOf(a)]),
      net.nodes[2]!.rpc('sendrawtransaction', [hexOf(b)]),
    ]);
    expect(ra.status === 'fulfilled' || rb.status === 'fulfilled').toBe(true);
    const ids = [toHex(a.txid), toHex(b.txid)];
    const outcomes = await Promise.all(
      net.nodes.map(async (n) => {
        const r = await Promise.all(
          ids.map((id) => n.rpc<Finality>('waittransactionfinality', [id, 60_000])),
        );
        return r.map((x) => x.status);
      }),
    );
    const final = (st: string) => st === 'finalized' || st === 'in-block';
    const winners = new Set(outcomes.map((o) => o.findIndex(final)));
    expect(winners.size).toBe(1);
    const w = [...winners][0]!;
    expect(w).toBeGreaterThanOrEqual(0);
    for (const o of outcomes) {
      expect(final(o[w]!)).toBe(true);
      // The loser is rejected, or was never admitted at a node that saw the winner first.
      expect(['rejected', 'unknown']).toContain(o[1 - w]);
    }
  }, 120_000);

  it('a validator that stops answering polls does not stop finality', async () => {
    // Benching itself (a silent validator left out of samples) is tested against the engine and the
    // poll loop in test/unit/node/poller.test.ts and test/unit/consensus; here: finality goes on.
    const silent = net.nodes[4]!;
    const failedBefore = await net.nodes[0]!.metric('timecoin_poll_requests_failed_total');
    await silent.rpc('test_setbehaviour', [{ silent: true }]);
    try {
      const s = split(fundedCoinFromChange(8), 40, 10_000_000n);
      await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
      await finalEverywhere([toHex(s.tx.txid)]);
      const txs = s.coins.map((c, i) => pay(c, recipient(6000 + i), 1_000_000n));
      await inBatches(txs, 16, (t, i) => net.nodes[i % 4]!.rpc('sendrawtransaction', [hexOf(t)]));
      await finalEverywhere(txs.map((t) => toHex(t.txid)));
      // It was asked and said nothing: node 0's requests to it fail (at the poll timeout's ceiling).
      const deadline = Date.now() + 15_000;
      let failed = failedBefore;
      while (failed <= failedBefore && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        failed = await net.nodes[0]!.metric('timecoin_poll_requests_failed_total');
      }
      expect(failed).toBeGreaterThan(failedBefore);
    } finally {
      await silent.rpc('test_setbehaviour', [{ silent: false }]);
    }
  }, 180_000);

  it('a peer whose polls name random txids gets at most its poll-fetch budget fetched, and its polls still answered', async () => {
    const target = net.nodes[5]!; // the full node: it answers polls like a validator
    const genesis = fromHex((await target.rpc<{ genesis: string }>('getblockchaininfo')).genesis, 32);
    const c = await RawWsClient.connect('127.0.0.1', target.p2pPort, '/p2p/1', {
      localAddress: '127.0.0.31',
    });
    try {
      await authenticateRaw(c, testIdentity('poll flood', 1, genesis));
      const fetchesBefore = await target.metric('timecoin_tx_fetch_requests_total');
      const started = Date.now();
      const POLLS = 8;
      const answered = c.waitFor((f) => {
        const t = peekType(new Uint8Array(f.payload));
        if (t !== MSG.pollResponse) return false;
        const m = decodeFrame(new Uint8Array(f.payload), 'authenticated');
        return 'id' in m && m.id === POLLS;
      }, 30_000);
      for (let id = 1; id <= POLLS; id++)
        await c.send({ t: MSG.pollRequest, id, txids: new Uint8Array(randomBytes(32 * 1_024)) });
      const last = decodeFrame(new Uint8Array((await answered).payload), 'authenticated');
      expect(last.t === MSG.pollResponse && last.votes.every((v) => v === VOTE.unknown)).toBe(true);
      const seconds = (Date.now() - started) / 1000;
      const overBudget = await target.metric('timecoin_tx_fetch_over_budget_total');
      const fetches = (await target.metric('timecoin_tx_fetch_requests_total')) - fetchesBefore;
      // 8,192 named; 4,096 at once plus 1,024 a second may be fetched, in GetTx of ≤ 1,024 txids.
      const allowed = POLL_FETCH_BUDGET.burst + POLL_FETCH_BUDGET.perSec * seconds;
      expect(overBudget).toBeGreaterThanOrEqual(POLLS * 1_024 - allowed);
      expect(fetches).toBeLessThanOrEqual(Math.ceil(allowed / 1_024) + POLLS);
    } finally {
      c.destroy();
    }
  }, 60_000);

  it('keys without stake gossiping transactions with bad signatures get at most the shared verify budget checked, and are banned', async () => {
    // 32 fresh keys on 32 addresses (as free as IPv6 addresses are), each with one frame of 256
    // distinct spends of a coin that exists (so each would be verified), R of each signature
    // altered. A key is banned by its first refusals, but each frame is read before that: without
    // a budget shared by all keys, all 8,192 would be checked.
    const KEYS = 32;
    const coin = fundedCoinFromChange(6);
    const frames = Array.from({ length: KEYS }, (_, k) => {
      const txs = Array.from({ length: 256 }, (_, i) => {
        const bytes = pay(coin, recipient(10_000), 1_000_000n + BigInt(k * 256 + i)).bytes.slice();
        bytes[bytes.length - 64]! ^= 1;
        return bytes;
      });
      return RawWsClient.frame(encodeMessage({ t: MSG.tx, id: 0, txs }));
    });
    // Built first: signing blocks this loop for seconds, long enough for the node to close an idle
    // keep-alive connection our next RPC would otherwise reuse.
    const target = net.nodes[4]!;
    const genesis = fromHex((await target.rpc<{ genesis: string }>('getblockchaininfo')).genesis, 32);
    const series = (name: string, label: string) => target.metric(`${name}{${label}}`);
    const refused0 = await series('timecoin_tx_refused_total', 'code="BAD_SIGNATURE"');
    const dropped0 = await series('timecoin_tx_dropped_total', 'reason="verify_budget"');
    const clients: RawWsClient[] = [];
    try {
      for (let k = 0; k < KEYS; k++) {
        const c = await RawWsClient.connect('127.0.0.1', target.p2pPort, '/p2p/1', {
          localAddress: `127.0.${100 + k}.1`,
        });
        clients.push(c);
        await authenticateRaw(c, testIdentity('bad signatures', k, genesis));
      }
      const started = Date.now();
      await Promise.all(clients.map((c, k) => c.write(frames[k]!)));
      // Every transaction is either checked (and refused) or dropped over budget, unchecked.
      let checked = 0;
      let dropped = 0;
      while (checked + dropped < KEYS * 256) {
        await new Promise((r) => setTimeout(r, 100));
        checked = (await series('timecoin_tx_refused_total', 'code="BAD_SIGNATURE"')) - refused0;
        dropped = (await series('timecoin_tx_dropped_total', 'reason="verify_budget"')) - dropped0;
      }
      const seconds = (Date.now() - started) / 1000;
      console.log('CHECKED', checked, dropped, seconds);
      expect(checked).toBeGreaterThan(0);
      expect(dropped).toBeGreaterThan(0);
      expect(checked).toBeLessThanOrEqual(
        AT_LARGE_VERIFY_BUDGET.burst + AT_LARGE_VERIFY_BUDGET.perSec * seconds,
      );
      // A refusal scores 10 points: every key with 10 of them is banned and disconnected.
      while (clients.filter((c) => c.closeCode === 4008).length < Math.floor(checked / 256))
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      for (const c of clients) c.destroy();
    }
    // Honest transactions still finalize everywhere.
    const ok = pay(coin, recipient(20_000), 1_000_000n);
    await target.rpc('sendrawtransaction', [hexOf(ok)]);
    await finalEverywhere([toHex(ok.txid)]);
  }, 120_000);

  it('a validator SIGKILLed with transactions in flight comes back, catches up, and has everything it reported final', async () => {
    const victimIx = 3;
    const s = split(fundedCoinFromChange(7), 120, 10_000_000n);
    await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    await finalEverywhere([toHex(s.tx.txid)]);
    const txs = s.coins.map((c, i) => pay(c, recipient(7000 + i), 1_000_000n));
    const ids = txs.map((t) => toHex(t.txid));
    // The first half goes in; the victim is killed while they are being decided.
    await inBatches(txs.slice(0, 60), 16, (t, i) =>
      net.nodes[i % net.nodes.length]!.rpc('sendrawtransaction', [hexOf(t)]),
    );
    const victim = net.nodes[victimIx]!;
    const reported: string[] = [];
    for (const id of ids.slice(0, 60))
      if ((await victim.rpc<Finality>('gettransactionfinality', [id])).final) reported.push(id);
    await victim.kill('SIGKILL');
    const others = net.nodes.filter((_, i) => i !== victimIx);
    await inBatches(txs.slice(60), 16, (t, i) =>
      others[i % others.length]!.rpc('sendrawtransaction', [hexOf(t)]),
    );
    const back = await victim.restart();
    net.nodes[victimIx] = back;
    // Nothing it reported final before the kill is missing, and it learns the rest (catch-up and
    // blocks), without anything being resubmitted to it.
    for (const id of reported)
      expect((await back.rpc<Finality>('gettransactionfinality', [id])).final, id).toBe(true);
    await finalEverywhere(ids, 90_000);
  }, 240_000);
});

/** Runs `f` over `items` with at most `width` calls in flight. */
async function inBatches<T>(items: readonly T[], width: number, f: (t: T, i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i]!, i);
      }
    }),
  );
}

/** The change output of funded key `k`'s split in the first test (its last output). */
function fundedCoinFromChange(k: number): Coin {
  const s = split(fundedCoin(k), 100, 10_000_000n);
  const vout = s.tx.tx.outputs.length - 1;
  return { outpoint: { txid: s.tx.txid, vout }, value: s.tx.tx.outputs[vout]!.value, key: fundedCoin(k).key };
}
