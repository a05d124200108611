import { Benchlist } from '../consensus/snowball/benchlist.js';
import { SnowballEngine } from '../consensus/snowball/engine.js';
import { Vote } from '../consensus/snowball/poll.js';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { pollPool, StakeSampler, type WeightedValidator } from '../consensus/snowball/sampler.js';
import { type AdversaryView, byzantineVotes } from './byzantine.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';
import { type ResolvedOptions, resolveOptions, type SimOptions } from './scenario.js';
import { pickByzantine, planInjections } from './setup.js';
import { type SimResult, summarize } from './sim-result.js';
import { TxUniverse, txIndex } from './transactions.js';

/** Simulator events; `tx` values are transaction indices (see TxUniverse). */
type SimEvent =
  | { k: 'tx'; node: number; tx: number }
  | { k: 'getTx'; from: number; to: number; tx: number }
  | { k: 'syncReq'; from: number; to: number }
  | { k: 'syncResp'; to: number; txs: number[] }
  | { k: 'req'; from: number; to: number; life: number; id: number; txs: number[] }
  | { k: 'resp'; from: number; to: number; life: number; id: number; votes: Uint8Array }
  | { k: 'timeout'; node: number; life: number; id: number }
  | { k: 'retry'; node: number }
  | { k: 'crash'; node: number; restart: boolean }
  | { k: 'recover'; node: number };

interface SimNode {
  readonly id: string;
  readonly byzantine: boolean;
  /** Replaced by a fresh one when the node restarts (honest nodes only). */
  engine: SnowballEngine | null;
  bench: Benchlist | null;
  readonly rng: Xoshiro128;
  up: boolean;
  /** Down because the process stopped: it comes back with empty memory. */
  restarting: boolean;
  retryPending: boolean;
  /**
   * Incremented at every crash. Poll traffic carries the poller's life, so answers and timers from
   * before a crash never meet the polls of the next life (a restarted engine reuses request ids).
   */
  life: number;
  /** Poll requests sent and not yet timed out: validator indices that have not answered. */
  readonly requests: Map<number, Set<number>>;
}

/**
 * A deterministic in-process network of Snowball engines in virtual time: per-link latency, loss,
 * crashes and restarts, Byzantine voters. Honest nodes drive their engine as the coordinator will:
 * they poll a sample drawn by `pollPool` from the connected validators minus the ones their
 * benchlist holds, count every answer as a response and every request unanswered at the poll
 * timeout as a failure, and keep a "ledger" (the transactions they accepted) that survives restarts
 * and refuses any transaction conflicting with it.
 */
export class Simulation implements AdversaryView {
  readonly o: ResolvedOptions;
  readonly universe: TxUniverse;
  private readonly q = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly idToIndex = new Map<string, number>();
  private readonly validators: WeightedValidator[];
  private readonly net: SimNetwork;
  private readonly setupRng: Xoshiro128;
  readonly txCount: number;
  /** Virtual time of the first injection of each transaction. */
  readonly injectedAt: Float64Array;
  /** Per (node, tx): virtual time of acceptance, -1 if not accepted. Persisted across restarts. */
  readonly acceptedAt: Float64Array;
  readonly rejected: Uint8Array;
  readonly roundsOf: Int32Array;
  /** Per (node, conflicting tx): whether the node votes yes for it; and honest totals per tx. */
  private readonly nodePref: Uint8Array;
  private readonly prefCount: Int32Array;
  /** Contested inputs (outpoints with several spenders) of each transaction. */
  private readonly contested: number[][];
  /** Over the validators that are up (connected); null while none is. */
  private sampler: StakeSampler | null = null;
  private readonly totalWeight: number;
  now = 0;
  messages = 0;
  /** Times an honest node benched a validator, and the most weight one node had benched at once. */
  benchings = 0;
  maxBenchedWeight = 0;
  /** Conflict sets reopened in honest engines (their finalized member was rejected), restarts included. */
  reopenedSets = 0;
  /** Honest (node, ordinary tx) pairs decided so far, and when anything was last decided. */
  private ordinaryDecided = 0;
  private lastDecisionAt = 0;

