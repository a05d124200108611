import { SnowballEngine } from '../consensus/snowball/engine.js';
import { Vote } from '../consensus/snowball/poll.js';
import { Xoshiro128 } from '../consensus/snowball/prng.js';
import { pollQuorumMet, StakeSampler } from '../consensus/snowball/sampler.js';
import { outpointKey } from '../protocol/tx-codec.js';
import { type AdversaryView, byzantineVotes } from './byzantine.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';
import { type ResolvedOptions, resolveOptions, type SimOptions } from './scenario.js';
import { pickByzantine, planInjections } from './setup.js';
import { type SimResult, summarize } from './sim-result.js';

/** Simulator events; `tx` values are transaction indices (conflict pair c is txs 2c and 2c+1). */
type SimEvent =
  | { k: 'tx'; node: number; tx: number }
  | { k: 'getTx'; from: number; to: number; tx: number }
  | { k: 'syncReq'; from: number; to: number }
  | { k: 'syncResp'; to: number; txs: number[] }
  | { k: 'req'; from: number; to: number; id: number; txs: number[] }
  | { k: 'resp'; from: number; to: number; id: number; votes: Uint8Array }
  | { k: 'timeout'; node: number; id: number }
  | { k: 'retry'; node: number }
  | { k: 'crash'; node: number }
  | { k: 'recover'; node: number };

interface SimNode {
  readonly id: string;
  readonly byzantine: boolean;
  readonly engine: SnowballEngine | null;
  readonly rng: Xoshiro128;
  up: boolean;
  retryPending: boolean;
  readonly inflight: Set<number>;
}

/** txid of transaction i: a fixed tag, then i as u32 big-endian in the last 4 bytes. */
function makeTxid(i: number): Uint8Array {
  const t = new Uint8Array(32);
  t.set([0x54, 0x49, 0x4d, 0x45]); // "TIME"
  new DataView(t.buffer).setUint32(28, i, false);
  return t;
}
function txIndex(txid: Uint8Array): number {
  return new DataView(txid.buffer, txid.byteOffset, 32).getUint32(28, false);
}

/**
 * A deterministic in-process network of Snowball engines in virtual time: per-link latency, loss,
 * crashes and Byzantine voters. Conflicting transactions come first (pair c = txs 2c, 2c+1 spending
 * one outpoint), then the non-conflicting ones, each with its own outpoint.
 */
