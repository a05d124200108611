import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/chain/block-errors.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { toHex } from '../../../src/encoding/bytes.js';
import {
  answerGetBlocks,
  BlockSync,
  type BlockSyncDeps,
  SYNC_PROGRESS_WINDOW_MS,
} from '../../../src/node/block-sync.js';
import type { ChainController, ReceiveOutcome } from '../../../src/node/chain-controller.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { MAX_BLOCKS_PER_RESPONSE } from '../../../src/wire/limits.js';
import { extendStore } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

/**
 * BlockSync against peers serving real devnet blocks (built once on a store of their own). The
 * node's chain is a counter that takes each block it is handed: what is checked is which batches
 * are asked for and when, what the node takes from an answer, whom it blames, and when it counts as
 * syncing (which holds block production back).
 */

/**
 * Three chains on genesis: `main` at slots 1…8, `other` at slots 20…24 (no block shared with
 * main), and `fork`: main's blocks 1 and 2, then its own at slots 30…32 (heights 3…5).
 */
let main: Block[] = [];
let other: Block[] = [];
let fork: Block[] = [];
/** One chain longer than a full answer (MAX_BLOCKS_PER_RESPONSE + 2 blocks). */
let long: Block[] = [];
const stores: ChainStore[] = [];
const cleanups: (() => void)[] = [];

async function chain(slots: readonly number[], shared: readonly Block[] = []): Promise<Block[]> {
  const { dir, cleanup } = tempDir('block-sync-');
  cleanups.push(cleanup);
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  stores.push(store);
  for (const b of shared) await store.applyBlock(b);
  return [...shared, ...(await extendStore(store, slots))];
}

beforeAll(async () => {
  main = await chain([1, 2, 3, 4, 5, 6, 7, 8]);
  other = await chain([20, 21, 22, 23, 24]);
  fork = await chain([30, 31, 32], main.slice(0, 2));
  long = await chain(Array.from({ length: MAX_BLOCKS_PER_RESPONSE + 2 }, (_, i) => 100 + i));
});
afterAll(async () => {
  for (const s of stores) await s.close();
  for (const c of cleanups) c();
});

interface Peer {
  /**
   * The answer to GetBlocks(from, count), as blocks or raw bytes; a promise that never settles is
   * a stalled peer.
   */
  serve: (from: number, count: number) => Promise<readonly (Block | Uint8Array)[]>;
}

const idOf = (b: Block) => toHex(headerHash(b.header));

/** GetBlocks served by `peers`, each request logged in `events` as `ask <peer> <from>`. */
function fetcherOf(peers: Record<string, Peer>, events: string[]): BlockSyncDeps['fetcher'] {
  return {
    getBlocks: async (peerId, from, count) => {
      events.push(`ask ${peerId} ${from}`);
      const blocks = await peers[peerId]!.serve(from, count);
      return blocks.map((b) => (b instanceof Uint8Array ? b : encodeBlock(b)));
    },
  };
}

/** A node id as the transport gives it (hex of a 32-byte key): logs carry its first 16 characters. */
const LONG_ID = 'ab'.repeat(32);

/**
 * `held`: blocks the node already holds above its tip (in its tree, waiting for their
 * transactions' finality); the first block above them joins the chain together with them.
 */