  constructor(options: SimOptions) {
    const o = resolveOptions(options);
    this.o = o;
    const master = new Xoshiro128(o.seed);
    this.net = new SimNetwork(
      o.nodes,
      { meanMs: o.latencyMs.mean, jitterMs: o.latencyMs.jitter, lossPpm: Math.round(o.loss * 1e6) },
      master.fork(),
    );
    this.setupRng = master.fork();
    this.universe = new TxUniverse(o, master.fork());
    const byz = new Set(o.byzantineNodes ?? pickByzantine(o.weights, o.byzantineFraction, this.setupRng));
    this.validators = o.weights.map((weight, i) => ({ id: nodeId(i), weight }));
    for (let i = 0; i < o.nodes; i++) {
      const b = byz.has(i);
      this.nodes.push({
        id: nodeId(i),
        byzantine: b,
        engine: b ? null : new SnowballEngine(o.params),
        bench: b || o.benchlist === null ? null : new Benchlist(this.validators, o.benchlist),
        rng: master.fork(),
        up: true,
        restarting: false,
        retryPending: false,
        life: 0,
        requests: new Map(),
      });
      this.idToIndex.set(nodeId(i), i);
    }
    this.totalWeight = o.weights.reduce((s, w) => s + w, 0);
    this.txCount = this.universe.count;
    const u = this.universe;
    this.contested = u.inputsOf.map((ins) => ins.filter((p) => u.spenders[p]!.length > 1));
    const cells = o.nodes * this.txCount;
    this.injectedAt = new Float64Array(this.txCount).fill(-1);
    this.acceptedAt = new Float64Array(cells).fill(-1);
    this.rejected = new Uint8Array(cells);
    this.roundsOf = new Int32Array(cells);
    this.nodePref = new Uint8Array(o.nodes * u.firstOrdinary);
    this.prefCount = new Int32Array(u.firstOrdinary);
    this.refreshConnectivity();
    // Crashes first: a crash at time t happens before anything else scheduled for t.
    for (const c of o.crashes) {
      this.q.push(c.atMs, { k: 'crash', node: c.node, restart: c.restart === true });
      if (c.recoverAtMs !== undefined) this.q.push(c.recoverAtMs, { k: 'recover', node: c.node });
    }
    const honest = this.nodes.flatMap((n, i) => (n.byzantine ? [] : [i]));
    for (const { tx, atMs, node } of planInjections(o, u, honest, this.setupRng)) {
      if (this.injectedAt[tx]! < 0) this.injectedAt[tx] = atMs;
      this.q.push(atMs, { k: 'tx', node, tx });
    }
  }

  /** Runs to quiescence or maxTimeMs and summarizes. */
  run(): SimResult {
    const { stallMs, maxTimeMs } = this.o;
    const honestPairs = this.nodes.filter((n) => !n.byzantine).length * this.o.txs;
    while (this.q.size > 0 && this.q.peekTime() <= maxTimeMs) {
      this.now = this.q.peekTime();
      this.handle(this.q.pop()!);
      if (stallMs > 0 && this.ordinaryDecided === honestPairs && this.now - this.lastDecisionAt > stallMs)
        break;
    }
    return summarize(this);
  }

  /** A node's Snowball engine (null for a Byzantine node), for tests that look inside. */
  engineOf(n: number): SnowballEngine | null {
    return this.nodes[n]!.engine;
  }

  isHonest(n: number): boolean {
    return !this.nodes[n]!.byzantine;
  }
  isUp(n: number): boolean {
    return this.nodes[n]!.up;
  }

  contestedInputsOf(tx: number): readonly number[] {
    return this.contested[tx]!;
  }
  spendersOf(outpoint: number): readonly number[] {
    return this.universe.spenders[outpoint]!;
  }
  honestPreferring(tx: number): number {
    return tx < this.universe.firstOrdinary ? this.prefCount[tx]! : 0;
  }

  private send(from: number, to: number, ev: SimEvent): void {
    if (from !== to) this.messages++;
    const d = this.net.delay(from, to);
    if (d >= 0) this.q.push(this.now + d, ev);
  }

