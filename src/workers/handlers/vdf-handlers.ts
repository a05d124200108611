import { encodeElement } from '../../vdf/group.js';
import { hashToPrime } from '../../vdf/hash-to-prime.js';
import {
  type EvaluateResult,
  parseChallengePayload,
  parseEvaluatePayload,
  parseProvePartialPayload,
  type VerifyPayload,
} from '../../vdf/pool-payloads.js';
import { vdfVerifyWith } from '../../vdf/vdf.js';
import { wasmVdfFor } from '../../vdf/wasm-vdf.js';
import type { TaskHandlers } from '../task.js';

/** VDF tasks run by the pool's workers (src/vdf/pool-vdf.ts sends them): names are `vdf.*`. */
export const vdfHandlers: TaskHandlers = {
  /** y and the checkpoints for x, T; cancellation terminates the worker (see poolVdfEvaluate). */
  'vdf.evaluate': (payload, wasm): EvaluateResult => {
    const { x, t, plan } = parseEvaluatePayload(payload);
    const e = wasmVdfFor(wasm).evaluate(x, t, plan);
    return { y: encodeElement(e.y), checkpoints: e.checkpoints };
  },

  /**
   * ℓ = HashToPrime(x, y, T), the challenge every share of π needs: a SHA-256 and a primality test
   * per candidate, ~10 ms that stalled the coordinator's event loop when it ran there.
   */
  'vdf.challenge': (payload): bigint => {
    const { x, y, t } = parseChallengePayload(payload);
    return hashToPrime(x, y, t);
  },

  /** One worker's share of π (normal form, not yet canonical). */
  'vdf.provePartial': (payload, wasm): bigint => {
    const p = parseProvePartialPayload(payload);
    return wasmVdfFor(wasm).provePartial(p.checkpoints, p.first, p.count, p.t, p.l, p.plan);
  },

  /** Verification; bad payloads are `false`, like the inline verifier. */
  'vdf.verify': (payload, wasm): boolean => {
    const p = (payload ?? {}) as Partial<VerifyPayload>;
    return vdfVerifyWith(wasmVdfFor(wasm), p.x, p.y, p.proof, p.t);
  },
};
