import type { Logger } from 'pino';
import type { BeaconVerifier } from '../beacon/verified-beacons.js';
import { activeSetOnBranch } from '../chain/active-set.js';
import { BlockError } from '../chain/block-errors.js';
import type { ParentInfo, SlotContext } from '../chain/block-validation.js';
import { compareBranches, type ForkBlock } from '../chain/fork-choice.js';
import { arrivedInTime, isFromTheFuture } from '../chain/relay-policy.js';
import { slotAt } from '../chain/slot-time.js';
import type { SnowballEngine } from '../consensus/snowball/engine.js';
import { bytesEqual, toHex } from '../encoding/bytes.js';
import type { LedgerService } from '../ledger/ledger-service.js';
import { MempoolError } from '../ledger/mempool-errors.js';
import type { SerialQueue } from '../ledger/serial-queue.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, type BlockHeader, headerHash } from '../protocol/block.js';
import type { EncodedTx } from '../protocol/tx-codec.js';
import type { ChainStore } from '../storage/chain-store.js';
import type { BlockTree, BranchResult, TreeBlock } from './block-tree.js';
import type { ChainIndex } from './chain-index.js';
import type { FinalityWaiters } from './finality-waiters.js';
import type { TxIntake } from './tx-intake.js';

export type BlockSource = 'gossip' | 'sync' | 'self';

export type ReceiveOutcome =
  /** Now on the main chain (extended it or won a reorg). */
  | 'applied'
  /** Kept beside the main chain: valid as far as checked, but not preferred. */
  | 'side'
  /** Parent unknown: kept (bounded) while its ancestors are fetched. */
  | 'orphan'
  /** Seen before and placed (main chain or a side branch) or proved invalid. A held orphan is 'orphan'. */
  | 'known'
  /** Its time has not come by our clock (relay policy, not validity): dropped. */
  | 'future'
  /** Refused: the block, or a transaction it carries, is invalid or conflicts with finality here. */
  | 'invalid'
  /** Its transactions are not all final here yet and did not become final in time. */
  | 'undecided';

export interface ChainControllerDeps {
  readonly params: ChainParams;
  readonly store: ChainStore;
  readonly ledger: LedgerService;
  readonly engine: SnowballEngine;
  readonly serial: SerialQueue;
  readonly beacons: BeaconVerifier;
  readonly index: ChainIndex;
  readonly tree: BlockTree;
  readonly intake: TxIntake;
  readonly waiters: FinalityWaiters;
  readonly log: Logger;
  readonly now: () => number;
  /** How long a live block may wait for its transactions to become final here. */
  readonly finalityWaitMs: number;
  /** Called for every block that joins the main chain (gossip, events, the validator set…). */
  readonly onApplied: (block: Block, hash: Uint8Array, source: BlockSource) => void;
  /** Called for every block taken off the main chain by a reorg. */
  readonly onReverted: (block: Block) => void;
  /** Processing transactions a block (or a revert) made impossible: the ledger rejected them. */
  readonly onRejected: (etxs: readonly EncodedTx[]) => void;
  /** A block proved its sender wrong (a header fault, or bytes that do not match their header). */
  readonly onBadBlock: (peerId: string, code: string, detail: string) => void;
  /** A block whose parent we lack: fetch its ancestors from that peer. */
  readonly onOrphan: (peerId: string | undefined, height: number) => void;
  /**
   * Every block not seen before whose slot has begun and whose producer is registered, before any
   * other check (the double-sign detector watches headers).
   */
  readonly onHeader?: (block: Block, hash: Uint8Array) => void;
}

const EMPTY = new Uint8Array(0);

/** Header hashes proved invalid, remembered (bounded) so a bad block costs one validation. */
export const MAX_INVALID = 4_096;