function harness(
  peers: Record<string, Peer>,
  opts: { delayApplyMs?: number; held?: readonly Block[]; connected?: ReadonlySet<string> } = {},
) {
  const events: string[] = [];
  const applied: number[] = [];
  const received: number[] = [];
  const fetched: string[] = [];
  const heldIds = new Set((opts.held ?? []).map(idOf));
  const heldTop = Math.max(0, ...(opts.held ?? []).map((b) => b.header.height));
  const appliedIds = new Set<string>();
  const badAnswers: [string, string][] = [];
  const clock = { now: 0 };
  let height = 0;
  let waiting: { until: number; resolve: () => void }[] = [];
  const deps: BlockSyncDeps = {
    params: DEVNET,
    store: { tip: () => ({ height }) } as unknown as ChainStore,
    chain: {
      heldHeight: () => Math.max(height, heldTop),
      seenOutcome: (id: string) => (appliedIds.has(id) || heldIds.has(id) ? 'known' : undefined),
      receive: async (block: Block) => {
        received.push(block.header.height);
        // Let any answer in flight arrive first: a prefetch must not wait for the batch before it.
        await new Promise((resolve) => setTimeout(resolve, opts.delayApplyMs ?? 5));
        if (block.header.height !== Math.max(height, heldTop) + 1) return 'known';
        height = block.header.height;
        appliedIds.add(idOf(block));
        applied.push(height);
        events.push(`apply ${height}`);
        for (const w of waiting.filter((x) => height >= x.until)) w.resolve();
        waiting = waiting.filter((x) => height < x.until);
        return 'applied';
      },
    } as unknown as ChainController,
    fetcher: fetcherOf(peers, events),
    log: pino({ level: 'silent' }),
    now: () => clock.now,
    onBadBlock: (peer, code) => events.push(`bad block ${peer} ${code}`),
    onBadAnswer: (peer, detail) => badAnswers.push([peer, detail]),
    prepare: (block) => events.push(`prepare ${block.header.height}`),
    onFetched: (kind) => fetched.push(kind),
    ...(opts.connected ? { isConnected: (peerId: string) => opts.connected!.has(peerId) } : {}),
  };
  const sync = new BlockSync(deps);
  // Fails after 3 s, as `eventually` does.
  const heightReached = (h: number) =>
    new Promise<void>((resolve, reject) => {
      if (height >= h) return resolve();
      const timer = setTimeout(() => reject(new Error(`height ${h} not reached (at ${height})`)), 3_000);
      waiting.push({
        until: h,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  return { sync, events, applied, received, fetched, badAnswers, clock, heightReached, height: () => height };
}

/** An honest peer holding `blocks`: consecutive blocks from `from`, `perAnswer` at most. */
const honest = (blocks: readonly Block[], perAnswer = 2): Peer => ({
  serve: async (from, count) => {
    await Promise.resolve();
    return blocks.slice(from - 1, from - 1 + Math.min(count, perAnswer));
  },
});

/**
 * Resolves once `cond` holds (checked every few ms); fails after `ms`. An honest run here takes
 * tens of milliseconds; the deadline makes a sync that never gets there fail fast (a mutation run
 * meets hundreds of those).
 */
async function eventually(cond: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets everything already in motion run (a block handed to the chain takes a 5 ms timer). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * For where sync fetches from when a peer is on another branch: a chain that keeps every block
 * whose parent it holds and follows the longest branch (the real fork choice is
 * ChainController's, tested on its own). `ours`: our main chain above genesis. `special` gives a
 * block another outcome (e.g. 'invalid', or 'undecided': connected but waiting for finality), or an
 * Error for `receive` to throw. `logs` holds what was logged at info and error level.
 */
function treeHarness(
  peers: Record<string, Peer>,
  opts: {
    ours?: readonly Block[];
    params?: ChainParams;
    special?: (b: Block) => ReceiveOutcome | Error | undefined;
  } = {},
) {
  const events: string[] = [];
  const bad: string[] = [];
  const logs: { level: string; msg: string; fields: unknown }[] = [];
  const sources = new Set<string>();
  const heightOf = new Map<string, number>([[idOf(genesisBlock(DEVNET)), 0]]);
  let tip = 0;
  let tipId = idOf(genesisBlock(DEVNET));
  for (const b of opts.ours ?? []) {
    heightOf.set(idOf(b), b.header.height);
    tip = b.header.height;
    tipId = idOf(b);
  }
  const clock = { now: 0 };
  const noop = () => undefined;
  const log = {
    debug: noop,
    info: (fields: unknown, msg: string) => logs.push({ level: 'info', msg, fields }),
    error: (fields: unknown, msg: string) => logs.push({ level: 'error', msg, fields }),
  };
  const deps: BlockSyncDeps = {
    params: opts.params ?? DEVNET,
    store: { tip: () => ({ height: tip }) } as unknown as ChainStore,
    chain: {
      heldHeight: () => tip,
      seenOutcome: (id: string) => (heightOf.has(id) ? 'known' : undefined),
      receive: async (block: Block, source: string) => {
        sources.add(source);
        await Promise.resolve();
        const id = idOf(block);
        const h = block.header.height;
        const special = opts.special?.(block);
        if (special instanceof Error) throw special;
        if (special) {
          events.push(`${special} ${h}`);
          return special;
        }
        if (heightOf.has(id)) return 'known';
        if (!heightOf.has(toHex(block.header.prevHash))) {
          events.push(`orphan ${h}`);
          return 'orphan';
        }
        heightOf.set(id, h);
        if (h <= tip) {
          events.push(`side ${h}`);
          return 'side';
        }
        tip = h;
        tipId = id;
        events.push(`tip ${h}`);
        return 'applied';
      },
    } as unknown as ChainController,
    fetcher: fetcherOf(peers, events),
    log: log as unknown as Logger,
    now: () => clock.now,
    onBadBlock: (peer, code) => bad.push(`${peer} ${code}`),
    onBadAnswer: (peer, detail) => bad.push(`${peer} ${detail}`),
  };
  return {
    sync: new BlockSync(deps),
    events,
    bad,
    logs,
    sources,
    errors: () => logs.filter((l) => l.level === 'error'),
    clock,
    tip: () => tip,
    tipId: () => tipId,
    asks: () => events.filter((e) => e.startsWith('ask')),
  };
}

/** A peer whose first answer waits until `release` is called (later ones are `then`'s). */
function gated(then: Peer): Peer & { release: (blocks: readonly Block[]) => void } {
  let open: ((blocks: readonly Block[]) => void) | undefined;
  let first = true;
  return {
    serve: (from, count) => {
      if (!first) return then.serve(from, count);
      first = false;
      return new Promise((resolve) => {
        open = resolve;
      });
    },
    release: (blocks) => open?.(blocks),
  };
}

describe('BlockSync: fetching', () => {
  it('asks for the next batch while applying this one, each batch once, every block prepared first', async () => {
    const h = harness({ peer: honest(main.slice(0, 6)) });
    h.sync.peerTip('peer', 6);
    await h.heightReached(6);
    const asks = h.events.filter((e) => e.startsWith('ask'));
    expect(asks.slice(0, 3)).toEqual(['ask peer 1', 'ask peer 3', 'ask peer 5']);
    // Batch 2 was asked for before block 1 was applied, and batch 3 before block 3.
    expect(h.events.indexOf('ask peer 3')).toBeLessThan(h.events.indexOf('apply 1'));
    expect(h.events.indexOf('ask peer 5')).toBeLessThan(h.events.indexOf('apply 3'));
    for (let n = 1; n <= 6; n++)
      expect(h.events.indexOf(`prepare ${n}`)).toBeLessThan(h.events.indexOf(`apply ${n}`));
    expect(h.applied).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.badAnswers).toEqual([]);
    h.sync.stop();
  });

  it('a claim no higher than the blocks we hold (waiting for finality above our tip) asks nobody', async () => {
    const h = harness({ peer: honest(main, MAX_BLOCKS_PER_RESPONSE) }, { held: main.slice(0, 3) });
    h.sync.peerTip('peer', 3);
    h.sync.peerTip('peer-b', 2);
    await settle();
    expect(h.events).toEqual([]);
    // One block more than we hold is worth asking for.
    h.sync.peerTip('peer', 4);
    await h.heightReached(4);
    expect(h.events.filter((e) => e.startsWith('ask'))).toEqual(['ask peer 1']);
    h.sync.stop();
  });

  it('fetched blocks we hold are neither decoded, prepared nor handed over again; the ones above them are', async () => {
    const h = harness(
      { peer: honest(main.slice(0, 5), MAX_BLOCKS_PER_RESPONSE) },
      { held: main.slice(0, 3) },
    );
    h.sync.peerTip('peer', 5);
    await h.heightReached(5);
    // Asked from our tip (a peer on another branch at a held height must still be heard)...
    expect(h.events[0]).toBe('ask peer 1');
    // ...but blocks 1-3 are only looked up by their header: no signature work, no second pass.
    expect(h.events.filter((e) => e.startsWith('prepare'))).toEqual(['prepare 4', 'prepare 5']);
    expect(h.received).toEqual([4, 5]);
    expect(h.applied).toEqual([4, 5]);
    // What the node's timecoin_sync_blocks_fetched_total counts.
    expect(h.fetched).toEqual(['held', 'held', 'held', 'new', 'new']);
    expect(h.badAnswers).toEqual([]);
    h.sync.stop();
  });

  it('bytes over the block size limit are refused (TOO_LARGE) even behind a header we hold', async () => {
    const held = encodeBlock(main[0]!);
    const oversize = new Uint8Array(DEVNET.maxBlockBytes + 1);
    oversize.set(held);
    const h = harness({ liar: { serve: async () => [oversize] } }, { held: main.slice(0, 1) });
    h.sync.peerTip('liar', 5);
    await eventually(() => h.events.some((e) => e.startsWith('bad block')) || h.fetched.length > 0);
    expect(h.events).toContain('bad block liar TOO_LARGE');
    expect(h.fetched).toEqual([]);
    h.sync.stop();
  });

  it('bytes of exactly the block size limit behind a header we hold are taken as held', async () => {
    // The body after a held header is never used (nor decoded): only the size limit applies.
    const held = encodeBlock(main[0]!);
    const padded = new Uint8Array(DEVNET.maxBlockBytes);
    padded.set(held);
    const h = harness({ peer: { serve: async () => [padded] } }, { held: main.slice(0, 1) });
    h.sync.peerTip('peer', 2);
    await eventually(() => h.fetched.length > 0);
    await settle();
    expect(h.fetched).toEqual(['held']);
    expect(h.events.filter((e) => e.startsWith('bad'))).toEqual([]);
    h.sync.stop();
  });

  it('a held block served at a height it does not have is still refused and scored', async () => {
    // Block 2 (held) where block 1 belongs: the header alone shows the lie.
    const h = harness({ liar: { serve: async () => [main[1]!] } }, { held: main.slice(0, 2) });
    h.sync.peerTip('liar', 5);
    await eventually(() => h.badAnswers.length > 0);
    expect(h.badAnswers[0]).toEqual(['liar', expect.stringMatching(/height 2 where 1 belongs/)]);
    expect(h.received).toEqual([]);
    h.sync.stop();
  });
});

describe('BlockSync: answers no honest peer sends', () => {
  it('a block at the wrong height ends the batch there and scores the peer', async () => {
    // Asked from 1, it skips block 2: blocks 1 and 3.
    const h = harness({ liar: { serve: async () => [main[0]!, main[2]!] } });
    h.sync.peerTip('liar', 3);
    await eventually(() => h.applied.length === 1 && h.badAnswers.length > 0);
    expect(h.applied).toEqual([1]);
    // The first answer's lie; asked again from 2 it lies again (block 1 there): scored again.
    expect(h.badAnswers[0]).toEqual(['liar', expect.stringMatching(/height 3 where 2 belongs/)]);
    expect(h.badAnswers.every(([p]) => p === 'liar')).toBe(true);
    // Block 3 was never prepared (its signatures never verified): the answer ended before it.
    expect(h.events).not.toContain('prepare 3');
    h.sync.stop();
  });

  it('known blocks replayed under heights they do not have are refused (no loop on old blocks)', async () => {
    // Whatever is asked, the same first 50 blocks of its chain: honest heights only for from = 1.
    const fifty = Array.from({ length: MAX_BLOCKS_PER_RESPONSE }, (_, i) => main[i % main.length]!);
    const h = harness({ replayer: { serve: async () => fifty } });
    h.sync.peerTip('replayer', 1_000);
    await eventually(() => h.applied.length === 8 && h.badAnswers.length > 0);
    // Without the height rule this loop never ends: give it the time to show.
    await settle();
    expect(h.applied).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.badAnswers.length).toBeGreaterThanOrEqual(1);
    expect(h.badAnswers.every(([p]) => p === 'replayer')).toBe(true);
    const asks = h.events.filter((e) => e.startsWith('ask')).length;
    expect(asks).toBeLessThanOrEqual(3);
    h.sync.stop();
  });

  it('a block that does not build on the one before it ends the batch and scores the peer', async () => {
    // Heights 1 and 2, but block 2 is another branch's (its parent is not this block 1).
    const h = harness({ mixer: { serve: async () => [main[0]!, other[1]!] } });
    h.sync.peerTip('mixer', 2);
    await eventually(() => h.applied.length === 1 && h.badAnswers.length > 0);
    expect(h.applied).toEqual([1]);
    expect(h.badAnswers[0]).toEqual(['mixer', expect.stringMatching(/does not build on block 1/)]);
    expect(h.badAnswers.every(([p]) => p === 'mixer')).toBe(true);
    h.sync.stop();
  });

  it('more blocks than asked for is refused whole', async () => {
    const many = Array.from({ length: MAX_BLOCKS_PER_RESPONSE + 1 }, () => main[0]!);
    const h = harness({ flooder: { serve: async () => many } });
    h.sync.peerTip('flooder', 60);
    await eventually(() => h.badAnswers.length > 0);
    await settle();
    expect(h.applied).toEqual([]);
    expect(h.events.some((e) => e.startsWith('prepare'))).toBe(false);
    expect(h.badAnswers[0]).toEqual(['flooder', `GetBlocks: 51 blocks for ${MAX_BLOCKS_PER_RESPONSE} asked`]);
    h.sync.stop();
  });
});

describe('BlockSync.syncing: what holds block production back', () => {
  it('a claimed tip alone does not: a peer that stalls or answers nothing never makes us sync', async () => {
    const h = harness({
      staller: { serve: () => new Promise<readonly Block[]>(() => undefined) },
      empty: { serve: async () => [] },
    });
    h.sync.peerTip('staller', 4_000_000_000);
    h.sync.peerTip('empty', 4_000_000_000);
    await eventually(() => h.events.some((e) => e.startsWith('ask')));
    await settle();
    expect(h.sync.syncing).toBe(false);
    expect(h.applied).toEqual([]);
    h.sync.stop();
  });

  it('catching up from a peer that serves its claim does, until the window after the last progress', async () => {
    const h = harness({ peer: honest(main, 2) }, { delayApplyMs: 1 });
    h.sync.peerTip('peer', 8);
    expect(h.sync.syncing).toBe(false); // nothing moved our tip yet
    // Block 3 is handed over only after the round that applied 1 and 2 has ended (and counted).
    await h.heightReached(3);
    expect(h.height()).toBe(3);
    // The peer claims 8 and sync moved our tip from its answers: catching up.
    expect(h.sync.syncing).toBe(true);
    await h.heightReached(8);
    // Caught up: nobody claims more than one beyond us.
    expect(h.sync.syncing).toBe(false);
    // A claim one block ahead is the next block in flight, not a reason to hold production back.
    h.sync.peerTip('peer-c', 9);
    expect(h.sync.syncing).toBe(false);
    // A claim two ahead counts while the last progress is recent (up to the window itself)...
    h.sync.peerTip('peer-b', 10);
    expect(h.sync.syncing).toBe(true);
    h.clock.now = SYNC_PROGRESS_WINDOW_MS;
    expect(h.sync.syncing).toBe(true);
    // ...and no longer once the window since it has passed without progress.
    h.clock.now = SYNC_PROGRESS_WINDOW_MS + 1;
    expect(h.sync.syncing).toBe(false);
    h.sync.stop();
  });

  it('a peer that failed a round (cooling down) does not count, even just after progress', async () => {
    const failing: Peer = {
      serve: async () => {
        throw new Error('request timed out');
      },
    };
    const h = harness({ peer: honest(main.slice(0, 3), 3), failing });
    h.sync.peerTip('peer', 3);
    await h.heightReached(3);
    // It claims far ahead and its request fails: the claim stands, but the peer cools down.
    h.sync.peerTip('failing', 100);
    await eventually(() => h.events.includes('ask failing 4'));
    await settle();
    expect(h.sync.syncing).toBe(false);
    h.sync.stop();
  });
});

describe('answerGetBlocks: what we serve a peer that syncs from us', () => {
  it('consecutive main-chain blocks from the height asked, no more than asked, none past our tip', () => {
    const store = stores[0]!; // main: heights 1-8
    const asBytes = (blocks: readonly Block[]) => blocks.map((b) => [...encodeBlock(b)]);
    const served = (from: number, count: number) => answerGetBlocks(store, from, count).map((b) => [...b]);
    expect(served(1, 3)).toEqual(asBytes(main.slice(0, 3)));
    expect(served(4, 1)).toEqual(asBytes(main.slice(3, 4)));
    // Asked past the tip: only what we have.
    expect(served(7, MAX_BLOCKS_PER_RESPONSE)).toEqual(asBytes(main.slice(6, 8)));
    expect(served(9, MAX_BLOCKS_PER_RESPONSE)).toEqual([]);
    expect(served(1, 0)).toEqual([]);
  });
});

describe('BlockSync: a peer on another branch', () => {
  it('one block an answer (full blocks): sync steps back onto shared blocks, walks forward past the fork and follows the longer branch', async () => {
    // We hold main 1-3; the peer's chain shares 1-2 and goes on to 4 on blocks of its own.
    const h = treeHarness({ [LONG_ID]: honest(fork.slice(0, 4), 1) }, { ours: main.slice(0, 3) });
    h.sync.peerTip(LONG_ID, 4);
    await eventually(() => h.tip() === 4);
    expect(h.tipId()).toBe(idOf(fork[3]!));
    // Its block 4 did not connect (its parent is its own block 3), so sync stepped back to 1, then
    // came forward one answer at a time over the shared blocks to the fork point and up to the
    // height it claims.
    const asks = h.asks().map((a) => a.replace(LONG_ID, 'peer'));
    expect(asks).toEqual(['ask peer 4', 'ask peer 1', 'ask peer 2', 'ask peer 3', 'ask peer 4']);
    expect(h.events.filter((e) => !e.startsWith('ask'))).toEqual(['orphan 4', 'side 3', 'tip 4']);
    expect([...h.sources]).toEqual(['sync']);
    expect(h.logs).toEqual([
      {
        level: 'info',
        msg: 'synced blocks',
        fields: { peer: LONG_ID.slice(0, 16), from: 4, blocks: 1, tip: 4 },
      },
    ]);
    expect(h.bad).toEqual([]);
    h.sync.stop();
  });

  it('steps back in answers of 50 blocks, never below the reorg limit, then leaves the peer', async () => {
    // Limit 2 above tip 4: blocks from height 3 may be replaced, so nothing below 3 is asked for.
    const params = { ...DEVNET, maxReorgDepth: 2 };
    const h = treeHarness(
      { peer: honest(other, MAX_BLOCKS_PER_RESPONSE) },
      { ours: main.slice(0, 4), params },
    );
    h.sync.peerTip('peer', 5);
    await eventually(() => h.asks().length >= 2);
    await settle();
    // other's 5 (orphan), then from the floor 3: its 3-5, still orphans (its 1-2 lie below).
    expect(h.asks()).toEqual(['ask peer 5', 'ask peer 3']);
    expect(h.events.filter((e) => e.startsWith('orphan'))).toEqual([
      'orphan 5',
      'orphan 3',
      'orphan 4',
      'orphan 5',
    ]);
    expect(h.tip()).toBe(4);
    h.sync.stop();
  });

  it('a branch that breaks off after blocks that connected ends the round: no second step back (no loop)', async () => {
    // Past our tip an orphan; from 1 our own block 1; at 2 a block whose parent nobody holds.
    const liar: Peer = {
      serve: async (from) => (from === 4 ? [other[3]!] : from === 1 ? [main[0]!] : [other[from - 1]!]),
    };
    const h = treeHarness({ liar }, { ours: main.slice(0, 3) });
    h.sync.peerTip('liar', 6);
    await eventually(() => h.events.includes('orphan 2'));
    await settle();
    expect(h.asks().filter((a) => a === 'ask liar 1')).toHaveLength(1);
    expect(h.tip()).toBe(3);
    // The peer cools down: a new claim does not make us ask it again at once...
    h.sync.peerTip('liar', 7);
    await settle();
    const asked = h.asks().length;
    expect(asked).toBeLessThanOrEqual(5);
    // ...but after the cool-down it is heard again.
    h.clock.now = 5_001;
    h.sync.peerTip('liar', 8);
    await eventually(() => h.asks().length > asked);
    expect(h.asks()[asked]).toBe('ask liar 4');
    h.sync.stop();
  });

  it('blocks that connect without moving our tip are followed only up to the peer’s claim, and are no progress', async () => {
    // We hold fork 1-3; the peer's block 4 connects but waits here for its transactions' finality.
    const stall: Peer = { serve: () => new Promise<readonly Block[]>(() => undefined) };
    const h = treeHarness(
      { peer: honest(fork.slice(0, 4), 1), stall },
      { ours: fork.slice(0, 3), special: (b) => (b.header.height === 4 ? 'undecided' : undefined) },
    );
    h.sync.peerTip('peer', 4);
    await eventually(() => h.events.includes('undecided 4'));
    await settle();
    // Connected at its claimed height: nothing more is asked of it (no height 5), and the round
    // ended without progress, so the peer cools down rather than being asked the same again.
    expect(h.asks()).toEqual(['ask peer 4']);
    h.sync.peerTip('stall', 100); // a round that never ends
    await eventually(() => h.asks().includes('ask stall 4'));
    // A block waiting for finality did not move our tip: no progress, so a far claim from a peer
    // that has not failed (yet) does not count as catching up.
    expect(h.sync.syncing).toBe(false);
    h.sync.stop();
  });
});

describe('BlockSync: blocks the chain refuses, and failures that are not the peer’s', () => {
  it('an invalid block ends the round and cools the peer; the next round asks again from our tip, not from a prefetch', async () => {
    const h = treeHarness(
      { peer: honest(main, 2) },
      { special: (b) => (b.header.height === 2 ? 'invalid' : undefined) },
    );
    h.sync.peerTip('peer', 4);
    await eventually(() => h.events.includes('invalid 2'));
    await settle();
    expect(h.tip()).toBe(1);
    // Round 1: 1-2 and the prefetch of 3; block 1 applied, block 2 invalid: the peer cools down
    // although its round moved our tip.
    expect(h.asks()).toEqual(['ask peer 1', 'ask peer 3']);
    h.sync.peerTip('peer', 5);
    await settle();
    expect(h.asks()).toHaveLength(2);
    h.clock.now = 5_001;
    h.sync.peerTip('peer', 5);
    await eventually(() => h.events.filter((e) => e === 'invalid 2').length === 2);
    // From the height after our tip (2), not the prefetched batch of 3.
    expect(h.asks()[2]).toBe('ask peer 2');
    // Nothing past the invalid block was handed to the chain.
    expect(h.events.some((e) => / 3$/.test(e) && !e.startsWith('ask'))).toBe(false);
    h.sync.stop();
  });

  it('a BlockError thrown by the chain scores the peer with its code and cools it', async () => {
    const h = treeHarness(
      { peer: honest(main, 2) },
      {
        special: (b) =>
          b.header.height === 2 ? new BlockError('BAD_MERKLE_ROOT', 'merkle root') : undefined,
      },
    );
    h.sync.peerTip('peer', 3);
    await eventually(() => h.bad.length > 0);
    await settle();
    expect(h.bad).toEqual(['peer BAD_MERKLE_ROOT']);
    expect(h.tip()).toBe(1);
    h.sync.peerTip('peer', 4);
    await settle();
    expect(h.asks()).toEqual(['ask peer 1', 'ask peer 3']);
    h.sync.stop();
  });

  it('a request that fails (timeout, peer gone) cools the peer; it is neither scored nor logged as an error', async () => {
    const h = treeHarness({
      failing: {
        serve: async () => {
          throw new Error('P2P_TIMEOUT');
        },
      },
    });
    h.sync.peerTip('failing', 3);
    await eventually(() => h.asks().length > 0);
    await settle();
    h.sync.peerTip('failing', 4);
    await settle();
    expect(h.asks()).toEqual(['ask failing 1']);
    expect(h.bad).toEqual([]);
    expect(h.logs).toEqual([]);
    h.sync.stop();
  });

  it('bytes that are not a block are scored as malformed', async () => {
    const h = treeHarness({ liar: { serve: async () => [new Uint8Array(64).fill(0xff)] } });
    h.sync.peerTip('liar', 1);
    await eventually(() => h.bad.length > 0);
    expect(h.bad).toEqual(['liar MALFORMED']);
    h.sync.stop();
  });

  it('any other error (a failed store write) is logged, the peer cools down, and sync keeps working', async () => {
    let failing = true;
    const h = treeHarness(
      { [LONG_ID]: honest(main, 2) },
      { special: () => (failing ? new Error('MDB_DISKFULL') : undefined) },
    );
    h.sync.peerTip(LONG_ID, 2);
    await eventually(() => h.errors().length > 0);
    await settle();
    expect(h.errors()).toEqual([
      {
        level: 'error',
        msg: 'sync: round failed',
        fields: { peer: LONG_ID.slice(0, 16), err: 'MDB_DISKFULL' },
      },
    ]);
    expect(h.asks()).toEqual([`ask ${LONG_ID} 1`]); // cooling down: not asked again in a loop
    expect(h.bad).toEqual([]); // not the peer's fault
    failing = false;
    h.clock.now = 5_001;
    h.sync.peerTip(LONG_ID, 2);
    await eventually(() => h.tip() === 2);
    h.sync.stop();
  });
});

describe('BlockSync: whom it asks', () => {
  it('the peer claiming the highest tip, the first of equals; a lower claim later lowers nothing', async () => {
    const gate = gated(honest(main, MAX_BLOCKS_PER_RESPONSE));
    const h = harness({ gate, a: honest(main), b: honest(main), c: honest(main) });
    h.sync.peerTip('gate', 1);
    await eventually(() => h.events.includes('ask gate 1'));
    // Claims that arrive while the first round waits.
    h.sync.peerTip('c', 5);
    h.sync.peerTip('a', 6);
    h.sync.peerTip('b', 6);
    h.sync.peerTip('a', 2);
    gate.release([]); // the gate has nothing: its claim drops to 0
    await eventually(() => h.events.filter((e) => e.startsWith('ask')).length >= 2);
    expect(h.events.filter((e) => e.startsWith('ask'))[1]).toBe('ask a 1');
    h.sync.stop();
  });

  it('an empty answer lowers the peer’s claim to what it served and cools it down', async () => {
    // It claims 10 but holds 3.
    const h = harness({ peer: honest(main.slice(0, 3), MAX_BLOCKS_PER_RESPONSE) });
    h.sync.peerTip('peer', 10);
    await h.heightReached(3);
    await settle();
    const asks = () => h.events.filter((e) => e.startsWith('ask'));
    expect(asks()).toEqual(['ask peer 1', 'ask peer 4']);
    // Long after any cool-down, another peer's claim starts a round: ours is not asked again.
    h.clock.now = 60_000;
    h.sync.peerTip('late', 4);
    await settle();
    expect(asks().filter((e) => e === 'ask peer 4')).toHaveLength(1);
    // Its new claim right after an empty answer waits for the cool-down...
    h.sync.peerTip('peer', 5);
    await eventually(() => asks().filter((e) => e === 'ask peer 4').length === 2);
    await settle(); // its round has ended (a claim made during it is lowered again by its end)
    h.sync.peerTip('peer', 6);
    await settle();
    expect(asks().filter((e) => e === 'ask peer 4')).toHaveLength(2);
    // ...and is heard after it.
    h.clock.now = 65_001;
    h.sync.peerTip('peer', 6);
    await eventually(() => asks().filter((e) => e === 'ask peer 4').length === 3);
    h.sync.stop();
  });

  it('caught up, nobody is asked again; an orphan names its sender’s claim; stop() ends it', async () => {
    const h = harness({ peer: honest(main, 2), relay: honest(main, 2), late: honest(main) });
    const asks = () => h.events.filter((e) => e.startsWith('ask'));
    h.sync.peerTip('peer', 4);
    await h.heightReached(4);
    await settle();
    expect(asks()).toEqual(['ask peer 1', 'ask peer 3']);
    // An orphan with no known sender asks nobody; one from a peer is that peer's claim.
    h.sync.orphan(undefined, 8);
    await settle();
    expect(asks()).toHaveLength(2);
    h.sync.orphan('relay', 6);
    await h.heightReached(6);
    expect(asks()[2]).toBe('ask relay 5');
    h.sync.stop();
    h.sync.peerTip('late', 8);
    await settle();
    expect(asks().some((e) => e.startsWith('ask late'))).toBe(false);
  });

  it('an orphan from a sender no longer connected adds no claim: nobody is asked for it', async () => {
    const connected = new Set(['peer']);
    const h = harness({ peer: honest(main, 2), gone: honest(main, 2) }, { connected });
    const asks = () => h.events.filter((e) => e.startsWith('ask'));
    // The orphan's sender left before a child of it arrived (the tree keeps the sender's id).
    h.sync.orphan('gone', 6);
    await settle();
    expect(asks()).toEqual([]);
    // Its claim would have stayed for good (only a disconnection removes one) and kept sync picking
    // a peer it cannot ask; a connected sender's orphan is its claim as before.
    h.sync.orphan('peer', 4);
    await h.heightReached(4);
    expect(asks().every((a) => a.startsWith('ask peer'))).toBe(true);
    h.sync.stop();
  });

  it('a peer that left no longer counts as a tip we are catching up with', async () => {
    const stall: Peer = { serve: () => new Promise<readonly Block[]>(() => undefined) };
    const h = harness({ peer: honest(main.slice(0, 4), MAX_BLOCKS_PER_RESPONSE), stall });
    h.sync.peerTip('peer', 4);
    await h.heightReached(4); // progress just now
    h.sync.peerTip('stall', 20);
    await eventually(() => h.events.includes('ask stall 5'));
    expect(h.sync.syncing).toBe(true);
    h.sync.peerGone('stall');
    expect(h.sync.syncing).toBe(false);
    h.sync.stop();
  });

  it('the next batch is asked for ahead while the peer claims at least its first height', async () => {
    // Answers of 2 and a claim of 5: after 1-2, 3-4 is prefetched; after 3-4, 5 (5 ≤ 5).
    const h = harness({ peer: honest(main.slice(0, 5), 2) });
    h.sync.peerTip('peer', 5);
    await h.heightReached(5);
    expect(h.events.indexOf('ask peer 5')).toBeGreaterThan(-1);
    expect(h.events.indexOf('ask peer 5')).toBeLessThan(h.events.indexOf('apply 3'));
    h.sync.stop();
  });

  it('a full answer has the next batch asked for ahead even past the peer’s claim (claims lag)', async () => {
    const h = harness({ peer: honest(long, MAX_BLOCKS_PER_RESPONSE) }, { delayApplyMs: 1 });
    h.sync.peerTip('peer', 3);
    await h.heightReached(MAX_BLOCKS_PER_RESPONSE);
    const ahead = `ask peer ${MAX_BLOCKS_PER_RESPONSE + 1}`;
    expect(h.events.indexOf(ahead)).toBeGreaterThan(-1);
    expect(h.events.indexOf(ahead)).toBeLessThan(h.events.indexOf('apply 1'));
    h.sync.stop();
  });

  it('a batch prefetched from one peer is never taken for another peer’s round', async () => {
    const gate = gated(honest(main, 2));
    const h = harness({ a: gate, b: honest(main, 2) });
    h.sync.peerTip('a', 4);
    await eventually(() => h.events.includes('ask a 1'));
    // b claims more while a's first answer is on its way: the next round is b's, from 3.
    h.sync.peerTip('b', 8);
    gate.release(main.slice(0, 2));
    await h.heightReached(3);
    const asks = h.events.filter((e) => e.startsWith('ask'));
    expect(asks.slice(0, 3)).toEqual(['ask a 1', 'ask a 3', 'ask b 3']);
    h.sync.stop();
  });
});

describe('answerGetBlocks: the frame budget', () => {
  const MIB = 1024 * 1024;
  /** A store of `sizes.length` blocks of these sizes (answerGetBlocks reads only these two). */
  const storeOf = (sizes: readonly (number | undefined)[]) =>
    ({
      tip: () => ({ height: sizes.length }),
      getBlockBytes: (h: number) => {
        const n = sizes[h - 1];
        return n === undefined ? undefined : new Uint8Array(n).fill(h);
      },
    }) as unknown as ChainStore;

  it('stops before the answer would pass the largest frame less 64 KiB, but always serves one block', () => {
    const lens = (store: ChainStore, from: number) =>
      answerGetBlocks(store, from, MAX_BLOCKS_PER_RESPONSE).map((b) => [b[0], b.length]);
    // 1.5 + 1.5 + 1.5 MiB: two fit in 4 MiB − 64 KiB, the third would not.
    expect(lens(storeOf([1.5 * MIB, 1.5 * MIB, 1.5 * MIB]), 1)).toEqual([
      [1, 1.5 * MIB],
      [2, 1.5 * MIB],
    ]);
    // Exactly at the budget: it fits.
    const budget = 4 * MIB - 64 * 1024;
    expect(lens(storeOf([budget - 100, 100, 1]), 1)).toEqual([
      [1, budget - 100],
      [2, 100],
    ]);
    // A first block alone over the budget still goes (no peer could ever fetch it otherwise).
    expect(lens(storeOf([budget + 1, 1]), 1)).toEqual([[1, budget + 1]]);
    // A height the store cannot read ends the answer there.
    expect(lens(storeOf([10, undefined, 10]), 1)).toEqual([[1, 10]]);
    // Rows above the tip (a revert being written) are never served.
    const pastTip = storeOf([10, 10, 10]);
    (pastTip as unknown as { tip: () => { height: number } }).tip = () => ({ height: 2 });
    expect(lens(pastTip, 1)).toEqual([
      [1, 10],
      [2, 10],
    ]);
  });
});
