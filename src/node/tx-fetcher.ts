import { bytesKey } from '../ledger/map-keys.js';
import { PeerBuckets } from '../p2p/peer-buckets.js';
import { MAX_TXIDS_PER_REQUEST } from '../wire/limits.js';

/**
 * Unknown txids one peer's polls may make us fetch: per second, and at once. An honest poller
 * gossips a transaction before its first poll names it, so it rarely names one we lack (the
 * `timecoin_tx_fetch_requests_total` metric is near 0 on a healthy network); a peer naming
 * 1,024 random txids per poll made the node spend 14.5 ms of its coordinator per poll, so at 100
 * polls a second one key with no stake held the coordinator busy (measured, /tmp script against
 * a real node). Beyond the budget a named txid is still voted on (UNKNOWN), just not fetched.
 */
export const POLL_FETCH_BUDGET = Object.freeze({ perSec: 1_024, burst: 4_096 });

export interface TxFetcherOptions {
  /** Sends GetTx (txids packed) to a peer; resolves with the transactions it answered. */
  readonly request: (peerId: string, txids: Uint8Array) => Promise<readonly Uint8Array[]>;
  /** Hands fetched transactions to the intake. */
  readonly deliver: (peerId: string, txs: readonly Uint8Array[]) => void;
  /** True when the txid needs no fetching any more (known, verifying, orphaned). */
  readonly known: (txid: Uint8Array) => boolean;
  /**
   * The cheap part of `known` (map reads): the txid is being verified or waits as an orphan. A poll
   * names such a transaction while it is on its way to us, and naming it must not use up the
   * asker's fetch budget. Default: never.
   */
  readonly arriving?: (txid: Uint8Array) => boolean;
  readonly now: () => number;
  /** Coalescing delay: txids asked of one peer within it share one GetTx. */
  readonly batchMs: number;
  /** A txid requested is not requested again (from anyone) for this long. */
  readonly retryAfterMs: number;
  /** Bound of the requested-recently memory. */
  readonly maxTracked: number;
  /** Per-peer budget of txids named in its polls that we fetch (default POLL_FETCH_BUDGET). */
  readonly pollFetchBudget?: { readonly perSec: number; readonly burst: number };
  /** Peers whose budgets are remembered (default 4,096): a peer forgotten starts with a full one. */
  readonly maxBudgets?: number;
}

/**
 * Fetches transactions this node has not seen: a peer that polls us about an unknown txid holds it
 * (it is processing it), and catch-up lists txids peers hold. Requests to one peer are coalesced
 * into GetTx messages of up to 1,024 txids, and a txid is asked for once per `retryAfterMs`
 * whoever names it, so a burst of polls naming the same unknown transaction costs one fetch.
 */
export class TxFetcher {
  private readonly queued = new Map<string, Map<string, Uint8Array>>();
  private readonly requestedAt = new Map<string, number>();
  private readonly budgets: PeerBuckets;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Poll-named txids not fetched because the naming peer's budget was used up. */
  overBudget = 0;

  constructor(private readonly o: TxFetcherOptions) {
    this.budgets = new PeerBuckets(o.pollFetchBudget ?? POLL_FETCH_BUDGET, o.now, o.maxBudgets);
  }

  /** Txids asked for within the retry window (what this object remembers). */
  get tracked(): number {
    return this.requestedAt.size;
  }

  /**
   * `peerId`'s poll named `txid`, which we do not know: fetch it from that peer, within the peer's
   * poll-fetch budget. A txid asked for within the retry window or arriving (being verified, an
   * orphan) needs no fetch and costs no budget: an honest poller names a transaction in several
   * polls while it crosses our intake. Otherwise the budget is charged before the ledger is read,
   * so a peer over it costs a few map reads per txid. False when the budget refused it.
   */
  wantNamedInPoll(peerId: string, txid: Uint8Array): boolean {
    const key = bytesKey(txid);
    if (this.askedRecently(key) || this.o.arriving?.(txid) === true) return true;
    if (!this.budgets.take(peerId)) {
      this.overBudget++;
      return false;
    }
    this.fetch(peerId, txid, key);
    return true;
  }

  /** `peerId` holds `txid`; fetch it unless we know it or asked recently. */
  want(peerId: string, txid: Uint8Array): void {
    this.fetch(peerId, txid, bytesKey(txid));
  }

