import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconInput } from '../../../src/beacon/beacon-input.js';
import { leaderAtRank } from '../../../src/beacon/leader-ranking.js';
import { assembleBlock, type BlockCandidate } from '../../../src/chain/block-assembly.js';
import { devnetMasternodes } from '../../../src/chain/genesis.js';
import { rankingWeights } from '../../../src/chain/header-rules.js';
import { rankWindow, slotAt, slotStartMs } from '../../../src/chain/slot-time.js';
import { type Coin, FEE, fundedCoin, hexOf, pay, recipient, split } from '../../../src/devnet/coins.js';
import { Devnet, NodeProcess } from '../../../src/devnet/node-process.js';
import { bytesEqual, fromHex, toHex } from '../../../src/encoding/bytes.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { devnetParams } from '../../../src/params/networks.js';
import { type Block, type BlockHeader, encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { merkleRoot } from '../../../src/protocol/merkle.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';
import { witnessRoot } from '../../../src/protocol/witness-root.js';
import { vdfEvaluate, vdfProve } from '../../../src/vdf/vdf.js';
import { type KeyPair, sign } from '../../../src/wallet/keys.js';
import { MSG } from '../../../src/wire/message-types.js';
import { devnetLedger, genesisMasternodes } from '../../support/devnet-ledger.js';
import { testIdentity } from '../../support/p2p-identity.js';

/**
 * Hand-made bad blocks sent by a test peer to a running 5-validator devnet (1 s slots). Each block is
 * a valid block assembled with the real functions (the test holds the devnet keys) with exactly one
 * thing changed, re-signed by the producer unless the signature is the fault. Each is refused with
 * its own code (the node's `timecoin_blocks_refused_total{code}`), its sender is scored (50 points
 * a bad block, 100 bans the key, decaying 1 point a second: three in a row ban it, and the ban's
 * close reason names the code), and the network keeps producing.
 */

const SLOT_MS = 1_000;
const STEP_MS = 200;
const ENV = {
  TIMECOIN_CHAIN_SLOT_MS: String(SLOT_MS),
  TIMECOIN_CHAIN_LEADER_FALLBACK_STEP_MS: String(STEP_MS),
};
const params = devnetParams({ slotMs: SLOT_MS, leaderFallbackStepMs: STEP_MS });
const active = genesisMasternodes(devnetLedger());
const weights = rankingWeights(params, active);
const keyOf = (pubkey: Uint8Array): KeyPair =>
  devnetMasternodes().find((m) => bytesEqual(m.nodeKey.publicKey, pubkey))!.nodeKey;

interface RpcHeader {
  hash: string;
  height: number;
  slot: number;
  previousblockhash: string;
}

/** The tip (hash, height, slot) and the anchor of `slot` on `node`'s chain, read over RPC. */
async function chainAt(node: NodeProcess, slotOfTip: (tipSlot: number) => number) {
  const info = await node.rpc<{ bestblockhash: string }>('getblockchaininfo');
  const tip = await node.rpc<RpcHeader>('getblock', [info.bestblockhash, 1]);
  const slot = slotOfTip(tip.slot);
  // The anchor: the newest block of this chain with slot < s − 1.
  let anchor = tip;
  while (anchor.slot >= slot - 1)
    anchor = await node.rpc<RpcHeader>('getblock', [anchor.previousblockhash, 1]);
  return {
    parent: { hash: fromHex(tip.hash, 32), height: tip.height, slot: tip.slot },
    slot,
    anchorHash: fromHex(anchor.hash, 32),
  };
}

function beaconOf(slot: number, anchorHash: Uint8Array) {
  const x = beaconInput(params.chainId, slot, anchorHash);
  const out = vdfEvaluate(x, params.vdfDelay);
  return { y: out.y, proof: vdfProve(x, out) };
}

type Chain = Awaited<ReturnType<typeof chainAt>>;

/** A valid block on `c` by the slot's rank-`rank` leader at `offsetMs` into its window. */
function validBlock(
  c: Chain,
  opts: {
    rank?: number;
    offsetMs?: number;
    candidates?: BlockCandidate[];
    y?: Uint8Array;
    proof?: Uint8Array;
  } = {},
): { block: Block; key: KeyPair } {
  const real = opts.y ? { y: opts.y, proof: opts.proof! } : beaconOf(c.slot, c.anchorHash);
  const key = keyOf(leaderAtRank(weights, real.y, opts.rank ?? 0)!.nodePubkey);
  const block = assembleBlock({
    params,
    parent: c.parent,
    slot: c.slot,
    nowMs: rankWindow(params, c.slot, opts.rank ?? 0).startMs + (opts.offsetMs ?? 0),
    activeMasternodes: active,
    beaconY: real.y,
    beaconProof: real.proof,
    producerKey: key,
    view: null, // candidates are taken as given: some blocks carry transactions the chain refuses
    candidates: opts.candidates ?? [],
  });
  return { block, key };
}

/** `block` with header fields and/or transactions replaced, roots recomputed, signed by `key`. */
function resigned(block: Block, key: KeyPair, over: Partial<BlockHeader> = {}, txs = block.txs): Block {
  const header: BlockHeader = {
    ...block.header,
    merkleRoot: merkleRoot(txs.map((t) => t.txid)),
    witnessRoot: witnessRoot(txs),
    txCount: txs.length,
    ...over,
  };
  return { header, txs, signature: sign(headerSigMessage(headerHash(header)), key.secretKey) };
}

/** Bad-block makers: each gets the chain to build on and a variant number (distinct hashes). */
type Maker = (c: Chain, variant: number) => Block;

/** Coins of the devnet, made in beforeAll (for the conflicting-transaction blocks). */
const coins: Coin[] = [];
/** The transaction of the current attempt that conflicts with one finalized at the target. */
let conflicting: EncodedTx | undefined;

interface BadBlockKind {
  readonly slot: (tipSlot: number) => number;
  readonly make: Maker;
  /** Runs before each attempt; false skips the attempt. */
  readonly prepare?: (target: NodeProcess, attempt: number) => Promise<boolean>;
  /**
   * Where the refusal shows, when not the block pipeline's `timecoin_blocks_refused_total{code}`
   * with a ban reason `INVALID_BLOCK: <code>`: the metric series and label value, and the ban reason.
   */
  readonly refused?: { readonly series: string; readonly code: string; readonly reason: string };
}
const makers: Record<string, BadBlockKind> = {};
const nextSlot = (tipSlot: number) => Math.max(tipSlot, slotAt(params, Date.now())) + 1;

makers['BAD_BEACON'] = {
  slot: nextSlot,
  // 256 random bytes for y and π: the producer is the rank-0 leader FOR THAT y, so every header
  // rule passes and only the VDF check fails.
  make: (c, v) => validBlock(c, { y: randomBytes(256), proof: randomBytes(256), offsetMs: v }).block,
};
makers['WRONG_RANK'] = {
  slot: nextSlot,
  // The rank-1 leader claims rank 0 (timestamp in rank 0's window), re-signed by itself.
  make: (c, v) => {
    const { block, key } = validBlock(c, { rank: 1 });
    return resigned(block, key, { rank: 0, timestampMs: rankWindow(params, c.slot, 0).startMs + v });
  },
};
makers['BAD_SIGNATURE'] = {
  slot: nextSlot,
  // A valid block whose signature is by another masternode's key.
  make: (c, v) => {
    const { block } = validBlock(c, { offsetMs: v });
    const other = devnetMasternodes().find(
      (m) => !bytesEqual(m.nodeKey.publicKey, block.header.producerPubkey),
    )!;
    return { ...block, signature: sign(headerSigMessage(headerHash(block.header)), other.nodeKey.secretKey) };
  },
};
makers['BAD_SIGNATURE, holding a transaction never final'] = {
  slot: nextSlot,
  // The forged block that once bought a finality wait: our tip as parent, any signature (no key
  // needed), a payment spending an output that does not exist (it can never become final, so the
  // block was held for the whole wait while producers stood back for it, its sender unscored).
  // Now refused before it is held.
  refused: {
    series: 'timecoin_blocks_refused_total',
    code: 'BAD_SIGNATURE',
    reason: 'INVALID_BLOCK: BAD_SIGNATURE',
  },
  make: (c, v) => {
    const ghost = {
      outpoint: { txid: randomBytes(32), vout: 0 },
      value: 50_000_000n,
      key: fundedCoin(0).key,
    };
    const candidates = [{ etx: pay(ghost, recipient(70_000 + v), 10_000_000n), fee: FEE }];
    const { block } = validBlock(c, { offsetMs: v, candidates });
    return { ...block, signature: new Uint8Array(64).fill(1) };
  },
};
makers['BAD_COINBASE'] = {
  slot: nextSlot,
  // One satoshi moved from the producer's output to the treasury's.
  make: (c, v) => {
    const { block, key } = validBlock(c, { offsetMs: v });
    const cb = block.txs[0]!.tx;
    const outputs = cb.outputs.map((o, i) => ({
      ...o,
      value: o.value + (i === 0 ? 1n : i === 1 ? -1n : 0n),
    }));
    return resigned(block, key, {}, [encodeTx({ ...cb, outputs }), ...block.txs.slice(1)]);
  },
};
makers['BAD_TIMESTAMP'] = {
  slot: nextSlot,
  // The rank-1 leader's block stamped before slot start + 1 × step (inside rank 0's window).
  make: (c, v) => {
    const { block, key } = validBlock(c, { rank: 1 });
    return resigned(block, key, { timestampMs: slotStartMs(params, c.slot) + v });
  },
};
makers['TOO_LARGE'] = {
  slot: nextSlot,
  // A valid block plus filler transactions (real signed splits of funded coins) past maxBlockBytes.
  // The transport's schema bounds a Block message's block at 2,000,000 bytes, so the node refuses it
  // there, before any block code runs (parseBlock's TOO_LARGE is the second line of defence), and
  // scores the sender WIRE_BAD_SCHEMA (25 points).
  refused: {
    series: 'timecoin_p2p_events_total',
    code: 'WIRE_BAD_SCHEMA',
    reason: 'WIRE_BAD_SCHEMA: block: bad field block',
  },
  make: (c, v) => {
    const { block, key } = validBlock(c, { offsetMs: v });
    const txs: EncodedTx[] = [...block.txs];
    let size = encodeBlock(block).length;
    for (let i = 0; size <= params.maxBlockBytes; i++) {
      const filler = fillers[i % fillers.length]!;
      txs.push(filler);
      size += filler.bytes.length;
    }
    return resigned(block, key, {}, txs);
  },
};
/** Big real transactions (2,500 outputs each), signed once per test process. */
const fillers: EncodedTx[] = Array.from(
  { length: 30 },
  (_, i) => split(fundedCoin(i % 10), 2_500 + i, 1_000n).tx,
);
makers['CONFLICTS_FINALIZED'] = {
  slot: nextSlot,
  // A valid block carrying B, which spends the coin a finalized (not yet included) A spends.
  make: (c, v) => validBlock(c, { offsetMs: v, candidates: [{ etx: conflicting!, fee: FEE }] }).block,
  prepare: async (target, attempt) => {
    const coin = coins[attempt]!;
    const a = pay(coin, recipient(50_000 + attempt), 1_000_000n);
    conflicting = pay(coin, recipient(60_000 + attempt), 2_000_000n);
    await target.rpc('sendrawtransaction', [hexOf(a)]);
    const f = await target.rpc<{ status: string }>('waittransactionfinality', [toHex(a.txid), 10_000]);
    // Already in a block: B would merely spend a missing output; try again with the next coin.
    return f.status === 'finalized';
  },
};
makers['FROM_THE_FUTURE'] = {
  // A block that is valid in every respect, but for a slot 30 s (30 tolerances) ahead.
  slot: (tipSlot) => Math.max(tipSlot, slotAt(params, Date.now())) + 30,
  make: (c, v) => validBlock(c, { offsetMs: v }).block,
};

describe('hand-made bad blocks against a running devnet (1 s slots)', () => {
  let net: Devnet;
  let genesis: Uint8Array;

  beforeAll(async () => {
    net = await Devnet.start({ validators: 5, node: { env: ENV, testSwitches: true } });
    await net.nodes[0]!.until<{ blocks: number }>('getblockchaininfo', [], (i) => i.blocks >= 2, 60_000);
    genesis = fromHex((await net.nodes[0]!.rpc<{ genesis: string }>('getblockchaininfo')).genesis, 32);
    const s = split(fundedCoin(0), 12, 10_000_000n);
    await net.nodes[0]!.rpc('sendrawtransaction', [hexOf(s.tx)]);
    await net.nodes[0]!.until<{ status: string }>(
      'gettransactionfinality',
      [toHex(s.tx.txid)],
      (f) => f.status === 'in-block',
      60_000,
    );
    coins.push(...s.coins);
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
    await NodeProcess.killAll();
  });

  /** The values of a labelled counter series on `node`'s /metrics, by label value. */
  async function counts(node: NodeProcess, series: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const re = new RegExp(`^${series}\\{(?:code|event)="([A-Za-z_]+)"\\} ([0-9.e+]+)$`, 'gm');
    for (const m of (await node.metricsText()).matchAll(re)) out.set(m[1]!, Number(m[2]));
    return out;
  }

  /** A fresh tip: the moment a new block joins node 0's chain (most of a slot before the next one). */
  async function freshTip(node: NodeProcess): Promise<void> {
    const { blocks } = await node.rpc<{ blocks: number }>('getblockchaininfo');
    await node.until<{ blocks: number }>('getblockchaininfo', [], (i) => i.blocks > blocks, 30_000);
  }

  /**
   * Connects a fresh identity from its own loopback address (IP scores stay apart from the
   * devnet's), then on each fresh tip sends three variants of the bad block until the key is banned.
   * Returns the ban's close reason. Retries cover the one race: a real block for the same height
   * landing first turns ours into an unvalidated side branch (it no longer wins fork choice).
   */
  async function sendUntilBanned(target: NodeProcess, index: number, maker: BadBlockKind) {
    const client = await RawWsClient.connect('127.0.0.1', target.p2pPort, '/p2p/1', {
      localAddress: `127.0.0.${20 + index}`,
    });
    await authenticateRaw(client, testIdentity('bad blocks', index, genesis));
    for (let attempt = 0; attempt < 10 && client.closeCode === 0; attempt++) {
      await freshTip(target);
      if (maker.prepare && !(await maker.prepare(target, attempt))) continue;
      const c = await chainAt(target, maker.slot);
      for (let v = 0; v < 3; v++)
        await client.send({ t: MSG.block, block: encodeBlock(maker.make(c, v + attempt * 3)) });
      await Promise.race([client.closed, new Promise((r) => setTimeout(r, 3 * SLOT_MS))]);
    }
    client.destroy();
    return { code: client.closeCode, reason: client.closeReason };
  }

  it('each is refused with its own code, its sender scored until banned, and the chain goes on', async () => {
    const target = net.nodes[0]!;
    const startHeight = (await target.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    const codes = Object.keys(makers);
    for (const [i, code] of codes.entries()) {
      const kind = makers[code]!;
      const refused = kind.refused ?? {
        series: 'timecoin_blocks_refused_total',
        code,
        reason: `INVALID_BLOCK: ${code}`,
      };
      const before = (await counts(target, refused.series)).get(refused.code) ?? 0;
      const { code: closeCode, reason } = await sendUntilBanned(target, i, kind);
      // On failure, say what the node logged about our blocks.
      const said = target.logs
        .filter((l) => l.msg === 'peer sent a bad block' || l.msg === 'block refused' || l.level === 50)
        .slice(-6)
        .map((l) => JSON.stringify(l))
        .join('\n');
      expect(closeCode, `${code}\n${said}`).toBe(4008); // banned
      expect(reason, code).toContain(refused.reason);
      const after = (await counts(target, refused.series)).get(refused.code) ?? 0;
      expect(after - before, code).toBeGreaterThanOrEqual(2);
    }
    // The network kept producing: every node moves on, on one chain.
    const top = (await target.rpc<{ blocks: number }>('getblockchaininfo')).blocks;
    expect(top).toBeGreaterThan(startHeight + codes.length);
    await Promise.all(
      net.nodes.map((n) =>
        n.until<{ blocks: number }>('getblockchaininfo', [], (b) => b.blocks >= top + 2, 60_000),
      ),
    );
    const hashes = await Promise.all(net.nodes.map((n) => n.rpc<string>('getblockhash', [top])));
    expect(new Set(hashes).size).toBe(1);
  }, 400_000);
});
