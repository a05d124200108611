import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET_SEED, genesisBlock } from '../../../src/chain/genesis.js';
import { rankWindow, slotStartMs } from '../../../src/chain/slot-time.js';
import { WasmVerifier } from '../../../src/crypto/wasm-verifier.js';
import { fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { LedgerService } from '../../../src/ledger/ledger-service.js';
import { SerialQueue } from '../../../src/ledger/serial-queue.js';
import { BlockTree } from '../../../src/node/block-tree.js';
import { type BlockSource, ChainController, MAX_INVALID } from '../../../src/node/chain-controller.js';
import { ChainIndex } from '../../../src/node/chain-index.js';
import type { FinalityWaiters } from '../../../src/node/finality-waiters.js';
import type { TxIntake, TxStanding } from '../../../src/node/tx-intake.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, headerHash } from '../../../src/protocol/block.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { devnetKeyPair, sign } from '../../../src/wallet/keys.js';
import { extendStore, inlineBeacons, nextBlockOn } from '../../support/block-builder.js';
import { freeRegistration } from '../../support/devnet-ledger.js';
import { tempDir } from '../storage/temp-dir.js';

/**
 * The block pipeline over real parts: an LMDB chain store, the ledger (WASM signatures), the
 * serial queue and real devnet blocks (real VDF beacons and leaders). What is checked is what a
 * node's neighbours and its own listeners see: which chain it ends on, what it reverts and applies
 * and in which order, whom it blames, and what it refuses to look at twice.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const id = (b: Block) => toHex(headerHash(b.header));

async function openStore(params: ChainParams, prefix: string): Promise<ChainStore> {
  const { dir, cleanup } = tempDir(prefix);
  const store = await ChainStore.open(dir, params, genesisBlock(params));
  cleanups.push(cleanup, () => store.close());
  return store;
}

interface Gate {
  /** Standing of each transaction by txid hex (default: unknown). */
  readonly standings: Map<string, TxStanding>;
  /** What a wait for a transaction resolves to (after `hold`, if set). */
  outcome: 'finalized' | 'rejected' | 'timeout';
  /** When set, every wait resolves only once this settles (the test decides when). */
  hold: Promise<void> | undefined;
  /** Called as a wait ends, before it resolves (to change standings meanwhile). */
  onWaitEnd: (() => void) | undefined;
  readonly submitted: string[];
  waits: number;
}

/**
 * A node's chain side: `main` is its store. The finality gate's two collaborators are tiny
 * stand-ins that report the standing the test sets (the real TxIntake needs a whole engine).
 */
async function node(params: ChainParams = DEVNET, tree = new BlockTree(), keep = params.maxReorgDepth + 8) {
  const store = await openStore(params, 'chain-reorg-main-');
  const ledger = LedgerService.open(params, store, new WasmVerifier());
  // Every header check the pipeline runs, by block id (the ledger's own check, counted).
  const checked: string[] = [];
  // The active set each check read, by block id (node pubkeys, hex, in the order given).
  const checkedSets = new Map<string, string[]>();
  const check = ledger.checkSignedBlock.bind(ledger);
  ledger.checkSignedBlock = (block, slot, parent) => {
    checked.push(id(block));
    checkedSets.set(
      id(block),
      slot.activeMasternodes.map((m) => toHex(m.nodePubkey)),
    );
    return check(block, slot, parent);
  };
  const index = new ChainIndex(store, keep);
  const events: string[] = [];
  const bad: [string, string][] = [];
  const orphans: number[] = [];
  const gate: Gate = {
    standings: new Map(),
    outcome: 'timeout',
    hold: undefined,
    onWaitEnd: undefined,
    submitted: [],
    waits: 0,
  };
  const clock = { now: 0 };
  // What an operator reads: the warn and info lines (reorgs, refused blocks, late tips).
  const logs: { msg: string; [field: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const intake = {
    standing: (txid: Uint8Array) => gate.standings.get(toHex(txid)) ?? 'unknown',
    submitLocal: async (bytes: Uint8Array) => {
      gate.submitted.push(toHex(bytes));
      return undefined;
    },
  } as unknown as TxIntake;
  const waiters = {
    wait: async () => {
      gate.waits++;
      await gate.hold;
      gate.onWaitEnd?.();
      return gate.outcome;
    },
  } as unknown as FinalityWaiters;
  const chain = new ChainController({
    params,
    store,
    index,
    tree,
    ledger,
    engine: undefined as never,
    serial: new SerialQueue(),
    beacons: inlineBeacons(params),
    intake,
    waiters,
    log,
    now: () => clock.now,
    finalityWaitMs: 50,
    onApplied: (b: Block, _h: Uint8Array, source: BlockSource) => events.push(`+${id(b)}:${source}`),
    onReverted: (b: Block) => events.push(`-${id(b)}`),
    onRejected: () => undefined,
    onBadBlock: (peer, code) => bad.push([peer, code]),
    onOrphan: (_peer, height) => orphans.push(height),
  });
  return {
    store,
    ledger,
    tree,
    index,
    chain,
    events,
    bad,
    orphans,
    gate,
    clock,
    params,
    logs,
    checked,
    checkedSets,
  };
}

type TestNode = Awaited<ReturnType<typeof node>>;

/** A block on the node's tip paying from devnet coin 0, received 10 ms into its slot. */
function blockWithPayment(n: TestNode, slot = 1) {
  const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
  const { block } = nextBlockOn(n.store, [{ etx: tx, fee: 100_000n }], { slot });
  n.clock.now = block.header.timestampMs + 10;
  return { tx, block };
}

/** A block on genesis, built on a store of its own (`side`), paying from devnet coin 0. */
async function paymentOnGenesis(params: ChainParams, slot: number) {
  const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
  const side = await openStore(params, 'chain-reorg-b-');
  const block = nextBlockOn(side, [{ etx: tx, fee: 100_000n }], { slot }).block;
  return { tx, block, side };
}

/** Every finality wait blocks until the returned release(), then ends with `txid` final here. */
function holdUntilFinal(n: TestNode, txid: Uint8Array): () => void {
  let release = () => {};
  n.gate.hold = new Promise<void>((r) => {
    release = r;
  });
  n.gate.outcome = 'finalized';
  n.gate.onWaitEnd = () => n.gate.standings.set(toHex(txid), 'finalized');
  return release;
}

/** Long after every slot used here: fetched blocks are history (the chain rule, no finality gate). */
const LATER = slotStartMs(DEVNET, 1_000);

describe('ChainController: extending the main chain', () => {
  it('applies a timely gossiped block, tells the listeners once, and knows it afterwards', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, [], { slot: 1 });
    n.clock.now = block.header.timestampMs + 10;
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
    expect(n.store.tip().height).toBe(1);
    expect(n.events).toEqual([`+${id(block)}:gossip`]);
    expect(n.index.tip.timely).toBe(true);
    expect(await n.chain.receive(block, 'gossip', 'peer-b')).toBe('known');
    expect(n.events).toHaveLength(1);
    expect(n.tree.size).toBe(0);
    // Extending the tip reverts nothing: no reorg is reported.
    expect(n.logs.filter((l) => l.msg.startsWith('reorg'))).toEqual([]);
  });

  it('marks a gossiped block that arrived after its rank window (plus tolerance) as late', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, [], { slot: 1 });
    n.clock.now = slotStartMs(DEVNET, 5);
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
    expect(n.index.tip.timely).toBe(false);
  });

  it('judges a fetched block by its arrival too: a withheld rank-0 block served to GetBlocks stays late', async () => {
    // A producer that withholds its rank-0 block past its window (grinding the next anchor) and
    // serves it only to GetBlocks must lose to the timely rank-1 block, as it does when gossiped.
    const builder = await openStore(DEVNET, 'chain-reorg-late-');
    const late0 = nextBlockOn(builder, [], { slot: 1, rank: 0 }).block;
    const timely1 = nextBlockOn(builder, [], { slot: 1, rank: 1 }).block;
    // Past rank 0's window plus the tolerance, still inside slot 1 (not history).
    const lateMs = rankWindow(DEVNET, 1, 0).endMs + DEVNET.futureBlockToleranceMs + 1;
    expect(lateMs).toBeLessThan(slotStartMs(DEVNET, 2));
    for (const source of ['gossip', 'sync'] as const) {
      const n = await node();
      n.clock.now = timely1.header.timestampMs + 10;
      expect(await n.chain.receive(timely1, 'gossip', 'honest')).toBe('applied');
      n.clock.now = lateMs;
      expect(await n.chain.receive(late0, source, 'withholder')).toBe('side');
      expect(toHex(n.store.tip().hash)).toBe(id(timely1));
      expect(n.tree.get(id(late0))?.timely).toBe(false);
    }
    // Fetched inside its window, the same block is timely and wins on rank.
    const n = await node();
    n.clock.now = timely1.header.timestampMs + 10;
    await n.chain.receive(timely1, 'gossip', 'honest');
    expect(await n.chain.receive(late0, 'sync', 'producer')).toBe('applied');
    expect(toHex(n.store.tip().hash)).toBe(id(late0));
  });

  it('drops a block from the future unseen: not applied, not kept, not known', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, [], { slot: 3 });
    n.clock.now = block.header.timestampMs - DEVNET.futureBlockToleranceMs - 1;
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('future');
    expect(n.tree.size).toBe(0);
    expect(n.chain.isKnown(id(block))).toBe(false);
    // Within the tolerance it is taken.
    n.clock.now = block.header.timestampMs - DEVNET.futureBlockToleranceMs;
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
  });
});

