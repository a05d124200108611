import { ed25519 } from '@noble/curves/ed25519.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { rankOf } from '../../../src/beacon/leader-ranking.js';
import { devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { rankingWeights } from '../../../src/chain/header-rules.js';
import { rankWindow, slotStartMs } from '../../../src/chain/slot-time.js';
import { Benchlist } from '../../../src/consensus/snowball/benchlist.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { bytesEqual, toHex } from '../../../src/encoding/bytes.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import { SerialQueue } from '../../../src/ledger/serial-queue.js';
import { BeaconService } from '../../../src/node/beacon-service.js';
import { BlockProducer } from '../../../src/node/block-producer.js';
import { BlockTree } from '../../../src/node/block-tree.js';
import { ChainController } from '../../../src/node/chain-controller.js';
import { ChainIndex } from '../../../src/node/chain-index.js';
import { ManualClock } from '../../../src/node/slot-clock.js';
import type { TxIntake } from '../../../src/node/tx-intake.js';
import { ValidatorSet } from '../../../src/node/validator-set.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, headerHash } from '../../../src/protocol/block.js';
import { type BlockRootHasher, INLINE_BLOCK_ROOTS } from '../../../src/protocol/block-roots.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { vdfEvaluate, vdfProve } from '../../../src/vdf/vdf.js';
import type { KeyPair } from '../../../src/wallet/keys.js';
import {
  extendStore,
  inlineBeacons,
  leaderKey,
  nextBlockOn,
  realBeacon,
  slotContextOn,
} from '../../support/block-builder.js';
import { gate } from '../../support/gate.js';
import { untouched } from '../../support/untouched.js';
import { tempDir } from '../storage/temp-dir.js';

/**
 * The slot scheduler's producing side over real parts: an LMDB store, the ledger (WASM signatures),
 * the block pipeline (ChainController), the beacon service evaluating real devnet VDFs inline, the
 * validator set, and a manual clock. What is checked is what the network sees of a producer: whether
 * it publishes in a slot, when (its rank's window), on which parent and with which transactions.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const id = (b: Block) => toHex(headerHash(b.header));

interface Options {
  readonly params?: ChainParams;
  /** Whose node key the producer holds: a rank in `slot`, or an outsider (not a masternode). */
  readonly who?: { slot: number; rank: number } | 'outsider';
  /** Peers connected: every other active masternode (default), or none (no quorum). */
  readonly peers?: 'all' | 'none';
  /** Default: a ManualClock 100 ms before slot 1. */
  readonly clock?: ManualClock;
  /** When set, every VDF evaluation waits for it (a beacon still being computed). */
  readonly vdfGate?: Promise<void>;
  /** How long a pending longer branch holds production back (default 1,000 ms). */
  readonly pendingBranchWaitMs?: number;
  /** Record blocks refused with a sender to blame (`bad`); by default none may be. */
  readonly expectBadBlocks?: boolean;
  /** Who hashes block roots for the ledger (default: the JavaScript reference, inline). */
  readonly roots?: BlockRootHasher;
}