  private handle(ev: SimEvent): void {
    switch (ev.k) {
      case 'tx':
        this.learn(ev.node, ev.tx);
        break;
      case 'getTx':
        if (this.nodes[ev.to]!.up) this.send(ev.to, ev.from, { k: 'tx', node: ev.from, tx: ev.tx });
        break;
      case 'req':
        this.answer(ev.from, ev.to, ev.life, ev.id, ev.txs);
        break;
      case 'resp':
        if (ev.life === this.nodes[ev.to]!.life) this.response(ev.to, ev.from, ev.id, ev.votes);
        break;
      case 'timeout':
        if (ev.life === this.nodes[ev.node]!.life) this.timeout(ev.node, ev.id);
        break;
      case 'retry':
        this.nodes[ev.node]!.retryPending = false;
        this.pump(ev.node);
        break;
      case 'crash': {
        const n = this.nodes[ev.node]!;
        n.up = false;
        n.restarting = ev.restart;
        n.life++;
        for (const id of n.requests.keys()) n.engine?.cancelPoll(id);
        n.requests.clear();
        this.refreshConnectivity();
        break;
      }
      case 'recover':
        this.recover(ev.node);
        break;
      case 'syncReq': {
        const peer = this.nodes[ev.to]!;
        if (!peer.up || peer.byzantine) break;
        const known: number[] = [];
        for (let t = 0; t < this.txCount; t++)
          if (
            this.acceptedAt[ev.to * this.txCount + t]! >= 0 ||
            peer.engine!.statusOf(this.universe.txids[t]!) === 'processing'
          )
            known.push(t);
        this.send(ev.to, ev.from, { k: 'syncResp', to: ev.from, txs: known });
        break;
      }
      case 'syncResp':
        for (const t of ev.txs) this.learn(ev.to, t);
        break;
    }
  }

  /**
   * Back online. A restarted node starts with an empty engine and benchlist; either way it missed
   * the gossip while it was away, and polls alone would only ever ask it about the transactions it
   * already knows, so like the real node's mempool sync on reconnect it asks a few peers for the
   * transactions they are processing or have accepted.
   */
  private recover(node: number): void {
    const n = this.nodes[node]!;
    n.up = true;
    if (n.restarting && !n.byzantine) {
      this.reopenedSets += n.engine!.reopenedCount;
      n.engine = new SnowballEngine(this.o.params);
      n.bench = this.o.benchlist === null ? null : new Benchlist(this.validators, this.o.benchlist);
      n.restarting = false;
      this.collect(node);
    }
    this.refreshConnectivity();
    for (let i = 0; i < 3; i++) {
      const peer = n.rng.below(this.o.nodes);
      if (peer !== node) this.send(node, peer, { k: 'syncReq', from: node, to: peer });
    }
    this.pump(node);
  }

  /**
   * A node receives a transaction (injection, gossip or fetch). Like the node's mempool it first asks
   * its ledger: a transaction it accepted is not added again, one conflicting with a transaction it
   * accepted is refused (that is its rejection); otherwise Snowball starts and it gossips on.
   */
  private learn(node: number, tx: number): void {
    const n = this.nodes[node]!;
    if (!n.up || n.byzantine) return;
    const e = n.engine!;
    const txid = this.universe.txids[tx]!;
    const base = node * this.txCount;
    if (this.acceptedAt[base + tx]! >= 0 || e.statusOf(txid) !== 'unknown') return;
    if (this.ledgerRefuses(node, tx)) {
      this.rejected[base + tx] = 1;
      return;
    }
    e.add(txid, this.universe.keys[tx]!);
    this.collect(node);
    if (this.o.gossipFanout >= this.o.nodes - 1) {
      for (let peer = 0; peer < this.o.nodes; peer++)
        if (peer !== node) this.send(node, peer, { k: 'tx', node: peer, tx });
    } else
      for (let i = 0; i < this.o.gossipFanout; i++) {
        const peer = n.rng.below(this.o.nodes);
        if (peer !== node) this.send(node, peer, { k: 'tx', node: peer, tx });
      }
    this.pump(node);
  }

  /** Whether the node accepted a transaction spending one of tx's outpoints. */
  private ledgerRefuses(node: number, tx: number): boolean {
    const base = node * this.txCount;
    for (const r of this.universe.rivalsOf(tx)) if (this.acceptedAt[base + r]! >= 0) return true;
    return false;
  }

  /** The node's answers: its ledger first (accepted: yes; conflicting with accepted: no), then its engine. */
  private answer(from: number, to: number, life: number, id: number, txs: number[]): void {
    const r = this.nodes[to]!;
    if (!r.up) return;
    let votes: Uint8Array | null;
    if (r.byzantine) votes = byzantineVotes(this.o.strategy, txs, this, to);
    else {
      votes = new Uint8Array(txs.length);
      const e = r.engine!;
      const base = to * this.txCount;
      for (let i = 0; i < txs.length; i++) {
        const t = txs[i]!;
        let v: Vote;
        if (this.acceptedAt[base + t]! >= 0) v = Vote.YES;
        else if (this.ledgerRefuses(to, t)) v = Vote.NO;
        else v = e.vote(this.universe.txids[t]!);
        votes[i] = v;
        // Unknown: the responder fetches it from the poller (GetTx, then Tx back).
        if (v === Vote.UNKNOWN) this.send(to, from, { k: 'getTx', from: to, to: from, tx: t });
      }
    }
    if (votes) this.send(to, from, { k: 'resp', from: to, to: from, life, id, votes });
  }