/**
 * The block pipeline (DESIGN §6): every block — received by gossip, fetched by sync, or produced
 * here — goes through `receive`, which keeps it beside the main chain, then lets fork choice pick
 * the best branch and switches to it.
 *
 * Validity never depends on local timing: a block is applied only when every transaction in it is
 * final HERE; transactions this node has not decided are submitted and polled first (so Snowball's
 * agreement carries over to blocks), and one whose rival is final here makes the block invalid
 * (CONFLICTS_FINALIZED, a header fault). Blocks fetched by sync for slots at least two slots old are
 * accepted by chain rule instead (the network decided them long ago; polling millions of old
 * transactions would make catching up impossible) — but never onto a branch that conflicts with a
 * locally finalized transaction, which validation still refuses.
 *
 * Switching branches (extension or reorg) runs in the SerialQueue with finality writes, so a rival
 * never finalizes between a block's validation and its commit. A reorg reverts to the fork point,
 * applies the branch block by block with full validation against the branch's own anchors and
 * active sets, and puts the old blocks back if a branch block fails. Never deeper than
 * `maxReorgDepth`.
 */
export class ChainController {
  private readonly invalid = new Set<string>();
  /** Header checks under way, by block id. */
  private readonly headerChecks = new Map<string, Promise<boolean>>();
  /**
   * A second copy of a block whose header check is under way, from another peer: the copy being
   * checked may be a corruption of it (a bit flipped by a relay), which proves only those bytes
   * wrong. If the check fails for the copy, this one is received in its place; it was answered
   * 'known' and dropped before, and the node missed the slot's real block. At most one per check.
   */
  private readonly alternates = new Map<string, { block: Block; source: BlockSource; peerId: string }>();

  constructor(private readonly d: ChainControllerDeps) {}

  /** Second copies kept beside header checks under way (bounded by those checks; for tests). */
  get alternatesHeld(): number {
    return this.alternates.size;
  }

  get tipHeight(): number {
    return this.d.store.tip().height;
  }

  isKnown(id: string): boolean {
    return this.invalid.has(id) || this.d.tree.has(id) || this.d.store.getHeight(fromHexId(id)) !== undefined;
  }

  /**
   * A block we hold whose ancestors we still lack. Sync must hear 'orphan' for it, not 'known': a
   * node left on its own branch by a partition holds the other branch's newest blocks (gossip) but
   * not the ones it missed, and sync steps back to fetch those only when nothing it got connects.
   * Reported as 'known', they looked connected, and the node stayed on its branch for good.
   */
  private isHeldOrphan(id: string): boolean {
    return this.d.tree.has(id) && this.branchTo(id).kind === 'orphan';
  }

  /** Where the tree block `id`'s branch meets the main chain (our index), or that it does not. */
  private branchTo(id: string): BranchResult {
    return this.d.tree.branchTo(id, (hash) => this.d.index.heightOfId(hash));
  }

  /**
   * What `receive` answers at once for a block seen before, by its header hash (hex): 'orphan' for
   * a held block whose ancestors are missing, 'known' for any other held, main-chain or invalid one;
   * undefined for a new block. Sync asks this of each fetched header before decoding its body.
   */
  seenOutcome(id: string): 'known' | 'orphan' | undefined {
    if (!this.isKnown(id)) return undefined;
    return this.isHeldOrphan(id) ? 'orphan' : 'known';
  }

  /**
   * The height of the highest block we hold that connects to the main chain: the tip, or a tree
   * block above it that waits for its transactions' finality (or lost fork choice). A peer whose
   * claimed tip is no higher has nothing to send that sync would not fetch again only to hear
   * 'known': under load, blocks wait for finality here while their producers' Tips arrive, and each
   * Tip used to refetch, decode and re-verify every waiting block from every peer in turn.
   */
  heldHeight(): number {
    let held = this.tipHeight;
    for (const b of this.d.tree.connected((id) => this.d.index.heightOfId(id)))
      held = Math.max(held, b.height);
    return held;
  }

