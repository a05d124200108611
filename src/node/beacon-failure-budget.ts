/** Beacons from one peer for one slot that may fail verification here before its others are dropped. */
export const MAX_FAILED_BEACONS_PER_PEER_SLOT = 2;

/**
 * Slots whose failures are remembered, counting back from the newest slot seen. Received beacons
 * are for the current or next slot only (relay-policy.ts, beaconSlotWanted), so older ones are
 * never asked about again.
 */
export const REMEMBERED_BEACON_SLOTS = 4;

/**
 * Beacons that failed verification here, per peer and slot, so that no peer can make this node run
 * the VDF verifier (milliseconds in the pool) over and over for nothing: its first
 * MAX_FAILED_BEACONS_PER_PEER_SLOT failures for a slot are verified, later beacons from it for that
 * slot are dropped unverified.
 *
 * Failures are not scored: a beacon is checked against OUR anchor of its slot, and an honest peer on
 * another branch sends (and relays) beacons of its own anchor, which fail here through no fault of
 * its own. Its further beacons for that slot are of no use to us either: we need the one of our
 * anchor, and evaluate it ourselves if no other peer sends it. Memory: at most
 * REMEMBERED_BEACON_SLOTS slots × the peers that failed in them.
 */
export class BeaconFailureBudget {
  private readonly failures = new Map<number, Map<string, number>>();
  private newestSlot = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxPerPeerSlot = MAX_FAILED_BEACONS_PER_PEER_SLOT) {}

  /** Whether a beacon from `peerId` for `slot` may still be verified. */
  allows(slot: number, peerId: string): boolean {
    return (this.failures.get(slot)?.get(peerId) ?? 0) < this.maxPerPeerSlot;
  }

  /** A beacon from `peerId` for `slot` did not verify against our anchor. */
  failed(slot: number, peerId: string): void {
    if (slot > this.newestSlot) {
      this.newestSlot = slot;
      for (const s of this.failures.keys()) if (s <= slot - REMEMBERED_BEACON_SLOTS) this.failures.delete(s);
    }
    if (slot <= this.newestSlot - REMEMBERED_BEACON_SLOTS) return;
    let bySlot = this.failures.get(slot);
    if (!bySlot) {
      bySlot = new Map();
      this.failures.set(slot, bySlot);
    }
    bySlot.set(peerId, (bySlot.get(peerId) ?? 0) + 1);
  }

  /**
   * A verification for `peerId`'s beacon of `slot` that turned out valid: it was counted as a
   * failure when it started (`failed` before the verifier runs, so concurrent beacons of one peer
   * cannot all pass `allows` while the first is still being verified), and is taken back.
   */
  forgive(slot: number, peerId: string): void {
    const bySlot = this.failures.get(slot);
    if (bySlot === undefined) return;
    const n = bySlot.get(peerId);
    if (n === undefined) return;
    if (n <= 1) bySlot.delete(peerId);
    else bySlot.set(peerId, n - 1);
    if (bySlot.size === 0) this.failures.delete(slot);
  }

  /** Slots with failures remembered (for tests and metrics). */
  get slots(): number {
    return this.failures.size;
  }
}
