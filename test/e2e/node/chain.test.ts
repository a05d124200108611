import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetMasternodes } from '../../../src/chain/genesis.js';
import { type Coin, FEE, fundedCoin, hexOf, pay, recipient, split } from '../../../src/devnet/coins.js';
import { Devnet } from '../../../src/devnet/node-process.js';
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
  afterAll(() => net?.stop());

  it('5 validators run 30+ slots with transactions flowing: one chain, each transaction in one block, every coinbase as the rule says', async () => {
    const nodes = net.nodes;
    const splits = Array.from({ length: 10 }, (_, i) => split(fundedCoin(i), 12, 10_000_000n));
    for (const s of splits) await nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    for (const s of splits) await nodes[0]!.rpc('waittransactionfinality', [toHex(s.tx.txid), 60_000]);
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