export class Simulation implements AdversaryView {
  readonly o: ResolvedOptions;
  private readonly q = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly idToIndex = new Map<string, number>();
  private readonly net: SimNetwork;
  private readonly setupRng: Xoshiro128;
  private readonly txids: Uint8Array[] = [];
  private readonly keys: Uint8Array[] = [];
  readonly txCount: number;
  /** Virtual time of the first injection of each transaction. */
  readonly injectedAt: Float64Array;
  /** Per (node, tx): virtual time of acceptance, -1 if not accepted. */
  readonly acceptedAt: Float64Array;
  readonly rejected: Uint8Array;
  readonly roundsOf: Int32Array;
  /** Per (node, conflict): member the node prefers (0/1), -1 none; and honest totals per member. */
  private readonly nodePref: Int8Array;
  private readonly prefCount: Int32Array;
  private sampler!: StakeSampler;
  private connectedWeight = 0;
  private readonly totalWeight: number;
  now = 0;
  messages = 0;
  /** Honest (node, non-conflicting tx) pairs decided so far, and when anything was last decided. */
  private conflictFreeDecided = 0;
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
    const byz = new Set(o.byzantineNodes ?? pickByzantine(o.weights, o.byzantineFraction, this.setupRng));
    for (let i = 0; i < o.nodes; i++) {
      const id = `node${String(i).padStart(5, '0')}`;
      const b = byz.has(i);
      this.nodes.push({
        id,
        byzantine: b,
        engine: b ? null : new SnowballEngine(o.params),
        rng: master.fork(),
        up: true,
        retryPending: false,
        inflight: new Set(),
      });
      this.idToIndex.set(id, i);
    }
    this.totalWeight = o.weights.reduce((s, w) => s + w, 0);
    this.txCount = 2 * o.conflicts + o.txs;
    for (let i = 0; i < this.txCount; i++) {
      this.txids.push(makeTxid(i));
      const prev = makeTxid(0xffff_ffff - (i < 2 * o.conflicts ? i >>> 1 : i));
      this.keys.push(outpointKey({ txid: prev, vout: 0 }));
    }
    const cells = o.nodes * this.txCount;
    this.injectedAt = new Float64Array(this.txCount).fill(-1);
    this.acceptedAt = new Float64Array(cells).fill(-1);
    this.rejected = new Uint8Array(cells);
    this.roundsOf = new Int32Array(cells);
    this.nodePref = new Int8Array(o.nodes * o.conflicts).fill(-1);
    this.prefCount = new Int32Array(2 * o.conflicts);
    this.refreshConnectivity();
    // Crashes first: a crash at time t happens before anything else scheduled for t.
    for (const c of o.crashes) {
      this.q.push(c.atMs, { k: 'crash', node: c.node });
      if (c.recoverAtMs !== undefined) this.q.push(c.recoverAtMs, { k: 'recover', node: c.node });
    }
    const honest = this.nodes.flatMap((n, i) => (n.byzantine ? [] : [i]));
    for (const { tx, atMs, node } of planInjections(o, honest, this.setupRng)) {
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
      if (stallMs > 0 && this.conflictFreeDecided === honestPairs && this.now - this.lastDecisionAt > stallMs)
        break;
    }
    return summarize(this);
  }

  isHonest(n: number): boolean {
    return !this.nodes[n]!.byzantine;
  }
  isUp(n: number): boolean {
    return this.nodes[n]!.up;
  }

  conflictOf(tx: number): number {
    return tx < 2 * this.o.conflicts ? tx >>> 1 : -1;
  }
  memberOf(tx: number): number {
    return tx & 1;
  }
  honestPreferring(conflict: number, member: number): number {
    return this.prefCount[2 * conflict + member]!;
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
        this.answer(ev.from, ev.to, ev.id, ev.txs);
        break;
      case 'resp': {
        const n = this.nodes[ev.to]!;
        if (
          n.up &&
          n.inflight.has(ev.id) &&
          n.engine!.recordResponse(ev.id, this.nodes[ev.from]!.id, ev.votes)
        )
          this.afterPoll(ev.to, ev.id);
        break;
      }
      case 'timeout': {
        const n = this.nodes[ev.node]!;
        if (n.up && n.inflight.has(ev.id) && n.engine!.timeoutPoll(ev.id)) this.afterPoll(ev.node, ev.id);
        break;
      }
      case 'retry':
        this.nodes[ev.node]!.retryPending = false;
        this.pump(ev.node);
        break;
      case 'crash': {
        const n = this.nodes[ev.node]!;
        n.up = false;
        for (const id of n.inflight) n.engine?.cancelPoll(id);
        n.inflight.clear();
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
        for (let t = 0; t < this.txCount; t++) {
          const st = peer.engine!.statusOf(this.txids[t]!);
          if (st === 'processing' || st === 'accepted') known.push(t);
        }
        this.send(ev.to, ev.from, { k: 'syncResp', to: ev.from, txs: known });
        break;
      }
      case 'syncResp':
        for (const t of ev.txs) this.learn(ev.to, t);
        break;
    }
  }

  /**
   * Back online: the node missed the gossip while it was away, and polls alone would only ever ask
   * it about the transactions it already knows. Like the real node's mempool sync on reconnect, it
   * asks a few peers for the transactions they are processing or have accepted.
   */
  private recover(node: number): void {
    const n = this.nodes[node]!;
    n.up = true;
    this.refreshConnectivity();
    for (let i = 0; i < 3; i++) {
      const peer = n.rng.below(this.o.nodes);
      if (peer !== node) this.send(node, peer, { k: 'syncReq', from: node, to: peer });
    }
    this.pump(node);
  }

  /** A node receives a transaction (injection, gossip or fetch): Snowball starts, it gossips on. */
  private learn(node: number, tx: number): void {
    const n = this.nodes[node]!;
    if (!n.up || n.byzantine) return;
    const e = n.engine!;
    if (e.statusOf(this.txids[tx]!) !== 'unknown') return;
    e.add(this.txids[tx]!, [this.keys[tx]!]);
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

  private answer(from: number, to: number, id: number, txs: number[]): void {
    const r = this.nodes[to]!;
    if (!r.up) return;
    let votes: Uint8Array | null;
    if (r.byzantine) votes = byzantineVotes(this.o.strategy, txs, this, to);
    else {
      votes = new Uint8Array(txs.length);
      const e = r.engine!;
      for (let i = 0; i < txs.length; i++) {
        const v = e.vote(this.txids[txs[i]!]!);
        votes[i] = v;
        // Unknown: the responder fetches it from the poller (GetTx, then Tx back).
        if (v === Vote.UNKNOWN) this.send(to, from, { k: 'getTx', from: to, to: from, tx: txs[i]! });
      }
    }
    if (votes) this.send(to, from, { k: 'resp', from: to, to: from, id, votes });
  }

  private afterPoll(node: number, id: number): void {
    this.nodes[node]!.inflight.delete(id);
    this.collect(node);
    this.pump(node);
  }

  /** Starts polls until `concurrentPolls` are in flight, if the connected weight allows polling. */
  private pump(node: number): void {
    const n = this.nodes[node]!;
    if (!n.up || n.byzantine) return;
    const e = n.engine!;
    const { params, concurrentPolls, pollTimeoutMs } = this.o;
    while (e.pollsInFlight < concurrentPolls && e.processingCount > 0) {
      if (!pollQuorumMet(this.connectedWeight, this.totalWeight, params)) {
        if (!n.retryPending) {
          n.retryPending = true;
          this.q.push(this.now + pollTimeoutMs, { k: 'retry', node });
        }
        return;
      }
      const req = e.startPoll(this.sampler.sample(params.k, n.rng))!;
      const txs = req.txids.map(txIndex);
      n.inflight.add(req.requestId);
      for (const v of req.validators) {
        const to = this.idToIndex.get(v)!;
        this.send(node, to, { k: 'req', from: node, to, id: req.requestId, txs });
      }
      this.q.push(this.now + pollTimeoutMs, { k: 'timeout', node, id: req.requestId });
    }
  }

  /** Records decisions and refreshes this node's conflict preferences (the adversary's view). */
  private collect(node: number): void {
    const e = this.nodes[node]!.engine!;
    const d = e.takeDecided();
    const base = node * this.txCount;
    const firstConflictFree = 2 * this.o.conflicts;
    for (const t of d.accepted) {
      const i = txIndex(t);
      this.acceptedAt[base + i] = this.now;
      this.roundsOf[base + i] = e.pollCount(t);
      if (i >= firstConflictFree) this.conflictFreeDecided++;
    }
    for (const t of d.rejected) this.rejected[base + txIndex(t)] = 1;
    if (d.accepted.length + d.rejected.length > 0) this.lastDecisionAt = this.now;
    for (let c = 0; c < this.o.conflicts; c++) {
      const p = e.preferred(this.txids[2 * c]!) ? 0 : e.preferred(this.txids[2 * c + 1]!) ? 1 : -1;
      const slot = node * this.o.conflicts + c;
      const old = this.nodePref[slot]!;
      if (old === p) continue;
      if (old >= 0) this.prefCount[2 * c + old]!--;
      if (p >= 0) this.prefCount[2 * c + p]!++;
      this.nodePref[slot] = p;
    }
  }

  private refreshConnectivity(): void {
    const up = this.nodes.flatMap((n, i) => (n.up ? [{ id: n.id, weight: this.o.weights[i]! }] : []));
    this.connectedWeight = up.reduce((s, v) => s + v.weight, 0);
    if (up.length > 0) this.sampler = new StakeSampler(up);
  }
}

/** One seeded run. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