describe('ChainController: switching to a better branch', () => {
  it('reverts newest first, applies oldest first, and keeps the old blocks beside the chain', async () => {
    const n = await node();
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    const [b1, b2, b3] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [3, 4, 5]);
    n.clock.now = LATER;
    expect(await n.chain.receive(a1!, 'sync', 'peer-a')).toBe('applied');
    expect(await n.chain.receive(a2!, 'sync', 'peer-a')).toBe('applied');
    n.events.length = 0;
    // The branch arrives newest first: held as orphans (their ancestors asked for), then connected
    // by its first block, which carries the whole branch with it.
    expect(await n.chain.receive(b3!, 'sync', 'peer-b')).toBe('orphan');
    expect(await n.chain.receive(b2!, 'sync', 'peer-b')).toBe('orphan');
    expect(n.orphans).toEqual([3, 2]);
    expect(await n.chain.receive(b1!, 'sync', 'peer-b')).toBe('applied');
    expect(n.events).toEqual([`-${id(a2!)}`, `-${id(a1!)}`, ...[b1, b2, b3].map((b) => `+${id(b!)}:sync`)]);
    expect(toHex(n.store.tip().hash)).toBe(id(b3!));
    // The operator is told once, with the depth: from height 2 back to the fork point at 0.
    expect(n.logs.filter((l) => l.msg === 'reorg: reverted to the fork point')).toMatchObject([
      { level: 40, from: 2, to: 0, depth: 2 },
    ]);
    // Fetched long after their slots: late, as gossip would be (timeliness is by arrival).
    expect(n.index.tip.timely).toBe(false);
    expect(n.chain.tipHeight).toBe(3);
    expect(n.index.at(1)!.hash).toEqual(headerHash(b1!.header));
    expect(n.tree.has(id(a1!)) && n.tree.has(id(a2!))).toBe(true);
    // They were our chain (validated): held as checked, so they count for the producer's rules.
    expect([a1!, a2!].map((b) => n.tree.get(id(b))?.headerChecked)).toEqual([true, true]);
    expect(n.tree.has(id(b1!)) || n.tree.has(id(b3!))).toBe(false);
    // The old branch is known (held), so sync does not fetch it again.
    expect(await n.chain.receive(a2!, 'sync', 'peer-a')).toBe('known');
  });

  it('keeps a branch that does not beat the main chain, and switches once it grows', async () => {
    const n = await node();
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    const [b1, b2] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [3, 4]);
    n.clock.now = LATER;
    await n.chain.receive(a1!, 'sync');
    await n.chain.receive(a2!, 'sync');
    expect(await n.chain.receive(b1!, 'sync', 'peer-b')).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(a2!));
    // Two against two: fork choice decides by its tie-breaks, never by arrival order.
    const tie = await n.chain.receive(b2!, 'sync', 'peer-b');
    const winner = tie === 'applied' ? b2! : a2!;
    expect(toHex(n.store.tip().hash)).toBe(id(winner));
    // The same two branches in the other order end on the same tip.
    const m = await node();
    m.clock.now = LATER;
    await m.chain.receive(b1!, 'sync');
    await m.chain.receive(b2!, 'sync');
    await m.chain.receive(a1!, 'sync');
    await m.chain.receive(a2!, 'sync');
    expect(toHex(m.store.tip().hash)).toBe(id(winner));
  });

  it('never reorganizes deeper than maxReorgDepth: the branch is dropped, the chain stays', async () => {
    const params = { ...DEVNET, maxReorgDepth: 2 };
    const n = await node(params);
    const main = await extendStore(await openStore(params, 'chain-reorg-a-'), [1, 2, 3]);
    const branch = await extendStore(await openStore(params, 'chain-reorg-b-'), [4, 5, 6, 7]);
    n.clock.now = LATER;
    for (const b of main) expect(await n.chain.receive(b, 'sync')).toBe('applied');
    for (const b of branch.slice(1).reverse()) await n.chain.receive(b, 'sync', 'peer-b');
    // Longer, but it forks at genesis, three blocks below the tip: one more than allowed.
    expect(await n.chain.receive(branch[0]!, 'sync', 'peer-b')).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(main[2]!));
    expect(n.tree.has(id(branch[0]!))).toBe(false);

    // Exactly maxReorgDepth deep is allowed: a branch forking at height 1.
    const m = await node(params);
    m.clock.now = LATER;
    const fork = await openStore(params, 'chain-reorg-c-');
    await fork.applyBlock(main[0]!);
    const branch2 = await extendStore(fork, [4, 5, 6]);
    for (const b of main) await m.chain.receive(b, 'sync');
    for (const b of branch2.slice(1).reverse()) await m.chain.receive(b, 'sync', 'peer-b');
    expect(await m.chain.receive(branch2[0]!, 'sync', 'peer-b')).toBe('applied');
    expect(toHex(m.store.tip().hash)).toBe(id(branch2[2]!));
  });
});

