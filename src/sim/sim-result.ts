import { type Percentiles, percentiles } from './stats.js';

/** The figures one run prints (`timecoin sim --json`). Times are virtual milliseconds. */
export interface SimResult {
  seed: number;
  nodes: number;
  byzantineNodes: number;
  /** Byzantine share of the total weight, in percent. */
  byzantineWeightPct: number;
  strategy: string;
  conflicts: number;
  txs: number;
  /** Conflicting pairs for which two honest nodes accepted different members. */
  safetyViolations: number;
  /**
   * Transactions some honest, up node had not decided when the run ended: neither accepted nor
   * rejected it, nor (for a conflicting one) accepted its rival.
   */
  unfinalized: number;
  /** Of those, non-conflicting transactions (the ones Snowball must always finalize). */
  unfinalizedNonConflicting: number;
  /** Conflicting pairs every honest, up node decided the same way. */
  conflictsResolved: number;
  /** Per conflicting pair: the member (0/1) honest nodes accepted, -1 if none did, -2 if both were. */
  conflictWinners: number[];
  /** Polls a transaction was counted in before its acceptance, per (honest node, accepted tx). */
  rounds: Percentiles;
  /** Injection to acceptance, per (honest node, accepted tx). */
  latencyMs: Percentiles;
  /** The same two figures for non-conflicting transactions only. */
  nonConflicting: { rounds: Percentiles; latencyMs: Percentiles; accepted: number; expected: number };
  messages: number;
  /** Virtual time of the last event processed. */
  endMs: number;
}

/** The slice of a finished Simulation that the summary reads. */
export interface SimOutcome {
  readonly o: {
    readonly seed: number;
    readonly nodes: number;
    readonly strategy: string;
    readonly conflicts: number;
    readonly txs: number;
    readonly weights: readonly number[];
  };
  readonly txCount: number;
  readonly injectedAt: Float64Array;
  readonly acceptedAt: Float64Array;
  readonly rejected: Uint8Array;
  readonly roundsOf: Int32Array;
  readonly messages: number;
  readonly now: number;
  isHonest(node: number): boolean;
  isUp(node: number): boolean;
}

export function summarize(sim: SimOutcome): SimResult {
  const { o, txCount } = sim;
  const honest: number[] = [];
  let byzWeight = 0;
  let total = 0;
  for (let n = 0; n < o.nodes; n++) {
    total += o.weights[n]!;
    if (sim.isHonest(n)) honest.push(n);
    else byzWeight += o.weights[n]!;
  }
  const live = honest.filter((n) => sim.isUp(n));
  const rounds: number[] = [];
  const latency: number[] = [];
  const ncRounds: number[] = [];
  const ncLatency: number[] = [];
  const firstConflictFree = 2 * o.conflicts;
  for (const n of honest)
    for (let t = 0; t < txCount; t++) {
      const at = sim.acceptedAt[n * txCount + t]!;
      if (at < 0) continue;
      const r = sim.roundsOf[n * txCount + t]!;
      const l = at - sim.injectedAt[t]!;
      rounds.push(r);
      latency.push(l);
      if (t >= firstConflictFree) {
        ncRounds.push(r);
        ncLatency.push(l);
      }
    }
  let unfinalized = 0;
  let unfinalizedNonConflicting = 0;
  // A conflicting member is decided at a node that accepted its rival, even if the node never saw
  // it (a node back from a crash learns only the winner).
  const decided = (n: number, t: number) =>
    sim.acceptedAt[n * txCount + t]! >= 0 ||
    sim.rejected[n * txCount + t] === 1 ||
    (t < firstConflictFree && sim.acceptedAt[n * txCount + (t ^ 1)]! >= 0);
  for (let t = 0; t < txCount; t++)
    if (live.some((n) => !decided(n, t))) {
      unfinalized++;
      if (t >= firstConflictFree) unfinalizedNonConflicting++;
    }
  let safetyViolations = 0;
  let conflictsResolved = 0;
  const conflictWinners: number[] = [];
  const accepted = (n: number, t: number) => sim.acceptedAt[n * txCount + t]! >= 0;
  for (let c = 0; c < o.conflicts; c++) {
    const took0 = honest.some((n) => accepted(n, 2 * c));
    const took1 = honest.some((n) => accepted(n, 2 * c + 1));
    conflictWinners.push(took0 ? (took1 ? -2 : 0) : took1 ? 1 : -1);
    if (took0 && took1) safetyViolations++;
    else if (live.every((n) => accepted(n, 2 * c) || accepted(n, 2 * c + 1))) conflictsResolved++;
  }
  return {
    seed: o.seed,
    nodes: o.nodes,
    byzantineNodes: o.nodes - honest.length,
    byzantineWeightPct: Math.round((byzWeight * 10_000) / total) / 100,
    strategy: o.strategy,
    conflicts: o.conflicts,
    txs: o.txs,
    safetyViolations,
    unfinalized,
    unfinalizedNonConflicting,
    conflictsResolved,
    conflictWinners,
    rounds: percentiles(rounds),
    latencyMs: percentiles(latency),
    nonConflicting: {
      rounds: percentiles(ncRounds),
      latencyMs: percentiles(ncLatency),
      accepted: ncRounds.length,
      expected: o.txs * live.length,
    },
    messages: sim.messages,
    endMs: sim.now,
  };
}
