import type { Logger } from 'pino';

/** How catch-up reaches a peer (P2pNode.request with GetInventory in the node). */
export interface InventorySource {
  page(peerId: string, after: Uint8Array): Promise<{ txids: Uint8Array; next: Uint8Array }>;
}

export interface InventorySyncOptions {
  readonly source: InventorySource;
  /** Hands each txid the peer holds to the fetcher (which skips what we know). */
  readonly want: (peerId: string, txid: Uint8Array) => void;
  readonly log: Logger;
  /** Pages walked per peer connection: 100 × 1,024 txids bounds the work one peer can cause. */
  readonly maxPages?: number;
}

/**
 * Catch-up on (re)connect (issue 11): a node that was down or partitioned asks each peer it connects
 * to for the txids that peer holds as processing or finalized-not-in-a-block (GetInventory, pages
 * of 1,024 in txid order) and fetches those it lacks. Nothing waits for a block to learn of a
 * transaction: a restarted validator votes "unknown" only until these fetches land.
 */
export class InventorySync {
  private readonly running = new Set<string>();
  private stopped = false;

  constructor(private readonly o: InventorySyncOptions) {}

  /** Walks `peerId`'s inventory once (a second call while it runs is ignored). */
  async catchUp(peerId: string): Promise<number> {
    if (this.running.has(peerId) || this.stopped) return 0;
    this.running.add(peerId);
    let seen = 0;
    try {
      let after: Uint8Array = new Uint8Array(0);
      for (let page = 0; page < (this.o.maxPages ?? 100) && !this.stopped; page++) {
        const { txids, next } = await this.o.source.page(peerId, after);
        for (let i = 0; i + 32 <= txids.length; i += 32) this.o.want(peerId, txids.slice(i, i + 32));
        seen += txids.length >>> 5;
        if (next.length !== 32) break;
        after = next;
      }
      if (seen > 0)
        this.o.log.debug({ peer: peerId.slice(0, 16), txids: seen }, 'catch-up: inventory walked');
    } catch (err) {
      this.o.log.debug(
        { peer: peerId.slice(0, 16), err: (err as Error).message },
        'catch-up: inventory failed',
      );
    } finally {
      this.running.delete(peerId);
    }
    return seen;
  }

  stop(): void {
    this.stopped = true;
  }
}
