import type { SnowballParams } from '../../params/chain-params.js';
import { SnowballError } from './errors.js';
import type { Rng } from './prng.js';

/** A validator as the sampler sees it: node pubkey hex and its integer sampling weight (tier weight). */
export interface WeightedValidator {
  readonly id: string;
  readonly weight: number;
}

/**
 * Stake-weighted sampling WITH replacement, avalanchego style: a poll draws k times, and a
 * validator drawn m times has its one answer counted m times. Validators are sorted by id first so
 * the same seed picks the same nodes whatever order the peer table listed them in; weights are
 * integers and the draw is an integer in [0, total), so there is no float rounding anywhere.
 */
export class StakeSampler {
  /** Validator ids in ascending order. */
  readonly ids: readonly string[];
  /** cumulative[i] = sum of the weights of ids[0..i]; strictly increasing. */
  private readonly cumulative: Float64Array;
  readonly totalWeight: number;

  constructor(validators: readonly WeightedValidator[]) {
    const sorted = [...validators].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    this.cumulative = new Float64Array(sorted.length);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i]!;
      if (typeof v.id !== 'string' || v.id.length === 0)
        throw new SnowballError('INVALID_VALIDATORS', `validator ${i} has no id`);
      if (i > 0 && sorted[i - 1]!.id === v.id)
        throw new SnowballError('INVALID_VALIDATORS', `validator ${v.id} listed twice`, { id: v.id });
      if (!(Number.isSafeInteger(v.weight) && v.weight >= 1))
        throw new SnowballError('INVALID_VALIDATORS', `validator ${v.id} has weight ${v.weight}`, {
          id: v.id,
          weight: v.weight,
        });
      total += v.weight;
      if (!Number.isSafeInteger(total))
        throw new SnowballError('INVALID_VALIDATORS', 'total weight exceeds 2^53 - 1');
      this.cumulative[i] = total;
    }
    this.ids = sorted.map((v) => v.id);
    this.totalWeight = total;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Index (into `ids`) of one weighted draw. */
  drawIndex(rng: Rng): number {
    const r = rng.below(this.totalWeight);
    // First i with cumulative[i] > r.
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** k draws with replacement; an id appears as many times as it was drawn. */
  sample(k: number, rng: Rng): string[] {
    if (this.ids.length === 0) throw new SnowballError('INVALID_SAMPLE', 'no validators to sample from');
    if (!(Number.isInteger(k) && k >= 1)) throw new SnowballError('INVALID_SAMPLE', `k = ${k}`);
    const out = new Array<string>(k);
    for (let i = 0; i < k; i++) out[i] = this.ids[this.drawIndex(rng)]!;
    return out;
  }
}

/**
 * DESIGN §5: no poll is sent while the connected weight is below alpha/k of the active weight —
 * with less than that connected, even a unanimous sample of the connected nodes would speak for
 * too small a share of the stake. Compared as connected * k >= alpha * active in exact integers.
 */
export function pollQuorumMet(
  connectedWeight: number,
  activeWeight: number,
  params: SnowballParams,
): boolean {
  if (activeWeight <= 0 || connectedWeight <= 0) return false;
  return BigInt(connectedWeight) * BigInt(params.k) >= BigInt(params.alpha) * BigInt(activeWeight);
}
