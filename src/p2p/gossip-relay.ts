import { createHash } from 'node:crypto';
import { DedupCache } from './dedup-cache.js';

/** Gossip kinds with separate key spaces (a tx and a block with equal bytes are different items). */
export type GossipKind = 'tx' | 'block' | 'beacon';

/**
 * Who already has each recent gossip item. An item is delivered to the local handler once, and
 * relayed only to peers not known to have it (neither the ones that sent it to us nor the ones we
 * sent it to), so gossip never echoes back to its sender. The key is SHA-256 of the item's bytes:
 * an identity for deduplication only, not a txid or block hash.
 */
export class GossipRelay {
  private readonly holders: DedupCache<Set<string>>;

  constructor(capacity: number) {
    this.holders = new DedupCache(capacity);
  }

  static key(kind: GossipKind, item: Uint8Array): string {
    return createHash('sha256').update(kind).update(item).digest('base64');
  }

  get size(): number {
    return this.holders.size;
  }

  /** Records that `peerId` has the item; returns true when the item is new to this node. */
  received(key: string, peerId: string): boolean {
    const set = this.holders.get(key);
    if (set) {
      set.add(peerId);
      return false;
    }
    this.holders.add(key, new Set([peerId]));
    return true;
  }

  /** Marks the item as known locally (originated here) without a sender. Returns true if new. */
  local(key: string): boolean {
    return this.holders.add(key, new Set());
  }

  /** Whether `peerId` still needs the item; if so, records that it is now being sent. */
  claimSend(key: string, peerId: string): boolean {
    let set = this.holders.get(key);
    if (!set) {
      set = new Set();
      this.holders.add(key, set);
    }
    if (set.has(peerId)) return false;
    set.add(peerId);
    return true;
  }
}