  /**
   * True when we hold a branch longer than our main chain that connects to it and whose newest
   * block arrived at `arrivedSinceMs` or later: the network has moved past our tip and we have
   * not followed yet (its transactions are not all final here, or it waits its turn in the serial
   * queue). A block we produced now would extend the shorter branch. Only the branch's blocks that
   * passed the header check count, from the fork point up: a forged block costs nothing to send.
   */
  longerBranchPending(arrivedSinceMs: number): boolean {
    const tip = this.tipHeight;
    // Only branches that reach the main chain are walked (orphans, free to send, are not).
    const connected = new Set(this.d.tree.connected((id) => this.d.index.heightOfId(id)));
    for (const leaf of this.d.tree.leaves()) {
      if (!connected.has(leaf)) continue;
      const branch = this.branchTo(leaf.id);
      if (branch.kind !== 'branch') continue;
      let newest: TreeBlock | undefined;
      for (const b of branch.blocks) {
        if (!b.headerChecked) break;
        newest = b;
      }
      if (newest !== undefined && newest.height > tip && newest.arrivalMs >= arrivedSinceMs) return true;
    }
    return false;
  }

  /** Takes a decoded block; resolves when it is applied, kept or refused. */
  async receive(block: Block, source: BlockSource, peerId?: string): Promise<ReceiveOutcome> {
    const { params, tree, now } = this.d;
    const hash = headerHash(block.header);
    const id = toHex(hash);
    const seen = this.seenOutcome(id);
    if (seen !== undefined) {
      if (peerId !== undefined && this.headerChecks.has(id) && !this.alternates.has(id)) {
        if (this.d.tree.get(id)?.peerId !== peerId) this.alternates.set(id, { block, source, peerId });
      }
      return seen;
    }
    if (isFromTheFuture(block.header, now(), params)) return 'future';
    if (this.d.onHeader && this.mayBeEvidence(block.header)) this.d.onHeader(block, hash);
    // Timeliness is local knowledge: blocks produced here are timely, every other block is judged
    // by when it reached us, however it came. A fetched block got no benefit of the doubt once:
    // a producer that withheld its block past its window (grinding the next anchor) then served it
    // to GetBlocks, and every node that fetched it let it displace the timely block of its height.
    const timely = source === 'self' || arrivedInTime(block.header, now(), params);
    // Ours is checked by construction (and validated in full before it is applied).
    const tb = tree.add(block, timely, now(), peerId, source === 'self');
    if (!tb) return 'known';
    const outcome = await this.consider(tb, source);
    return outcome;
  }

  /**
   * Whether the double-sign detector should see this header (before any check, since a double
   * signer's second block usually loses fork choice and is never checked): a slot that has begun
   * by our clock (with the tolerance) and a producer key in the registry. A forged header with a
   * slot far ahead used to switch the detector's pruning off for good, and fresh producer keys
   * filled it without bound.
   */
  private mayBeEvidence(h: BlockHeader): boolean {
    const { params, now, store } = this.d;
    return (
      h.slot <= slotAt(params, now() + params.futureBlockToleranceMs) &&
      store.getMasternode(h.producerPubkey) !== undefined
    );
  }

  /** The branch ending at `tb` against the main chain: switch if it wins; keep it otherwise. */
  private async consider(tb: TreeBlock, source: BlockSource): Promise<ReceiveOutcome> {
    const { tree, index, params } = this.d;
    const branch = this.branchTo(tb.id);
    if (branch.kind === 'orphan') {
      this.d.onOrphan(branch.peerId, tb.height);
      return 'orphan';
    }
    const main = index.above(branch.forkHeight);
    if (main.length > params.maxReorgDepth) {
      tree.delete(tb.id);
      return 'side';
    }
    let candidate = this.bestExtension(branch.blocks);
    if (compareBranches(candidate, main) >= 0) return 'side';
    // Gate outside the serial queue: finality needs the finalizer, which runs through it.
    const chainRule = source === 'sync' && this.isOld(candidate[candidate.length - 1]!);
    if (!chainRule) {
      // Nothing is held for its transactions' finality before it proves to be the slot leader's
      // signed block: a forged block whose transactions never become final here was held for
      // finalityWaitMs, and producers skipped their slots for it meanwhile.
      for (;;) {
        const result = await this.checkHeaders(branch.forkHeight, candidate);
        if (result === 'checked') break;
        // A block whose header cannot be checked is held but never wins: a forged block costs
        // nothing to send, and counting one made the node revert its chain to try the branch.
        // (Only a branch forking below the index's range has one, and no such branch can win.)
        if (result === 'unchecked') return 'side';
        if (branch.blocks.includes(result)) return 'invalid';
        // A block built on ours failed: ours may still win with the rest of what is held.
        candidate = this.bestExtension(branch.blocks);
        if (compareBranches(candidate, main) >= 0) return 'side';
      }
      const gate = await this.awaitFinality(candidate);
      if (gate !== 'final') {
        if (gate === 'conflict') {
          const bad = candidate.find((b) => b.conflicting)!;
          this.markInvalid(bad.tb, 'CONFLICTS_FINALIZED', 'carries a transaction whose rival is final here');
          return 'invalid';
        }
        return 'undecided';
      }
    }
    return this.serialSwitch(
      branch.forkHeight,
      candidate.map((c) => c.tb),
      source,
    );
  }