async function producerNode(o: Options = {}) {
  const params = o.params ?? DEVNET;
  const { dir, cleanup } = tempDir('block-producer-');
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(cleanup, () => store.close());
  const wasm = new WasmVerifier();
  const ledger = LedgerService.open(params, store, {
    verifyBatch: (items) => wasm.verifyBatch(items),
    ...(o.roots ? { blockRoots: o.roots.blockRoots } : {}),
  });
  const index = new ChainIndex(store, params.maxReorgDepth + 8);
  const tree = new BlockTree();
  const clock = o.clock ?? new ManualClock(slotStartMs(params, 1) - 100);
  const logs: { msg: string; [field: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const verified = inlineBeacons(params);
  const evaluated: number[] = [];
  const beacons = new BeaconService({
    chainId: params.chainId,
    vdfDelay: params.vdfDelay,
    vdf: {
      // As the pool does: an aborted evaluation rejects (cancelled by a peer's beacon, or closed).
      vdfEvaluate: async (x, t, opts) => {
        await o.vdfGate;
        opts?.signal?.throwIfAborted();
        return vdfEvaluate(x, t);
      },
      vdfProve: async (x, out) => vdfProve(x, out),
    },
    verified,
    now: () => clock.now(),
    onEvaluated: (b) => evaluated.push(b.slot),
    // Devnet's short VDF is never cancelled in the node; here a peer's beacon may stop ours.
    cancelAboveSquarings: 0,
  });
  const applied: { block: Block; atMs: number; source: string }[] = [];
  const bad: [string, string][] = [];
  const serial = new SerialQueue();
  /** Runs whenever the block pipeline reads the clock (a test moves time along meanwhile). */
  const hooks: { controllerNow?: () => void } = {};
  const chain = new ChainController({
    params,
    store,
    index,
    tree,
    ledger,
    engine: untouched('engine'),
    serial,
    beacons: verified,
    // Every transaction a producer includes is final here: the pipeline reads its standing from
    // the ledger and must never wait for finality.
    intake: {
      standing: (txid: Uint8Array) => ledger.mempool.get(txid)?.status ?? 'unknown',
    } as unknown as TxIntake,
    waiters: untouched('waiters'),
    log,
    now: () => {
      hooks.controllerNow?.();
      return clock.now();
    },
    finalityWaitMs: 1_000,
    onApplied: (block, _hash, source) => applied.push({ block, atMs: clock.now(), source }),
    onReverted: () => undefined,
    onRejected: () => undefined,
    onBadBlock: o.expectBadBlocks ? (peer, code) => bad.push([peer, code]) : untouched('onBadBlock'),
    onOrphan: untouched('onOrphan'),
  });
  const key = keyFor(store, o.who ?? { slot: 1, rank: 0 });
  const validators = new ValidatorSet(params, key.publicKey, new Benchlist([]));
  validators.setActive(store.activeMasternodes(0));
  if ((o.peers ?? 'all') === 'all')
    for (const mn of devnetMasternodes()) validators.peerConnected(toHex(mn.nodeKey.publicKey));
  const flags = { syncing: false, withhold: false, doubleSign: false, failSlot: false };
  const rivals: Block[] = [];
  const slots: { slot: number; role: string; rank: number | null }[] = [];
  const producer = new BlockProducer({
    params,
    clock,
    store,
    index,
    tree,
    ledger,
    key,
    beacons,
    validators,
    chain,
    log,
    syncing: () => flags.syncing,
    pendingBranchWaitMs: o.pendingBranchWaitMs ?? 1_000,
    onSlot: (info) => {
      if (flags.failSlot) throw new Error('metrics update failed');
      slots.push(info);
    },
    misbehave: {
      withhold: () => flags.withhold,
      doubleSign: () => flags.doubleSign,
      publishRival: (b) => rivals.push(b),
    },
  });
  cleanups.push(() => producer.stop());

  /**
   * Runs `work` to its end, moving the clock to each timer as it falls due once nothing else is
   * left to do (the real LMDB and VDF work finishes in real time meanwhile).
   */
  async function drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => {
      settled = true;
    });
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      const next = clock.nextTimerAtMs();
      if (!settled && next !== undefined) clock.advance(Math.max(0, next - clock.now()));
    }
    return done;
  }

  return {
    params,
    store,
    ledger,
    tree,
    chain,
    clock,
    beacons,
    producer,
    flags,
    hooks,
    serial,
    validators,
    applied,
    bad,
    rivals,
    slots,
    evaluated,
    logs,
    key,
    runSlot: (slot: number) => drive(producer.onSlot(slot)),
    drive,
  };
}

/** The devnet node key ranked `rank` in `slot` on the store's chain (or one no masternode holds). */
function keyFor(store: ChainStore, who: { slot: number; rank: number } | 'outsider'): KeyPair {
  if (who === 'outsider') return devnetMasternodes()[0]!.ownerKey;
  const ctx = slotContextOn(store, who.slot);
  const beacon = realBeacon(store.params, who.slot, ctx.anchorHash);
  return leaderKey(store.params, ctx.activeMasternodes, beacon.y, who.rank)!;
}

/**
 * A root hasher that holds the first body it gets (the produced block's) until `release()`, as a
 * pool busy with signature batches would; `hashingStarted` resolves when that body arrives. Later
 * bodies (blocks received meanwhile) are hashed at once.
 */
function heldRoots(): { roots: BlockRootHasher; hashingStarted: Promise<void>; release: () => void } {
  const { wait, release } = gate();
  let hashing: (() => void) | undefined;
  const hashingStarted = new Promise<void>((r) => (hashing = r));
  const roots: BlockRootHasher = {
    blockRoots: async (txs) => {
      if (hashing) {
        hashing();
        hashing = undefined;
        await wait;
      }
      return INLINE_BLOCK_ROOTS.blockRoots(txs);
    },
  };
  return { roots, hashingStarted, release };
}

/** A devnet payment, admitted and finalized by the node's ledger (as Snowball would). */
async function finalizedPayment(ledger: LedgerService) {
  const etx = pay(fundedCoin(0), recipient(1), 10_000_000n);
  await ledger.submitEncoded(etx);
  await ledger.finalizeTxs([etx.txid]);
  return etx;
}

