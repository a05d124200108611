import { VdfError } from './errors.js';
import { canonical, decodeElement, encodeElement } from './group.js';
import type {
  ChallengePayload,
  EvaluatePayload,
  EvaluateResult,
  ProvePartialPayload,
  VerifyPayload,
} from './pool-payloads.js';
import { checkpointCount, planProof } from './proof-plan.js';
import { RSA_2048 } from './rsa2048.js';
import type { VdfOutput } from './vdf.js';
import { ELEM_SLOTS } from './wasm-vdf.js';

/** What the VDF needs from the crypto pool (structural, so this module does not import piscina). */
export interface VdfTaskRunner {
  readonly threads: number;
  run<T>(
    name: string,
    payload: unknown,
    opts?: { transferList?: readonly ArrayBuffer[]; signal?: AbortSignal },
  ): Promise<T>;
}

/**
 * Evaluates in one worker. Aborting `signal` makes piscina terminate that worker, which stops the
 * squaring loop immediately (WASM cannot check a flag mid-call; termination can). The checkpoint
 * spacing is planned for proving on all of the pool's threads.
 */
export async function poolVdfEvaluate(
  pool: VdfTaskRunner,
  x: Uint8Array,
  t: number,
  opts: { signal?: AbortSignal } = {},
): Promise<VdfOutput> {
  decodeElement(x, 'x');
  const plan = planProof(t, pool.threads);
  const payload: EvaluatePayload = { x, t, plan };
  const r = await pool.run<EvaluateResult>(
    'vdf.evaluate',
    payload,
    opts.signal ? { signal: opts.signal } : {},
  );
  return { y: r.y, t, plan, checkpoints: r.checkpoints };
}

/** π for an evaluation: the checkpoints are split into one contiguous range per worker. */
export async function poolVdfProve(
  pool: VdfTaskRunner,
  x: Uint8Array,
  output: VdfOutput,
): Promise<Uint8Array> {
  decodeElement(x, 'x');
  decodeElement(output.y, 'y');
  const count = checkpointCount(output.t, output.plan.interval);
  if (output.checkpoints.length !== count * ELEM_SLOTS)
    throw new VdfError('VDF_BAD_CHECKPOINTS', 'checkpoints do not match T and the plan');
  // ℓ in a worker too: hashing and primality-testing candidates is ~10 ms of CPU.
  const challenge: ChallengePayload = { x, y: output.y, t: output.t };
  const l = await pool.run<bigint>('vdf.challenge', challenge);
  const shares = Math.max(1, Math.min(pool.threads, count));
  const per = Math.ceil(count / shares);
  const tasks: Promise<bigint>[] = [];
  for (let first = 0; first < count; first += per) {
    const n = Math.min(per, count - first);
    const checkpoints = output.checkpoints.slice(first * ELEM_SLOTS, (first + n) * ELEM_SLOTS);
    const payload: ProvePartialPayload = { checkpoints, first, count: n, t: output.t, l, plan: output.plan };
    tasks.push(pool.run<bigint>('vdf.provePartial', payload, { transferList: [checkpoints.buffer] }));
  }
  let pi = 1n;
  for (const partial of await Promise.all(tasks)) pi = (pi * partial) % RSA_2048;
  return encodeElement(canonical(pi));
}

/** Verification in a worker (it takes milliseconds; inline `vdfVerify` is usually fine too). */
export function poolVdfVerify(
  pool: VdfTaskRunner,
  x: Uint8Array,
  y: Uint8Array,
  proof: Uint8Array,
  t: number,
): Promise<boolean> {
  const payload: VerifyPayload = { x, y, proof, t };
  return pool.run<boolean>('vdf.verify', payload);
}
