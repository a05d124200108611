import type { SnowballEngine } from '../consensus/snowball/engine.js';
import { SnowballError } from '../consensus/snowball/errors.js';
import type { Rng } from '../consensus/snowball/prng.js';
import type { ChainParams } from '../params/chain-params.js';
import { AdaptiveTimeout } from './adaptive-timeout.js';
import type { NodeMetrics } from './node-metrics.js';
import type { ValidatorSet } from './validator-set.js';

/** How the poll loop reaches validators (P2pNode in the node, a loopback in unit tests). */
export interface PollTransport {
  /** Sends a PollRequest (txids packed, n × 32 bytes) and resolves with the votes, one byte per txid. */
  poll(peerId: string, txids: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

/** What the poll loop reports about validators' behaviour. */
export interface PollObserver {
  /** A request was answered in time (even after its poll completed early). */
  answered(validatorId: string, nowMs: number): void;
  /** A request got no answer within the poll timeout, or the peer left (feeds benching). */
  missed(validatorId: string, nowMs: number): void;
  /** An answer that cannot be right (wrong number of votes): the sender is scored. */
  malformed(validatorId: string, detail: string): void;
}

export interface PollerOptions {
  readonly params: ChainParams;
  readonly engine: SnowballEngine;
  readonly validators: ValidatorSet;
  readonly transport: PollTransport;
  readonly observer: PollObserver;
  readonly metrics: NodeMetrics;
  /** Our own answers when we sample ourselves (the same function that answers peers). */
  readonly selfVotes: (txids: Uint8Array) => Uint8Array;
  /** After each applied poll (the finalizer collects the engine's decisions). */
  readonly onApplied: () => void;
  readonly rng: Rng;
  readonly now: () => number;
  readonly minPollIntervalMs: number;
  /** While true no poll starts (finality halted: decisions could not be persisted). */
  readonly paused: () => boolean;
}

interface ActivePoll {
  readonly requestId: number;
  readonly timer: NodeJS.Timeout;
  readonly txidCount: number;
  /** Sampled validators (distinct) whose answer has not arrived. */
  readonly waiting: Set<string>;
  /** Its timer fired: counted as timed out, never again as answered when the engine applies it. */
  timedOut: boolean;
}

/** Re-check interval while idle for reasons no event announces (pacing, bench expiry). */
const HEARTBEAT_MS = 100;

/**
 * The longest a poll waits, as a multiple of the network's pollTimeoutMs (the shortest): devnet
 * 250 ms → 2 s. A request is answered-or-missed at this ceiling, whatever the poll's own timeout,
 * so late answers still teach the timeout (and benching) what the round trip really is.
 */
export const POLL_TIMEOUT_CEILING_FACTOR = 8;

/**
 * The poll loop of docs/architecture.md ("How the coordinator drives it"): up to
 * `concurrentPolls` polls in flight; each draws k validators by stake weight with replacement from
 * the reachable, unbenched active masternodes (ValidatorSet), sends one PollRequest per distinct
 * validator, and is applied when every outcome is settled or at its timeout (missing answers
 * count as no): adaptive, from the observed round trips, between `pollTimeoutMs` and
 * POLL_TIMEOUT_CEILING_FACTOR × it (AdaptiveTimeout). No poll starts while the reachable weight is below α/k of the active weight.
 */
export class Poller {
  private readonly polls = new Map<number, ActivePoll>();
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private scheduled: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private stopped = false;
  /** The poll timeout, from the round trips we observe (never below params.pollTimeoutMs). */
  readonly timeout: AdaptiveTimeout;

  constructor(private readonly o: PollerOptions) {
    this.timeout = new AdaptiveTimeout(
      o.params.pollTimeoutMs,
      o.params.pollTimeoutMs * POLL_TIMEOUT_CEILING_FACTOR,
    );
    this.heartbeat = setInterval(() => this.wake(), HEARTBEAT_MS);
    this.heartbeat.unref?.();
  }

  get inFlight(): number {
    return this.polls.size;
  }

  /** Something changed (a transaction arrived, a peer connected, a poll finished): try to poll. */
  wake(): void {
    if (this.stopped || this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.fill();
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    if (this.scheduled) clearTimeout(this.scheduled);
    if (this.immediate) clearImmediate(this.immediate);
    for (const p of this.polls.values()) {
      clearTimeout(p.timer);
      this.o.engine.cancelPoll(p.requestId);
    }
    this.polls.clear();
  }

  private fill(): void {
    const { engine, params, validators } = this.o;
    while (!this.stopped && this.polls.size < params.concurrentPolls && engine.processingCount > 0) {
      if (this.o.paused()) return;
      const now = this.o.now();
      const wait = this.lastStartMs + this.o.minPollIntervalMs - now;
      if (wait > 0) {
        this.scheduled ??= setTimeout(() => {
          this.scheduled = undefined;
          this.fill();
        }, wait);
        return;
      }
      const drawn = validators.poolAt(now);
      if (!drawn) return; // below quorum: wait for peers (or for benches to end)
      const sample = drawn.sampler.sample(params.snowball.k, this.o.rng, drawn.pool.excluded);
      const req = engine.startPoll(sample);
      if (!req) return;
      this.lastStartMs = now;
      this.start(req.requestId, req.txids, req.validators);
    }
  }

  private start(requestId: number, txidList: readonly Uint8Array[], targets: readonly string[]): void {
    const { metrics } = this.o;
    const txids = new Uint8Array(txidList.length * 32);
    for (let i = 0; i < txidList.length; i++) txids.set(txidList[i]!, i * 32);
    const timer = setTimeout(() => this.timedOut(requestId), this.timeout.currentMs);
    const poll: ActivePoll = {
      requestId,
      timer,
      txidCount: txidList.length,
      waiting: new Set(targets),
      timedOut: false,
    };
    this.polls.set(requestId, poll);
    metrics.pollsStarted.inc();
    const selfId = this.o.validators.selfId;
    for (const id of targets) {
      if (id === selfId) continue;
      metrics.pollRequestsSent.inc();
      // Whether a validator answers is judged per request, not per poll: a poll may complete early
      // (every outcome settled) while a silent validator's request is still waiting, and benching
      // must still learn that it never answered.
      const sentAt = this.o.now();
      this.o.transport.poll(id, txids, this.timeout.ceilingMs).then(
        (votes) => {
          this.timeout.observe(this.o.now() - sentAt);
          if (this.answer(poll, id, votes)) this.o.observer.answered(id, this.o.now());
        },
        () => {
          metrics.pollRequestsFailed.inc();
          this.o.observer.missed(id, this.o.now());
        },
      );
    }
    // Our own answer last: it may complete the poll, which must not happen mid-send.
    if (poll.waiting.has(selfId)) this.answer(poll, selfId, this.o.selfVotes(txids));
  }

  /** Records one validator's votes; false when they cannot be right (wrong count: the sender is scored). */
  private answer(poll: ActivePoll, validatorId: string, votes: Uint8Array): boolean {
    if (votes.length !== poll.txidCount) {
      this.o.metrics.pollRequestsFailed.inc();
      this.o.observer.malformed(validatorId, `${votes.length} votes for ${poll.txidCount} txids`);
      return false;
    }
    // A late answer (the poll completed early or timed out) is still an answer, just not counted.
    if (this.polls.get(poll.requestId) !== poll || !poll.waiting.has(validatorId)) return true;
    let applied: boolean;
    try {
      applied = this.o.engine.recordResponse(poll.requestId, validatorId, votes);
    } catch (err) {
      if (!(err instanceof SnowballError)) throw err;
      this.o.metrics.pollRequestsFailed.inc();
      this.o.observer.malformed(validatorId, err.message);
      return false;
    }
    poll.waiting.delete(validatorId);
    if (applied) this.settle();
    return true;
  }

  private timedOut(requestId: number): void {
    const poll = this.polls.get(requestId);
    if (!poll) return;
    poll.timedOut = true;
    this.o.metrics.pollsTimedOut.inc();
    this.o.engine.timeoutPoll(requestId);
    this.settle();
  }

  /**
   * The engine applies polls in the order they started, so one answer or timeout may apply several
   * (a completed poll waits for older ones): every tracked poll the engine no longer holds is done.
   * Each is counted once: as timed out when its timer fired (even if it applied later, behind an
   * older poll), else as answered.
   */
  private settle(): void {
    let done = 0;
    let answered = 0;
    for (const [id, p] of this.polls) {
      if (this.o.engine.isPollOpen(id)) continue;
      clearTimeout(p.timer);
      this.polls.delete(id);
      done++;
      if (!p.timedOut) answered++;
    }
    if (done === 0) return;
    if (answered > 0) this.o.metrics.pollsAnswered.inc(answered);
    this.o.onApplied();
    this.wake();
  }
}