describe('ChainController: a bad block in a winning branch', () => {
  /** b2 with a header that breaks a rule (a rank its producer does not hold): every copy is bad. */
  const wrongRank = (b: Block): Block => ({ ...b, header: { ...b.header, rank: b.header.rank + 1 } });
  /** b2's header with a broken signature: only these bytes are wrong. */
  const badCopy = (b: Block): Block => {
    const signature = b.signature.slice();
    signature[0]! ^= 1;
    return { ...b, signature };
  };

  it('puts the old chain back and tells the listeners so; the sender is blamed once', async () => {
    const n = await node();
    const [a1] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1]);
    const [b1, b2] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [2, 3]);
    const evil = wrongRank(b2!);
    n.clock.now = LATER;
    await n.chain.receive(a1!, 'sync', 'peer-a');
    expect(await n.chain.receive(b1!, 'sync', 'peer-b')).toBe('side');
    n.events.length = 0;
    expect(await n.chain.receive(evil, 'sync', 'mallory')).toBe('invalid');
    expect(toHex(n.store.tip().hash)).toBe(id(a1!));
    expect(n.store.tip().height).toBe(1);
    expect(n.bad).toEqual([['mallory', 'WRONG_RANK']]);
    const refused = n.logs.filter((l) => l.msg === 'block refused');
    expect(refused).toMatchObject([
      { level: 40, height: 2, hash: id(evil).slice(0, 16), code: 'WRONG_RANK' },
    ]);
    expect(refused[0]!['detail']).toEqual(expect.stringMatching(/rank/));
    // Every listener (active set, events, engine) ends where the chain ends: a1 back on top.
    expect(n.events).toEqual([`-${id(a1!)}`, `+${id(b1!)}:sync`, `-${id(b1!)}`, `+${id(a1!)}:sync`]);
    // a1 is on the main chain again, so not also held beside it; b1 is held (valid, not preferred).
    expect(n.tree.has(id(a1!))).toBe(false);
    expect(n.tree.has(id(b1!))).toBe(true);
    expect(n.tree.get(id(b1!))?.headerChecked).toBe(true); // validated on the way

    // The header is remembered as invalid: offered again, it costs no validation and no blame.
    expect(await n.chain.receive(evil, 'sync', 'mallory')).toBe('known');
    expect(n.bad).toHaveLength(1);
    // The honest b2 still wins.
    expect(await n.chain.receive(b2!, 'sync', 'peer-b')).toBe('applied');
    expect(toHex(n.store.tip().hash)).toBe(id(b2!));
  });

  it(`remembers at most MAX_INVALID (${MAX_INVALID}) invalid headers, forgetting the oldest first`, async () => {
    const n = await node();
    const [b1] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [1]);
    n.clock.now = LATER;
    // Distinct headers that each break the rank rule: every one is validated once and remembered.
    const evil = (i: number): Block => ({ ...b1!, header: { ...b1!.header, rank: b1!.header.rank + 1 + i } });
    for (let i = 0; i < MAX_INVALID; i++) await n.chain.receive(evil(i), 'sync', 'mallory');
    expect(n.bad).toHaveLength(MAX_INVALID);
    expect(n.chain.isKnown(id(evil(0)))).toBe(true);
    await n.chain.receive(evil(MAX_INVALID), 'sync', 'mallory');
    expect(n.chain.isKnown(id(evil(0)))).toBe(false); // the oldest is forgotten
    expect(n.chain.isKnown(id(evil(1)))).toBe(true);
    expect(n.chain.isKnown(id(evil(MAX_INVALID)))).toBe(true);
    expect(n.store.tip().height).toBe(0);
  });

  it('a bad copy (broken signature) is blamed but not remembered: the right bytes are taken later', async () => {
    const n = await node();
    const [b1, b2] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [1, 2]);
    n.clock.now = LATER;
    await n.chain.receive(b1!, 'sync');
    expect(await n.chain.receive(badCopy(b2!), 'sync', 'mallory')).toBe('invalid');
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    expect(n.store.tip().height).toBe(1);
    expect(n.chain.isKnown(id(b2!))).toBe(false);
    expect(await n.chain.receive(b2!, 'sync', 'peer-b')).toBe('applied');
    expect(n.store.tip().height).toBe(2);
  });

  it('a bad copy checked while the real block arrives from another peer: the real one is taken after', async () => {
    const n = await node();
    const honest = nextBlockOn(await openStore(DEVNET, 'chain-reorg-copy-'), [], { slot: 1 }).block;
    n.clock.now = honest.header.timestampMs + 10;
    const first = n.chain.receive(badCopy(honest), 'gossip', 'mallory');
    // Same header hash while the copy's check runs: known here, but kept in case the copy fails.
    expect(await n.chain.receive(honest, 'gossip', 'producer')).toBe('known');
    // A third copy, or the same peer again, is not kept: one alternate per check.
    expect(await n.chain.receive(honest, 'gossip', 'mallory')).toBe('known');
    expect(await first).toBe('invalid');
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    for (let i = 0; i < 1_000 && n.events.length === 0; i++) await new Promise((r) => setImmediate(r));
    expect(n.events).toEqual([`+${id(honest)}:gossip`]);
    expect(n.store.tip().height).toBe(1);
    expect(n.bad).toHaveLength(1);
  });

  it('keeps no second copy from the peer whose copy is checked, nor once no check runs', async () => {
    const n = await node();
    const honest = nextBlockOn(await openStore(DEVNET, 'chain-reorg-copy-'), [], { slot: 1 }).block;
    n.clock.now = honest.header.timestampMs + 10;
    // The corrupter sends the real bytes too: proof of nothing, not kept.
    const first = n.chain.receive(badCopy(honest), 'gossip', 'mallory');
    expect(await n.chain.receive(honest, 'gossip', 'mallory')).toBe('known');
    expect(await n.chain.receive(honest, 'sync')).toBe('known'); // no sender: nothing to blame or keep
    expect(n.chain.alternatesHeld).toBe(0);
    expect(await first).toBe('invalid');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(n.events).toEqual([]);
    // Applied later from another peer; a copy arriving after that (no check runs) is not kept.
    expect(await n.chain.receive(honest, 'gossip', 'producer')).toBe('applied');
    expect(await n.chain.receive(honest, 'gossip', 'relay')).toBe('known');
    expect(n.chain.alternatesHeld).toBe(0);
  });

  it('our own block is timely whenever it is handed in (it was made in its window)', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, [], { slot: 1 });
    n.clock.now = slotStartMs(DEVNET, 5);
    expect(await n.chain.receive(block, 'self')).toBe('applied');
    expect(n.index.tip.timely).toBe(true);
  });

  it('a copy that passes its check drops the alternate: nothing is received twice', async () => {
    const n = await node();
    const honest = nextBlockOn(await openStore(DEVNET, 'chain-reorg-copy-'), [], { slot: 1 }).block;
    n.clock.now = honest.header.timestampMs + 10;
    const first = n.chain.receive(honest, 'gossip', 'producer');
    expect(await n.chain.receive(honest, 'gossip', 'relay')).toBe('known');
    expect(await first).toBe('applied');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(n.events).toEqual([`+${id(honest)}:gossip`]);
    expect(n.checked).toEqual([id(honest)]);
    expect(n.chain.alternatesHeld).toBe(0);
  });
});

