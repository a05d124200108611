import type { Logger } from 'pino';
import { BlockError } from '../chain/block-errors.js';
import { parseBlock } from '../chain/block-validation.js';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, type BlockHeader, decodeBlockHeader, headerHash } from '../protocol/block.js';
import type { ChainStore } from '../storage/chain-store.js';
import { MAX_BLOCKS_PER_RESPONSE, MAX_FRAME_BYTES } from '../wire/limits.js';
import type { ChainController } from './chain-controller.js';

/** How sync fetches blocks (P2pNode.request with GetBlocks in the node). */
export interface BlockFetcher {
  getBlocks(peerId: string, from: number, count: number): Promise<readonly Uint8Array[]>;
}

export interface BlockSyncDeps {
  readonly params: ChainParams;
  readonly store: ChainStore;
  readonly chain: ChainController;
  readonly fetcher: BlockFetcher;
  readonly log: Logger;
  readonly now: () => number;
  readonly onBadBlock: (peerId: string, code: string, detail: string) => void;
  /**
   * A GetBlocks answer that no honest peer sends: more blocks than asked for, or blocks that are
   * not consecutive from the height asked for (the node scores INVALID_RESPONSE).
   */
  readonly onBadAnswer: (peerId: string, detail: string) => void;
  /**
   * Called for each fetched block as soon as it is parsed, before its turn (the node:
   * LedgerService.prepareBlock, which starts verifying its signatures in the pool).
   */
  readonly prepare?: (block: Block) => void;
  /** Counts each block of a GetBlocks answer: new, or already held here (the node's metrics). */
  readonly onFetched?: (kind: 'new' | 'held') => void;
  /**
   * Whether `peerId` is connected now (the node: P2pNode.isConnected). An orphan names the peer that
   * sent it, perhaps long gone: its claim would stay in `tips` for good (nothing removes a claim but
   * the peer's disconnection), and sync would keep picking a peer it cannot ask. Default: all are.
   */
  readonly isConnected?: (peerId: string) => boolean;
}

/**
 * A fetched block this node already holds (main chain, tree, or proved invalid): only its header
 * was read, and `outcome` is what ChainController.receive would have answered for it.
 */
interface HeldBlock {
  readonly header: BlockHeader;
  readonly outcome: 'known' | 'orphan';
}

/**
 * A fetched batch: each block parsed (or, when already held, only its header read), or the fault
 * that ended parsing (nothing after it is kept).
 */
type Batch = readonly (Block | HeldBlock | BlockError)[];

/** The batch asked for ahead while the previous one is applied. */
interface Prefetch {
  readonly peerId: string;
  readonly from: number;
  readonly batch: Promise<Batch>;
}

interface PeerTip {
  /** The tip height it claims: raised by its claims, lowered to what it served when a round fails. */
  height: number;
  /**
   * The highest claim heard while it cooled down: counted only once the cool-down is over, so a
   * Hello or Tip (free to send, 2 a second) does not lift back the claim its failed round lowered.
   */
  heard: number;
  /** A peer that answered nothing useful is not asked again for a while. */
  coolUntilMs: number;
  /** Length of its last cool-down. */
  coolMs: number;
  /** Failed rounds since its last round that moved our tip (0: none, or never asked). */
  failures: number;
}

/** What a peer that left keeps of its failures, so that reconnecting does not wipe them. */
interface Penalty {
  readonly failures: number;
  readonly coolUntilMs: number;
  readonly coolMs: number;
}

/**
 * Back-off for a peer that stalled, answered nothing, or sent blocks that did not connect: 5 s
 * after a failed round, doubled for each further failed round it is asked for soon after its
 * cool-down (within the length of that cool-down), up to MAX_COOL_DOWN_MS. A GetBlocks that gets
 * no answer costs us its 10 s timeout; with a fixed 5 s, two peers claiming a far tip and never
 * answering took turns forever and the peer that held the blocks was never asked.
 */
export const COOL_DOWN_MS = 5_000;
export const MAX_COOL_DOWN_MS = 160_000;
/** Peers that left whose failures are remembered (the oldest forgotten first). */
const MAX_PENALTIES = 1_024;

/**
 * How long after a fetched block last joined our chain a peer's claim to be ahead still counts as
 * "syncing" (which holds block production back). The GetBlocks timeout: an honest catch-up applies
 * a block at least that often (a full block takes about a second).
 */
export const SYNC_PROGRESS_WINDOW_MS = 10_000;