  /**
   * Runs the header check on every block of `branch` (oldest first, forking at `forkHeight`) not
   * checked yet; the first that fails is marked invalid (its sender scored) and returned. 'checked'
   * when all pass; 'unchecked' when a block's slot context cannot be read (it and those above it
   * stay unchecked).
   */
  private async checkHeaders(
    forkHeight: number,
    branch: readonly { tb: TreeBlock }[],
  ): Promise<TreeBlock | 'unchecked' | 'checked'> {
    const blocks = branch.map((b) => b.tb);
    for (let i = 0; i < blocks.length; i++) {
      const tb = blocks[i]!;
      if (tb.headerChecked) continue;
      const ctx = this.branchSlotContext(forkHeight, blocks, i);
      if (ctx === undefined) return 'unchecked';
      let check = this.headerChecks.get(tb.id);
      if (check === undefined) {
        check = this.checkHeader(tb, ctx.slot, ctx.parent);
        this.headerChecks.set(tb.id, check);
        // Both ways (a closed pool rejects): a bare finally() would leave a rejection unhandled.
        const done = () => {
          this.headerChecks.delete(tb.id);
          this.alternates.delete(tb.id);
        };
        check.then(done, done);
      }
      if (!(await check)) return tb;
    }
    return 'checked';
  }

  /** One block's check; a concurrent look at the same block shares it, so the sender is scored once. */
  private async checkHeader(tb: TreeBlock, slot: SlotContext, parent: ParentInfo): Promise<boolean> {
    try {
      await this.d.ledger.checkSignedBlock(tb.block, slot, parent);
    } catch (err) {
      if (!(err instanceof BlockError)) throw err;
      this.markInvalid(tb, err.code, err.message, err.scope);
      return false;
    }
    tb.headerChecked = true;
    return true;
  }

  /**
   * The parent and slot context of `blocks[i]` read from its own branch: the main chain up to
   * `forkHeight`, then `blocks[0 … i−1]`. When the anchor is a branch block, the active set as of
   * it is the fork point's with the branch's registry changes up to it applied (activeSetOnBranch;
   * the fork point's own set when there are none). Undefined when the anchor lies below the
   * index's range.
   */
  private branchSlotContext(
    forkHeight: number,
    blocks: readonly TreeBlock[],
    i: number,
  ): { slot: SlotContext; parent: ParentInfo } | undefined {
    const { index, store, beacons } = this.d;
    const slot = blocks[i]!.block.header.slot;
    const prev = blocks[i - 1];
    const parent: ParentInfo = prev
      ? { hash: prev.hash, height: prev.height, slot: prev.block.header.slot }
      : index.at(forkHeight)!;
    for (let j = i - 1; j >= 0; j--) {
      if (!(blocks[j]!.block.header.slot < slot - 1)) continue;
      const activeMasternodes = activeSetOnBranch(
        (freeCap) => store.activeMasternodes(forkHeight, freeCap),
        blocks.slice(0, j + 1).map((b) => ({ height: b.height, txs: b.block.txs })),
        blocks[j]!.height,
        this.d.params,
      );
      return { slot: { anchorHash: blocks[j]!.hash, activeMasternodes, beacons }, parent };
    }
    const anchor = index.anchorAtOrBelow(slot, forkHeight);
    if (anchor === undefined) return undefined;
    return {
      slot: { anchorHash: anchor.hash, activeMasternodes: store.activeMasternodes(anchor.height), beacons },
      parent,
    };
  }