describe('ChainController: a live block waits for its transactions to be final here', () => {
  it('applies it once they are final, and submits the ones it had never seen so they get polled', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.outcome = 'finalized';
    // The wait resolves 'finalized'; the second look must see it final too.
    n.gate.onWaitEnd = () => n.gate.standings.set(toHex(tx.txid), 'finalized');
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
    expect(n.gate.submitted).toEqual([toHex(tx.bytes)]);
  });

  it('is undecided, not invalid, while they stay undecided: nobody is blamed, nothing applied', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    n.gate.outcome = 'timeout';
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('undecided');
    expect(n.store.tip().height).toBe(0);
    expect(n.bad).toEqual([]);
    expect(n.gate.submitted).toEqual([]);
    // Kept: once the transaction is final here, the block is taken.
    n.gate.standings.set(toHex(tx.txid), 'finalized');
    await n.chain.reconsiderLeaves();
    expect(n.store.tip().height).toBe(1);
  });

  it('is invalid when one of them is rejected here (its rival is final): the sender is blamed', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'rejected');
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('invalid');
    expect(n.bad).toEqual([['peer-a', 'CONFLICTS_FINALIZED']]);
    expect(n.logs.filter((l) => l.msg === 'block refused')).toMatchObject([
      { code: 'CONFLICTS_FINALIZED', detail: 'carries a transaction whose rival is final here' },
    ]);
    expect(await n.chain.receive(block, 'gossip', 'peer-b')).toBe('known');
    expect(n.store.tip().height).toBe(0);
  });

  it('is invalid when a wait ends in rejection', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    n.gate.outcome = 'rejected';
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('invalid');
    expect(n.bad).toEqual([['peer-a', 'CONFLICTS_FINALIZED']]);
  });

  it('fetched history (two slots old or more) is taken by chain rule, without the gate', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    // Two slots later by our clock: the network decided it long ago.
    n.clock.now = slotStartMs(DEVNET, block.header.slot + 2);
    expect(await n.chain.receive(block, 'sync', 'peer-a')).toBe('applied');
    expect(n.gate.submitted).toEqual([]);
    // One slot later it is still live: the gate applies even to a fetched block.
    const m = await node();
    const live = blockWithPayment(m);
    m.gate.standings.set(toHex(live.tx.txid), 'processing');
    m.clock.now = slotStartMs(DEVNET, live.block.header.slot + 1) + 1;
    expect(await m.chain.receive(live.block, 'sync', 'peer-a')).toBe('undecided');
  });
});

describe('ChainController.reconsiderLeaves', () => {
  it('looks again at held blocks as fetched history: an old undecided block is taken by chain rule', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('undecided');
    expect(n.tree.has(id(block))).toBe(true);
    const waits = n.gate.waits;
    n.clock.now = LATER;
    await n.chain.reconsiderLeaves();
    expect(toHex(n.store.tip().hash)).toBe(id(block));
    expect(n.gate.waits).toBe(waits);
  });
});

describe('ChainController.revertLateTip', () => {
  it('sets a late tip aside when the block below it was timely, and only then', async () => {
    const n = await node();
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    n.clock.now = a1!.header.timestampMs + 10;
    await n.chain.receive(a1!, 'gossip');
    // A timely tip is kept.
    expect(await n.chain.revertLateTip()).toBe(false);
    n.clock.now = slotStartMs(DEVNET, 9);
    await n.chain.receive(a2!, 'gossip');
    expect(n.index.tip.timely).toBe(false);
    n.events.length = 0;
    expect(await n.chain.revertLateTip()).toBe(true);
    expect(n.store.tip().height).toBe(1);
    expect(n.events).toEqual([`-${id(a2!)}`]);
    expect(n.logs.filter((l) => l.msg.startsWith('late tip set aside'))).toMatchObject([
      { level: 30, height: 2, hash: id(a2!).slice(0, 16) },
    ]);
    // Held as late: it must not beat a timely block of its height when fork choice looks again.
    expect(n.tree.get(id(a2!))?.timely).toBe(false);
    expect(n.tree.get(id(a2!))?.headerChecked).toBe(true);
    // Now the tip (a1) is timely: nothing more to set aside.
    expect(await n.chain.revertLateTip()).toBe(false);
  });

  it('keeps a late tip whose parent was late too (no timely block to build on instead)', async () => {
    const n = await node();
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    n.clock.now = slotStartMs(DEVNET, 9);
    await n.chain.receive(a1!, 'gossip');
    await n.chain.receive(a2!, 'gossip');
    expect(await n.chain.revertLateTip()).toBe(false);
    expect(n.store.tip().height).toBe(2);
  });
});

