import { type BenchlistConfig, DEFAULT_BENCHLIST_CONFIG } from '../consensus/snowball/benchlist.js';
import type { SnowballParams } from '../params/chain-params.js';
import { MAINNET } from '../params/networks.js';
import { CodedError } from '../util/coded-error.js';
import { type ByzantineStrategy, STRATEGIES } from './byzantine.js';

/** A node going down at `atMs` (virtual) and, optionally, coming back at `recoverAtMs`. */
export interface CrashSpec {
  readonly node: number;
  readonly atMs: number;
  readonly recoverAtMs?: number;
  /**
   * The process restarts: it comes back with an empty Snowball engine and benchlist, keeping only
   * what the real node persists — the transactions it accepted (its ledger). Without it the node was
   * merely cut off and keeps its memory.
   */
  readonly restart?: boolean;
}

/** Everything that defines one simulated run; with the same options and seed, the same result. */
export interface SimOptions {
  readonly nodes: number;
  /** Share of the total weight given to Byzantine nodes (chosen by a seeded shuffle), 0..1. */
  readonly byzantineFraction?: number;
  /** Explicit Byzantine node indices; overrides byzantineFraction. */
  readonly byzantineNodes?: readonly number[];
  readonly strategy?: ByzantineStrategy;
  /** Conflicting pairs: two transactions spending one outpoint, injected at two nodes at the same time. */
  readonly conflicts?: number;
  /**
   * Multi-input conflict chains (see TxUniverse): chain of length L = L two-input transactions
   * x_i(A_i, A_{i+1}) plus y_0(A_0) and y_L(A_L), all injected at different nodes at the same time.
   */
  readonly chains?: number;
  /** Two-input transactions per chain (default 1: the triangle t1(A, B), t2(A), t3(B)). */
  readonly chainLength?: number;
  /** Non-conflicting transactions, each injected at one random honest node. */
  readonly txs?: number;
  readonly seed?: number;
  readonly latencyMs?: { readonly mean: number; readonly jitter: number };
  /** Message loss probability, 0..1. */
  readonly loss?: number;
  /** Per-node sampling weights (e.g. tier weights 1/10/100/1000); default 1 each. */
  readonly weights?: readonly number[];
  /**
   * If set, every conflict group is instead injected at time 0 at ALL honest nodes: a pair's member
   * 0 at this share of them and member 1 at the rest (e.g. 0.55 for a 55/45 split); a chain's
   * members each at an equal share.
   */
  readonly conflictSplit?: number;
  readonly params?: SnowballParams;
  /** How honest nodes bench validators that time out on their polls; null = no benching. */
  readonly benchlist?: BenchlistConfig | null;
  readonly pollTimeoutMs?: number;
  readonly concurrentPolls?: number;
  /**
   * Random peers a node forwards a newly learned transaction to; default: every other node (flood
   * with dedup, as the node's gossip does). Partial gossip can strand a node that only knows the
   * losing spend of an outpoint: polls then only ever ask it about that spend, everyone answers no,
   * and nothing tells it about the winner.
   */
  readonly gossipFanout?: number;
  /** Non-conflicting transactions and conflicting pairs are injected at times uniform in [0, window]. */
  readonly injectWindowMs?: number;
  /** The run stops at this virtual time even if work remains (what is undecided then is `unfinalized`). */
  readonly maxTimeMs?: number;
  /**
   * Stop early once every non-conflicting transaction is decided at every honest node and no honest
   * node has decided anything for this long (a balance attack holding a conflict undecided would
   * otherwise poll until maxTimeMs). Undecided conflicts then count as unfinalized. 0 = never.
   * Not for runs with crashes.
   */
  readonly stallMs?: number;
  readonly crashes?: readonly CrashSpec[];
}

export type ResolvedOptions = Required<Omit<SimOptions, 'byzantineNodes' | 'conflictSplit' | 'benchlist'>> &
  Pick<SimOptions, 'byzantineNodes' | 'conflictSplit'> & { readonly benchlist: BenchlistConfig | null };

export class SimOptionsError extends CodedError<'SIM_OPTIONS_INVALID'> {}

