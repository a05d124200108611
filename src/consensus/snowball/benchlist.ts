import { SnowballError } from './errors.js';
import type { WeightedValidator } from './sampler.js';

/** How eagerly validators that stop answering polls are benched (local policy, not consensus). */
export interface BenchlistConfig {
  /** Consecutive failures (poll requests that timed out, no answer in between) that bench a validator. */
  readonly failureThreshold: number;
  /** Length of a first bench. Each further bench with no answer since the previous one doubles it… */
  readonly minBenchMs: number;
  /** …up to this. */
  readonly maxBenchMs: number;
  /**
   * Most weight benched at once, in percent of the active weight. Once reached, nobody more is
   * benched until a bench ends: benching can never remove more than this share of the honest stake
   * from our samples, whoever makes it fail to answer.
   */
  readonly maxBenchedPercent: number;
}

/**
 * Three timeouts in a row is not bad luck on a healthy link (with 1 % message loss, 1 in 10^5);
 * 30 s, doubling to 10 min (one mainnet slot), keeps a dead-but-connected validator out of almost
 * every poll while letting a recovered one back within a minute; 20 % is the most Byzantine weight
 * the soak runs against, so a silent attacker of that size is benched whole.
 */
export const DEFAULT_BENCHLIST_CONFIG: BenchlistConfig = Object.freeze({
  failureThreshold: 3,
  minBenchMs: 30_000,
  maxBenchMs: 600_000,
  maxBenchedPercent: 20,
});

/**
 * Which validators a node leaves out of its poll samples because they keep failing to answer
 * (avalanchego snow/networking/benchlist, with consecutive failures and a doubling back-off instead
 * of its failure-rate average). Pure: time is injected as milliseconds, and every piece of state is
 * one slot per validator of the active set, so nothing grows with traffic.
 *
 * The node calls `recordResponse` for every answer to one of its poll requests (even one that
 * arrives after the poll completed) and `recordFailure` for every request still unanswered at the
 * poll timeout; before each poll it passes `benched(now)` to `pollPool`.
 *
 * Per validator: `failures` counts timeouts since its last answer; at `failureThreshold` it is
 * benched until now + min(minBenchMs · 2^strikes, maxBenchMs), where `strikes` counts its benches
 * since its last answer. An answer resets both. A validator on probation — it has not answered
 * since the benchlist started or since its last bench began — is benched at its first failure: a
 * few timeouts in a row earn the benefit of the doubt only after it has shown it answers (so a
 * silent validator costs one timeout per bench, not three, and one with 1 % message loss is not
 * benched for bad luck once it answered). Failures of requests sent before a bench began and timing
 * out during it are not counted again. If benching it would lift the benched weight above
 * `maxBenchedPercent` of the active weight, it is not benched (its failures keep counting, so it is
 * benched at its next failure after room frees up).
 */
export class Benchlist {
  private ids: string[] = [];
  private indexById = new Map<string, number>();
  private weights: number[] = [];
  private failures: number[] = [];
  private strikes: number[] = [];
  private benchedUntil: number[] = [];
  /** 1 once the validator answered since this benchlist started or since its last bench began. */
  private answered: number[] = [];
  private activeWeight = 0;

  constructor(
    validators: readonly WeightedValidator[],
    readonly config: BenchlistConfig = DEFAULT_BENCHLIST_CONFIG,
  ) {
    const { failureThreshold, minBenchMs, maxBenchMs, maxBenchedPercent } = config;
    const bad = (what: string) => {
      throw new SnowballError('INVALID_BENCHLIST_CONFIG', what, { ...config });
    };
    if (!(Number.isSafeInteger(failureThreshold) && failureThreshold >= 1)) bad('failureThreshold >= 1');
    if (!(Number.isSafeInteger(minBenchMs) && minBenchMs >= 1)) bad('minBenchMs >= 1');
    if (!(Number.isSafeInteger(maxBenchMs) && maxBenchMs >= minBenchMs)) bad('maxBenchMs >= minBenchMs');
    if (!(Number.isInteger(maxBenchedPercent) && maxBenchedPercent >= 0 && maxBenchedPercent < 100))
      bad('maxBenchedPercent is an integer in [0, 100)');
    this.setValidators(validators);
  }