describe('ChainController: more on choosing and blaming', () => {
  it('a block nobody sent (our own, or looked at again) is refused without blaming anyone', async () => {
    const n = await node();
    const [b1] = await extendStore(await openStore(DEVNET, 'chain-reorg-b-'), [1]);
    const evil: Block = { ...b1!, header: { ...b1!.header, rank: b1!.header.rank + 1 } };
    n.clock.now = LATER;
    expect(await n.chain.receive(evil, 'sync')).toBe('invalid');
    expect(n.bad).toEqual([]);
  });

  it('prefers the branch with the longest extension over a better-ranked shorter one', async () => {
    // On b1: c (rank 1) with a child d, and c2 (rank 0) alone. b1-c-d is longer, so it wins.
    const n = await node();
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const [b1] = await extendStore(side, [1]);
    const c2 = nextBlockOn(side, [], { slot: 3, rank: 0 }).block;
    const c = nextBlockOn(side, [], { slot: 2, rank: 1 }).block;
    await side.applyBlock(c);
    const [d] = await extendStore(side, [4]);
    n.clock.now = LATER;
    for (const b of [d!, c2, c]) expect(await n.chain.receive(b, 'sync', 'peer')).toBe('orphan');
    expect(await n.chain.receive(b1!, 'sync', 'peer')).toBe('applied');
    expect(toHex(n.store.tip().hash)).toBe(id(d!));
    expect(n.store.tip().height).toBe(3);
  });

  it('between two equal children, the choice is fork choice, not arrival order (at any depth)', async () => {
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const [b1] = await extendStore(side, [1]);
    // b1's children x and y; and, on a copy of b1's chain, c with children u and v.
    const x = nextBlockOn(side, [], { slot: 2 }).block;
    const y = nextBlockOn(side, [], { slot: 3 }).block;
    const [c] = await extendStore(side, [4]);
    const u = nextBlockOn(side, [], { slot: 5 }).block;
    const v = nextBlockOn(side, [], { slot: 6 }).block;
    for (const [pair, first] of [
      [[x, y], b1!],
      [[u, v], c!],
    ] as const) {
      const tips: string[] = [];
      for (const order of [pair, [...pair].reverse()]) {
        const n = await node();
        n.clock.now = LATER;
        for (const b of order) await n.chain.receive(b, 'sync', 'peer');
        if (first === c) await n.chain.receive(c!, 'sync', 'peer');
        await n.chain.receive(b1!, 'sync', 'peer');
        tips.push(toHex(n.store.tip().hash));
      }
      expect(tips[0]).toBe(tips[1]);
    }
  });

  it('prunes side blocks that can no longer win once the chain is maxReorgDepth above them', async () => {
    const params = { ...DEVNET, maxReorgDepth: 2 };
    const n = await node(params);
    const main = await extendStore(await openStore(params, 'chain-reorg-a-'), [1, 2, 3, 4]);
    const [s1] = await extendStore(await openStore(params, 'chain-reorg-b-'), [9]);
    n.clock.now = LATER;
    await n.chain.receive(main[0]!, 'sync');
    await n.chain.receive(main[1]!, 'sync');
    expect(await n.chain.receive(s1!, 'sync', 'peer')).toBe('side');
    // Tip 2: a branch through s1 forks at genesis, two blocks deep: it could still win.
    expect(n.tree.has(id(s1!))).toBe(true);
    // Tip 3: three deep, beyond maxReorgDepth: s1 can never win and is dropped.
    await n.chain.receive(main[2]!, 'sync');
    expect(n.tree.has(id(s1!))).toBe(false);
  });
});

describe('ChainController: the finality gate, step by step', () => {
  it('does not wait for transactions already final or in a block here', async () => {
    for (const standing of ['finalized', 'in-block'] as const) {
      const n = await node();
      const { tx, block } = blockWithPayment(n);
      n.gate.standings.set(toHex(tx.txid), standing);
      expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
      expect(n.gate.waits).toBe(0);
    }
  });

  it('refuses at once, without waiting, a block with a transaction already rejected here', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'rejected');
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('invalid');
    expect(n.gate.waits).toBe(0);
  });

  it('an unknown transaction whose rival is final here makes the block invalid at once (not submitted)', async () => {
    const n = await node();
    // The rival: the same coin paid elsewhere, admitted and finalized by this node's ledger.
    const rival = pay(fundedCoin(0), recipient(2), 20_000_000n);
    await n.ledger.submitEncoded(rival);
    await n.ledger.finalizeTx(rival.txid);
    const { block } = blockWithPayment(n);
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('invalid');
    expect(n.bad).toEqual([['peer-a', 'CONFLICTS_FINALIZED']]);
    expect(n.gate.submitted).toEqual([]);
    expect(n.gate.waits).toBe(0);
  });

  it('looks again after a timed-out wait: in a block by then is final, rejected by then is invalid', async () => {
    const inBlock = await node();
    const a = blockWithPayment(inBlock);
    inBlock.gate.standings.set(toHex(a.tx.txid), 'processing');
    inBlock.gate.onWaitEnd = () => inBlock.gate.standings.set(toHex(a.tx.txid), 'in-block');
    expect(await inBlock.chain.receive(a.block, 'gossip', 'peer-a')).toBe('applied');

    const rejected = await node();
    const b = blockWithPayment(rejected);
    rejected.gate.standings.set(toHex(b.tx.txid), 'processing');
    rejected.gate.onWaitEnd = () => rejected.gate.standings.set(toHex(b.tx.txid), 'rejected');
    expect(await rejected.chain.receive(b.block, 'gossip', 'peer-a')).toBe('invalid');
    expect(rejected.bad).toEqual([['peer-a', 'CONFLICTS_FINALIZED']]);
  });

  it('a gossiped block two slots old is still gated (only fetched history takes the chain rule)', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    n.clock.now = slotStartMs(DEVNET, block.header.slot + 2);
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('undecided');
  });

  it('a branch that lost while waiting for finality is kept aside, not switched to', async () => {
    const n = await node();
    const { tx, block } = blockWithPayment(n, 3);
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    const pending = n.chain.receive(block, 'gossip', 'peer-a');
    // Meanwhile two blocks without transactions extend genesis: the waiting block now loses.
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    expect(await n.chain.receive(a1!, 'sync')).toBe('applied');
    expect(await n.chain.receive(a2!, 'sync')).toBe('applied');
    n.events.length = 0;
    release();
    expect(await pending).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(a2!));
    expect(n.events).toEqual([]);
  });

  it('a branch whose first block joined the chain while it waited applies the rest, reverting nothing', async () => {
    const n = await node();
    const { tx, block: b1, side } = await paymentOnGenesis(DEVNET, 1);
    await side.applyBlock(b1);
    const [b2] = await extendStore(side, [2]);
    n.clock.now = b2!.header.timestampMs + 10;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    // b1 waits for its payment; b2 arrives and its branch [b1, b2] waits for the same payment.
    const first = n.chain.receive(b1, 'gossip', 'peer-a');
    const second = n.chain.receive(b2!, 'gossip', 'peer-a');
    release();
    expect(await first).toBe('applied');
    expect(await second).toBe('applied');
    expect(n.events).toEqual([`+${id(b1)}:gossip`, `+${id(b2!)}:gossip`]);
    expect(toHex(n.store.tip().hash)).toBe(id(b2!));
  });
});

