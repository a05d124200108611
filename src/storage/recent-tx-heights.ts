import { latin1Key } from '../encoding/bytes.js';

/**
 * The `txIndex` entries (txid → height) of the newest main-chain blocks, in memory: the height
 * every UTXO lookup needs first (utxo-key.ts), for the outputs spends mostly name. A read from
 * txIndex is a random B-tree descent (~4 µs, profiled: 40 ms of each synced full block's
 * validation, as much again in its write); a hit here is a map lookup.
 *
 * It holds a subset of txIndex with the same values, always: ChainStore adds a block's txids right
 * after the write transaction that put them into txIndex commits, and drops them right after the
 * one that reverts the block, in the same synchronous turn, so no read in between can see one
 * without the other. A miss only means "read txIndex"; nothing is kept across restarts.
 */
export class RecentTxHeights {
  private readonly heights = new Map<string, number>();
  /** Keys added per height, newest last, for eviction and revert. */
  private readonly blocks: Array<{ height: number; keys: string[] }> = [];

  /** `depth`: how many of the newest blocks are kept (each a full block's ~9,400 entries, ~1 MB). */
  constructor(private readonly depth: number) {
    if (!Number.isInteger(depth) || depth < 1)
      throw new RangeError(`depth must be a positive integer, got ${depth}`);
  }

  get(txid: Uint8Array): number | undefined {
    return this.heights.get(latin1Key(txid));
  }

  /** The block at `height` committed with these txids: the newest block from now on. */
  added(height: number, txids: readonly Uint8Array[]): void {
    const newest = this.blocks[this.blocks.length - 1];
    // Not the next block (a store opened mid-chain, or reverts past what is kept): start over, so
    // the entries never name heights the main chain no longer has.
    if (newest !== undefined && newest.height !== height - 1) this.clear();
    const keys = txids.map((t) => latin1Key(t));
    for (const k of keys) this.heights.set(k, height);
    this.blocks.push({ height, keys });
    while (this.blocks.length > this.depth) this.forget(this.blocks.shift()!);
  }

  /** The block at `height` was reverted: its txids leave txIndex, and so here. */
  reverted(height: number): void {
    const newest = this.blocks[this.blocks.length - 1];
    if (newest === undefined) return;
    if (newest.height !== height) {
      this.clear();
      return;
    }
    this.forget(this.blocks.pop()!);
  }

  /** Entries held (tests check the bound). */
  get size(): number {
    return this.heights.size;
  }

  private forget(block: { keys: string[] }): void {
    // A txid is in one main-chain block at a time; were it ever in two, dropping it is still
    // right: a miss reads txIndex.
    for (const k of block.keys) this.heights.delete(k);
  }

  private clear(): void {
    this.heights.clear();
    this.blocks.length = 0;
  }
}
