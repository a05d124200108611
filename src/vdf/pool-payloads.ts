import { VdfError } from './errors.js';
import { checkDelay, decodeElement } from './group.js';
import { checkPlan, type ProofPlan } from './proof-plan.js';

/**
 * Payloads of the VDF worker tasks (src/workers/handlers/vdf-handlers.ts). Workers re-check them:
 * a malformed payload is a typed VdfError in the caller's promise, never a dead worker.
 */

export interface EvaluatePayload {
  readonly x: Uint8Array;
  readonly t: number;
  readonly plan: ProofPlan;
}

export interface EvaluateResult {
  readonly y: Uint8Array;
  readonly checkpoints: Uint32Array;
}

export interface ProvePartialPayload {
  /** `count` checkpoints (Montgomery-form limbs) starting at checkpoint index `first`. */
  readonly checkpoints: Uint32Array;
  readonly first: number;
  readonly count: number;
  readonly t: number;
  /** ℓ = HashToPrime(x, y, T), computed once by a worker (the `vdf.challenge` task). */
  readonly l: bigint;
  readonly plan: ProofPlan;
}

/** The statement whose Fiat–Shamir challenge ℓ = HashToPrime(x, y, T) a worker computes. */
export interface ChallengePayload {
  readonly x: Uint8Array;
  readonly y: Uint8Array;
  readonly t: number;
}

export interface VerifyPayload {
  readonly x: Uint8Array;
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
  readonly t: number;
}

function record(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null)
    throw new VdfError('VDF_BAD_CHECKPOINTS', 'VDF task payload must be an object');
  return payload as Record<string, unknown>;
}

export function parseEvaluatePayload(payload: unknown): { x: bigint; t: number; plan: ProofPlan } {
  const p = record(payload);
  const plan = p['plan'] as ProofPlan;
  if (typeof plan !== 'object' || plan === null) throw new VdfError('VDF_BAD_CHECKPOINTS', 'missing plan');
  checkPlan(plan);
  return { x: decodeElement(p['x'] as Uint8Array, 'x'), t: p['t'] as number, plan };
}

export function parseChallengePayload(payload: unknown): { x: bigint; y: bigint; t: number } {
  const p = record(payload);
  const t = p['t'] as number;
  checkDelay(t);
  return { x: decodeElement(p['x'] as Uint8Array, 'x'), y: decodeElement(p['y'] as Uint8Array, 'y'), t };
}

export function parseProvePartialPayload(payload: unknown): ProvePartialPayload {
  const p = record(payload) as unknown as ProvePartialPayload;
  if (!(p.checkpoints instanceof Uint32Array) || typeof p.l !== 'bigint' || p.l < 3n)
    throw new VdfError('VDF_BAD_CHECKPOINTS', 'bad provePartial payload');
  if (typeof p.plan !== 'object' || p.plan === null)
    throw new VdfError('VDF_BAD_CHECKPOINTS', 'missing plan');
  checkPlan(p.plan);
  return p;
}
