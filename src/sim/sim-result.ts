import { type Percentiles, percentiles } from './stats.js';
import type { TxUniverse } from './transactions.js';

/** The figures one run prints (`timecoin sim --json`). Times are virtual milliseconds. */
export interface SimResult {
  seed: number;
  nodes: number;
  byzantineNodes: number;
  /** Byzantine share of the total weight, in percent. */
  byzantineWeightPct: number;
  strategy: string;
  /** Conflicting pairs, multi-input chains (and their length), ordinary transactions. */
  conflicts: number;
  chains: number;
  chainLength: number;
  txs: number;
  /**
   * Conflict groups (pairs and chains) in which honest nodes — one or several, up or down —
   * accepted two different transactions spending one outpoint.
   */
  safetyViolations: number;
  /**
   * Transactions some honest, up node had not decided when the run ended: neither accepted nor
   * rejected it, nor accepted a transaction conflicting with it.
   */
  unfinalized: number;
  /** Of those, ordinary transactions (the ones Snowball must always finalize). */
  unfinalizedNonConflicting: number;
  /** Conflicting pairs every honest, up node decided (one member accepted), without a violation. */
  conflictsResolved: number;
  /** Per conflicting pair: the member (0/1) honest nodes accepted, -1 if none did, -2 if both were. */
  conflictWinners: number[];
  /** Chains every member of which every honest, up node decided, without a violation. */
  chainsResolved: number;
  /** Polls a transaction was counted in before its acceptance, per (honest node, accepted tx). */
  rounds: Percentiles;
  /** Injection to acceptance, per (honest node, accepted tx). */
  latencyMs: Percentiles;
  /** The same two figures for ordinary transactions only. */
  nonConflicting: { rounds: Percentiles; latencyMs: Percentiles; accepted: number; expected: number };
  /** Times an honest node benched a validator that kept timing out. */
  benchings: number;
  /** The most weight one honest node had benched at once, in percent of the total weight. */
  maxBenchedWeightPct: number;
  /** Conflict sets reopened in honest engines because the member they were finalized on was rejected. */
  reopenedSets: number;
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
    readonly chains: number;
    readonly chainLength: number;
    readonly txs: number;
    readonly weights: readonly number[];
  };
  readonly universe: TxUniverse;
  readonly txCount: number;
  readonly injectedAt: Float64Array;
  readonly acceptedAt: Float64Array;
  readonly rejected: Uint8Array;
  readonly roundsOf: Int32Array;
  readonly messages: number;
  readonly benchings: number;
  readonly maxBenchedWeight: number;
  readonly now: number;
  isHonest(node: number): boolean;
  isUp(node: number): boolean;
  reopenedTotal(): number;
}

/** Rounds to acceptance of every (honest node, accepted ordinary transaction). */
export function ordinaryRounds(sim: SimOutcome): number[] {
  const out: number[] = [];
  for (let n = 0; n < sim.o.nodes; n++) {
    if (!sim.isHonest(n)) continue;
    for (let t = sim.universe.firstOrdinary; t < sim.txCount; t++)
      if (sim.acceptedAt[n * sim.txCount + t]! >= 0) out.push(sim.roundsOf[n * sim.txCount + t]!);
  }
  return out;
}

export function summarize(sim: SimOutcome): SimResult {
  const { o, txCount, universe: u } = sim;
  const honest: number[] = [];
  let byzWeight = 0;
  let total = 0;
  for (let n = 0; n < o.nodes; n++) {
    total += o.weights[n]!;
    if (sim.isHonest(n)) honest.push(n);
    else byzWeight += o.weights[n]!;
  }
  const live = honest.filter((n) => sim.isUp(n));
  const accepted = (n: number, t: number) => sim.acceptedAt[n * txCount + t]! >= 0;
  const rounds: number[] = [];
  const latency: number[] = [];
  const ncRounds: number[] = [];
  const ncLatency: number[] = [];
  for (const n of honest)
    for (let t = 0; t < txCount; t++) {
      if (!accepted(n, t)) continue;
      const r = sim.roundsOf[n * txCount + t]!;
      const l = sim.acceptedAt[n * txCount + t]! - sim.injectedAt[t]!;
      rounds.push(r);
      latency.push(l);
      if (t >= u.firstOrdinary) {
        ncRounds.push(r);
        ncLatency.push(l);
      }
    }
  // A transaction is decided at a node that accepted a rival, even if the node never saw it (a node
  // back from a crash learns only the winner).
  const decided = (n: number, t: number) =>
    accepted(n, t) || sim.rejected[n * txCount + t] === 1 || u.rivalsOf(t).some((r) => accepted(n, r));
  let unfinalized = 0;
  let unfinalizedNonConflicting = 0;
  for (let t = 0; t < txCount; t++)
    if (live.some((n) => !decided(n, t))) {
      unfinalized++;
      if (t >= u.firstOrdinary) unfinalizedNonConflicting++;
    }
  let safetyViolations = 0;
  let conflictsResolved = 0;
  let chainsResolved = 0;
  const conflictWinners: number[] = [];
  for (const g of u.groups) {
    const outpoints = new Set(g.txs.flatMap((t) => u.inputsOf[t]!));
    let violated = false;
    for (const p of outpoints) {
      const spentBy = u.spenders[p]!.filter((t) => honest.some((n) => accepted(n, t)));
      if (spentBy.length > 1) violated = true;
    }
    if (violated) safetyViolations++;
    const settled = !violated && g.txs.every((t) => live.every((n) => decided(n, t)));
    if (g.kind === 'pair') {
      const [a, b] = g.txs as [number, number];
      const tookA = honest.some((n) => accepted(n, a));
      const tookB = honest.some((n) => accepted(n, b));
      conflictWinners.push(tookA ? (tookB ? -2 : 0) : tookB ? 1 : -1);
      if (settled) conflictsResolved++;
    } else if (settled) chainsResolved++;
  }
  return {
    seed: o.seed,
    nodes: o.nodes,
    byzantineNodes: o.nodes - honest.length,
    byzantineWeightPct: Math.round((byzWeight * 10_000) / total) / 100,
    strategy: o.strategy,
    conflicts: o.conflicts,
    chains: o.chains,
    chainLength: o.chainLength,
    txs: o.txs,
    safetyViolations,
    unfinalized,
    unfinalizedNonConflicting,
    conflictsResolved,
    conflictWinners,
    chainsResolved,
    rounds: percentiles(rounds),
    latencyMs: percentiles(latency),
    nonConflicting: {
      rounds: percentiles(ncRounds),
      latencyMs: percentiles(ncLatency),
      accepted: ncRounds.length,
      expected: o.txs * live.length,
    },
    benchings: sim.benchings,
    maxBenchedWeightPct: Math.round((sim.maxBenchedWeight * 10_000) / total) / 100,
    reopenedSets: sim.reopenedTotal(),
    messages: sim.messages,
    endMs: sim.now,
  };
}