describe('ChainController: the chain moved while a branch waited', () => {
  it('a branch that joined the chain entirely while it waited is applied, with nothing left to do', async () => {
    const n = await node();
    const { tx, block: b1, side } = await paymentOnGenesis(DEVNET, 1);
    await side.applyBlock(b1);
    const [b2] = await extendStore(side, [2]);
    n.clock.now = b1.header.timestampMs + 10;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    const live = n.chain.receive(b1, 'gossip', 'peer-a'); // waits for its payment
    // Meanwhile sync fetches b2 long after its slot: history, taken by chain rule with b1 under it.
    n.clock.now = LATER;
    expect(await n.chain.receive(b2!, 'sync', 'peer-b')).toBe('applied');
    expect(toHex(n.store.tip().hash)).toBe(id(b2!));
    n.events.length = 0;
    release();
    expect(await live).toBe('applied');
    expect(n.events).toEqual([]);
    expect(toHex(n.store.tip().hash)).toBe(id(b2!));
  });

  it('a branch still longer, but forking deeper than maxReorgDepth once the chain grew meanwhile, is kept aside', async () => {
    const params = { ...DEVNET, maxReorgDepth: 2 };
    const n = await node(params);
    const [a1, a2, a3] = await extendStore(await openStore(params, 'chain-reorg-a-'), [1, 2, 3]);
    const { tx, block: b1, side } = await paymentOnGenesis(params, 4);
    await side.applyBlock(b1);
    const rest = await extendStore(side, [5, 6, 7]);
    n.clock.now = LATER;
    await n.chain.receive(a1!, 'sync');
    for (const b of [...rest].reverse()) expect(await n.chain.receive(b, 'gossip', 'peer-b')).toBe('orphan');
    // b1 connects a 4-block branch one block deep: allowed, so it waits for b1's payment.
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    const pending = n.chain.receive(b1, 'gossip', 'peer-b');
    // Meanwhile the chain grows to three blocks above the fork point: one more than allowed.
    expect(await n.chain.receive(a2!, 'sync')).toBe('applied');
    expect(await n.chain.receive(a3!, 'sync')).toBe('applied');
    n.events.length = 0;
    release();
    expect(await pending).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(a3!));
    expect(n.events).toEqual([]);
  });

  it('a branch whose fork point fell out of the recent chain while it waited is kept aside', async () => {
    const params = { ...DEVNET, maxReorgDepth: 2 };
    const n = await node(params); // its index keeps the newest maxReorgDepth + 8 = 10 heights
    const main = await extendStore(
      await openStore(params, 'chain-reorg-a-'),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    const { tx, block: b1 } = await paymentOnGenesis(params, 13);
    n.clock.now = LATER;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    // b1 on genesis against an empty chain: it would win, so it waits for its payment.
    const pending = n.chain.receive(b1, 'gossip', 'peer-b');
    for (const b of main) expect(await n.chain.receive(b, 'sync')).toBe('applied');
    expect(n.index.at(0)).toBeUndefined();
    release();
    expect(await pending).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(main[11]!));
  });

  it('a live block that loses fork choice is kept aside at once, without waiting for its transactions', async () => {
    const n = await node();
    const [a1, a2] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1, 2]);
    n.clock.now = LATER;
    await n.chain.receive(a1!, 'sync');
    await n.chain.receive(a2!, 'sync');
    // One block on genesis carrying a payment nobody here has seen: shorter than the chain.
    const { block: b1 } = await paymentOnGenesis(DEVNET, 3);
    n.clock.now = b1.header.timestampMs + 10;
    expect(await n.chain.receive(b1, 'gossip', 'peer-b')).toBe('side');
    expect(n.gate.waits).toBe(0);
    expect(n.gate.submitted).toEqual([]);
    expect(toHex(n.store.tip().hash)).toBe(id(a2!));
  });

  it("a branch whose fork point left the main chain meanwhile is kept aside, not applied on another's block", async () => {
    const n = await node();
    const [a1] = await extendStore(await openStore(DEVNET, 'chain-reorg-a-'), [1]);
    // c1, c2 on genesis: c2 by rank 1, so a single rival of rank 0 would beat it on fork choice.
    const cStore = await openStore(DEVNET, 'chain-reorg-c-');
    const [c1] = await extendStore(cStore, [2]);
    const c2 = nextBlockOn(cStore, [], { slot: 3, rank: 1 }).block;
    n.clock.now = LATER;
    await n.chain.receive(a1!, 'sync');
    // B on a1 (slot 4, rank 0) with a payment still processing: it waits for finality.
    const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
    const B = nextBlockOn(n.store, [{ etx: tx, fee: 100_000n }], { slot: 4 }).block;
    n.clock.now = B.header.timestampMs + 10;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    const release = holdUntilFinal(n, tx.txid);
    const pending = n.chain.receive(B, 'gossip', 'peer-b');
    // Meanwhile c1, c2 (longer than a1) take over: a1, B's parent, leaves the main chain.
    await n.chain.receive(c2, 'sync', 'peer-c');
    expect(await n.chain.receive(c1!, 'sync', 'peer-c')).toBe('applied');
    expect(toHex(n.store.tip().hash)).toBe(id(c2));
    n.events.length = 0;
    release();
    expect(await pending).toBe('side');
    expect(toHex(n.store.tip().hash)).toBe(id(c2));
    expect(n.events).toEqual([]);
    expect(n.bad).toEqual([]);
  });
});