  /** The branch plus the best chain of tree blocks already built on its last block. */
  private bestExtension(
    blocks: readonly TreeBlock[],
  ): (ForkBlock & { tb: TreeBlock; conflicting?: boolean })[] {
    const path = blocks.map((tb) => ({ hash: tb.hash, rank: tb.block.header.rank, timely: tb.timely, tb }));
    for (;;) {
      const last = path[path.length - 1]!.tb;
      const kids = this.d.tree.childrenOf(last.id).filter((k) => !this.invalid.has(k.id));
      if (kids.length === 0) return path;
      // Longest descendant chain first, then the fork-choice order among equals.
      const chains = kids.map((k) => this.longestFrom(k));
      chains.sort((a, b) => compareBranches(a, b));
      path.push(...chains[0]!);
    }
  }

  private longestFrom(tb: TreeBlock): (ForkBlock & { tb: TreeBlock })[] {
    const head = { hash: tb.hash, rank: tb.block.header.rank, timely: tb.timely, tb };
    const kids = this.d.tree.childrenOf(tb.id).filter((k) => !this.invalid.has(k.id));
    if (kids.length === 0) return [head];
    const chains = kids.map((k) => this.longestFrom(k));
    chains.sort((a, b) => compareBranches(a, b));
    return [head, ...chains[0]!];
  }

  /** A block at least two slots older than the current slot: fetched history, not live gossip. */
  private isOld(b: { tb: TreeBlock }): boolean {
    return b.tb.block.header.slot <= slotAt(this.d.params, this.d.now()) - 2;
  }

  /**
   * Waits until every transaction of the branch is final here. Unknown ones are submitted (and so
   * polled); processing ones are waited for. 'conflict' when one is rejected here (its rival is
   * final), 'timeout' when some stay undecided for finalityWaitMs.
   */
  private async awaitFinality(
    branch: (ForkBlock & { tb: TreeBlock; conflicting?: boolean })[],
  ): Promise<'final' | 'conflict' | 'timeout'> {
    const { intake, waiters, finalityWaitMs } = this.d;
    const waits: Promise<'finalized' | 'rejected' | 'timeout'>[] = [];
    const owner: (typeof branch)[number][] = [];
    for (const b of branch) {
      for (const etx of b.tb.block.txs.slice(1)) {
        const standing = intake.standing(etx.txid);
        if (standing === 'finalized' || standing === 'in-block') continue;
        if (standing === 'rejected') {
          b.conflicting = true;
          return 'conflict';
        }
        if (standing === 'unknown') {
          // Admission would refuse it (CONFLICTS_FINALIZED) and nothing would ever settle its
          // wait: a rival final here makes the block invalid now, not undecided after a timeout.
          if (this.conflictsFinalized(etx)) {
            b.conflicting = true;
            return 'conflict';
          }
          void intake.submitLocal(etx.bytes).catch(() => undefined);
        }
        waits.push(waiters.wait(etx.txid, finalityWaitMs));
        owner.push(b);
      }
    }
    if (waits.length === 0) return 'final';
    const outcomes = await Promise.all(waits);
    for (let i = 0; i < outcomes.length; i++) {
      if (outcomes[i] === 'rejected') {
        owner[i]!.conflicting = true;
        return 'conflict';
      }
    }
    // A timeout may still mean final (it finalized between our check and the wait): look again.
    for (const b of branch)
      for (const etx of b.tb.block.txs.slice(1)) {
        const s = intake.standing(etx.txid);
        if (s === 'rejected') {
          b.conflicting = true;
          return 'conflict';
        }
        if (s !== 'finalized' && s !== 'in-block') return 'timeout';
      }
    return 'final';
  }

