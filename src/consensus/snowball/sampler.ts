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
  private readonly indexById = new Map<string, number>();
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
      this.indexById.set(v.id, i);
    }
    this.ids = sorted.map((v) => v.id);
    this.totalWeight = total;
  }

  get size(): number {
    return this.ids.length;
  }

  /** The sampling weight of a validator, 0 if it is not in this sampler. */
  weightOf(id: string): number {
    const i = this.indexById.get(id);
    if (i === undefined) return 0;
    return this.cumulative[i]! - (i === 0 ? 0 : this.cumulative[i - 1]!);
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

  /**
   * k draws with replacement; an id appears as many times as it was drawn. Validators in `excluded`
   * (benched ones, see pollPool) are never drawn: a draw that lands on one is drawn again, which
   * is exactly a weighted draw over the validators not excluded (rejection sampling; with at most a
   * fifth of the weight excluded, 1.25 draws per sampled validator on average).
   */
  sample(k: number, rng: Rng, excluded?: ReadonlySet<string>): string[] {
    if (this.ids.length === 0) throw new SnowballError('INVALID_SAMPLE', 'no validators to sample from');
    if (!(Number.isInteger(k) && k >= 1)) throw new SnowballError('INVALID_SAMPLE', `k = ${k}`);
    const out = new Array<string>(k);
    if (excluded === undefined || excluded.size === 0) {
      for (let i = 0; i < k; i++) out[i] = this.ids[this.drawIndex(rng)]!;
      return out;
    }
    let excludedWeight = 0;
    for (const id of excluded) excludedWeight += this.weightOf(id);
    if (excludedWeight >= this.totalWeight)
      throw new SnowballError('INVALID_SAMPLE', 'every validator is excluded from the sample');
    for (let i = 0; i < k; i++) {
      let id: string;
      do id = this.ids[this.drawIndex(rng)]!;
      while (excluded.has(id));
      out[i] = id;
    }
    return out;
  }
}

/** What a poll may draw from: the connected validators minus `excluded`, of total weight `weight`. */
export interface PollPool {
  readonly excluded: ReadonlySet<string>;
  readonly weight: number;
}

const NOBODY: ReadonlySet<string> = new Set();

/**
 * The one rule (node and simulator) for whom a poll samples, given the connected active validators
 * and the benched ones (Benchlist.benched):
 * - connected and not benched, if that weight meets the poll quorum;
 * - otherwise connected including the benched, if that meets the quorum — benching only ever
 *   removes weight that can be spared, it never stops polls that would run without it;
 * - otherwise null: no poll.
 * The quorum is always checked on the weight actually sampled, so a poll's draws always come from at
 * least alphaConfidence/k of the active weight, with or without benching.
 */
export function pollPool(
  connected: StakeSampler,
  benched: Iterable<string>,
  activeWeight: number,
  params: SnowballParams,
): PollPool | null {
  const excluded = new Set<string>();
  let benchedWeight = 0;
  for (const id of benched) {
    const w = connected.weightOf(id);
    if (w === 0 || excluded.has(id)) continue;
    excluded.add(id);
    benchedWeight += w;
  }
  const rested = connected.totalWeight - benchedWeight;
  if (excluded.size > 0 && pollQuorumMet(rested, activeWeight, params)) return { excluded, weight: rested };
  if (pollQuorumMet(connected.totalWeight, activeWeight, params))
    return { excluded: NOBODY, weight: connected.totalWeight };
  return null;
}

/**
 * DESIGN §5: no poll is sent while the weight a poll draws from is below alphaConfidence/k of the
 * active weight. Compared as pool * k >= alphaConfidence * active in exact integers.
 *
 * Why alphaConfidence and not alphaPreference: the check bounds how much of the stake a finalizing
 * poll can speak for. A sample drawn from a pool P can only carry the votes of P; with P >=
 * alphaConfidence/k of the stake, even a poll in which every draw said yes represents at least the
 * share of the stake that alphaConfidence promises for confidence over the whole validator set, and
 * Byzantine stake b is at most b / (alphaConfidence/k) of the pool (20 % → 29 %). With
 * alphaPreference the pool could be 55 %: finality would rest on the word of just over half the
 * stake, and the same 20 % would be 36 % of the draws. It is also avalanchego's choice for its
 * connectivity health check.
 */
export function pollQuorumMet(poolWeight: number, activeWeight: number, params: SnowballParams): boolean {
  if (activeWeight <= 0 || poolWeight <= 0) return false;
  return BigInt(poolWeight) * BigInt(params.k) >= BigInt(params.alphaConfidence) * BigInt(activeWeight);
}