/**
 * Fills defaults (mainnet Snowball k/α/β, 1 s poll timeout, 4 polls in flight, the node's default
 * benchlist) and checks ranges.
 */
export function resolveOptions(o: SimOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    nodes: o.nodes,
    byzantineFraction: o.byzantineFraction ?? 0,
    byzantineNodes: o.byzantineNodes,
    strategy: o.strategy ?? 'silent',
    conflicts: o.conflicts ?? 1,
    chains: o.chains ?? 0,
    chainLength: o.chainLength ?? 1,
    txs: o.txs ?? 10,
    seed: o.seed ?? 1,
    latencyMs: o.latencyMs ?? { mean: 50, jitter: 20 },
    loss: o.loss ?? 0,
    weights: o.weights ?? new Array<number>(o.nodes).fill(1),
    conflictSplit: o.conflictSplit,
    params: o.params ?? MAINNET.snowball,
    benchlist: o.benchlist === undefined ? DEFAULT_BENCHLIST_CONFIG : o.benchlist,
    pollTimeoutMs: o.pollTimeoutMs ?? MAINNET.pollTimeoutMs,
    concurrentPolls: o.concurrentPolls ?? MAINNET.concurrentPolls,
    gossipFanout: o.gossipFanout ?? o.nodes - 1,
    injectWindowMs: o.injectWindowMs ?? 1_000,
    maxTimeMs: o.maxTimeMs ?? 120_000,
    stallMs: o.stallMs ?? 0,
    crashes: o.crashes ?? [],
  };
  const bad = (what: string) => {
    throw new SimOptionsError('SIM_OPTIONS_INVALID', what);
  };
  const int = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!int(r.nodes, 2, 100_000)) bad(`nodes must be an integer in [2, 100000], got ${r.nodes}`);
  if (!(r.byzantineFraction >= 0 && r.byzantineFraction < 1)) bad('byzantine fraction must be in [0, 1)');
  if (!STRATEGIES.includes(r.strategy)) bad(`strategy must be one of ${STRATEGIES.join(', ')}`);
  if (!int(r.conflicts, 0, 100_000) || !int(r.txs, 0, 1_000_000) || !int(r.chains, 0, 100_000))
    bad('conflicts, chains and txs are non-negative integers');
  if (!int(r.chainLength, 1, 1_000)) bad('chain length is an integer in [1, 1000]');
  if (r.conflicts + r.chains + r.txs === 0) bad('nothing to decide: conflicts + chains + txs is 0');
  if (!int(r.seed, 0, Number.MAX_SAFE_INTEGER)) bad('seed must be a non-negative integer');
  if (!(int(r.latencyMs.mean, 0, 3_600_000) && int(r.latencyMs.jitter, 0, 3_600_000)))
    bad('latency mean and jitter are integer milliseconds');
  if (!(r.loss >= 0 && r.loss < 1)) bad('loss must be in [0, 1)');
  if (r.weights.length !== r.nodes || !r.weights.every((w) => int(w, 1, 1_000_000_000)))
    bad('one integer weight >= 1 per node');
  if (r.conflictSplit !== undefined && !(r.conflictSplit >= 0 && r.conflictSplit <= 1))
    bad('conflict split must be in [0, 1]');
  if (!int(r.pollTimeoutMs, 1, 3_600_000) || !int(r.concurrentPolls, 1, 64) || !int(r.gossipFanout, 0, 1_000))
    bad('poll timeout, concurrent polls and gossip fanout are positive integers');
  if (
    !int(r.injectWindowMs, 0, 3_600_000) ||
    !int(r.maxTimeMs, 1, 86_400_000) ||
    !int(r.stallMs, 0, 86_400_000)
  )
    bad('bad time window');
  for (const c of r.crashes)
    if (
      !int(c.node, 0, r.nodes - 1) ||
      !(c.atMs >= 0) ||
      (c.recoverAtMs !== undefined && !(c.recoverAtMs > c.atMs))
    )
      bad(`bad crash spec ${JSON.stringify(c)}`);
  if (r.byzantineNodes && !r.byzantineNodes.every((i) => int(i, 0, r.nodes - 1)))
    bad('bad byzantine node index');
  return r;
}
