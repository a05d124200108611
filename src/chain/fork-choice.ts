import { compareBytes } from '../encoding/bytes.js';

/** A block of a branch as fork choice sees it. */
export interface ForkBlock {
  readonly hash: Uint8Array;
  readonly rank: number;
  /**
   * Arrived (or was produced here) before the end of its rank window plus the clock tolerance.
   * Local knowledge, not validity: it only decides between branches of equal length (below).
   */
  readonly timely: boolean;
}

/**
 * Fork choice (DESIGN §6) between two branches that leave a common ancestor: `a` and `b` list their
 * blocks oldest first, so a[0] and b[0] are the first blocks that differ. Negative: prefer `a`;
 * positive: prefer `b`; 0: the same branch.
 *
 * 1. More blocks wins (the branch more producers built on).
 * 2. Equal length: at the first differing block, a timely block beats a late one — a producer that
 *    publishes after its window (for instance an anchor producer that spent the slot grinding the
 *    next beacon input) never displaces the timely block of that height;
 * 3. then the lower rank (the producer the beacon preferred);
 * 4. then the lower block hash (an arbitrary but shared tie-break: two blocks of one producer).
 *
 * Integers and bytes only; the same answer on every node that has the same blocks and the same
 * timeliness for them (timeliness differs between nodes only for blocks within the clock tolerance
 * of their window's end, and rule 1 settles any such split at the next block).
 */
export function compareBranches(a: readonly ForkBlock[], b: readonly ForkBlock[]): number {
  if (a.length !== b.length) return b.length - a.length;
  const x = a[0];
  const y = b[0];
  if (x === undefined || y === undefined) return 0;
  if (x.timely !== y.timely) return x.timely ? -1 : 1;
  if (x.rank !== y.rank) return x.rank - y.rank;
  return compareBytes(x.hash, y.hash);
}

/** The branch among `candidates` fork choice prefers (the first of equals); undefined when empty. */
export function preferredBranch<B extends readonly ForkBlock[]>(candidates: readonly B[]): B | undefined {
  let best: B | undefined;
  for (const c of candidates) if (best === undefined || compareBranches(c, best) < 0) best = c;
  return best;
}