/** `block` with its producer signature replaced: anyone can send this, no key needed. */
const forged = (block: Block): Block => ({ ...block, signature: new Uint8Array(64).fill(1) });

/** A Free-tier registration of a fresh node key, spending devnet coin `funded`. */
const registration = (funded: number) => freeRegistration(funded, devnetKeyPair(DEVNET_SEED, 9_400 + funded));

/**
 * Ours: blocks at slots 2 and 4. Theirs on genesis: slot 1 carrying `etx` (processing here), then
 * slots 2 and 3, arriving late (they lose ties): blocks 1 and 2 are received and held as a side
 * branch; block 3, whose anchor is their block 1, is left to the test.
 */
async function lateSideBranch(etx: EncodedTx) {
  const n = await node();
  for (const b of await extendStore(n.store, [2, 4])) n.index.pushed(b.header, true);
  const side = await openStore(DEVNET, 'chain-reorg-b-');
  const s1 = nextBlockOn(side, [{ etx, fee: 100_000n }], { slot: 1 }).block;
  await side.applyBlock(s1);
  const [s2, s3] = await extendStore(side, [2, 3]);
  n.clock.now = s3!.header.timestampMs + 10;
  expect(await n.chain.receive(s1, 'gossip', 'peer-a')).toBe('side');
  expect(await n.chain.receive(s2!, 'gossip', 'peer-a')).toBe('side');
  n.gate.standings.set(toHex(etx.txid), 'processing');
  return { n, s1, s2: s2!, s3: s3! };
}

