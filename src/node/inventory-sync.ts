import type { Logger } from 'pino';
import { compareBytes } from '../encoding/bytes.js';
import { PeerBuckets } from '../p2p/peer-buckets.js';

/** How catch-up reaches a peer (P2pNode.request with GetInventory in the node). */
export interface InventorySource {
  page(peerId: string, after: Uint8Array): Promise<{ txids: Uint8Array; next: Uint8Array }>;
}

/** What fetching a page's txids came to: txids asked for (unknown here), transactions answered. */
export interface ListedFetch {
  readonly requested: number;
  readonly delivered: number;
}

/** Txids on one Inventory page at most (docs/protocol.md, message 17). */
const MAX_PAGE_TXIDS = 1_024;

/**
 * Txids a peer's inventory pages may name, per key (the node key, so a reconnect does not refill
 * it): per second, and at once. Each named txid costs a `known` lookup (mempool, engine, LMDB tx
 * index) and, when unknown, a place in a GetTx and the intake's work on the answer; 1,024 unknown
 * txids cost ~14.5 ms of the coordinator (POLL_FETCH_BUDGET's measurement), so one walking key
 * costs at most ~3 % of it. Without a budget a peer answering every page with 1,024 random txids
 * had us do 2 × 1,024 lookups and a 32 KiB GetTx per page, 100 pages a connection, afresh on each
 * reconnect. Sizing: the largest honest inventory is a full mempool, `maxCount` = 100,000 txids;
 * one peer's walk of it takes 8,192 at once and then (100,000 − 8,192) / 2,048 ≈ 45 s, and peers are
 * walked in parallel (a txid asked of one is not asked of another within the retry window), while
 * a pool that full drains by finality over minutes and polls fetch what they name meanwhile. The
 * walk waits for the budget; it never drops a txid it was told of.
 */
export const INVENTORY_FETCH_BUDGET = Object.freeze({ perSec: 2_048, burst: 8_192 });

/**
 * A peer whose pages named at least this many txids we asked it for, and whose GetTx answers
 * delivered fewer than a quarter of them, is not walked any further, nor again for
 * INVENTORY_SHUN_MS. An honest peer holds what it lists (a txid leaves its pool between its page
 * and our GetTx only when a block takes it, a few in a thousand); one that lists txids it does not
 * hold is cut off after two pages.
 */
export const INVENTORY_YIELD_SAMPLE = 2_048;
const INVENTORY_MIN_YIELD = 0.25;
export const INVENTORY_SHUN_MS = 10 * 60_000;
/** Keys whose yield is remembered (the least recently walked forgotten first). */
const MAX_YIELDS = 4_096;

interface Yield {
  requested: number;
  delivered: number;
  shunUntilMs: number;
}

export interface InventorySyncOptions {
  readonly source: InventorySource;
  /**
   * Fetches the txids of a page that we lack from the peer and resolves once its answers are in
   * (the node: TxFetcher.fetchListed).
   */
  readonly fetch: (peerId: string, txids: readonly Uint8Array[]) => Promise<ListedFetch>;
  /** A page no honest peer sends (the node scores INVALID_RESPONSE). Default: nothing. */
  readonly onBadPage?: (peerId: string, detail: string) => void;
  readonly log: Logger;
  readonly now?: () => number;
  /** Pages walked per peer connection: 100 × 1,024 txids covers a full mempool (100,000). */
  readonly maxPages?: number;
  /** Per-key budget of txids named by pages (default INVENTORY_FETCH_BUDGET). */
  readonly budget?: { readonly perSec: number; readonly burst: number };
}

/**
 * Catch-up on (re)connect (issue 11): a node that was down or partitioned asks each peer it connects
 * to for the txids that peer holds as processing or finalized-not-in-a-block (GetInventory, pages
 * of 1,024 in txid order) and fetches those it lacks. Nothing waits for a block to learn of a
 * transaction: a restarted validator votes "unknown" only until these fetches land.
 *
 * One page at a time: the next is asked for once the GetTx for this one are answered, and only
 * when the peer's budget (INVENTORY_FETCH_BUDGET, by key) holds this page's txids. A page must be
 * what GetInventory answers (ascending txids, each above the cursor, a next cursor past them), and
 * a peer whose GetTx answers deliver too little of what its pages named is no longer walked.
 */