  /**
   * The active set changed: state is kept for validators still in it and dropped for the others,
   * so the benchlist never holds more than one slot per current validator.
   */
  setValidators(validators: readonly WeightedValidator[]): void {
    const sorted = [...validators].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const old = {
      indexById: this.indexById,
      failures: this.failures,
      strikes: this.strikes,
      until: this.benchedUntil,
      answered: this.answered,
    };
    this.ids = [];
    this.indexById = new Map();
    this.weights = [];
    this.failures = [];
    this.strikes = [];
    this.benchedUntil = [];
    this.answered = [];
    let total = 0;
    for (const v of sorted) {
      if (typeof v.id !== 'string' || v.id.length === 0 || this.indexById.has(v.id))
        throw new SnowballError(
          'INVALID_VALIDATORS',
          `validator id ${JSON.stringify(v.id)} is empty or repeated`,
        );
      if (!(Number.isSafeInteger(v.weight) && v.weight >= 1))
        throw new SnowballError('INVALID_VALIDATORS', `validator ${v.id} has weight ${v.weight}`);
      total += v.weight;
      if (!Number.isSafeInteger(total))
        throw new SnowballError('INVALID_VALIDATORS', 'total weight exceeds 2^53 - 1');
      const was = old.indexById.get(v.id);
      this.indexById.set(v.id, this.ids.length);
      this.ids.push(v.id);
      this.weights.push(v.weight);
      this.failures.push(was === undefined ? 0 : old.failures[was]!);
      this.strikes.push(was === undefined ? 0 : old.strikes[was]!);
      this.benchedUntil.push(was === undefined ? Number.NEGATIVE_INFINITY : old.until[was]!);
      this.answered.push(was === undefined ? 0 : old.answered[was]!);
    }
    this.activeWeight = total;
  }

  /** An answer arrived from `id`: it is alive, its failures and back-off are forgotten. */
  recordResponse(id: string, nowMs: number): void {
    checkTime(nowMs);
    const i = this.indexById.get(id);
    if (i === undefined) return;
    this.failures[i] = 0;
    this.strikes[i] = 0;
    this.answered[i] = 1;
  }

  /**
   * A request to `id` timed out unanswered. Returns true when this failure benched it. Unknown ids
   * are ignored (a validator that left the set, or the caller's stale id).
   */
  recordFailure(id: string, nowMs: number): boolean {
    checkTime(nowMs);
    const i = this.indexById.get(id);
    if (i === undefined || this.benchedUntil[i]! > nowMs) return false;
    const needed = this.answered[i] === 1 ? this.config.failureThreshold : 1;
    if (++this.failures[i]! < needed) return false;
    const cap = BigInt(this.config.maxBenchedPercent) * BigInt(this.activeWeight);
    if (BigInt(this.benchedWeight(nowMs) + this.weights[i]!) * 100n > cap) return false;
    const { minBenchMs, maxBenchMs } = this.config;
    // 2^strikes stays exact: strikes stops growing once the doubling passed maxBenchMs.
    const length = Math.min(minBenchMs * 2 ** this.strikes[i]!, maxBenchMs);
    if (length < maxBenchMs) this.strikes[i]!++;
    this.benchedUntil[i] = nowMs + length;
    this.failures[i] = 0;
    this.answered[i] = 0;
    return true;
  }

  isBenched(id: string, nowMs: number): boolean {
    checkTime(nowMs);
    const i = this.indexById.get(id);
    return i !== undefined && this.benchedUntil[i]! > nowMs;
  }

  /** The validators benched at `nowMs`, sorted by id. */
  benched(nowMs: number): string[] {
    checkTime(nowMs);
    const out: string[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.benchedUntil[i]! > nowMs) out.push(this.ids[i]!);
    return out;
  }

  /** Total weight benched at `nowMs`. */
  benchedWeight(nowMs: number): number {
    checkTime(nowMs);
    let w = 0;
    for (let i = 0; i < this.ids.length; i++) if (this.benchedUntil[i]! > nowMs) w += this.weights[i]!;
    return w;
  }

  /** Snapshot for tests and RPC: `id:failures/strikes[@until]` per validator with any state. */
  toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      const until = this.benchedUntil[i]!;
      if (this.failures[i] === 0 && this.strikes[i] === 0 && until === Number.NEGATIVE_INFINITY) continue;
      parts.push(
        `${this.ids[i]}:${this.failures[i]}/${this.strikes[i]}${until === Number.NEGATIVE_INFINITY ? '' : `@${until}`}`,
      );
    }
    return `Benchlist(${parts.join(' ')})`;
  }
}

function checkTime(nowMs: number): void {
  if (!Number.isFinite(nowMs))
    throw new SnowballError('INVALID_TIME', `time ${nowMs} is not a finite number of ms`);
}
