import type { Logger } from 'pino';
import { rankOf } from '../beacon/leader-ranking.js';
import { assembleBlock } from '../chain/block-assembly.js';
import { rankingWeights } from '../chain/header-rules.js';
import { rankWindow, rankWindowCount, slotAt, slotStartMs } from '../chain/slot-time.js';
import { toHex } from '../encoding/bytes.js';
import type { LedgerService } from '../ledger/ledger-service.js';
import type { ChainParams } from '../params/chain-params.js';
import { type Block, headerHash } from '../protocol/block.js';
import type { ChainStore } from '../storage/chain-store.js';
import type { KeyPair } from '../wallet/keys.js';
import type { BeaconService } from './beacon-service.js';
import type { BlockTree } from './block-tree.js';
import type { ChainController } from './chain-controller.js';
import type { ChainIndex } from './chain-index.js';
import type { Clock } from './slot-clock.js';
import type { ValidatorSet } from './validator-set.js';

export interface BlockProducerDeps {
  readonly params: ChainParams;
  readonly clock: Clock;
  readonly store: ChainStore;
  readonly index: ChainIndex;
  readonly tree: BlockTree;
  readonly ledger: LedgerService;
  readonly key: KeyPair;
  readonly beacons: BeaconService;
  readonly validators: ValidatorSet;
  readonly chain: ChainController;
  readonly log: Logger;
  /** True while this node is catching up with peers ahead of it: it does not produce then. */
  readonly syncing: () => boolean;
  /**
   * How long a longer branch we hold but have not switched to (waiting for its transactions'
   * finality here) keeps us from producing, from its newest block's arrival: the chain's finality
   * wait. Past it the branch timed out undecided, and production goes on.
   */
  readonly pendingBranchWaitMs: number;
  /** Reported each slot (metrics, dashboard). */
  readonly onSlot: (info: { slot: number; role: string; rank: number | null }) => void;
  /** Byzantine test switches (devnet `--test-switches` only; always false elsewhere). */
  readonly misbehave: {
    readonly withhold: () => boolean;
    readonly doubleSign: () => boolean;
    /** Publishes a second block for the slot, signed by us (the double-sign switch). */
    readonly publishRival: (block: Block) => void;
  };
}

/**
 * The slot scheduler's producing side (DESIGN §6). At each slot s: derive the beacon of s for our
 * chain's anchor (and start on s + 1's, whose anchor is known a full slot ahead), rank the active
 * set as of the anchor from y, and if our rank r has a window, publish at slot start + r × step
 * unless a block for slot s (of any lower rank) is already on our chain or in hand.
 *
 * It does not produce while syncing (a lagging node minting catch-up blocks split the older
 * network), nor while the reachable stake is below the polling quorum (α/k of the active weight):
 * a minority partition then makes no blocks to fork with, and simply syncs after the heal.
 */
export class BlockProducer {
  private slotTimer: unknown;
  /** The last slot handed to onSlot: a timer firing a little early must not hand it over twice. */
  private lastSlot = Number.NEGATIVE_INFINITY;
  private readonly windowTimers = new Set<unknown>();
  private stopped = false;

  constructor(private readonly d: BlockProducerDeps) {}

  start(): void {
    this.scheduleNext();
  }

  stop(): void {
    this.stopped = true;
    if (this.slotTimer !== undefined) this.d.clock.clearTimer(this.slotTimer);
    for (const t of this.windowTimers) this.d.clock.clearTimer(t);
    this.windowTimers.clear();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const now = this.d.clock.now();
    const next = Math.max(slotAt(this.d.params, now) + 1, this.lastSlot + 1);
    this.slotTimer = this.d.clock.setTimer(() => {
      this.lastSlot = next;
      this.scheduleNext();
      void this.onSlot(next).catch((err: Error) =>
        this.d.log.error({ err: err.message, slot: next }, 'slot failed'),
      );
    }, slotStartMs(this.d.params, next) - now);
  }