/**
 * Catching up with peers whose tip is ahead (DESIGN §7): ask one of them for up to 50 blocks from
 * our height + 1 (GetBlocks), feed them through the block pipeline in order, and go on while some
 * peer is ahead. A peer on another branch answers blocks that do not connect to our tip: sync then
 * steps back (50 blocks at a time, never past the reorg limit) until the branch meets our chain,
 * and fork choice decides. A peer that stalls or answers nothing is cooled down and another peer is
 * asked, so one slow peer does not hold the node back: a failed round lowers the peer's claim to
 * what it served, its cool-down grows while it keeps failing, and peers that have not failed since
 * they last moved our tip are asked before those that have (as Bitcoin Core's block download
 * drops a stalling peer and fetches from the others), so peers claiming a far tip they do not
 * serve cannot keep the node from the one that holds the blocks.
 */
export class BlockSync {
  private readonly tips = new Map<string, PeerTip>();
  private readonly penalties = new Map<string, Penalty>();
  private running = false;
  private stopped = false;
  private prefetch: Prefetch | undefined;
  /** When a block fetched by sync last joined our chain. */
  private progressAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: BlockSyncDeps) {}

  /**
   * What we know of a peer's tip height (Hello, Tip messages, gossiped blocks). A claim only
   * raises what the peer is known to claim; while it cools down after a failed round, the claim is
   * kept aside and counts once the cool-down is over.
   */
  peerTip(peerId: string, height: number): void {
    let t = this.tips.get(peerId);
    if (!t) {
      // A peer that left while failing comes back with its failures (its key, not its connection).
      const p = this.penalties.get(peerId);
      this.penalties.delete(peerId);
      t = { height: 0, heard: 0, coolUntilMs: 0, coolMs: 0, failures: 0, ...p };
      this.tips.set(peerId, t);
    }
    if (t.coolUntilMs > this.d.now()) t.heard = Math.max(t.heard, height);
    else t.height = Math.max(t.height, t.heard, height);
    if (height > this.d.chain.heldHeight()) void this.run();
  }

  peerGone(peerId: string): void {
    const t = this.tips.get(peerId);
    this.tips.delete(peerId);
    if (t === undefined || t.failures === 0) return;
    if (this.penalties.size >= MAX_PENALTIES) this.penalties.delete(this.penalties.keys().next().value!);
    this.penalties.set(peerId, { failures: t.failures, coolUntilMs: t.coolUntilMs, coolMs: t.coolMs });
  }

  /** The tip the peer claims as of `now`: claims heard while it cooled down count once it is over. */
  private claimOf(t: PeerTip, now: number): number {
    return t.coolUntilMs > now ? t.height : Math.max(t.height, t.heard);
  }

  /** A block arrived whose parent we lack: fetch around it from the peer that sent it. */
  orphan(peerId: string | undefined, height: number): void {
    if (peerId !== undefined && (this.d.isConnected?.(peerId) ?? true)) this.peerTip(peerId, height);
  }

  /**
   * True while the node is catching up: a fetched block joined our chain within
   * SYNC_PROGRESS_WINDOW_MS and a peer that is not cooling down claims a tip more than one block
   * ahead. A claim alone never counts: a Hello, a Tip or an orphan header costs nothing to send,
   * and a peer that claimed a far tip and then stalled or answered nothing kept every validator it
   * reached from producing.
   */
  get syncing(): boolean {
    const now = this.d.now();
    if (now - this.progressAtMs > SYNC_PROGRESS_WINDOW_MS) return false;
    const ours = this.d.store.tip().height;
    for (const t of this.tips.values())
      if (t.coolUntilMs <= now && this.claimOf(t, now) > ours + 1) return true;
    return false;
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Among peers not cooling down that claim a tip above every block we hold: those with the fewest
   * failed rounds since they last moved our tip (a peer that serves what it claims has none), then
   * the highest claim, the first of equals.
   */
  private pickPeer(): [string, PeerTip] | undefined {
    const ours = this.d.chain.heldHeight();
    const now = this.d.now();
    let best: [string, PeerTip] | undefined;
    let bestClaim = 0;
    for (const e of this.tips) {
      const t = e[1];
      if (t.coolUntilMs > now) continue;
      const claim = this.claimOf(t, now);
      if (claim <= ours) continue;
      if (!best || t.failures < best[1].failures || (t.failures === best[1].failures && claim > bestClaim)) {
        best = e;
        bestClaim = claim;
      }
    }
    if (best) {
      best[1].height = bestClaim;
      best[1].heard = 0;
    }
    return best;
  }

  /**
   * A round of `tip`'s that started at `startedMs` ended without moving our tip: its claim drops to
   * the highest block it served (never below what we hold: it may be right that it has nothing
   * more), and it cools down, longer each time it fails again as soon as it is asked again.
   */
  private failed(tip: PeerTip, startedMs: number, served: number): void {
    const now = this.d.now();
    tip.height = Math.min(tip.height, Math.max(served, this.d.chain.heldHeight()));
    tip.heard = 0;
    const again = tip.failures > 0 && startedMs - tip.coolUntilMs <= tip.coolMs;
    tip.failures = again ? tip.failures + 1 : 1;
    tip.coolMs = Math.min(MAX_COOL_DOWN_MS, COOL_DOWN_MS * 2 ** Math.min(tip.failures - 1, 30));
    tip.coolUntilMs = now + tip.coolMs;
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (let picked = this.pickPeer(); picked && !this.stopped; picked = this.pickPeer()) {
        const [peerId, tip] = picked;
        const startedMs = this.d.now();
        const round = { served: 0 };
        let progressed = false;
        try {
          progressed = await this.fetchFrom(peerId, tip, round);
        } catch (err) {
          // Not a fault of the peer's that we can name (those are scored in fetchFrom): a failed
          // store write, or a bug. Nothing awaits this loop, so a throw here would be an unhandled
          // rejection, which ends the process.
          this.d.log.error({ peer: peerId.slice(0, 16), err: (err as Error).message }, 'sync: round failed');
        }
        if (progressed) tip.failures = 0;
        else this.failed(tip, startedMs, round.served);
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * One round with one peer; true when a batch of its blocks left our tip higher than where the
   * round started. A round that ends otherwise — nothing more to fetch, a failed request, a block
   * refused (even after others of the batch were applied) — answers false and the peer cools down:
   * a peer at fault is not asked again at once, whatever our tip did meanwhile.
   *
   * While a batch is applied the next one is already asked for (when the peer has more) and its
   * blocks are parsed and prepared as they arrive, so fetching and signature verification overlap
   * the ledger checks and writes.
   */
  private async fetchFrom(peerId: string, tip: PeerTip, round: { served: number }): Promise<boolean> {
    const { store, log } = this.d;
    const start = store.tip().height;
    let from = start + 1;
    const floor = Math.max(1, start - this.d.params.maxReorgDepth + 1);
    /** Some block of this peer's joined what we hold: we walk forward from here, never back again. */
    let joined = false;
    for (;;) {
      let batch: Batch;
      try {
        batch = await this.takeBatch(peerId, from);
      } catch (err) {
        log.debug({ peer: peerId.slice(0, 16), from, err: (err as Error).message }, 'sync: GetBlocks failed');
        return false;
      }
      if (batch.length === 0) return false;
      const next = from + batch.length;
      if (batch.length === MAX_BLOCKS_PER_RESPONSE || next <= tip.height) this.startPrefetch(peerId, next);
      let connected = false;
      for (const block of batch) {
        if (block instanceof BlockError) {
          this.d.onBadBlock(peerId, block.code, block.message);
          return false;
        }
        round.served = Math.max(round.served, block.header.height);
        let outcome: string;
        try {
          outcome = 'outcome' in block ? block.outcome : await this.d.chain.receive(block, 'sync', peerId);
        } catch (err) {
          if (err instanceof BlockError) {
            this.d.onBadBlock(peerId, err.code, err.message);
            return false;
          }
          throw err;
        }
        if (outcome === 'invalid') return false;
        // Per block, not per round: a round of 50 full blocks can take a minute to apply.
        if (outcome === 'applied') this.progressAtMs = this.d.now();
        if (outcome !== 'orphan') connected = true;
        log.debug({ peer: peerId.slice(0, 16), outcome }, 'sync: block');
      }
      if (store.tip().height > start) {
        log.info(
          { peer: peerId.slice(0, 16), from, blocks: batch.length, tip: store.tip().height },
          'synced blocks',
        );
        return true;
      }
      if (connected) {
        // Blocks joined what we hold (a side branch not ahead yet, or blocks both chains share):
        // fetch further along it while the peer claims more. Not "while answers are full": an
        // answer holds as many blocks as fit one frame, one or two full blocks, and a node that
        // had stepped back onto shared history then gave up at every round and never reached the
        // fork point. `from` only grows here, and the peer's claim bounds it.
        if (next > tip.height) return false;
        joined = true;
        from = next;
        continue;
      }
      // Nothing connected: the peer is on another branch below `from`. Step back, unless we came
      // forward along blocks that did connect: the branch then broke off (its next block is not the
      // child of the last one), and stepping back again could loop.
      if (joined || from <= floor) return false;
      log.debug({ peer: peerId.slice(0, 16), from }, 'sync: blocks do not connect, stepping back');
      from = Math.max(floor, from - MAX_BLOCKS_PER_RESPONSE);
    }
  }

  /** The prefetched batch when it is the one wanted, otherwise a fresh request. */
  private takeBatch(peerId: string, from: number): Promise<Batch> {
    const p = this.prefetch;
    this.prefetch = undefined;
    if (p !== undefined && p.peerId === peerId && p.from === from) return p.batch;
    return this.fetchBatch(peerId, from);
  }

  private startPrefetch(peerId: string, from: number): void {
    const batch = this.fetchBatch(peerId, from);
    // A prefetch nobody takes (the round ended, another peer is asked) must not leave a rejection.
    batch.catch(() => undefined);
    this.prefetch = { peerId, from, batch };
  }

  /**
   * GetBlocks from `from`; each block parsed and prepared the moment the answer arrives. The answer
   * must be what `answerGetBlocks` sends: at most the count asked for, heights from `from` on,
   * each block the child of the one before. Anything else is a peer's lie, not a chain fact (and
   * would have us verify blocks we never asked for, or loop on known blocks under new heights):
   * the peer is scored and the batch ends before the first block that breaks the rule.
   */
  private async fetchBatch(peerId: string, from: number): Promise<Batch> {
    const raw = await this.d.fetcher.getBlocks(peerId, from, MAX_BLOCKS_PER_RESPONSE);
    const batch: (Block | HeldBlock | BlockError)[] = [];
    if (raw.length > MAX_BLOCKS_PER_RESPONSE) {
      this.d.onBadAnswer(peerId, `GetBlocks: ${raw.length} blocks for ${MAX_BLOCKS_PER_RESPONSE} asked`);
      return batch;
    }
    let parentHash: Uint8Array | undefined;
    for (const bytes of raw) {
      const peeked = this.peekHeader(bytes);
      const seen = peeked && this.d.chain.seenOutcome(toHex(peeked.hash));
      let block: Block | HeldBlock;
      if (peeked && seen) block = { header: peeked.header, outcome: seen };
      else {
        try {
          block = parseBlock(bytes, this.d.params);
        } catch (err) {
          if (!(err instanceof BlockError)) throw err;
          batch.push(err);
          break;
        }
      }
      const height = from + batch.length;
      if (block.header.height !== height) {
        this.d.onBadAnswer(
          peerId,
          `GetBlocks from ${from}: height ${block.header.height} where ${height} belongs`,
        );
        break;
      }
      if (parentHash !== undefined && !bytesEqual(block.header.prevHash, parentHash)) {
        this.d.onBadAnswer(
          peerId,
          `GetBlocks from ${from}: block ${height} does not build on block ${height - 1}`,
        );
        break;
      }
      // A block that parsed had its header peeked first: its hash is at hand.
      parentHash = peeked?.hash ?? headerHash(block.header);
      if ('outcome' in block) this.d.onFetched?.('held');
      else {
        this.d.onFetched?.('new');
        this.d.prepare?.(block);
      }
      batch.push(block);
    }
    return batch;
  }

  /**
   * A fetched block's header and its hash, read before its body: a block we already hold is known
   * by them alone, and its body is neither decoded nor verified again (a full block is ~9,300
   * transactions). Whatever body a peer sent with a header we hold is never used, so it is not
   * worth checking. undefined for oversized bytes or a header that does not even decode (parseBlock
   * then names the fault).
   */
  private peekHeader(bytes: Uint8Array): { header: BlockHeader; hash: Uint8Array } | undefined {
    if (bytes.length > this.d.params.maxBlockBytes) return undefined;
    try {
      const { header } = decodeBlockHeader(bytes);
      return { header, hash: headerHash(header) };
    } catch {
      return undefined;
    }
  }
}

/**
 * Answers GetBlocks: consecutive main-chain blocks from `from`, at most `count`, stopping before
 * the frame would exceed the transport's largest frame.
 */
export function answerGetBlocks(store: ChainStore, from: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  const budget = MAX_FRAME_BYTES - 64 * 1024;
  const tip = store.tip().height;
  for (let h = from; h < from + count && h <= tip; h++) {
    const b = store.getBlockBytes(h);
    if (!b) break;
    if (out.length > 0 && bytes + b.length > budget) break;
    out.push(b);
    bytes += b.length;
  }
  return out;
}
