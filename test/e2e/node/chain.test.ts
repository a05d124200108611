import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetMasternodes } from '../../../src/chain/genesis.js';
import { type Coin, FEE, fundedCoin, hexOf, pay, recipient, split } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { toHex } from '../../../src/encoding/bytes.js';

const SLOT_MS = 1_000;
const ENV = { TIMECOIN_CHAIN_SLOT_MS: String(SLOT_MS), TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: '200' };
const SAT = 100_000_000n;

interface Finality {
  status: string;
  final: boolean;
}
interface RpcBlock {
  hash: string;
  height: number;
  slot: number;
  producer: string;
  rank: number;
  beacon: string;
  previousblockhash: string;
  tx: { txid: string; vout: { sat: string; address: string }[]; vin: unknown[]; locktime: number }[];
}

/**
 * The reward rule of docs/protocol.md written out again from the text, NOT from src/chain/reward.ts:
 * treasury, producer (30 TIME + fees + empty tiers' pools + dust), then each non-empty tier's pool
 * split among its members in pubkey order from a beacon-seeded offset. The devnet has five Bronze
 * masternodes, so Gold, Silver and Free pools go to the producer.
 */
function expectedCoinbase(block: RpcBlock, fees: bigint): { sat: string; address: string }[] {
  const enc = new TextEncoder();
  const treasury = toHex(sha256(enc.encode('TIME:treasury:devnet')).slice(0, 20));
  const mns = devnetMasternodes()
    .map((m) => ({ pub: toHex(m.nodeKey.publicKey), reward: toHex(m.ownerKey.addressPayload) }))
    .sort((a, b) => (a.pub < b.pub ? -1 : 1));
  const producer = mns.find((m) => m.pub === block.producer)!;
  const y = Buffer.from(block.beacon, 'hex');
  const tag = Buffer.concat([enc.encode('TIME:reward:1'), Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(y.length);
  const digest = sha256(Buffer.concat([tag, Buffer.from([1]), len, y])); // tier 1 = Bronze
  const offset = Number(Buffer.from(digest).readBigUInt64LE(0) % BigInt(mns.length));
  const share = (14n * SAT) / BigInt(mns.length);
  const dust = 14n * SAT - share * BigInt(mns.length);
  const producerSat = 30n * SAT + fees + (25n + 18n + 8n) * SAT + dust;
  return [
    { sat: (5n * SAT).toString(), address: treasury },
    { sat: producerSat.toString(), address: producer.reward },
    ...mns.map((_, j) => ({ sat: share.toString(), address: mns[(offset + j) % mns.length]!.reward })),
  ];
}

describe('the chain across real node processes (1 s slots)', () => {
  let net: Devnet;

  beforeAll(async () => {
    net = await Devnet.start({ validators: 5, node: { env: ENV, testSwitches: true } });
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  it('5 validators run 30+ slots with transactions flowing: one chain, each transaction in one block, every coinbase as the rule says', async () => {
    const nodes = net.nodes;
    const splits = Array.from({ length: 10 }, (_, i) => split(fundedCoin(i), 12, 10_000_000n));
    for (const s of splits) await nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    // Final at every node before their outputs are spent there: payments go round-robin, and a node
    // that has not yet finalized a split refuses its outputs (INPUT_NOT_FOUND); finality reaches the
    // nodes moments apart, more so on a loaded machine.
    for (const n of nodes)
      for (const s of splits) await n.rpc('waittransactionfinality', [toHex(s.tx.txid), 60_000]);
    const coins: Coin[] = splits.flatMap((s) => s.coins);
    const submitted = splits.map((s) => toHex(s.tx.txid));
    const startHeight = (await nodes[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    const startSlot = Math.floor(Date.now() / SLOT_MS);

    // 4 payments a slot, round-robin over the nodes, for 30 slots.
    for (let i = 0; i < coins.length; i++) {
      const tx = pay(coins[i]!, recipient(10_000 + i), 1_000_000n);
      await nodes[i % nodes.length]!.rpc('sendrawtransaction', [hexOf(tx)]);
      submitted.push(toHex(tx.txid));
      await new Promise((r) => setTimeout(r, SLOT_MS / 4));
    }
    // Every transaction ends up in a block at every node.
    for (const n of nodes)
      for (const id of submitted) {
        await n.until<Finality>('gettransactionfinality', [id], (f) => f.status === 'in-block', 60_000);
      }
    expect(Math.floor(Date.now() / SLOT_MS) - startSlot).toBeGreaterThanOrEqual(30);

    // One chain: wait for a common height, then the same hash at every height everywhere.
    const heights = await Promise.all(nodes.map((n) => n.rpc<{ blocks: number }>('getblockchaininfo')));
    const top = Math.max(...heights.map((h) => h.blocks));
    await Promise.all(
      nodes.map((n) => n.until<{ blocks: number }>('getblockchaininfo', [], (i) => i.blocks >= top, 30_000)),
    );
    expect(top - startHeight).toBeGreaterThanOrEqual(20);
    const chains = await Promise.all(
      nodes.map(async (n) => {
        const hashes: string[] = [];
        for (let h = 0; h <= top; h++) hashes.push(await n.rpc<string>('getblockhash', [h]));
        return hashes;
      }),
    );
    for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);

    // Each transaction in exactly one block; each coinbase recomputed independently.
    const seen = new Map<string, number>();
    for (let h = 1; h <= top; h++) {
      const b = await nodes[0]!.rpc<RpcBlock>('getblock', [chains[0]![h]!, 2]);
      expect(b.previousblockhash).toBe(chains[0]![h - 1]);
      for (const t of b.tx.slice(1)) seen.set(t.txid, (seen.get(t.txid) ?? 0) + 1);
      const coinbase = b.tx[0]!;
      expect(coinbase.vin).toEqual([]);
      expect(coinbase.locktime).toBe(h);
      const fees = BigInt(b.tx.length - 1) * FEE;
      expect(coinbase.vout.map((o) => ({ sat: o.sat, address: o.address }))).toEqual(
        expectedCoinbase(b, fees),
      );
    }
    for (const id of submitted) expect(seen.get(id), id).toBe(1);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  }, 300_000);
});

describe('a killed leader', () => {
  let net: Devnet;

  beforeAll(async () => {
    net = await Devnet.start({ validators: 5, node: { env: ENV, testSwitches: true } });
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  it('the rank-0 leader killed just before its slot: rank 1 produces, the chain goes on; back, it syncs 50+ blocks in batches and produces again', async () => {
    const { beaconInput } = await import('../../../src/beacon/beacon-input.js');
    const { rankLeaders } = await import('../../../src/beacon/leader-ranking.js');
    const { vdfEvaluate } = await import('../../../src/vdf/vdf.js');
    const { devnetParams } = await import('../../../src/params/networks.js');
    const params = devnetParams({ slotMs: SLOT_MS, leaderFallbackStepMs: 200 });
    const nodes = net.nodes;
    const slotOf = (ms: number) => Math.floor((ms - params.genesisTimeMs) / params.slotMs);
    // Wait until the chain runs, then predict the leader of the slot after next from node 0's chain.
    await nodes[0]!.until<{ blocks: number }>('getblockchaininfo', [], (i) => i.blocks >= 3, 60_000);
    let victimIx = -1;
    let targetSlot = 0;
    const pickDeadline = Date.now() + 30_000;
    while (victimIx < 0 && Date.now() < pickDeadline) {
      const s = slotOf(Date.now()) + 1; // the next slot
      // Its anchor is the newest block with slot < s − 1 = the current slot: the tip, or the tip's
      // parent once the current slot's block has arrived. Either way it is already fixed.
      const info = await nodes[0]!.rpc<{ bestblockhash: string; bestslot: number }>('getblockchaininfo');
      let anchor = info.bestblockhash;
      if (info.bestslot >= s - 1) {
        const tip = await nodes[0]!.rpc<RpcBlock>('getblock', [info.bestblockhash, 1]);
        if (tip.slot !== s - 1) continue; // the slot turned while we asked; look again
        anchor = tip.previousblockhash;
      }
      const y = vdfEvaluate(beaconInput(params.chainId, s, Buffer.from(anchor, 'hex')), params.vdfDelay).y;
      const ranked = rankLeaders(
        devnetMasternodes().map((m) => ({ nodePubkey: m.nodeKey.publicKey, weight: 10 })),
        y,
      );
      const leader = toHex(ranked[0]!.nodePubkey);
      // Kill it before its slot starts: at least 100 ms ahead, or try the next slot.
      const startMs = params.genesisTimeMs + s * params.slotMs;
      if (startMs - Date.now() < 100) continue;
      victimIx = nodes.findIndex((n) => n.pubkey === leader);
      targetSlot = s;
    }
    expect(victimIx).toBeGreaterThanOrEqual(0);
    const victim = nodes[victimIx]!;
    await victim.kill('SIGKILL');
    const killSlot = slotOf(Date.now());
    const survivors = nodes.filter((n) => n !== victim);
    const before = (await survivors[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    // The target slot passes; its block (if any) is not the dead leader's and has rank ≥ 1.
    await survivors[0]!.until<{ bestslot: number }>(
      'getblockchaininfo',
      [],
      (i) => i.bestslot > targetSlot,
      30_000,
    );
    const top = (await survivors[0]!.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    let sawTarget = false;
    for (let h = before + 1; h <= top; h++) {
      const b = await survivors[0]!.rpc<RpcBlock>('getblock', [
        await survivors[0]!.rpc<string>('getblockhash', [h]),
        1,
      ]);
      // Nothing for a slot after the kill comes from the dead node (its last gossip may still land).
      if (b.slot > killSlot) expect(b.producer).not.toBe(victim.pubkey);
      if (b.slot === targetSlot) {
        sawTarget = true;
        expect(b.rank).toBeGreaterThanOrEqual(1);
      }
    }
    expect(sawTarget).toBe(true);
    // Down for 50+ blocks.
    await survivors[0]!.until<{ blocks: number }>(
      'getblockchaininfo',
      [],
      (i) => i.blocks >= before + 55,
      120_000,
    );
    const back = await victim.restart({ seeds: [survivors[0]!.p2pAddress] });
    net.nodes[victimIx] = back;
    // It syncs in batches of at most 50, then produces again.
    await back.waitForLog((l) => l.msg === 'synced blocks', 60_000);
    await back.waitForLog((l) => l.msg === 'block produced' && l['outcome'] === 'applied', 120_000);
    const batches = back.logs.filter((l) => l.msg === 'synced blocks');
    expect(batches.every((l) => (l['blocks'] as number) <= 50)).toBe(true);
    expect(batches.reduce((s, l) => s + (l['blocks'] as number), 0)).toBeGreaterThanOrEqual(50);
    // It produced on top of the synced chain, 50+ blocks past where it died.
    expect((await back.rpc<{ blocks: number }>('getblockchaininfo')).blocks).toBeGreaterThanOrEqual(
      before + 50,
    );
    // Its chain is everyone's chain: all five agree on a block well after its return.
    const tipOf = async (n: (typeof nodes)[number]) =>
      (await n.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    const target = (await tipOf(back)) + 3;
    let agreed = false;
    for (const deadline = Date.now() + 60_000; !agreed && Date.now() < deadline; ) {
      const tips = await Promise.all(net.nodes.map(tipOf));
      if (Math.min(...tips) >= target + 2) {
        const hashes = await Promise.all(net.nodes.map((n) => n.rpc<string>('getblockhash', [target])));
        agreed = new Set(hashes).size === 1;
      }
      if (!agreed) await new Promise((r) => setTimeout(r, 250));
    }
    expect(agreed).toBe(true);
  }, 400_000);
});

describe('a masternode registered by a transaction', () => {
  let net: Devnet;

  beforeAll(async () => {
    net = await Devnet.start({ validators: 5, node: { env: ENV, testSwitches: true } });
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  it('joins the active set once its block is applied, and its node (started without restarting anyone) produces', async () => {
    const { DEVNET } = await import('../../../src/params/networks.js');
    const { devnetNodeKey } = await import('../../../src/node/node-key.js');
    const { registrationPayload, signTx } = await import('../../../src/wallet/tx-builder.js');
    const nodeKey = devnetNodeKey(5); // node key 105: not in genesis
    const owner = fundedCoin(3);
    const bronze = DEVNET.tiers[1]!.collateral;
    const reg = signTx(
      DEVNET,
      {
        inputs: [owner.outpoint],
        outputs: [
          { value: bronze, address: owner.key.addressPayload },
          { value: owner.value - bronze - FEE, address: owner.key.addressPayload },
        ],
        payload: registrationPayload(DEVNET, owner.outpoint, nodeKey, 0, owner.key.addressPayload),
      },
      [owner.key],
    );
    const seeds = [net.nodes[0]!.p2pAddress];
    // The new node starts as a full node (its key is not registered yet) and follows the chain.
    const newcomer = await NodeProcess.start({ devnetIndex: 5, seeds, env: ENV, testSwitches: true });
    expect(newcomer.role).toBe('full');
    await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(reg)]);
    await net.nodes[0]!.until<Finality>(
      'gettransactionfinality',
      [toHex(reg.txid)],
      (f) => f.status === 'in-block',
      60_000,
    );
    // From then on it is ranked each slot, and it produces when its rank comes up.
    await newcomer.waitForLog((l) => l.msg === 'slot' && l['role'] === 'validator', 60_000);
    await newcomer.waitForLog((l) => l.msg === 'block produced' && l['outcome'] === 'applied', 120_000);
    // …and the others take its blocks: the common chain (as node 1 sees it) carries one.
    const other = net.nodes[1]!;
    const regHeight = (
      await other.rpc<Finality & { height: number }>('gettransactionfinality', [toHex(reg.txid)])
    ).height;
    const deadline = Date.now() + 120_000;
    let found = false;
    for (let h = regHeight + 1; !found && Date.now() < deadline; ) {
      const tip = (await other.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
      for (; h <= tip && !found; h++) {
        const b = await other.rpc<RpcBlock>('getblock', [await other.rpc<string>('getblockhash', [h]), 1]);
        found = b.producer === toHex(nodeKey.publicKey);
      }
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toBe(true);
    expect((await newcomer.rpc<{ role: string }>('getconsensusinfo')).role).toBe('validator');
    await newcomer.kill('SIGKILL');
  }, 300_000);
});