  /** Everything a slot needs; exported for tests driving slots by hand. */
  async onSlot(slot: number): Promise<void> {
    const { params, index, store, beacons, validators, key, log } = this.d;
    // The next slot's anchor is fixed once this slot begins (it is a block of slot < s): start early.
    const nextAnchor = index.anchorFor(slot + 1);
    void beacons.ensure(slot + 1, nextAnchor.hash).catch(() => undefined);

    if (!validators.isValidator) {
      this.d.onSlot({ slot, role: 'full', rank: null });
      log.info({ slot, role: 'full', rank: null, tip: index.tip.height }, 'slot');
      return;
    }
    const anchor = index.anchorFor(slot);
    const active = store.activeMasternodes(anchor.height);
    if (active.length < params.minActiveMasternodes) return;
    const beacon = await beacons.ensure(slot, anchor.hash);
    if (!beacon) return;
    const rank = rankOf(rankingWeights(params, active), beacon.y, key.publicKey);
    this.d.onSlot({ slot, role: 'validator', rank: rank < 0 ? null : rank });
    log.info({ slot, role: 'validator', rank: rank < 0 ? null : rank, tip: index.tip.height }, 'slot');
    if (rank < 0 || rank >= rankWindowCount(params)) return;
    const window = rankWindow(params, slot, rank);
    await new Promise<void>((resolve) => {
      const t = this.d.clock.setTimer(() => {
        this.windowTimers.delete(t);
        resolve();
      }, window.startMs - this.d.clock.now());
      this.windowTimers.add(t);
    });
    if (this.stopped || this.d.clock.now() >= window.endMs) return;
    await this.produce(slot, rank, window.endMs);
  }

  private async produce(slot: number, rank: number, windowEndMs: number): Promise<void> {
    const { params, index, store, ledger, beacons, validators, chain, tree, key, log } = this.d;
    if (this.d.syncing() || !validators.quorumMet()) return;
    if (index.tip.slot >= slot) return; // a block for this slot is on our chain already
    // The network is ahead of our tip and we have not followed yet (finality here lags): a block
    // on our tip would only lengthen a branch that loses, and a node whose finality lagged for
    // long kept a chain of its own blocks going that every node later reorged away (22-39 deep at
    // 800 tx/s on 5 validators).
    if (chain.longerBranchPending(this.d.clock.now() - this.d.pendingBranchWaitMs)) {
      log.info(
        { slot, rank, tip: index.tip.height },
        'slot passed: a longer branch is waiting for finality here',
      );
      return;
    }
    // A lower-ranked block for this slot in hand (e.g. waiting for its transactions to be final
    // here) takes precedence: do not compete with it. One of our own rank on this parent is ours
    // (same parent, same anchor, same beacon, so the same ranking): a second would be a double
    // sign, evidence against our own key. Only a block that passed the header check counts: any
    // peer can claim rank 0 for free.
    if (
      tree
        .childrenOf(toHex(index.tip.hash))
        .some((b) => b.headerChecked && b.block.header.slot === slot && b.block.header.rank <= rank)
    )
      return;
    const setAside = await chain.revertLateTip();
    try {
      const parent = store.tip();
      if (parent.slot >= slot) return;
      const anchor = index.anchorFor(slot);
      const active = store.activeMasternodes(anchor.height);
      const beacon = await beacons.ensure(slot, anchor.hash);
      if (!beacon || this.d.clock.now() >= windowEndMs) return;
      // Blocks that arrived since the slot began (a node catching up at start) may have moved the
      // slot's anchor, and with it the beacon and our rank: the window we waited for is not ours.
      const rankNow = rankOf(rankingWeights(params, active), beacon.y, key.publicKey);
      if (rankNow !== rank) {
        log.info(
          { slot, rank, rankNow, tip: parent.height },
          'slot passed: the anchor moved, and our rank with it',
        );
        return;
      }
      const inputs = {
        params,
        parent,
        slot,
        nowMs: this.d.clock.now(),
        activeMasternodes: active,
        beaconY: beacon.y,
        beaconProof: beacon.proof,
        producerKey: key,
      };
      const block = await ledger.assembleOnTip(inputs);
      if (!block) {
        log.info(
          { slot, rank, tip: store.tip().height },
          'slot passed: a block landed on our parent before ours was assembled',
        );
        return;
      }
      if (this.d.misbehave.withhold()) {
        log.warn({ slot, rank, height: block.header.height }, 'test switch withhold: block not published');
        return;
      }
      if (this.d.misbehave.doubleSign()) {
        // A rival for the same slot and parent: no transactions and another timestamp, same key.
        const id = toHex(headerHash(block.header));
        for (const nowMs of [inputs.nowMs + 1, inputs.nowMs - 1]) {
          const rival = assembleBlock({ ...inputs, nowMs, candidates: [], view: store });
          if (toHex(headerHash(rival.header)) === id) continue;
          this.d.misbehave.publishRival(rival);
          log.warn(
            { slot, rank, height: block.header.height },
            'test switch doubleSign: rival block published',
          );
          break;
        }
      }
      const outcome = await chain.receive(block, 'self');
      log.info(
        { slot, rank, height: block.header.height, txs: block.txs.length - 1, outcome },
        outcome === 'applied' ? 'block produced' : 'block produced but not applied',
      );
    } finally {
      if (setAside) await chain.reconsiderLeaves();
    }
  }
}