  /**
   * `peerId` listed `txids` (a page of its inventory, catch-up): asks it at once, in GetTx of up to
   * 1,024, for those we neither know, nor asked for within the retry window, nor have arriving, and
   * resolves when every answer is in (or failed) with how many txids were asked for and how many
   * transactions came back (at most one per txid asked: what the caller judges the peer's pages by).
   * Not coalesced with other fetches: a page is a full GetTx already. The caller budgets the pages.
   */
  async fetchListed(
    peerId: string,
    txids: readonly Uint8Array[],
  ): Promise<{ readonly requested: number; readonly delivered: number }> {
    const ids: Uint8Array[] = [];
    for (const txid of txids) {
      if (this.stopped) break;
      const key = bytesKey(txid);
      if (this.askedRecently(key) || this.o.arriving?.(txid) === true || this.o.known(txid)) continue;
      this.remember(key);
      ids.push(txid);
    }
    let delivered = 0;
    const requests: Promise<void>[] = [];
    for (let i = 0; i < ids.length; i += MAX_TXIDS_PER_REQUEST) {
      const chunk = ids.slice(i, i + MAX_TXIDS_PER_REQUEST);
      const packed = new Uint8Array(chunk.length * 32);
      for (let j = 0; j < chunk.length; j++) packed.set(chunk[j]!, j * 32);
      requests.push(
        this.o.request(peerId, packed).then(
          (txs) => {
            delivered += Math.min(txs.length, chunk.length);
            if (!this.stopped && txs.length > 0) this.o.deliver(peerId, txs);
          },
          () => undefined, // the peer left or did not answer: nothing delivered
        ),
      );
    }
    await Promise.all(requests);
    return { requested: ids.length, delivered };
  }

  private fetch(peerId: string, txid: Uint8Array, key: string): void {
    if (this.stopped) return;
    // Asked recently (a map read) before known (ledger and chain reads): polls repeat a txid.
    if (this.askedRecently(key)) return;
    if (this.o.known(txid)) return;
    this.remember(key);
    let q = this.queued.get(peerId);
    if (!q) {
      q = new Map();
      this.queued.set(peerId, q);
    }
    q.set(key, txid.slice());
    if (q.size >= MAX_TXIDS_PER_REQUEST) this.flushPeer(peerId);
    else this.timer ??= setTimeout(() => this.flush(), this.o.batchMs);
  }

  /** Notes that `key` is asked for now (no one asks for it again within the retry window). */
  private remember(key: string): void {
    const now = this.o.now();
    this.requestedAt.delete(key); // re-insert: Map order stays oldest-first
    this.requestedAt.set(key, now);
    // A request older than retryAfterMs no longer holds anything back: forget it, so this memory
    // follows the fetch rate rather than growing to maxTracked over hours.
    for (const [k, at] of this.requestedAt) {
      if (now - at < this.o.retryAfterMs && this.requestedAt.size <= this.o.maxTracked) break;
      this.requestedAt.delete(k);
    }
  }

  private askedRecently(key: string): boolean {
    const asked = this.requestedAt.get(key);
    return asked !== undefined && this.o.now() - asked < this.o.retryAfterMs;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.queued.clear();
  }

  private flush(): void {
    this.timer = undefined;
    for (const peerId of [...this.queued.keys()]) this.flushPeer(peerId);
  }

  private flushPeer(peerId: string): void {
    const q = this.queued.get(peerId);
    this.queued.delete(peerId);
    if (!q || q.size === 0) return;
    const ids = [...q.values()].filter((t) => !this.o.known(t));
    for (let i = 0; i < ids.length; i += MAX_TXIDS_PER_REQUEST) {
      const chunk = ids.slice(i, i + MAX_TXIDS_PER_REQUEST);
      const packed = new Uint8Array(chunk.length * 32);
      for (let j = 0; j < chunk.length; j++) packed.set(chunk[j]!, j * 32);
      this.o.request(peerId, packed).then(
        (txs) => {
          if (!this.stopped && txs.length > 0) this.o.deliver(peerId, txs);
        },
        () => {
          // The peer left or did not answer: whoever names the txid next is asked after retryAfterMs.
        },
      );
    }
  }
}