describe('BlockProducer: the leader of a slot publishes in its window', () => {
  it('rank 0 publishes at the slot start a block of the finalized transactions, signed by its key', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 0 } });
    const etx = await finalizedPayment(n.ledger);
    await n.runSlot(1);
    expect(n.applied).toHaveLength(1);
    const { block, atMs, source } = n.applied[0]!;
    expect(source).toBe('self');
    expect(atMs).toBe(slotStartMs(n.params, 1));
    expect(block.header).toMatchObject({
      height: 1,
      slot: 1,
      rank: 0,
      timestampMs: slotStartMs(n.params, 1),
    });
    expect(bytesEqual(block.header.producerPubkey, n.key.publicKey)).toBe(true);
    expect(block.txs.map((t) => toHex(t.txid)).slice(1)).toEqual([toHex(etx.txid)]);
    expect(n.store.tip().height).toBe(1);
    expect(n.slots).toEqual([{ slot: 1, role: 'validator', rank: 0 }]);
    expect(n.rivals).toEqual([]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'slot', slot: 1, role: 'validator', rank: 0, tip: 0 }),
    );
    expect(n.logs).toContainEqual(
      expect.objectContaining({
        msg: 'block produced',
        slot: 1,
        rank: 0,
        height: 1,
        txs: 1,
        outcome: 'applied',
      }),
    );
  });

  it('hashes the roots after the draft: the ledger’s writes do not wait for the pool meanwhile', async () => {
    const { roots, hashingStarted, release } = heldRoots();
    const n = await producerNode({ who: { slot: 1, rank: 0 }, roots });
    const first = await finalizedPayment(n.ledger);
    const work = n.runSlot(1);
    await hashingStarted;
    const second = pay(fundedCoin(1), recipient(2), 10_000_000n);
    await n.ledger.submitEncoded(second);
    let persisted = false;
    const finalizing = n.ledger.finalizeTxs([second.txid]).then(() => (persisted = true));
    await turns(20);
    expect(persisted).toBe(true);
    release();
    await Promise.all([work, finalizing]);
    // The block holds what was final when it was drafted.
    expect(n.applied.map((a) => a.block.txs.slice(1).map((t) => toHex(t.txid)))).toEqual([
      [toHex(first.txid)],
    ]);
  });

  it('a lower-ranked block applied while our roots were hashed: ours is produced, kept aside, and says so', async () => {
    const { roots, hashingStarted, release } = heldRoots();
    const n = await producerNode({ who: { slot: 1, rank: 1 }, roots });
    const rank0 = nextBlockOn(n.store, [], { slot: 1, rank: 0 }).block;
    const work = n.runSlot(1);
    await hashingStarted;
    expect(await n.chain.receive(rank0, 'gossip', 'peer-a')).toBe('applied');
    release();
    await work;
    expect(n.applied.map((a) => id(a.block))).toEqual([id(rank0)]);
    expect(n.logs.filter((l) => l.msg === 'block produced')).toEqual([]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'block produced but not applied', slot: 1, rank: 1, outcome: 'side' }),
    );
  });

  it('rank r waits for its own window, r fallback steps into the slot, and publishes with rank r', async () => {
    for (const rank of [1, 3]) {
      const n = await producerNode({ who: { slot: 1, rank } });
      await n.runSlot(1);
      expect(n.applied).toHaveLength(1);
      const { block, atMs } = n.applied[0]!;
      expect(atMs).toBe(rankWindow(n.params, 1, rank).startMs);
      expect(block.header).toMatchObject({
        slot: 1,
        rank,
        timestampMs: rankWindow(n.params, 1, rank).startMs,
      });
      expect(n.slots).toEqual([{ slot: 1, role: 'validator', rank }]);
    }
  });

  it('a rank with no window inside the slot never publishes', async () => {
    // Devnet: 2 s slots, 500 ms steps, so ranks 0–3 have windows and rank 4 (of 5) has none.
    const n = await producerNode({ who: { slot: 1, rank: 4 } });
    await n.runSlot(1);
    expect(n.slots).toEqual([{ slot: 1, role: 'validator', rank: 4 }]);
    expect(n.applied).toEqual([]);
    expect(n.store.tip().height).toBe(0);
    // Not even tried (a block of rank 4 would fall outside the slot and fail its header rules).
    expect(n.logs.filter((l) => l.msg.startsWith('block produced'))).toEqual([]);
  });

  it('a node that is not an active masternode reports the slot as a full node and never publishes', async () => {
    const n = await producerNode({ who: 'outsider' });
    await finalizedPayment(n.ledger);
    await n.runSlot(1);
    expect(n.slots).toEqual([{ slot: 1, role: 'full', rank: null }]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'slot', slot: 1, role: 'full', rank: null, tip: 0 }),
    );
    expect(n.applied).toEqual([]);
    // Still derives the coming slot's beacon (every node needs it to check that slot's block).
    expect(n.evaluated).toEqual([2]);
  });

  it('starts on the next slot’s beacon as the slot begins: its anchor is already fixed', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 4 } });
    await n.runSlot(1);
    // Slot 1's own beacon and slot 2's, both on genesis (the anchor of a slot is older than s − 1).
    expect([...n.evaluated].sort()).toEqual([1, 2]);
    const genesis = headerHash(genesisBlock(n.params).header);
    expect(n.beacons.get(2, genesis)).toBeDefined();
  });
});

