import { bytesKey } from '../ledger/map-keys.js';
import { MAX_TXIDS_PER_REQUEST } from '../wire/limits.js';

export interface TxFetcherOptions {
  /** Sends GetTx (txids packed) to a peer; resolves with the transactions it answered. */
  readonly request: (peerId: string, txids: Uint8Array) => Promise<readonly Uint8Array[]>;
  /** Hands fetched transactions to the intake. */
  readonly deliver: (peerId: string, txs: readonly Uint8Array[]) => void;
  /** True when the txid needs no fetching any more (known, verifying, orphaned). */
  readonly known: (txid: Uint8Array) => boolean;
  readonly now: () => number;
  /** Coalescing delay: txids asked of one peer within it share one GetTx. */
  readonly batchMs: number;
  /** A txid requested is not requested again (from anyone) for this long. */
  readonly retryAfterMs: number;
  /** Bound of the requested-recently memory. */
  readonly maxTracked: number;
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
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: TxFetcherOptions) {}

  /** Txids asked for within the retry window (what this object remembers). */
  get tracked(): number {
    return this.requestedAt.size;
  }

  /** `peerId` holds `txid`; fetch it unless we know it or asked recently. */
  want(peerId: string, txid: Uint8Array): void {
    if (this.stopped || this.o.known(txid)) return;
    const key = bytesKey(txid);
    const now = this.o.now();
    const asked = this.requestedAt.get(key);
    if (asked !== undefined && now - asked < this.o.retryAfterMs) return;
    this.requestedAt.delete(key); // re-insert: Map order stays oldest-first
    this.requestedAt.set(key, now);
    // A request older than retryAfterMs no longer holds anything back: forget it, so this memory
    // follows the fetch rate rather than growing to maxTracked over hours.
    for (const [k, at] of this.requestedAt) {
      if (now - at < this.o.retryAfterMs && this.requestedAt.size <= this.o.maxTracked) break;
      this.requestedAt.delete(k);
    }
    let q = this.queued.get(peerId);
    if (!q) {
      q = new Map();
      this.queued.set(peerId, q);
    }
    q.set(key, txid.slice());
    if (q.size >= MAX_TXIDS_PER_REQUEST) this.flushPeer(peerId);
    else this.timer ??= setTimeout(() => this.flush(), this.o.batchMs);
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
