import { selectAnchor } from '../beacon/beacon-input.js';
import type { ForkBlock } from '../chain/fork-choice.js';
import { toHex } from '../encoding/bytes.js';
import { type BlockHeader, decodeBlockHeader, headerHash } from '../protocol/block.js';

/** One block of the main chain as the node's slot logic needs it. */
export interface IndexedBlock extends ForkBlock {
  readonly height: number;
  readonly slot: number;
  readonly producer: Uint8Array;
}

/** What the index reads from the store. */
export interface BlockSource {
  tip(): { height: number };
  getBlockBytes(height: number): Uint8Array | undefined;
}

/**
 * The recent main chain (the last `keep` blocks, at least the reorg depth plus the anchor lag) in
 * memory: anchors of coming slots, the suffix fork choice compares a branch with, and whether each
 * block arrived in time. Built from the store's header prefixes at start, then kept in step with
 * every apply and revert. Blocks loaded from disk count as timely: nobody can tell any more, and
 * timeliness only breaks ties between branches of equal length.
 */
export class ChainIndex {
  private readonly blocks: IndexedBlock[] = [];
  /** Height of each kept block by its hash in hex: fork choice asks it once per tree block walked. */
  private readonly heights = new Map<string, number>();

  constructor(
    source: BlockSource,
    private readonly keep: number,
  ) {
    const tip = source.tip().height;
    for (let h = Math.max(0, tip - keep + 1); h <= tip; h++) {
      const bytes = source.getBlockBytes(h);
      if (!bytes) throw new Error(`block ${h} missing below the tip ${tip}`);
      this.push(entry(decodeBlockHeader(bytes).header, true));
    }
  }

  private push(e: IndexedBlock): void {
    this.blocks.push(e);
    this.heights.set(toHex(e.hash), e.height);
  }

  private unshift(e: IndexedBlock): void {
    this.blocks.unshift(e);
    this.heights.set(toHex(e.hash), e.height);
  }

  private forget(e: IndexedBlock): void {
    this.heights.delete(toHex(e.hash));
  }

  get tip(): IndexedBlock {
    return this.blocks[this.blocks.length - 1]!;
  }

  /** The block at `height` if it is within the kept range. */
  at(height: number): IndexedBlock | undefined {
    const first = this.blocks[0]!.height;
    return this.blocks[height - first];
  }

  /** True when `hash` is a main-chain block within the kept range. */
  heightOf(hash: Uint8Array): number | undefined {
    return this.heights.get(toHex(hash));
  }

  /** heightOf for a hash already in hex (the block tree's ids). */
  heightOfId(id: string): number | undefined {
    return this.heights.get(id);
  }

  /** Main-chain blocks above `height`, oldest first (the suffix a branch forking there competes with). */
  above(height: number): IndexedBlock[] {
    const first = this.blocks[0]!.height;
    return this.blocks.slice(Math.max(0, height + 1 - first));
  }

  /** DESIGN §6: the anchor of `slot` is the newest block of this chain with slot < slot − 1. */
  anchorFor(slot: number): IndexedBlock {
    return selectAnchor(this.newestFirst(this.tip.height), slot);
  }

  /**
   * The anchor of `slot` on a chain that shares this one up to height `top` (a branch forking
   * there): the newest of these blocks with slot < slot − 1, genesis for the first slots, and
   * undefined when it lies below the kept range, where this index cannot tell.
   */
  anchorAtOrBelow(slot: number, top: number): IndexedBlock | undefined {
    const chain = this.newestFirst(top);
    if (chain.length === 0) return undefined;
    const anchor = selectAnchor(chain, slot);
    // selectAnchor falls back to the oldest entry, which is right only when that is genesis.
    return anchor.slot < slot - 1 || anchor.height === 0 ? anchor : undefined;
  }

  /** The kept blocks at or below height `top`, newest first. */
  private newestFirst(top: number): IndexedBlock[] {
    const first = this.blocks[0]!.height;
    const out: IndexedBlock[] = [];
    for (let h = Math.min(top, this.tip.height); h >= first; h--) out.push(this.blocks[h - first]!);
    return out;
  }

  pushed(header: BlockHeader, timely: boolean): void {
    if (header.height !== this.tip.height + 1)
      throw new Error(`index: ${header.height} after ${this.tip.height}`);
    this.push(entry(header, timely));
    while (this.blocks.length > this.keep) this.forget(this.blocks.shift()!);
  }

  popped(source: BlockSource): void {
    this.forget(this.blocks.pop()!);
    // Refill from the store so the kept range never shrinks below `keep` after deep reorgs.
    const tip = source.tip().height;
    if (this.blocks.length === 0 || this.tip.height !== tip)
      throw new Error('index out of step with the store');
    while (this.blocks.length < this.keep && this.blocks[0]!.height > 0) {
      const bytes = source.getBlockBytes(this.blocks[0]!.height - 1)!;
      this.unshift(entry(decodeBlockHeader(bytes).header, true));
    }
  }
}

function entry(h: BlockHeader, timely: boolean): IndexedBlock {
  return {
    hash: headerHash(h),
    height: h.height,
    slot: h.slot,
    rank: h.rank,
    producer: h.producerPubkey,
    timely,
  };
}