  /** An answer arrived: the responder is alive (even if the poll completed without it). */
  private response(node: number, from: number, id: number, votes: Uint8Array): void {
    const n = this.nodes[node]!;
    const waiting = n.up ? n.requests.get(id) : undefined;
    if (waiting === undefined || !waiting.delete(from)) return;
    n.bench?.recordResponse(this.nodes[from]!.id, this.now);
    if (n.engine!.recordResponse(id, this.nodes[from]!.id, votes)) this.afterPoll(node);
  }

  /** The poll timer: every request still unanswered is a failure; an open poll is applied. */
  private timeout(node: number, id: number): void {
    const n = this.nodes[node]!;
    const waiting = n.up ? n.requests.get(id) : undefined;
    if (waiting === undefined) return;
    n.requests.delete(id);
    for (const v of waiting)
      if (n.bench?.recordFailure(this.nodes[v]!.id, this.now)) {
        this.benchings++;
        this.maxBenchedWeight = Math.max(this.maxBenchedWeight, n.bench.benchedWeight(this.now));
      }
    if (n.engine!.timeoutPoll(id)) this.afterPoll(node);
  }

  private afterPoll(node: number): void {
    this.collect(node);
    this.pump(node);
  }

  /** Starts polls until `concurrentPolls` are in flight, if the pool of validators allows polling. */
  private pump(node: number): void {
    const n = this.nodes[node]!;
    if (!n.up || n.byzantine) return;
    const e = n.engine!;
    const { params, concurrentPolls, pollTimeoutMs } = this.o;
    while (e.pollsInFlight < concurrentPolls && e.processingCount > 0) {
      const sampler = this.sampler;
      const pool = sampler && pollPool(sampler, n.bench?.benched(this.now) ?? [], this.totalWeight, params);
      if (!sampler || !pool) {
        if (!n.retryPending) {
          n.retryPending = true;
          this.q.push(this.now + pollTimeoutMs, { k: 'retry', node });
        }
        return;
      }
      const req = e.startPoll(sampler.sample(params.k, n.rng, pool.excluded))!;
      const txs = req.txids.map(txIndex);
      const waiting = new Set<number>();
      for (const v of req.validators) {
        const to = this.idToIndex.get(v)!;
        waiting.add(to);
        this.send(node, to, { k: 'req', from: node, to, life: n.life, id: req.requestId, txs });
      }
      n.requests.set(req.requestId, waiting);
      this.q.push(this.now + pollTimeoutMs, { k: 'timeout', node, life: n.life, id: req.requestId });
    }
  }

  /** Records decisions and refreshes this node's yes votes on conflicting txs (the adversary's view). */
  private collect(node: number): void {
    const e = this.nodes[node]!.engine!;
    const d = e.takeDecided();
    const base = node * this.txCount;
    const first = this.universe.firstOrdinary;
    for (const t of d.accepted) {
      const i = txIndex(t);
      this.acceptedAt[base + i] = this.now;
      this.roundsOf[base + i] = e.pollCount(t);
      if (i >= first) this.ordinaryDecided++;
    }
    for (const t of d.rejected) this.rejected[base + txIndex(t)] = 1;
    if (d.accepted.length + d.rejected.length > 0) this.lastDecisionAt = this.now;
    for (let t = 0; t < first; t++) {
      const yes = this.acceptedAt[base + t]! >= 0 || e.preferred(this.universe.txids[t]!) ? 1 : 0;
      const slot = node * first + t;
      if (this.nodePref[slot] === yes) continue;
      this.prefCount[t]! += yes === 1 ? 1 : -1;
      this.nodePref[slot] = yes;
    }
  }

  private refreshConnectivity(): void {
    const up = this.validators.filter((_, i) => this.nodes[i]!.up);
    this.sampler = up.length > 0 ? new StakeSampler(up) : null;
  }

  /** Reopened sets over all honest engines, the current ones and those replaced by restarts. */
  reopenedTotal(): number {
    let n = this.reopenedSets;
    for (const node of this.nodes) if (node.engine) n += node.engine.reopenedCount;
    return n;
  }
}

function nodeId(i: number): string {
  return `node${String(i).padStart(5, '0')}`;
}

/** One seeded run. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
