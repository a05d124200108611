import { VdfError } from './errors.js';
import { checkDelay } from './group.js';

/**
 * How a Wesolowski proof π = x^q, q = ⌊2^T/ℓ⌋, is computed from checkpoints (Wesolowski 2019,
 * §4.1, with Horner's rule to thin the checkpoints):
 *
 * Write q in κ-bit digits, q = Σ_j d_j 2^(jκ), with d_j = ⌊2^κ·(2^(T−(j+1)κ) mod ℓ)/ℓ⌋ (zero once
 * T − (j+1)κ < 0). The evaluator saves c_i = x^(2^(iγκ)) every γκ squarings. With j = iγ + t,
 *   π = Π_t ( Π_i c_i^(d_(iγ+t)) )^(2^(tκ)),
 * each inner product costs one multiplication per checkpoint plus 2·2^κ for the bucket sums, and
 * the outer one γκ squarings. Total ≈ T/κ + γ·2^(κ+1) multiplications against T squarings for
 * evaluation; the checkpoint ranges split across workers, and partial results multiply together.
 * The plan is not consensus: any π that verifies is valid.
 */
export interface ProofPlan {
  /** Digit width in bits (1 … 14); 2^κ buckets of 304 bytes each in WASM. */
  readonly kappa: number;
  /** Digits per checkpoint. */
  readonly gamma: number;
  /** Squarings between checkpoints: κ·γ. */
  readonly interval: number;
}

/** Default bound on stored checkpoints: 32,768 × 304 B ≈ 10 MB. */
export const MAX_CHECKPOINTS = 1 << 15;
const MAX_KAPPA = 14;

/** Picks κ and γ minimising per-worker multiplications for T squarings and `workers` provers. */
export function planProof(t: number, workers = 1, maxCheckpoints = MAX_CHECKPOINTS): ProofPlan {
  checkDelay(t);
  let best: ProofPlan | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let kappa = 1; kappa <= MAX_KAPPA; kappa++) {
    const gamma = Math.max(1, Math.ceil(t / (kappa * maxCheckpoints)));
    const cost = t / (kappa * Math.max(1, workers)) + gamma * (2 ** (kappa + 1) + kappa);
    if (cost < bestCost) {
      bestCost = cost;
      best = { kappa, gamma, interval: kappa * gamma };
    }
  }
  return best as ProofPlan;
}

/** Checks a plan received from elsewhere (worker payloads, CLI). */
export function checkPlan(plan: ProofPlan): void {
  const ok =
    Number.isInteger(plan.kappa) &&
    plan.kappa >= 1 &&
    plan.kappa <= MAX_KAPPA &&
    Number.isInteger(plan.gamma) &&
    plan.gamma >= 1 &&
    plan.interval === plan.kappa * plan.gamma;
  if (!ok) throw new VdfError('VDF_BAD_CHECKPOINTS', 'invalid proof plan', { ...plan });
}

/** Number of checkpoints an evaluation of T squarings saves: c_0 … c_⌊T/interval⌋. */
export function checkpointCount(t: number, interval: number): number {
  return Math.floor(t / interval) + 1;
}

/**
 * The digits d_j for j in [first, first + count) as u16 (κ ≤ 14). One BigInt division per digit:
 * walking j downwards, s = 2^κ·r gives d = ⌊s/ℓ⌋ and the next remainder s − dℓ.
 */
export function proofDigits(t: number, l: bigint, kappa: number, first: number, count: number): Uint16Array {
  const out = new Uint16Array(count);
  const k = BigInt(kappa);
  let r = -1n;
  for (let idx = count - 1; idx >= 0; idx--) {
    const e = t - (first + idx + 1) * kappa;
    if (e < 0) continue;
    if (r < 0n) r = modPow2(e, l);
    const s = r << k;
    const d = s / l;
    out[idx] = Number(d);
    r = s - d * l;
  }
  return out;
}

/** 2^e mod l for a safe-integer e. */
function modPow2(e: number, l: bigint): bigint {
  let result = 1n;
  let base = 2n % l;
  let x = BigInt(e);
  while (x > 0n) {
    if (x & 1n) result = (result * base) % l;
    base = (base * base) % l;
    x >>= 1n;
  }
  return result;
}
