import { readFileSync } from 'node:fs';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * monitorEventLoopDelay samples with a timer of this period and records the time between its
 * firings, so an idle loop reads ~10 ms. What we report is how late the timer fired (the interval
 * minus this period, never below 0): an idle loop reads ~0, a 50 ms task ~40–50 ms.
 */
const LOOP_SAMPLE_MS = 10;

/** How late the loop-delay timer fired, in ms, from a recorded interval in ns. */
export function loopLagMs(intervalNs: number): number {
  return Math.max(0, intervalNs / 1e6 - LOOP_SAMPLE_MS);
}

/**
 * The resident set split by what backs it (Linux, /proc/self/status), in bytes; undefined where
 * that file does not exist. `anon` is the process's private memory (V8 heaps of the main thread and
 * the workers, malloc): a leak shows there. `file` is mapped files: the node binary and, growing with
 * the chain, the LMDB file's pages the node has read or written, which the kernel may reclaim.
 */
export function rssParts(status = procSelfStatus()): { anon: number; file: number } | undefined {
  if (status === undefined) return undefined;
  const text = status;
  const kb = (key: string) => new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1];
  const anon = kb('RssAnon');
  const file = kb('RssFile');
  return anon === undefined || file === undefined
    ? undefined
    : { anon: Number(anon) * 1024, file: Number(file) * 1024 };
}

function procSelfStatus(): string | undefined {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Every figure the node counts, in one prom-client registry owned by the node (not prom-client's
 * global one, so several nodes in one test process never share series). `/metrics` serves
 * `registry.metrics()`; gauges that mirror other objects' state are read at scrape time through
 * `collect` callbacks registered by the node, so the hot paths only bump counters.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly loopDelay: IntervalHistogram;

  readonly pollsStarted = this.counter('timecoin_polls_started_total', 'Snowball polls started');
  readonly pollsAnswered = this.counter(
    'timecoin_polls_answered_total',
    'Polls applied because every sampled validator answered (or the outcome was settled early)',
  );
  readonly pollsTimedOut = this.counter(
    'timecoin_polls_timed_out_total',
    'Polls applied at the poll timeout with some answers missing (missing = no vote)',
  );
  readonly pollRequestsSent = this.counter('timecoin_poll_requests_sent_total', 'PollRequest messages sent');
  readonly pollRequestsFailed = this.counter(
    'timecoin_poll_requests_failed_total',
    'PollRequests that got no usable answer (timeout, peer gone, reject, malformed votes)',
  );
  readonly votesAnswered = this.counter('timecoin_votes_answered_total', 'Txids answered in peers’ polls');
  readonly txAdmitted = this.counter('timecoin_tx_admitted_total', 'Transactions admitted as processing');
  readonly txRefused = new Counter({
    name: 'timecoin_tx_refused_total',
    help: 'Transactions refused at admission, by error code (peers’ transactions; local submissions only when INTAKE_BUSY)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly txFinalized = this.counter('timecoin_tx_finalized_total', 'Transactions finalized (persisted)');
  readonly txRejected = this.counter('timecoin_tx_rejected_total', 'Processing transactions rejected');
  readonly txExpired = this.counter(
    'timecoin_tx_expired_total',
    'Processing transactions that stayed undecided past the expiry and were withdrawn',
  );
  readonly txDropped = new Counter({
    name: 'timecoin_tx_dropped_total',
    help: 'Incoming transactions dropped before validation, by reason (intake full, orphan pool full…)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly finalityLatency = new Histogram({
    name: 'timecoin_finality_latency_seconds',
    help: 'Time from first seeing a transaction to persisting it as final',
    buckets: [0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /**
   * Polls each transaction finalized here was counted in (Snowball needs at least β = 20 successful
   * ones in a row): the consensus cost of a transaction, and how far above the least it is (polls
   * that failed: voters that did not know it yet or did not answer in time).
   */
  readonly pollsPerFinalizedTx = new Histogram({
    name: 'timecoin_tx_polls',
    help: 'Polls each transaction finalized here was counted in (at least beta = 20)',
    buckets: [19, 20, 22, 25, 30, 40, 50, 60, 80, 100, 150, 200, 500],
    registers: [this.registry],
  });
  readonly txFetchesSent = this.counter('timecoin_tx_fetch_requests_total', 'GetTx requests sent');
  readonly txFetchesOverBudget = this.counter(
    'timecoin_tx_fetch_over_budget_total',
    "Unknown txids named in a peer's polls and not fetched: the peer's poll-fetch budget was used up",
  );
  readonly blocksApplied = this.counter('timecoin_blocks_applied_total', 'Blocks that joined the main chain');
  readonly syncBlocksFetched = new Counter({
    name: 'timecoin_sync_blocks_fetched_total',
    help: 'Blocks received in GetBlocks answers: new (decoded and validated) or held (already here, header read only)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly blocksRefused = new Counter({
    name: 'timecoin_blocks_refused_total',
    help: 'Blocks from peers refused, by rule code (src/chain/block-errors.ts; FROM_THE_FUTURE: relay policy)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly blocksReverted = this.counter(
    'timecoin_blocks_reverted_total',
    'Blocks taken off the main chain by reorgs',
  );
  readonly bans = new Counter({
    name: 'timecoin_bans_total',
    help: 'Peers (by node key) and IPs banned for misbehaviour',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly doubleSigns = this.counter(
    'timecoin_double_sign_evidence_total',
    'Producers caught signing two blocks for one slot (evidence stored)',
  );
  readonly slot = new Gauge({ name: 'timecoin_slot', help: 'Current slot', registers: [this.registry] });
  readonly rank = new Gauge({
    name: 'timecoin_rank',
    help: "This node's rank in the current slot (−1: not ranked)",
    registers: [this.registry],
  });
  readonly finalityHalted = new Gauge({
    name: 'timecoin_finality_halted',
    help: '1 while finalized transactions cannot be persisted (e.g. disk full): no new polls start',
    registers: [this.registry],
  });

  constructor() {
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    this.loopDelay.enable();
    const loop = this.loopDelay;
    new Gauge({
      name: 'timecoin_event_loop_delay_seconds',
      help: 'Coordinator event-loop delay since the previous scrape (p50, p99, max)',
      labelNames: ['quantile'] as const,
      registers: [this.registry],
      collect() {
        this.set({ quantile: '0.5' }, loopLagMs(loop.percentile(50)) / 1e3);
        this.set({ quantile: '0.99' }, loopLagMs(loop.percentile(99)) / 1e3);
        this.set({ quantile: '1' }, loopLagMs(loop.max) / 1e3);
        loop.reset();
      },
    });
  }

  /** A gauge whose value is read from `read` at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * A counter kept elsewhere as a `name → count` record (the transport's `P2pNode.counters`:
   * offences by code such as WIRE_BAD_SCHEMA, refusals, evictions…), exported at scrape time with
   * the name as the `event` label.
   */
  labelledCounts(name: string, help: string, read: () => Readonly<Record<string, number>>): void {
    new Gauge({
      name,
      help,
      labelNames: ['event'] as const,
      registers: [this.registry],
      collect() {
        for (const [event, n] of Object.entries(read())) this.set({ event }, n);
      },
    });
  }

  /** The event-loop delay percentiles (ms) since the last reset, without resetting (RPC, tests). */
  eventLoopDelayMs(): { p50: number; p99: number; max: number } {
    return {
      p50: loopLagMs(this.loopDelay.percentile(50)),
      p99: loopLagMs(this.loopDelay.percentile(99)),
      max: loopLagMs(this.loopDelay.max),
    };
  }

  close(): void {
    this.loopDelay.disable();
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