describe('BlockProducer: when a leader stays silent', () => {
  it('not while it is catching up with peers ahead of it', async () => {
    const n = await producerNode();
    n.flags.syncing = true;
    await n.runSlot(1);
    expect(n.applied).toEqual([]);
  });

  it('not while the reachable stake is below the polling quorum (a minority partition)', async () => {
    const n = await producerNode({ peers: 'none' });
    await n.runSlot(1);
    expect(n.applied).toEqual([]);
  });

  it('not below the minimum active masternode count', async () => {
    const params = { ...DEVNET, minActiveMasternodes: 6 };
    const n = await producerNode({ params });
    await n.runSlot(1);
    expect(n.slots).toEqual([]);
    expect(n.applied).toEqual([]);
  });

  it('not when its window has passed by the time it wakes (a stalled process)', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 1 } });
    const work = n.producer.onSlot(1);
    // The window timer is armed once the beacon is known; the process then sleeps past the window.
    while (n.clock.nextTimerAtMs() === undefined) await new Promise((r) => setImmediate(r));
    n.clock.advance(rankWindow(n.params, 1, 1).endMs - n.clock.now());
    await n.drive(work);
    expect(n.applied).toEqual([]);
  });

  it('not when blocks that arrived since the slot began moved its anchor and our rank with it', async () => {
    // Slot 3's anchor is genesis until slot 1's block arrives, then that block: another beacon, so
    // another ranking. A key of some rank on the first anchor and another on the second. (Slots 1
    // and 2 arrive together, late, as for a node catching up at start: a late tip above a late block
    // is not set aside.)
    const probe = await producerNode();
    const before = slotContextOn(probe.store, 3);
    const yBefore = realBeacon(probe.params, 3, before.anchorHash).y;
    const slot1 = nextBlockOn(probe.store, [], { slot: 1, rank: 0 }).block;
    await probe.store.applyBlock(slot1);
    const slot2 = nextBlockOn(probe.store, [], { slot: 2, rank: 0 }).block;
    await probe.store.applyBlock(slot2);
    const after = slotContextOn(probe.store, 3);
    const yAfter = realBeacon(probe.params, 3, after.anchorHash).y;
    const weights = rankingWeights(probe.params, before.activeMasternodes);
    const rank = [0, 1, 2, 3].find((r) => {
      const k = leaderKey(probe.params, before.activeMasternodes, yBefore, r)!;
      return rankOf(weights, yAfter, k.publicKey) !== r;
    })!;
    expect(rank).toBeDefined();
    const n = await producerNode({ who: { slot: 3, rank } });
    n.clock.advance(slotStartMs(n.params, 3) - n.clock.now());
    const work = n.producer.onSlot(3);
    // The window timer is armed (rank known on the genesis anchor); slots 1 and 2 arrive meanwhile.
    while (n.clock.nextTimerAtMs() === undefined) await new Promise((r) => setImmediate(r));
    expect(await n.chain.receive(slot1, 'sync', 'peer-a')).toBe('applied');
    expect(await n.chain.receive(slot2, 'sync', 'peer-a')).toBe('applied');
    await n.drive(work);
    expect(n.applied.map((a) => a.block.header.slot)).toEqual([1, 2]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'slot passed: the anchor moved, and our rank with it', slot: 3, rank }),
    );
    expect(n.logs.filter((l) => Number(l['level']) >= 50)).toEqual([]);
  });

  it('not when the slot already has a block on our chain', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 1 } });
    const rival = await receiveSlot1Block(n, slotStartMs(n.params, 1) + 10);
    await n.runSlot(1);
    expect(n.applied.map((a) => id(a.block))).toEqual([id(rival)]);
  });

  it('not when the slot’s block on our chain came late: it is not set aside for a second one', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 3 } });
    // Rank 0's block arrives 1 s after its window closed (the tolerance), as rank 3's window opens.
    const late = await receiveSlot1Block(n, rankWindow(n.params, 1, 3).startMs);
    await n.runSlot(1);
    expect(n.applied.map((a) => id(a.block))).toEqual([id(late)]);
    expect(n.logs.some((l) => l.msg.startsWith('late tip set aside'))).toBe(false);
  });

  it('not when a lower-ranked block of the slot is in hand; a higher-ranked one does not stop it', async () => {
    const lower = await producerNode({ who: { slot: 1, rank: 1 } });
    // Held beside the tip, as while its transactions wait for finality here (since longer than the
    // finality wait, so it no longer holds production back as a pending longer branch).
    const longAgo = lower.clock.now() - 2_000;
    const rank0 = nextBlockOn(lower.store, [], { slot: 1, rank: 0 }).block;
    lower.tree.add(rank0, true, longAgo, 'peer-a', true);
    await lower.runSlot(1);
    expect(lower.applied).toEqual([]);
    expect(lower.logs.some((l) => l.msg.startsWith('slot passed'))).toBe(false);

    const higher = await producerNode({ who: { slot: 1, rank: 1 } });
    const rank2 = nextBlockOn(higher.store, [], { slot: 1, rank: 2 }).block;
    higher.tree.add(rank2, true, longAgo, 'peer-a', true);
    await higher.runSlot(1);
    expect(higher.applied.map((a) => a.block.header.rank)).toEqual([1]);

    // A rank-0 block whose header check has not passed (it runs, or it failed) is no reason.
    const unchecked = await producerNode({ who: { slot: 1, rank: 1 } });
    unchecked.tree.add(
      nextBlockOn(unchecked.store, [], { slot: 1, rank: 0 }).block,
      true,
      longAgo,
      'peer-a',
      false,
    );
    await unchecked.runSlot(1);
    expect(unchecked.applied.map((a) => a.block.header.rank)).toEqual([1]);
  });

  it('not held back by a forged block of the slot: it is refused before it is held, its sender scored', async () => {
    // What anyone could once do with one frame per finality wait: a block claiming rank 0 on our
    // tip, signed by no one, carrying a payment never final here, sent just before our window.
    const n = await producerNode({ who: { slot: 1, rank: 1 }, expectBadBlocks: true });
    const payment = { etx: pay(fundedCoin(0), recipient(1), 10_000_000n), fee: 100_000n };
    const real = nextBlockOn(n.store, [payment], { slot: 1, rank: 0 }).block;
    const forged: Block = { ...real, signature: new Uint8Array(64).fill(1) };
    n.clock.advance(rankWindow(n.params, 1, 1).startMs - 50 - n.clock.now());
    expect(await n.chain.receive(forged, 'gossip', 'mallory')).toBe('invalid');
    await n.runSlot(1);
    expect(n.applied.map((a) => a.block.header.rank)).toEqual([1]);
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    expect(n.logs.some((l) => l.msg.startsWith('slot passed'))).toBe(false);
  });

  it('not while a longer branch that arrived within the finality wait is pending; after it, yes', async () => {
    for (const [arrivedAgoMs, produces] of [
      [0, false],
      [1_000, false],
      [1_001, true],
    ] as const) {
      const n = await producerNode({ who: { slot: 2, rank: 0 } });
      // Blocks 1 and 2 of a branch on genesis (slots 0.. are taken: 1 then 2), held but not followed.
      const side = await sideBranch(n.params, [1, 2]);
      const windowStart = rankWindow(n.params, 2, 0).startMs;
      for (const b of side) n.tree.add(b, true, windowStart - arrivedAgoMs, 'peer-a', true);
      await n.runSlot(2);
      expect(n.applied.length).toBe(produces ? 1 : 0);
      if (!produces)
        expect(n.logs).toContainEqual(
          expect.objectContaining({
            msg: 'slot passed: a longer branch is waiting for finality here',
            slot: 2,
            rank: 0,
            tip: 0,
          }),
        );
    }
  });
});

