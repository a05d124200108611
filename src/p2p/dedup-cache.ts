/**
 * A bounded set of recently seen gossip keys, oldest evicted first. Gossip is relayed once per key
 * and never back to a peer that already has it, so nothing echoes. (Map insertion order is used for
 * eviction only: nothing consensus-relevant depends on it.)
 */
export class DedupCache<V = true> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be ≥ 1');
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Records `key`; returns false when it was already present (the value is then left unchanged). */
  add(key: string, value: V): boolean {
    if (this.entries.has(key)) return false;
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return true;
  }
}
