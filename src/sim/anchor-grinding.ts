import { rankZeroLeader } from '../beacon/leader-ranking.js';
import { rankWindow } from '../chain/slot-time.js';
import { sha256 } from '../crypto/sha256.js';
import type { ChainParams } from '../params/chain-params.js';

/**
 * Anchor grinding (issue 12, docs/protocol.md "Choosing T, and what the anchor producer can still
 * grind"): the producer of slot s's anchor (its block in slot s − 2) fixes the anchor hash, hence
 * slot s's beacon input x. It can try variants of its block (timestamps, transaction subsets) but
 * learns which variant makes it rank 0 at s only by evaluating T squarings per variant, and it
 * must publish by its rank window's end plus the clock tolerance (after that its block is late:
 * it never displaces a timely block, `arrivedInTime` / `compareBranches`).
 *
 * This module computes, from the chain's own rule functions, how long the producer has to decide
 * (its horizon), how many rounds of variants the fastest evaluator completes in it, and simulates
 * the rank-0 share a grinder reaches with the real leader ranking. A variant's y is modelled as a
 * fresh pseudo-random 256-byte string (the VDF output of a fresh input under the random-oracle
 * view of HashToGroup), seeded so runs are reproducible.
 */

type Timing = Pick<
  ChainParams,
  'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs' | 'futureBlockToleranceMs'
>;

/**
 * When the producer's choice starts:
 * - `window`: it decides only once its own rank window opens (what the rank windows and timely
 *   parents bound: 1 step + the clock tolerance);
 * - `precompute`: it prepares variants from the moment its parent (the slot s − 3 block) arrives,
 *   at that block's window start at the earliest: everything in its block is known then.
 */
export type GrindingHorizon = 'window' | 'precompute';

export interface DecisionWindow {
  /** Milliseconds between the first moment the producer can build a variant and its deadline. */
  readonly ms: number;
  /** The deadline: its window's end plus the clock tolerance, relative to the anchor slot's start. */
  readonly deadlineMs: number;
}

/** The anchor producer's decision window for rank `anchorRank` on a parent of rank `parentRank`. */
export function anchorDecisionWindow(
  params: Timing,
  horizon: GrindingHorizon,
  anchorRank = 0,
  parentRank = 0,
): DecisionWindow {
  // Slot 1 as the anchor's slot, so the parent's slot (0) exists; only differences matter.
  const anchorSlot = 1;
  const own = rankWindow(params, anchorSlot, anchorRank);
  const deadline = own.endMs + params.futureBlockToleranceMs;
  const start = horizon === 'window' ? own.startMs : rankWindow(params, anchorSlot - 1, parentRank).startMs;
  return { ms: deadline - start, deadlineMs: deadline - rankWindow(params, anchorSlot, 0).startMs };
}

export interface Evaluator {
  readonly name: string;
  /** Sequential squarings per second of one evaluation. */
  readonly squaringsPerSec: number;
}

/** Milliseconds one evaluation of T squarings takes on `evaluator`. */
export function evaluationMs(vdfDelay: number, evaluator: Evaluator): number {
  return (vdfDelay / evaluator.squaringsPerSec) * 1000;
}

/** Full rounds of variant evaluations that finish inside the decision window. */
export function grindingRounds(window: DecisionWindow, vdfDelay: number, evaluator: Evaluator): number {
  return Math.floor(window.ms / evaluationMs(vdfDelay, evaluator));
}

/**
 * The variants a grinder chooses among: the one it would publish anyway, plus `parallel`
 * evaluations per completed round. With zero rounds its choice is blind: one effective variant.
 */
export function effectiveVariants(rounds: number, parallel: number): number {
  return rounds * parallel + 1;
}

/** Probability of making itself rank 0 with stake share q and v independent variants. */
export function analyticRankZeroShare(stakeShare: number, variants: number): number {
  return 1 - (1 - stakeShare) ** variants;
}

export interface GrindingSimulation {
  readonly trials: number;
  readonly variants: number;
  /** The grinder's share of the total ranking weight. */
  readonly stakeShare: number;
  /** Fraction of trials in which some variant made the grinder rank 0. */
  readonly rankZeroShare: number;
  /** Binomial standard error of rankZeroShare. */
  readonly stdError: number;
}

/** A pseudo-random 256-byte beacon output for (seed, trial, variant): SHA-256 in counter mode. */
function variantY(seed: number, trial: number, variant: number): Uint8Array {
  const y = new Uint8Array(256);
  const pre = new Uint8Array(16);
  const view = new DataView(pre.buffer);
  view.setUint32(0, seed, true);
  view.setUint32(4, trial, true);
  view.setUint32(8, variant, true);
  for (let k = 0; k < 8; k++) {
    view.setUint32(12, k, true);
    y.set(sha256(pre), k * 32);
  }
  return y;
}

/**
 * Monte Carlo of the grinder: `honest` masternodes of weight `honestWeight` and one grinder of
 * weight `grinderWeight`; each trial draws `variants` beacon outputs and counts a success when the
 * real leader ranking (`rankZeroLeader`) puts the grinder first for any of them.
 */
export function simulateGrinding(opts: {
  readonly seed: number;
  readonly trials: number;
  readonly variants: number;
  readonly honest: number;
  readonly honestWeight: number;
  readonly grinderWeight: number;
}): GrindingSimulation {
  const set = Array.from({ length: opts.honest + 1 }, (_, i) => {
    const nodePubkey = sha256(new Uint8Array([0x6e, 0x6f, 0x64, 0x65, i & 0xff, i >> 8]));
    return { nodePubkey, weight: i === 0 ? opts.grinderWeight : opts.honestWeight, grinder: i === 0 };
  });
  let wins = 0;
  for (let t = 0; t < opts.trials; t++) {
    for (let v = 0; v < opts.variants; v++) {
      if (rankZeroLeader(set, variantY(opts.seed, t, v)).grinder) {
        wins++;
        break;
      }
    }
  }
  const stakeShare = opts.grinderWeight / (opts.grinderWeight + opts.honest * opts.honestWeight);
  const p = wins / opts.trials;
  return {
    trials: opts.trials,
    variants: opts.variants,
    stakeShare,
    rankZeroShare: p,
    stdError: Math.sqrt((p * (1 - p)) / opts.trials),
  };
}