/** Empty blocks at `slots` on genesis, built on a store of their own (another node's branch). */
async function sideBranch(params: ChainParams, slots: readonly number[]): Promise<Block[]> {
  const { dir, cleanup } = tempDir('block-producer-side-');
  const side = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(cleanup, () => side.close());
  return extendStore(side, slots);
}

/** Slot 1's rank-0 block, received by gossip at `atMs`: applied, as the only block there is. */
async function receiveSlot1Block(n: Awaited<ReturnType<typeof producerNode>>, atMs: number): Promise<Block> {
  const block = nextBlockOn(n.store, [], { slot: 1, rank: 0 }).block;
  n.clock.advance(atMs - n.clock.now());
  expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
  return block;
}

/** Slot 1's block 100 ms before slot 2: 1.4 s after its window closed (the tolerance is 1 s), late. */
const receiveLateTip = (n: Awaited<ReturnType<typeof producerNode>>) =>
  receiveSlot1Block(n, slotStartMs(n.params, 2) - 100);

describe('BlockProducer: building on timely blocks', () => {
  it('builds on a timely tip: the next height, its hash as the parent', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 0 } });
    const first = await receiveSlot1Block(n, slotStartMs(n.params, 1) + 10);
    await n.runSlot(2);
    const ours = n.applied[1]!.block;
    expect(ours.header).toMatchObject({ height: 2, slot: 2, rank: 0 });
    expect(toHex(ours.header.prevHash)).toBe(id(first));
  });

  it('sets a late tip aside and publishes its own block at that height instead', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 0 } });
    const late = await receiveLateTip(n);
    await n.runSlot(2);
    expect(n.applied.map((a) => [a.block.header.slot, a.source])).toEqual([
      [1, 'gossip'],
      [2, 'self'],
    ]);
    expect(n.store.tip()).toMatchObject({ height: 1, slot: 2 });
    expect(toHex(n.applied[1]!.block.header.prevHash)).toBe(id(genesisBlock(n.params)));
    // Kept beside the chain: if the network builds on it after all, fork choice can come back to it.
    expect(n.tree.has(id(late))).toBe(true);
    expect(n.logs.some((l) => l.msg === 'late tip set aside: building on the timely block below it')).toBe(
      true,
    );
  });

  it('puts a late tip it set aside back when it publishes nothing after all', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 0 } });
    const late = await receiveLateTip(n);
    n.flags.withhold = true;
    await n.runSlot(2);
    expect(n.store.tip().height).toBe(1);
    expect(id(n.store.getBlock(1)!)).toBe(id(late));
  });
});

