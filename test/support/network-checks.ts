import { type Coin, fundedCoin, hexOf, pay, recipient, split } from '../../src/devnet/coins.js';
import type { NodeProcess } from '../../src/devnet/node-process.js';
import { toHex } from '../../src/encoding/bytes.js';
import type { EncodedTx } from '../../src/protocol/tx-codec.js';

/**
 * Checks shared by the chaos tests (partitions, Byzantine nodes, kill loops, soak): what every node
 * reports final, the chain each node holds, and the safety properties over both. Every check reads
 * the nodes over RPC: these are observations of real processes, not of the harness's bookkeeping.
 */

export interface Finality {
  status: string;
  final: boolean;
  height?: number;
}

/** Slots of a second, rank windows of 200 ms: the 1 s devnet of the e2e tests (see chain.test.ts). */
export const FAST_SLOTS = {
  TIMECOIN_CHAIN_SLOT_MS: '1000',
  TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: '200',
};

/**
 * The main chain of `node` up to `upTo` (default: its tip) as txid → heights (each txid listed at
 * every height it appears).
 */
export async function chainTxs(
  node: NodeProcess,
  upTo?: number,
): Promise<{ height: number; hashes: string[]; at: Map<string, number[]> }> {
  const height = upTo ?? (await node.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
  const at = new Map<string, number[]>();
  const hashes: string[] = [];
  for (let h = 0; h <= height; h++) {
    const hash = await node.rpc<string>('getblockhash', [h]);
    hashes.push(hash);
    const b = await node.rpc<{ tx: string[] }>('getblock', [hash, 1]);
    for (const txid of b.tx.slice(1)) at.set(txid, [...(at.get(txid) ?? []), h]);
  }
  return { height, hashes, at };
}

/** Waits until every node's tip is the same block, at least `minHeight`; returns that tip. */
export async function converged(
  nodes: readonly NodeProcess[],
  minHeight: number,
  timeoutMs: number,
): Promise<{ hash: string; height: number; afterMs: number }> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const tips = await Promise.all(
      nodes.map((n) => n.rpc<{ blocks: number; bestblockhash: string }>('getblockchaininfo')),
    );
    last = tips.map((t) => `${t.blocks}:${t.bestblockhash.slice(0, 8)}`).join(' ');
    if (tips.every((t) => t.bestblockhash === tips[0]!.bestblockhash && t.blocks >= minHeight))
      return { hash: tips[0]!.bestblockhash, height: tips[0]!.blocks, afterMs: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nodes did not converge within ${timeoutMs} ms: ${last}`);
}

/** Each node's finality of each txid (one RPC per pair). */
export async function finalityMatrix(
  nodes: readonly NodeProcess[],
  txids: readonly string[],
): Promise<Finality[][]> {
  return Promise.all(
    nodes.map(async (n) => {
      const out: Finality[] = [];
      for (const txid of txids) out.push(await n.rpc<Finality>('gettransactionfinality', [txid]));
      return out;
    }),
  );
}

/**
 * Safety over conflict pairs: no node holds both of a pair final, and no two nodes hold different
 * members final. Returns the violations (empty when safe).
 */
export async function conflictViolations(
  nodes: readonly NodeProcess[],
  pairs: readonly (readonly [string, string])[],
): Promise<string[]> {
  const out: string[] = [];
  const flat = pairs.flat();
  const m = await finalityMatrix(nodes, flat);
  pairs.forEach(([a, b], i) => {
    const finalAt = (col: number) => m.flatMap((row, n) => (row[col]!.final ? [n] : []));
    const fa = finalAt(2 * i);
    const fb = finalAt(2 * i + 1);
    if (fa.length > 0 && fb.length > 0)
      out.push(`conflict ${a.slice(0, 8)}/${b.slice(0, 8)} final at nodes ${fa} and ${fb}`);
  });
  return out;
}

/**
 * Every txid final somewhere is, at every node, in exactly one block of that node's main chain, and
 * all chains are identical below the lowest tip's height. Returns the problems (empty when none).
 */
export async function lostOrDuplicated(
  nodes: readonly NodeProcess[],
  everFinal: Iterable<string>,
): Promise<string[]> {
  // The chain is live (a block a second in the test devnets), so the nodes are read up to one
  // height, the lowest of their tips: a block landing between two nodes' reads is not a fork. The
  // top block there may still be contested (two rivals of one slot are settled by the next block),
  // so the chains must be identical below it. Callers first wait until every txid of `everFinal` is
  // in a block everywhere and the nodes shared one tip, so each txid is at or below that height.
  const tips = await Promise.all(nodes.map((n) => n.rpc<{ blocks: number }>('getblockchaininfo')));
  const common = Math.min(...tips.map((t) => t.blocks));
  const chains = await Promise.all(nodes.map((n) => chainTxs(n, common)));
  const problems: string[] = [];
  for (let i = 1; i < chains.length; i++) {
    const fork = chains[i]!.hashes.findIndex((hash, h) => h < common && hash !== chains[0]!.hashes[h]);
    if (fork >= 0) problems.push(`node ${i} differs from node 0 from height ${fork} (tips at ${common}+)`);
  }
  for (const txid of everFinal) {
    chains.forEach((c, i) => {
      const hs = c.at.get(txid) ?? [];
      if (hs.length !== 1) problems.push(`${txid.slice(0, 8)} in ${hs.length} blocks at node ${i}`);
    });
  }
  return problems;
}

/**
 * Spendable coins: `keys` funded devnet keys each split into `per` coins, submitted to `node` and
 * final at every node of `finalAt` (default: `node`) — a payment submitted to a node that has not
 * yet finalized its coin's split is refused (INPUT_NOT_FOUND).
 */
export async function fundCoins(
  node: NodeProcess,
  keys: readonly number[],
  per: number,
  finalAt: readonly NodeProcess[] = [node],
  each = 10_000_000n,
): Promise<Coin[]> {
  const splits = keys.map((k) => split(fundedCoin(k), per, each));
  for (const s of splits) await node.rpc('sendrawtransaction', [hexOf(s.tx)]);
  for (const n of finalAt)
    for (const s of splits) {
      const r = await n.rpc<Finality>('waittransactionfinality', [toHex(s.tx.txid), 60_000]);
      if (!r.final) throw new Error(`funding split ${toHex(s.tx.txid).slice(0, 8)} is ${r.status}`);
    }
  return splits.flatMap((s) => s.coins);
}

/** A payment of 1,000,000 sat from `coin` to a recipient numbered `label`. */
export function payment(coin: Coin, label: number): EncodedTx {
  return pay(coin, recipient(label), 1_000_000n);
}

/** Waits until `txid` is final at `node` (throws with its status otherwise). */
export async function waitFinal(node: NodeProcess, txid: string, timeoutMs: number): Promise<void> {
  const r = await node.rpc<Finality>('waittransactionfinality', [txid, timeoutMs]);
  if (!r.final) throw new Error(`${txid.slice(0, 8)} is ${r.status} at ${node.pubkey.slice(0, 8)}`);
}

/** The current slot of a devnet with `slotMs` slots (slot 0 at the Unix epoch on devnet). */
export function slotNow(slotMs = 1_000): number {
  return Math.floor(Date.now() / slotMs);
}
