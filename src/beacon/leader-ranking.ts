import { sha256 } from '../crypto/sha256.js';
import { compareBytes } from '../encoding/bytes.js';
import { TAG } from '../protocol/domain-tags.js';
import { CodedError } from '../util/coded-error.js';
import { CumulativeWeights } from './cumulative-weights.js';

/**
 * Stake-weighted leader ranking for a slot (DESIGN §6). Inputs are only committed data: the active
 * masternodes as of the anchor and the beacon y. Integer arithmetic only: no floats, no Map order,
 * no clock. Changing anything here is a consensus change.
 *
 * 1. Sort the masternodes by public key (bytewise); reject duplicates.
 * 2. Random stream: SHA-256(`TIME:rank:1`\0 ‖ y ‖ u32le(block)) for block = 0, 1, …, read as
 *    consecutive u64le words.
 * 3. Weighted draw without replacement: with W the remaining total weight, take words until one is
 *    below 2^64 − (2^64 mod W) (rejection sampling, so the draw is exactly uniform), u = word mod W;
 *    the chosen node is the first, in pubkey order, whose running weight sum exceeds u. It takes the
 *    next rank and leaves the pool.
 */

export interface RankedMasternode {
  readonly nodePubkey: Uint8Array;
  /** Positive integer weight (the tier's weight). */
  readonly weight: number;
}

export type RankingErrorCode =
  | 'RANKING_EMPTY'
  | 'RANKING_BAD_WEIGHT'
  | 'RANKING_DUPLICATE'
  | 'RANKING_BAD_BEACON';

export class RankingError extends CodedError<RankingErrorCode> {}

/** Domain tag of the ranking stream (`TIME:rank:1` + 0x00), from the protocol's one tag table. */
export const RANK_TAG: Uint8Array = TAG.rank;

const TWO_64 = 1n << 64n;

/** The u64 word stream drawn from y. */
class BeaconStream {
  private readonly preimage: Uint8Array;
  private block = 0;
  private words: bigint[] = [];

  constructor(y: Uint8Array) {
    this.preimage = new Uint8Array(RANK_TAG.length + y.length + 4);
    this.preimage.set(RANK_TAG);
    this.preimage.set(y, RANK_TAG.length);
  }

  nextWord(): bigint {
    if (this.words.length === 0) {
      new DataView(this.preimage.buffer).setUint32(this.preimage.length - 4, this.block++, true);
      const h = sha256(this.preimage);
      const view = new DataView(h.buffer, h.byteOffset, 32);
      // Reversed so pop() yields words in stream order.
      for (let i = 3; i >= 0; i--) this.words.push(view.getBigUint64(i * 8, true));
    }
    return this.words.pop() as bigint;
  }

  /** Uniform integer in [0, bound) by rejection sampling. */
  below(bound: bigint): bigint {
    const limit = TWO_64 - (TWO_64 % bound);
    for (;;) {
      const w = this.nextWord();
      if (w < limit) return w % bound;
    }
  }
}

function prepare<M extends RankedMasternode>(masternodes: readonly M[], y: Uint8Array): M[] {
  if (!(y instanceof Uint8Array) || y.length !== 256)
    throw new RankingError('RANKING_BAD_BEACON', 'beacon y must be its 256-byte encoding');
  if (masternodes.length === 0) throw new RankingError('RANKING_EMPTY', 'no active masternodes');
  let total = 0;
  for (const m of masternodes) {
    if (!Number.isSafeInteger(m.weight) || m.weight < 1)
      throw new RankingError('RANKING_BAD_WEIGHT', 'weights must be positive integers', { weight: m.weight });
    total += m.weight;
  }
  if (!Number.isSafeInteger(total)) throw new RankingError('RANKING_BAD_WEIGHT', 'total weight overflows');
  const sorted = [...masternodes].sort((a, b) => compareBytes(a.nodePubkey, b.nodePubkey));
  for (let i = 1; i < sorted.length; i++)
    if (compareBytes((sorted[i - 1] as M).nodePubkey, (sorted[i] as M).nodePubkey) === 0)
      throw new RankingError('RANKING_DUPLICATE', 'duplicate masternode pubkey');
  return sorted;
}

/**
 * The ranking as a lazy sequence of draws: `next()` returns rank 0, 1, … in turn. Each draw is
 * O(log n) over a Fenwick tree of the remaining weights in pubkey order, and picks exactly the node
 * a linear scan would (the first, in pubkey order, whose running weight sum exceeds u), so the rule
 * and its vectors are unchanged; the whole ranking is O(n log n).
 */
class RankDraws<M extends RankedMasternode> {
  private readonly weights: CumulativeWeights;
  private readonly stream: BeaconStream;
  private drawn = 0;

  constructor(
    private readonly sorted: readonly M[],
    y: Uint8Array,
  ) {
    this.weights = new CumulativeWeights(sorted.map((m) => m.weight));
    this.stream = new BeaconStream(y);
  }

  next(): M | undefined {
    if (this.drawn === this.sorted.length) return undefined;
    const i = this.weights.find(Number(this.stream.below(BigInt(this.weights.total))));
    this.weights.remove(i);
    this.drawn++;
    return this.sorted[i] as M;
  }
}

/**
 * The full ranking: rank 0 first. Deterministic in (set of masternodes, y): the input order does
 * not matter. O(n log n) (about 25 ms for 20,000 masternodes, see docs/protocol.md).
 */
export function rankLeaders<M extends RankedMasternode>(masternodes: readonly M[], y: Uint8Array): M[] {
  const draws = new RankDraws(prepare(masternodes, y), y);
  const ranking: M[] = [];
  for (let m = draws.next(); m !== undefined; m = draws.next()) ranking.push(m);
  return ranking;
}

/** rankLeaders(…)[0] without drawing the rest (same stream, same answer). */
export function rankZeroLeader<M extends RankedMasternode>(masternodes: readonly M[], y: Uint8Array): M {
  return new RankDraws(prepare(masternodes, y), y).next() as M;
}

/** rankLeaders(…)[rank], drawing only ranks 0 … rank; undefined when rank ≥ the number of nodes. */
export function leaderAtRank<M extends RankedMasternode>(
  masternodes: readonly M[],
  y: Uint8Array,
  rank: number,
): M | undefined {
  if (!Number.isSafeInteger(rank) || rank < 0) return undefined;
  const draws = new RankDraws(prepare(masternodes, y), y);
  let m = draws.next();
  for (let r = 0; r < rank && m !== undefined; r++) m = draws.next();
  return m;
}

/** The rank of `nodePubkey` for this beacon, or −1 if it is not among the masternodes. */
export function rankOf(
  masternodes: readonly RankedMasternode[],
  y: Uint8Array,
  nodePubkey: Uint8Array,
): number {
  const sorted = prepare(masternodes, y);
  if (!sorted.some((m) => compareBytes(m.nodePubkey, nodePubkey) === 0)) return -1;
  const draws = new RankDraws(sorted, y);
  for (let r = 0; ; r++) {
    const m = draws.next() as RankedMasternode;
    if (compareBytes(m.nodePubkey, nodePubkey) === 0) return r;
  }
}