describe('BlockProducer: the Byzantine test switches (devnet --test-switches only)', () => {
  it('withhold: the block is built but neither applied nor published', async () => {
    const n = await producerNode();
    await finalizedPayment(n.ledger);
    n.flags.withhold = true;
    await n.runSlot(1);
    expect(n.applied).toEqual([]);
    expect(n.rivals).toEqual([]);
    expect(n.store.tip().height).toBe(0);
    expect(n.logs).toContainEqual(
      expect.objectContaining({
        msg: 'test switch withhold: block not published',
        slot: 1,
        rank: 0,
        height: 1,
      }),
    );
  });

  it('doubleSign: a second block for the same slot, parent and rank, signed by the same key', async () => {
    const n = await producerNode();
    const etx = await finalizedPayment(n.ledger);
    n.flags.doubleSign = true;
    await n.runSlot(1);
    expect(n.applied).toHaveLength(1);
    expect(n.rivals).toHaveLength(1);
    const ours = n.applied[0]!.block;
    const rival = n.rivals[0]!;
    expect(id(rival)).not.toBe(id(ours));
    for (const field of ['height', 'slot', 'rank'] as const)
      expect(rival.header[field]).toBe(ours.header[field]);
    expect(toHex(rival.header.prevHash)).toBe(toHex(ours.header.prevHash));
    expect(bytesEqual(rival.header.producerPubkey, n.key.publicKey)).toBe(true);
    // The honest block keeps the transactions; the rival carries only its coinbase.
    expect(ours.txs.map((t) => toHex(t.txid))).toContain(toHex(etx.txid));
    expect(rival.txs).toHaveLength(1);
    expect(n.logs).toContainEqual(
      expect.objectContaining({
        msg: 'test switch doubleSign: rival block published',
        slot: 1,
        rank: 0,
        height: 1,
      }),
    );
  });

  it('doubleSign with nothing to include: the rival still differs, at either end of the window', async () => {
    // An empty block differs from its rival only by the timestamp, which is kept inside the window.
    for (const lateMs of [0, DEVNET.leaderFallbackStepMs - 1]) {
      const n = await producerNode();
      n.flags.doubleSign = true;
      const work = n.producer.onSlot(1);
      while (n.clock.nextTimerAtMs() === undefined) await new Promise((r) => setImmediate(r));
      n.clock.advance(slotStartMs(n.params, 1) + lateMs - n.clock.now());
      await n.drive(work);
      expect(n.applied).toHaveLength(1);
      expect(n.rivals).toHaveLength(1);
      const ours = n.applied[0]!.block;
      const rival = n.rivals[0]!;
      expect(ours.header.timestampMs).toBe(slotStartMs(n.params, 1) + lateMs);
      expect(id(rival)).not.toBe(id(ours));
      // A valid header: its timestamp inside rank 0's window, signed by our key.
      const window = rankWindow(n.params, 1, 0);
      expect(rival.header.timestampMs).toBeGreaterThanOrEqual(window.startMs);
      expect(rival.header.timestampMs).toBeLessThan(window.endMs);
      expect(
        ed25519.verify(rival.signature, headerSigMessage(headerHash(rival.header)), n.key.publicKey),
      ).toBe(true);
    }
  });
});

/** A manual clock whose timers fire 5 ms before they are due (a system timer may fire early). */
class EarlyClock extends ManualClock {
  override setTimer(fn: () => void, delayMs: number): unknown {
    return super.setTimer(fn, delayMs - 5);
  }
}

describe('BlockProducer.start: the slot schedule', () => {
  async function slotsSeen(n: Awaited<ReturnType<typeof producerNode>>, upTo: number): Promise<number[]> {
    for (let slot = 1; slot <= upTo; slot++) {
      n.clock.advance(slotStartMs(n.params, slot) - n.clock.now());
      await new Promise((r) => setImmediate(r));
    }
    return n.slots.map((s) => s.slot);
  }

  it('runs each slot once, at its start, until stopped', async () => {
    const n = await producerNode({ who: 'outsider' });
    n.producer.start();
    n.clock.advance(slotStartMs(n.params, 1) - 1 - n.clock.now());
    await new Promise((r) => setImmediate(r));
    expect(n.slots).toEqual([]);
    expect(await slotsSeen(n, 3)).toEqual([1, 2, 3]);
    n.producer.stop();
    n.clock.advance(10 * n.params.slotMs);
    await new Promise((r) => setImmediate(r));
    expect(n.slots.map((s) => s.slot)).toEqual([1, 2, 3]);
  });

  it('a timer that fires a little early still runs each slot once, as that slot', async () => {
    const params = DEVNET;
    const n = await producerNode({ who: 'outsider', clock: new EarlyClock(slotStartMs(params, 1) - 100) });
    n.producer.start();
    expect(await slotsSeen(n, 4)).toEqual([1, 2, 3, 4]);
  });

  it('stop() also cancels a producer waiting for its rank window', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 2 } });
    n.producer.start();
    n.clock.advance(slotStartMs(n.params, 1) - n.clock.now());
    // The slot has begun and the producer waits for its window (rank 2: 1 s into the slot).
    while (n.slots.length === 0) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    n.producer.stop();
    expect(n.clock.nextTimerAtMs()).toBeUndefined();
    n.clock.advance(n.params.slotMs);
    await new Promise((r) => setImmediate(r));
    expect(n.applied).toEqual([]);
  });
});