  /** True when a transaction finalized here spends one of `etx`'s inputs or makes its registry change. */
  private conflictsFinalized(etx: EncodedTx): boolean {
    try {
      this.d.ledger.mempool.checkNoFinalizedConflict(etx);
      return false;
    } catch (err) {
      if (err instanceof MempoolError && err.code === 'CONFLICTS_FINALIZED') return true;
      throw err;
    }
  }

  private serialSwitch(
    forkHeight: number,
    blocks: readonly TreeBlock[],
    source: BlockSource,
  ): Promise<ReceiveOutcome> {
    return this.d.serial.run(() => this.switchTo(forkHeight, blocks, source));
  }

  /** Inside the serial queue: re-check against the chain as it is now, then revert and apply. */
  private async switchTo(
    forkHeight: number,
    blocks: readonly TreeBlock[],
    source: BlockSource,
  ): Promise<ReceiveOutcome> {
    const { index, ledger, store, params, tree, log } = this.d;
    // The chain may have moved while we waited (finality gate, queue): blocks of the branch that
    // meanwhile joined the main chain are skipped, the fork point must still be ours, and the
    // rest of the branch must still win.
    while (
      blocks.length > 0 &&
      toHex(index.at(blocks[0]!.height)?.hash ?? new Uint8Array(0)) === blocks[0]!.id
    ) {
      forkHeight = blocks[0]!.height;
      tree.delete(blocks[0]!.id);
      blocks = blocks.slice(1);
    }
    if (blocks.length === 0) return 'applied';
    if (index.at(forkHeight) === undefined || toHex(index.at(forkHeight)!.hash) !== blocks[0]!.parentId)
      return 'side';
    const main = index.above(forkHeight);
    const branch = blocks.map((tb) => ({ hash: tb.hash, rank: tb.block.header.rank, timely: tb.timely }));
    if (compareBranches(branch, main) >= 0) return 'side';
    if (main.length > params.maxReorgDepth) return 'side';

    const reverted: { block: Block; timely: boolean; hash: Uint8Array }[] = [];
    let outcome: ReceiveOutcome;
    try {
      for (let i = main.length - 1; i >= 0; i--) {
        const { timely, hash } = main[i]!;
        const { block, rejected } = await ledger.revertTip();
        index.popped(store);
        reverted.unshift({ block, timely, hash });
        this.d.onReverted(block);
        this.d.onRejected(rejected);
      }
      if (reverted.length > 0)
        log.warn(
          { from: forkHeight + reverted.length, to: forkHeight, depth: reverted.length },
          'reorg: reverted to the fork point',
        );
      outcome = await this.applyBranch(blocks, reverted, source);
    } finally {
      // Every old block not back on the main chain stays as a side branch, in case the chain comes
      // back to it: after a won reorg, and also when the switch broke half way on something other
      // than the blocks (a store or pool error) — the old blocks were valid, only the switch failed,
      // and dropping them would leave this node shorter with nothing to return to.
      for (const r of reverted)
        if (!bytesEqual(index.at(r.block.header.height)?.hash ?? EMPTY, r.hash))
          tree.add(r.block, r.timely, this.d.now(), undefined, true);
    }
    if (outcome === 'applied') tree.pruneAtOrBelow(store.tip().height - params.maxReorgDepth);
    return outcome;
  }