describe('ChainController: a received block proves it is the slot leader’s before it is held', () => {
  it('a forged signature is refused at once: no finality wait, nothing submitted, the sender scored', async () => {
    const n = await node();
    // A payment that never becomes final here (the wait would time out): the hold it used to buy.
    const { block } = blockWithPayment(n);
    expect(await n.chain.receive(forged(block), 'gossip', 'mallory')).toBe('invalid');
    expect(n.gate.waits).toBe(0);
    expect(n.gate.submitted).toEqual([]);
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    expect(n.tree.size).toBe(0);
    expect(n.chain.longerBranchPending(0)).toBe(false);
    // The signature is not covered by the header hash: the real block under it is still taken in.
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('undecided');
    expect(n.gate.waits).toBe(1);
    expect(n.chain.longerBranchPending(0)).toBe(true);
  });

  it('a header no masternode may sign is remembered as invalid; a body swapped under a real header is not', async () => {
    const n = await node();
    const { block } = blockWithPayment(n);
    const outsider = devnetKeyPair(DEVNET_SEED, 9_399);
    const header = { ...block.header, producerPubkey: outsider.publicKey };
    const own: Block = {
      ...block,
      header,
      signature: sign(headerSigMessage(headerHash(header)), outsider.secretKey),
    };
    expect(await n.chain.receive(own, 'gossip', 'mallory')).toBe('invalid');
    expect(await n.chain.receive(own, 'gossip', 'peer-b')).toBe('known');

    // The real header and signature over another body: only these bytes are wrong.
    const other = pay(fundedCoin(1), recipient(2), 10_000_000n);
    const swapped: Block = { ...block, txs: [block.txs[0]!, other] };
    expect(await n.chain.receive(swapped, 'gossip', 'mallory')).toBe('invalid');
    expect(n.bad).toEqual([
      ['mallory', 'UNKNOWN_PRODUCER'],
      ['mallory', 'BAD_MERKLE_ROOT'],
    ]);
    expect(n.gate.waits).toBe(0);
    holdUntilFinal(n, block.txs[1]!.txid)();
    expect(await n.chain.receive(block, 'gossip', 'peer-a')).toBe('applied');
  });

  it('a check that cannot run (the pool closed) blames no one and is tried again later', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, []);
    n.clock.now = block.header.timestampMs + 10;
    const real = n.ledger.checkSignedBlock.bind(n.ledger);
    n.ledger.checkSignedBlock = async () => {
      throw new Error('pool closed');
    };
    await expect(n.chain.receive(block, 'gossip', 'peer-a')).rejects.toThrow('pool closed');
    expect(n.bad).toEqual([]);
    expect(n.tree.get(id(block))?.headerChecked).toBe(false);
    n.ledger.checkSignedBlock = real;
    await n.chain.reconsiderLeaves();
    expect(toHex(n.store.tip().hash)).toBe(id(block));
  });

  it('a block and its child looked at together: one check of the block, its sender scored once', async () => {
    const n = await node();
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const [b1, b2] = await extendStore(side, [1, 2]);
    n.clock.now = b2!.header.timestampMs + 10;
    const outcomes = await Promise.all([
      n.chain.receive(forged(b1!), 'gossip', 'mallory'),
      n.chain.receive(b2!, 'gossip', 'peer-a'),
    ]);
    expect(outcomes).toEqual(['invalid', 'invalid']);
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
  });

  it('a forged block on top of a real one is dropped, and the real one still goes ahead', async () => {
    const n = await node();
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const [b1, b2] = await extendStore(side, [1, 2]);
    n.clock.now = b2!.header.timestampMs + 10;
    // The forged child arrives first and waits as an orphan; its parent then brings both in.
    expect(await n.chain.receive(forged(b2!), 'gossip', 'mallory')).toBe('orphan');
    expect(await n.chain.receive(b1!, 'gossip', 'peer-a')).toBe('applied');
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    expect(toHex(n.store.tip().hash)).toBe(id(b1!));
  });

  it('checks each block of a side branch against the branch’s own anchor, beacon and parent', async () => {
    // Ours: blocks at slots 2 and 4. Theirs: slots 1 (a payment), 2, 3 on genesis, arriving late
    // (so they lose ties): slot 3's anchor is their block 1, read from the branch, not our chain.
    const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
    const { n, s1, s2, s3 } = await lateSideBranch(tx);
    expect(await n.chain.receive(forged(s3!), 'gossip', 'mallory')).toBe('invalid');
    expect(n.gate.waits).toBe(0);
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    // The real block passes on the same branch and waits for the payment.
    expect(await n.chain.receive(s3!, 'gossip', 'peer-a')).toBe('undecided');
    expect([s1, s2!, s3!].map((b) => n.tree.get(id(b))?.headerChecked)).toEqual([true, true, true]);
    expect(n.chain.longerBranchPending(0)).toBe(true);
    n.gate.standings.set(toHex(tx.txid), 'finalized');
    await n.chain.reconsiderLeaves();
    expect(toHex(n.store.tip().hash)).toBe(id(s3!));
    // Each block was checked once (s3 twice: the forgery shares its header hash), never again.
    expect(n.checked).toEqual([id(s1), id(s2!), id(s3!), id(s3!)]);
  });

  it('our own block is not checked again before it is applied (validation checks it in full)', async () => {
    const n = await node();
    const { block } = nextBlockOn(n.store, []);
    n.clock.now = block.header.timestampMs + 10;
    expect(await n.chain.receive(block, 'self')).toBe('applied');
    expect(n.checked).toEqual([]);
  });

  it('a forged child dropped, the rest of the branch no longer wins: kept aside, nothing waited for', async () => {
    // Ours: block 1 at slot 2, timely. Theirs: slot 1 (a payment), late, and a forged child on it.
    const n = await node();
    for (const b of await extendStore(n.store, [2])) n.index.pushed(b.header, true);
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
    const s1 = nextBlockOn(side, [{ etx: tx, fee: 100_000n }], { slot: 1 }).block;
    await side.applyBlock(s1);
    const [s2] = await extendStore(side, [3]);
    n.clock.now = s2!.header.timestampMs + 10;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    expect(await n.chain.receive(forged(s2!), 'gossip', 'mallory')).toBe('orphan');
    // s1 with its child is longer than our chain; without the child it only ties, and loses.
    expect(await n.chain.receive(s1, 'gossip', 'peer-a')).toBe('side');
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
    expect(n.gate.waits).toBe(0);
    expect(n.tree.has(id(s1))).toBe(true);
  });

  it('a block whose anchor the index no longer reaches is held unchecked, and cannot win', async () => {
    // An index of one block: block 3's anchor (block 1, slot < 2) lies below what it holds.
    const n = await node(DEVNET, new BlockTree(), 1);
    for (const b of await extendStore(n.store, [1, 2])) n.index.pushed(b.header, true);
    const tx = pay(fundedCoin(0), recipient(1), 10_000_000n);
    const { block } = nextBlockOn(n.store, [{ etx: tx, fee: 100_000n }], { slot: 3 });
    n.clock.now = block.header.timestampMs + 10;
    n.gate.standings.set(toHex(tx.txid), 'processing');
    expect(await n.chain.receive(forged(block), 'gossip', 'mallory')).toBe('side');
    expect(n.checked).toEqual([]);
    expect(n.gate.waits).toBe(0);
    expect(n.tree.get(id(block))?.headerChecked).toBe(false);
    expect(n.chain.longerBranchPending(0)).toBe(false);
  });

  it('a block anchored after a registry change on its branch is checked against that branch’s active set', async () => {
    // Ours: block 1 at slot 2. Theirs on genesis, arriving late: slots 1, 2 (a registration), 3, 4.
    // Slot 3's anchor is their block 1 (before the registration): the set as of the fork. Slot 4's
    // anchor is their block 2, which registers a node: the set a store holding their branch reads.
    const n = await node();
    for (const b of await extendStore(n.store, [2])) n.index.pushed(b.header, true);
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const [s1] = await extendStore(side, [1]);
    const reg = registration(3);
    const s2 = nextBlockOn(side, [{ etx: reg, fee: 100_000n }], { slot: 2 }).block;
    await side.applyBlock(s2);
    const [s3, s4] = await extendStore(side, [3, 4]);
    n.clock.now = s4!.header.timestampMs + 10;
    n.gate.standings.set(toHex(reg.txid), 'processing');
    expect(await n.chain.receive(s1!, 'gossip', 'peer-a')).toBe('side');
    expect(await n.chain.receive(s2, 'gossip', 'peer-a')).toBe('undecided');
    expect(await n.chain.receive(forged(s3!), 'gossip', 'mallory')).toBe('invalid');
    expect(await n.chain.receive(s3!, 'gossip', 'peer-a')).toBe('undecided');
    expect(await n.chain.receive(forged(s4!), 'gossip', 'mallory')).toBe('invalid');
    expect(await n.chain.receive(s4!, 'gossip', 'peer-a')).toBe('undecided');
    expect(n.bad).toEqual([
      ['mallory', 'BAD_SIGNATURE'],
      ['mallory', 'BAD_SIGNATURE'],
    ]);
    expect([s1!, s2, s3!, s4!].map((b) => n.tree.get(id(b))?.headerChecked)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const setOf = (height: number) => side.activeMasternodes(height).map((m) => toHex(m.nodePubkey));
    expect(setOf(2)).toHaveLength(setOf(1).length + 1);
    expect(n.checkedSets.get(id(s3!))).toEqual(setOf(1));
    expect(n.checkedSets.get(id(s4!))).toEqual(setOf(2));
    expect(n.chain.longerBranchPending(0)).toBe(true);
    // Final here: the whole branch is applied, and validation agrees with the set it was checked by.
    n.gate.standings.set(toHex(reg.txid), 'finalized');
    await n.chain.reconsiderLeaves();
    expect(toHex(n.store.tip().hash)).toBe(id(s4!));
  });

  it('forged blocks on a branch anchored after a final registry change never make the node revert', async () => {
    // Ours: one timely block at slot 2. Theirs on genesis: a real block at slot 1 carrying a Free
    // registration final here, then blocks at slots 3 and 4 whose producer signatures are garbage.
    // Slot 3's anchor is their block 1: a branch that could not be checked used to win on length
    // and was tried by reverting our chain (up to maxReorgDepth blocks, for anyone, at will).
    const n = await node();
    const [ours] = await extendStore(n.store, [2]);
    n.index.pushed(ours!.header, true);
    const side = await openStore(DEVNET, 'chain-reorg-b-');
    const reg = registration(3);
    const s1 = nextBlockOn(side, [{ etx: reg, fee: 100_000n }], { slot: 1 }).block;
    await side.applyBlock(s1);
    const [s2, s3] = await extendStore(side, [3, 4]);
    n.clock.now = s3!.header.timestampMs + 10;
    n.gate.standings.set(toHex(reg.txid), 'finalized');
    expect(await n.chain.receive(s1, 'gossip', 'peer-a')).toBe('side');
    expect(await n.chain.receive(forged(s2!), 'gossip', 'mallory')).toBe('invalid');
    expect(await n.chain.receive(forged(s3!), 'gossip', 'mallory')).toBe('orphan');
    expect(toHex(n.store.tip().hash)).toBe(id(ours!));
    expect(n.events.filter((e) => e.startsWith('-'))).toEqual([]);
    expect(n.bad).toEqual([['mallory', 'BAD_SIGNATURE']]);
  });
});