describe('BlockProducer: the beacon a slot waits for', () => {
  it('a beacon received from a peer while ours is still computing is the one used', async () => {
    const { wait: vdfGate, release } = gate();
    const n = await producerNode({ vdfGate });
    const work = n.runSlot(1);
    await new Promise((r) => setImmediate(r));
    const genesis = headerHash(genesisBlock(n.params).header);
    const theirs = realBeacon(n.params, 1, genesis);
    expect(await n.beacons.receive(1, genesis, theirs.y, theirs.proof, 'peer-a')).toBe(true);
    release();
    await work;
    expect(n.applied).toHaveLength(1);
    expect(toHex(n.applied[0]!.block.header.beaconY)).toBe(toHex(theirs.y));
    // Ours was cancelled: only the next slot's evaluation finished here.
    expect(n.evaluated).toEqual([2]);
  });

  it('no beacon (the service closed while it computed): the slot passes without a block or an error', async () => {
    const { wait: vdfGate, release } = gate();
    const n = await producerNode({ vdfGate });
    const work = n.runSlot(1);
    await new Promise((r) => setImmediate(r));
    n.beacons.close();
    release();
    await work;
    expect(n.slots).toEqual([]);
    expect(n.applied).toEqual([]);
  });

  it('evaluates the next slot’s beacon on that slot’s own anchor', async () => {
    const n = await producerNode({ who: 'outsider' });
    n.clock.advance(slotStartMs(n.params, 2) + 10 - n.clock.now());
    const blocks: Block[] = [];
    for (const slot of [1, 2]) {
      const { block } = nextBlockOn(n.store, [], { slot });
      expect(await n.chain.receive(block, 'sync', 'peer-a')).toBe('applied');
      blocks.push(block);
    }
    await n.runSlot(3);
    // Slot 4's anchor is the newest block with slot < 3: the one of slot 2 (slot 3's is slot 1's).
    expect(n.evaluated).toEqual([4]);
    expect(n.beacons.get(4, headerHash(blocks[1]!.header))).toBeDefined();
    expect(n.beacons.get(4, headerHash(blocks[0]!.header))).toBeUndefined();
  });
});

describe('BlockProducer: more reasons to stay silent', () => {
  it('produces at exactly the minimum active masternode count', async () => {
    const n = await producerNode({ params: { ...DEVNET, minActiveMasternodes: 5 } });
    await n.runSlot(1);
    expect(n.applied).toHaveLength(1);
  });

  it('an active masternode that the slot’s anchor does not rank yet reports no rank and stays silent', async () => {
    // Registered after the anchor: active by our tip, not in the set the beacon ranks.
    const n = await producerNode({ who: 'outsider' });
    const record = n.store.activeMasternodes(0)[0]!;
    n.validators.setActive([...n.store.activeMasternodes(0), { ...record, nodePubkey: n.key.publicKey }]);
    expect(n.validators.isValidator).toBe(true);
    await n.runSlot(1);
    expect(n.slots).toEqual([{ slot: 1, role: 'validator', rank: null }]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'slot', slot: 1, role: 'validator', rank: null }),
    );
    expect(n.applied).toEqual([]);
  });

  it('a block of its own rank for this slot in hand (its own, from before a restart): no second one', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 1 } });
    const own = nextBlockOn(n.store, [], { slot: 1, rank: 1 }).block;
    n.tree.add(own, true, n.clock.now() - 2_000, undefined, true);
    // Finalized since: a block built now would differ from the one in hand.
    await finalizedPayment(n.ledger);
    await n.runSlot(1);
    expect(n.applied).toEqual([]);
    expect(n.logs.filter((l) => l.msg.startsWith('block produced'))).toEqual([]);
  });

  it('a lower-ranked block of another slot in hand does not stop it', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 1 } });
    const older = nextBlockOn(n.store, [], { slot: 1, rank: 0 }).block;
    n.tree.add(older, true, n.clock.now() - 2_000, 'peer-a', true);
    await n.runSlot(2);
    expect(n.applied.map((a) => a.block.header.slot)).toEqual([2]);
  });

  it('a late tip is left alone when the window has already passed', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 0 } });
    await receiveLateTip(n);
    const work = n.producer.onSlot(2);
    while (n.clock.nextTimerAtMs() === undefined) await new Promise((r) => setImmediate(r));
    n.clock.advance(rankWindow(n.params, 2, 0).endMs - n.clock.now());
    await n.drive(work);
    expect(n.applied).toHaveLength(1);
    expect(n.logs.some((l) => l.msg.startsWith('late tip set aside'))).toBe(false);
  });

  it('gives up when setting a late tip aside took it past its window, and puts the tip back', async () => {
    const n = await producerNode({ who: { slot: 2, rank: 0 } });
    const late = await receiveLateTip(n);
    const work = n.producer.onSlot(2);
    while (n.clock.nextTimerAtMs() === undefined) await new Promise((r) => setImmediate(r));
    n.clock.advance(rankWindow(n.params, 2, 0).startMs - n.clock.now());
    // The revert (an LMDB write) stalls until the window has closed.
    n.hooks.controllerNow = () => {
      n.hooks.controllerNow = undefined;
      n.clock.advance(rankWindow(n.params, 2, 0).endMs - n.clock.now());
    };
    await n.drive(work);
    expect(n.logs.some((l) => l.msg.startsWith('late tip set aside'))).toBe(true);
    // Nothing of ours; the late block went back on the chain when the leaves were reconsidered.
    expect(n.applied.map((a) => [id(a.block), a.source])).toEqual([
      [id(late), 'gossip'],
      [id(late), 'sync'],
    ]);
    expect(id(n.store.getBlock(1)!)).toBe(id(late));
  });
});