  /**
   * Applies the branch on the fork point; on an invalid block, puts the reverted chain back. The
   * listeners hear every step, the way back included: they were told the old blocks left and the
   * branch's first blocks joined, and the active set, the engine and event subscribers must end
   * where the chain ends.
   */
  private async applyBranch(
    blocks: readonly TreeBlock[],
    reverted: readonly { block: Block; timely: boolean; hash: Uint8Array }[],
    source: BlockSource,
  ): Promise<ReceiveOutcome> {
    const { index, ledger, store, tree } = this.d;
    let applied = 0;
    for (const tb of blocks) {
      try {
        const { rejected } = await ledger.applyBlock(tb.block, this.slotContext(tb.block));
        this.d.onRejected(rejected);
      } catch (err) {
        if (!(err instanceof BlockError)) throw err;
        this.markInvalid(tb, err.code, err.message, err.scope);
        // Put the old chain back: its blocks were valid on this same parent state. The branch's
        // blocks below the bad one were valid too: held again, as a side branch an honest child
        // may still extend (else one bad child would make us fetch them all again).
        for (let i = applied - 1; i >= 0; i--) {
          const { block, rejected } = await ledger.revertTip();
          index.popped(store);
          this.d.onReverted(block);
          this.d.onRejected(rejected);
          const tb = blocks[i]!;
          tree.add(block, tb.timely, tb.arrivalMs, tb.peerId, true);
        }
        for (const r of reverted) {
          this.d.onRejected((await ledger.applyBlock(r.block, this.slotContext(r.block))).rejected);
          index.pushed(r.block.header, r.timely);
          // Not news to anyone (it was our chain a moment ago): announced as history, not relayed.
          this.d.onApplied(r.block, r.hash, 'sync');
        }
        return 'invalid';
      }
      index.pushed(tb.block.header, tb.timely);
      tree.delete(tb.id);
      applied++;
      this.d.onApplied(tb.block, tb.hash, source);
    }
    return 'applied';
  }

  /** What the chain fixes for a block's slot, read from the block's own branch (now our chain). */
  slotContext(block: Block): SlotContext {
    const anchor = this.d.index.anchorFor(block.header.slot);
    return {
      anchorHash: anchor.hash,
      activeMasternodes: this.d.store.activeMasternodes(anchor.height),
      beacons: this.d.beacons,
    };
  }

  private markInvalid(tb: TreeBlock, code: string, detail: string, scope: string = 'header'): void {
    this.d.tree.delete(tb.id);
    // A copy fault proves only these bytes wrong: another peer may hold the right block.
    if (scope === 'header') {
      this.invalid.add(tb.id);
      if (this.invalid.size > MAX_INVALID) this.invalid.delete(this.invalid.values().next().value!);
    } else {
      const alternate = this.alternates.get(tb.id);
      this.alternates.delete(tb.id);
      // After this check's bookkeeping is done (its promise settles first), so the copy is new here.
      if (alternate)
        setImmediate(() => {
          this.receive(alternate.block, alternate.source, alternate.peerId).catch((err: Error) =>
            this.d.log.warn({ err: err.message }, 'second copy of a refused block failed'),
          );
        });
    }
    this.d.log.warn({ height: tb.height, hash: tb.id.slice(0, 16), code, detail }, 'block refused');
    if (tb.peerId !== undefined && scope !== 'context') this.d.onBadBlock(tb.peerId, code, detail);
  }

  /**
   * DESIGN §6: producers build only on timely blocks. When our tip arrived after its rank window
   * (plus the clock tolerance) and the block below it was timely, the producer takes it off the
   * main chain before building: its own timely block of the same height then wins fork choice, so
   * an anchor producer that spends its slot grinding the next beacon input loses its block. The
   * late block stays in the tree (and comes back if the chain builds on it after all).
   */
  async revertLateTip(): Promise<boolean> {
    return this.d.serial.run(async () => {
      const { index, store, ledger, tree, now } = this.d;
      const tip = index.tip;
      const below = index.at(tip.height - 1);
      if (tip.timely || tip.height === 0 || !below?.timely) return false;
      const { block, rejected } = await ledger.revertTip();
      index.popped(store);
      this.d.onReverted(block);
      this.d.onRejected(rejected);
      tree.add(block, false, now(), undefined, true);
      this.d.log.info(
        { height: tip.height, hash: toHex(tip.hash).slice(0, 16) },
        'late tip set aside: building on the timely block below it',
      );
      return true;
    });
  }

  /** Looks again at the tree's leaves (after a production attempt, or a late tip set aside). */
  async reconsiderLeaves(): Promise<void> {
    for (const leaf of this.d.tree.leaves()) {
      if (this.d.tree.has(leaf.id)) await this.consider(leaf, 'sync').catch(() => undefined);
    }
  }
}

function fromHexId(id: string): Uint8Array {
  return Uint8Array.from(Buffer.from(id, 'hex'));
}
