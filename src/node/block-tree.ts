import { toHex } from '../encoding/bytes.js';
import { type Block, blockSize, headerHash } from '../protocol/block.js';

/** A received block that is not (yet) on the main chain. */
export interface TreeBlock {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly id: string;
  readonly parentId: string;
  readonly height: number;
  readonly size: number;
  /** Arrived before its rank window closed plus the clock tolerance (fork choice's second rule). */
  readonly timely: boolean;
  readonly arrivalMs: number;
  /** Who sent it (to ask them for its ancestors when the parent is unknown). */
  readonly peerId: string | undefined;
  /**
   * Passed `checkSignedBlock` on its own branch (or was made or validated here): it is the block the
   * slot's leader signed. Only such blocks may hold the producer back (a pending longer branch, a
   * lower rank in hand); anyone can make the others at no cost.
   */
  headerChecked: boolean;
}

export interface TreeLimits {
  readonly maxBlocks: number;
  readonly maxBytes: number;
}

export const DEFAULT_TREE_LIMITS: TreeLimits = Object.freeze({ maxBlocks: 512, maxBytes: 96 * 1024 * 1024 });

/** Where a tree block's branch leaves the main chain. */
export type BranchResult =
  | { readonly kind: 'branch'; readonly forkHeight: number; readonly blocks: readonly TreeBlock[] }
  | { readonly kind: 'orphan'; readonly missingParent: string; readonly peerId: string | undefined };

/**
 * Blocks kept beside the main chain (which lives in LMDB): side branches fork choice may switch
 * to, and orphans whose parent has not arrived. Bounded by count and bytes; what can never win
 * (at or below the deepest allowed reorg) is dropped as the chain grows, and over the bounds the
 * oldest unchecked arrivals go first, then the oldest checked ones, so an attacker can neither
 * make the node hoard blocks nor push out the real ones with forgeries.
 */
export class BlockTree {
  private readonly blocks = new Map<string, TreeBlock>();
  private readonly children = new Map<string, Set<string>>();
  private bytes = 0;

  constructor(private readonly limits: TreeLimits = DEFAULT_TREE_LIMITS) {}

  get size(): number {
    return this.blocks.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  has(id: string): boolean {
    return this.blocks.has(id);
  }

  get(id: string): TreeBlock | undefined {
    return this.blocks.get(id);
  }

  /** Adds a block; undefined when it is already here or larger than the whole budget. */
  add(
    block: Block,
    timely: boolean,
    arrivalMs: number,
    peerId: string | undefined,
    headerChecked: boolean,
  ): TreeBlock | undefined {
    const hash = headerHash(block.header);
    const id = toHex(hash);
    const size = blockSize(block);
    if (this.blocks.has(id) || size > this.limits.maxBytes) return undefined;
    const tb: TreeBlock = {
      block,
      hash,
      id,
      parentId: toHex(block.header.prevHash),
      height: block.header.height,
      size,
      timely,
      arrivalMs,
      peerId,
      headerChecked,
    };
    this.blocks.set(id, tb);
    this.bytes += size;
    let kids = this.children.get(tb.parentId);
    if (!kids) {
      kids = new Set();
      this.children.set(tb.parentId, kids);
    }
    kids.add(id);
    this.enforce(id);
    return this.blocks.get(id);
  }

  delete(id: string): void {
    const tb = this.blocks.get(id);
    if (!tb) return;
    this.blocks.delete(id);
    this.bytes -= tb.size;
    const kids = this.children.get(tb.parentId);
    kids?.delete(id);
    if (kids?.size === 0) this.children.delete(tb.parentId);
  }

  /** Tree blocks whose parent is `parentId` (a main-chain block or another tree block). */
  childrenOf(parentId: string): TreeBlock[] {
    return [...(this.children.get(parentId) ?? [])].map((id) => this.blocks.get(id)!);
  }

  /** Tips of the tree: blocks no tree block builds on. */
  leaves(): TreeBlock[] {
    return [...this.blocks.values()].filter((b) => !this.children.has(b.id));
  }

  /**
   * Walks from `id` back through tree blocks to the main chain. `mainHeight` says whether a hash
   * is on the main chain (and at which height). Oldest block first.
   */
  branchTo(id: string, mainHeight: (id: string) => number | undefined): BranchResult {
    const path: TreeBlock[] = [];
    let cur = this.blocks.get(id);
    while (cur) {
      path.push(cur);
      const h = mainHeight(cur.parentId);
      if (h !== undefined) return { kind: 'branch', forkHeight: h, blocks: path.reverse() };
      const parent = this.blocks.get(cur.parentId);
      if (!parent) return { kind: 'orphan', missingParent: cur.parentId, peerId: cur.peerId };
      cur = parent;
    }
    return { kind: 'orphan', missingParent: id, peerId: undefined };
  }

  /**
   * The blocks here whose branch reaches the main chain (through tree blocks), each walked once:
   * O(size) however the blocks hang together. Walking each leaf's branch on its own cost
   * leaves × depth: 512 forged orphans in a comb (a chain of 256 with 256 leaves on top, free to
   * send) made one such walk 65,000 steps, and it ran on every Tip a peer sent.
   */
  connected(mainHeight: (id: string) => number | undefined): TreeBlock[] {
    const connects = new Map<string, boolean>();
    const out: TreeBlock[] = [];
    for (const start of this.blocks.values()) {
      const path: TreeBlock[] = [];
      let cur: TreeBlock | undefined = start;
      let answer = false;
      while (cur) {
        const known = connects.get(cur.id);
        if (known !== undefined) {
          answer = known;
          break;
        }
        path.push(cur);
        if (mainHeight(cur.parentId) !== undefined) {
          answer = true;
          break;
        }
        cur = this.blocks.get(cur.parentId);
      }
      for (const b of path) {
        connects.set(b.id, answer);
        if (answer) out.push(b);
      }
    }
    return out;
  }

  /** Drops every block at or below `height` (it can never win against a deeper main chain). */
  pruneAtOrBelow(height: number): void {
    for (const b of [...this.blocks.values()]) if (b.height <= height) this.delete(b.id);
  }

  private enforce(keepId: string): void {
    // Blocks nobody has shown to be a leader's go first (orphans, forgeries, those whose check still
    // runs): anyone can send them at no cost, so a flood of them must never push out a block a
    // masternode signed. Within each kind, oldest arrival first (Map order is insertion order);
    // never the block just added.
    for (const checked of [false, true]) {
      for (const [id, tb] of [...this.blocks]) {
        if (this.withinLimits()) return;
        if (tb.headerChecked === checked && id !== keepId) this.delete(id);
      }
    }
  }

  private withinLimits(): boolean {
    return this.blocks.size <= this.limits.maxBlocks && this.bytes <= this.limits.maxBytes;
  }
}