describe('BlockProducer: stopping, and slots that fail', () => {
  it('stopped while its beacon computes: the window it then waits for never produces', async () => {
    const { wait: vdfGate, release } = gate();
    const n = await producerNode({ who: { slot: 1, rank: 1 }, vdfGate });
    const work = n.producer.onSlot(1);
    await new Promise((r) => setImmediate(r));
    n.producer.stop();
    release();
    await n.drive(work);
    n.clock.advance(n.params.slotMs);
    expect(n.applied).toEqual([]);
  });

  it('start() after stop() schedules nothing', async () => {
    const n = await producerNode({ who: 'outsider' });
    n.producer.stop();
    n.producer.start();
    expect(n.clock.nextTimerAtMs()).toBeUndefined();
  });

  it('a slot that throws is logged with its number and the next slot still runs', async () => {
    const n = await producerNode({ who: 'outsider' });
    n.producer.start();
    n.flags.failSlot = true;
    n.clock.advance(slotStartMs(n.params, 1) - n.clock.now());
    await new Promise((r) => setImmediate(r));
    expect(n.logs).toContainEqual(
      expect.objectContaining({ msg: 'slot failed', slot: 1, err: 'metrics update failed' }),
    );
    n.flags.failSlot = false;
    n.clock.advance(n.params.slotMs);
    await new Promise((r) => setImmediate(r));
    expect(n.slots.map((s) => s.slot)).toEqual([2]);
  });
});

/** Lets pending promise callbacks and I/O run for `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('BlockProducer: blocks that land while it waits for the write queue', () => {
  it('a block for the slot applied meanwhile: no second block on top of it', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 0 }, pendingBranchWaitMs: 0 });
    // Another write holds the queue (a finality batch, say).
    let open!: () => void;
    void n.serial.run(() => new Promise<void>((r) => (open = r)));
    // Rank 1's block of the slot arrives just before our window and queues behind it.
    const rival = nextBlockOn(n.store, [], { slot: 1, rank: 1 }).block;
    n.clock.advance(slotStartMs(n.params, 1) - 1 - n.clock.now());
    const received = n.chain.receive(rival, 'gossip', 'peer-a');
    const work = n.runSlot(1);
    await turns(20);
    open();
    await work;
    expect(await received).toBe('applied');
    expect(n.applied.map((a) => id(a.block))).toEqual([id(rival)]);
    expect(n.logs.filter((l) => l.msg.startsWith('block produced'))).toEqual([]);
  });

  it('a lower-ranked block of the slot applied after our parent was read: ours is not assembled on the stale parent', async () => {
    const n = await producerNode({ who: { slot: 1, rank: 1 } });
    let open!: () => void;
    void n.serial.run(() => new Promise<void>((r) => (open = r)));
    const work = n.runSlot(1);
    // Our window opened and the producer waits for the queue to set a late tip aside (none here).
    await turns(20);
    expect(n.clock.now()).toBe(rankWindow(n.params, 1, 1).startMs);
    const rank0 = nextBlockOn(n.store, [], { slot: 1, rank: 0 }).block;
    const received = n.chain.receive(rank0, 'gossip', 'peer-a');
    open();
    await work;
    expect(await received).toBe('applied');
    expect(n.applied.map((a) => id(a.block))).toEqual([id(rank0)]);
    expect(n.logs.filter((l) => l.msg.startsWith('block produced'))).toEqual([]);
    expect(n.logs).toContainEqual(
      expect.objectContaining({
        msg: 'slot passed: a block landed on our parent before ours was assembled',
        slot: 1,
        rank: 1,
        tip: 1,
      }),
    );
  });
});