export class InventorySync {
  private readonly running = new Set<string>();
  private readonly budgets: PeerBuckets;
  private readonly yields = new Map<string, Yield>();
  private readonly sleeping = new Set<() => void>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: InventorySyncOptions) {
    this.now = o.now ?? Date.now;
    this.budgets = new PeerBuckets(o.budget ?? INVENTORY_FETCH_BUDGET, this.now);
  }

  /** Walks `peerId`'s inventory once (a second call while it runs is ignored). */
  async catchUp(peerId: string): Promise<number> {
    if (this.running.has(peerId) || this.stopped) return 0;
    const y = this.yieldOf(peerId);
    if (y.shunUntilMs > this.now()) return 0;
    this.running.add(peerId);
    let seen = 0;
    try {
      let after: Uint8Array = new Uint8Array(0);
      for (let page = 0; page < (this.o.maxPages ?? 100) && !this.stopped; page++) {
        const { txids, next } = await this.o.source.page(peerId, after);
        const bad = badPage(txids, next, after);
        if (bad !== undefined) {
          this.o.onBadPage?.(peerId, bad);
          this.o.log.debug({ peer: peerId.slice(0, 16), detail: bad }, 'catch-up: bad inventory page');
          break;
        }
        const n = txids.length >>> 5;
        if (n === 0) break;
        seen += n;
        if (!(await this.budgetFor(peerId, n))) break;
        const list: Uint8Array[] = [];
        for (let i = 0; i < n; i++) list.push(txids.subarray(i * 32, i * 32 + 32));
        const got = await this.o.fetch(peerId, list);
        y.requested += got.requested;
        y.delivered += got.delivered;
        if (y.requested >= INVENTORY_YIELD_SAMPLE) {
          if (y.delivered < y.requested * INVENTORY_MIN_YIELD) {
            y.shunUntilMs = this.now() + INVENTORY_SHUN_MS;
            this.o.log.debug(
              { peer: peerId.slice(0, 16), requested: y.requested, delivered: y.delivered },
              'catch-up: peer does not hold what it lists, not walked for a while',
            );
            y.requested = 0;
            y.delivered = 0;
            break;
          }
          // Judged on recent pages only: halve the tally, so it follows what the peer does now.
          y.requested >>>= 1;
          y.delivered >>>= 1;
        }
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
    for (const wake of this.sleeping) wake();
  }

  /** The key's yield record, now the most recently used. */
  private yieldOf(peerId: string): Yield {
    let y = this.yields.get(peerId);
    if (y) this.yields.delete(peerId);
    else {
      if (this.yields.size >= MAX_YIELDS) this.yields.delete(this.yields.keys().next().value!);
      y = { requested: 0, delivered: 0, shunUntilMs: 0 };
    }
    this.yields.set(peerId, y);
    return y;
  }

  /** Takes `n` tokens of the peer's budget, waiting for them; false when stopped meanwhile. */
  private async budgetFor(peerId: string, n: number): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      const bucket = this.budgets.of(peerId);
      if (bucket.take(this.now(), n)) return true;
      const ms = Math.min(bucket.msUntil(this.now(), n), 60_000);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.sleeping.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, ms));
        this.sleeping.add(wake);
      });
    }
  }
}

/**
 * Why a page is not what GetInventory answers (undefined when it is): at most 1,024 txids, in
 * ascending byte order, the first greater than the cursor asked from; a next cursor of 32 bytes
 * no lower than the last txid (it is the last txid), or empty. One byte comparison per txid.
 * A trailing partial txid is ignored (the wire decoder refuses it before this).
 */
function badPage(txids: Uint8Array, next: Uint8Array, after: Uint8Array): string | undefined {
  const n = txids.length >>> 5;
  if (n > MAX_PAGE_TXIDS) return `Inventory: ${n} txids, at most ${MAX_PAGE_TXIDS}`;
  if (next.length !== 0 && next.length !== 32) return undefined; // ends the walk as a last page
  let prev: Uint8Array | undefined = after.length === 32 ? after : undefined;
  for (let i = 0; i < n; i++) {
    const t = txids.subarray(i * 32, i * 32 + 32);
    if (prev !== undefined && compareBytes(t, prev) <= 0)
      return i === 0 ? 'Inventory: a txid not above the cursor' : 'Inventory: txids not in ascending order';
    prev = t;
  }
  if (next.length === 32 && prev !== undefined && compareBytes(next, prev) < 0)
    return 'Inventory: next cursor below the txids of its page';
  return undefined;
}
