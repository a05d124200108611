import { hash } from 'node:crypto';

/** Gossip kinds with separate key spaces (a tx and a block with equal bytes are different items). */
export type GossipKind = 'tx' | 'block' | 'beacon';

/**
 * Estimated heap bytes per remembered item: a 23-character key string, its Map entry, the entry
 * object and a small sender array (measured in test/e2e/p2p/components.test.ts). The cache holds
 * `maxBytes / ENTRY_BYTES` items.
 */
export const ENTRY_BYTES = 200;
/** Distinct per kind, so a transaction and a block with equal bytes get different keys. */
const KIND_PREFIX: Readonly<Record<GossipKind, string>> = { tx: 't', block: 'k', beacon: 'n' };

/** Senders remembered per item: enough to never echo to the few peers that raced to send it. */
const MAX_SENDERS = 8;

interface Item {
  /** Peers that sent us the item (never sent back to them). */
  senders: string[];
  /** When we relayed (or originated) it to every peer connected then; 0 = not yet. */
  relayedAtMs: number;
  /** When this node first heard of it: items are forgotten `maxAgeMs` later. */
  readonly firstSeenMs: number;
}

/**
 * Who already has each recent gossip item, in bounded memory. An item is delivered to the local
 * handler once; it is relayed once, to every connected peer that did not send it to us; a peer
 * that connected after that relay gets it if it is gossiped again. This replaces a per-item set of
 * every peer it was sent to (580 MB at 200,000 items with a hundred peers) by O(1) per item.
 * The key is the item's kind and 132 bits of SHA-256 of its bytes: an identity for deduplication
 * only.
 *
 * An item is remembered for `maxAgeMs` (gossip of one item dies out within seconds; one heard again
 * later is deduplicated by its owner: a known txid, a known block hash), and never more than
 * `maxBytes` allow, so the memory follows the gossip rate, not the node's uptime.
 */
export class GossipRelay {
  /** Insertion order = first-seen order, so the oldest items are at the front. */
  private readonly items = new Map<string, Item>();
  readonly capacity: number;

  constructor(
    maxBytes: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {
    this.capacity = Math.max(1, Math.floor(maxBytes / ENTRY_BYTES));
    // An item must outlive its own insertion (0 would forget it at once, and gossip would echo).
    if (!(Number.isSafeInteger(maxAgeMs) && maxAgeMs >= 1))
      throw new RangeError(`dedupMaxAgeMs must be a positive integer: ${maxAgeMs}`);
  }

  /**
   * The item's dedup key: one character for its kind, then 22 base64 characters (132 bits) of the
   * SHA-256 of its bytes. One-shot `crypto.hash` straight to base64: a Hash object per gossiped
   * transaction (the previous form) cost ~3× as much on the intake path.
   */
  static key(kind: GossipKind, item: Uint8Array): string {
    return KIND_PREFIX[kind] + hash('sha256', item, 'base64').slice(0, 22);
  }

  get size(): number {
    return this.items.size;
  }

  /** Records that `peerId` sent the item; returns true when the item is new to this node. */
  received(key: string, peerId: string): boolean {
    const item = this.items.get(key);
    if (item) {
      if (!item.senders.includes(peerId) && item.senders.length < MAX_SENDERS) item.senders.push(peerId);
      return false;
    }
    this.insert(key, { senders: [peerId], relayedAtMs: 0, firstSeenMs: this.now() });
    return true;
  }

  /** Whether a peer connected at `connectedAtMs` still needs the item. */
  needs(key: string, peerId: string, connectedAtMs: number): boolean {
    const item = this.items.get(key);
    if (!item) return true;
    if (item.senders.includes(peerId)) return false;
    return item.relayedAtMs === 0 || connectedAtMs > item.relayedAtMs;
  }

  /** The item went out to every peer that needed it at `nowMs` (originating it counts too). */
  relayed(key: string, nowMs: number): void {
    const item = this.items.get(key);
    if (item) item.relayedAtMs = nowMs;
    else this.insert(key, { senders: [], relayedAtMs: nowMs, firstSeenMs: nowMs });
  }

  private insert(key: string, item: Item): void {
    this.items.set(key, item);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as string);
    const expired = item.firstSeenMs - this.maxAgeMs;
    for (const [k, old] of this.items) {
      if (old.firstSeenMs > expired) break;
      this.items.delete(k);
    }
  }
}
