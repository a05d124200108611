import { describe, expect, it } from 'vitest';
import { loopLagMs, NodeMetrics, rssParts } from '../../../src/node/node-metrics.js';

describe('event-loop delay as reported by the node', () => {
  it('is the sampling interval minus its 10 ms period, never negative', () => {
    expect(loopLagMs(10e6)).toBe(0);
    expect(loopLagMs(9.2e6)).toBe(0); // libuv may fire a timer a little early
    expect(loopLagMs(60e6)).toBe(50);
    expect(loopLagMs(10.5e6)).toBeCloseTo(0.5, 9);
  });

  it('reads a blocked loop as the length of the block, less the sampling period', async () => {
    const metrics = new NodeMetrics();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const until = performance.now() + 80;
      while (performance.now() < until); // the coordinator stuck in an 80 ms task
      await new Promise((r) => setTimeout(r, 30));
      const d = metrics.eventLoopDelayMs();
      expect(d.max).toBeGreaterThanOrEqual(60);
      expect(d.p50).toBeLessThanOrEqual(d.max);
      // The scrape reports the same figure in seconds and then starts a new interval.
      const text = await metrics.registry.metrics();
      const max = Number(/^timecoin_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m.exec(text)?.[1]);
      expect(max * 1e3).toBeGreaterThanOrEqual(60);
      expect(metrics.eventLoopDelayMs().max).toBeLessThan(60);
    } finally {
      metrics.close();
    }
  });

  it('stops sampling once closed (a stopped node leaves no timer behind)', async () => {
    const closed = new NodeMetrics();
    closed.close();
    const open = new NodeMetrics();
    try {
      await new Promise((r) => setTimeout(r, 30));
      const until = performance.now() + 80;
      while (performance.now() < until);
      await new Promise((r) => setTimeout(r, 30));
      expect(open.eventLoopDelayMs().max).toBeGreaterThanOrEqual(60);
      expect(closed.eventLoopDelayMs().max).toBe(0);
    } finally {
      open.close();
    }
  });
});

/** A histogram's buckets as scraped: [le, cumulative count] in the order the text lists them. */
async function bucketsOf(m: NodeMetrics, name: string): Promise<[string, number][]> {
  const text = await m.registry.metrics();
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm');
  return [...text.matchAll(bucket)].map((x) => [x[1]!, Number(x[2])]);
}

describe('the metrics a node exports', () => {
  /** The names operators scrape and dashboards chart (docs/operations.md lists the main ones). */
  const declared = [
    'timecoin_polls_started_total',
    'timecoin_polls_answered_total',
    'timecoin_polls_timed_out_total',
    'timecoin_poll_requests_sent_total',
    'timecoin_poll_requests_failed_total',
    'timecoin_votes_answered_total',
    'timecoin_tx_admitted_total',
    'timecoin_tx_refused_total',
    'timecoin_tx_finalized_total',
    'timecoin_tx_rejected_total',
    'timecoin_tx_expired_total',
    'timecoin_tx_dropped_total',
    'timecoin_finality_latency_seconds',
    'timecoin_tx_polls',
    'timecoin_tx_fetch_requests_total',
    'timecoin_blocks_applied_total',
    'timecoin_blocks_refused_total',
    'timecoin_blocks_reverted_total',
    'timecoin_bans_total',
    'timecoin_double_sign_evidence_total',
    'timecoin_slot',
    'timecoin_rank',
    'timecoin_finality_halted',
    'timecoin_event_loop_delay_seconds',
  ];

  it('every declared metric is in the scrape, labelled ones with their labels', async () => {
    const m = new NodeMetrics();
    try {
      m.txRefused.inc({ code: 'DOUBLE_SPEND' });
      m.txDropped.inc({ reason: 'intake_full' });
      m.blocksRefused.inc({ code: 'BAD_SIGNATURE' });
      m.bans.inc({ kind: 'key' });
      m.slot.set(7);
      m.rank.set(-1);
      const text = await m.registry.metrics();
      for (const name of declared) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      expect(text).toMatch(/^timecoin_tx_refused_total\{code="DOUBLE_SPEND"\} 1$/m);
      expect(text).toMatch(/^timecoin_tx_dropped_total\{reason="intake_full"\} 1$/m);
      expect(text).toMatch(/^timecoin_blocks_refused_total\{code="BAD_SIGNATURE"\} 1$/m);
      expect(text).toMatch(/^timecoin_bans_total\{kind="key"\} 1$/m);
      expect(text).toMatch(/^timecoin_slot 7$/m);
      expect(text).toMatch(/^timecoin_rank -1$/m);
      for (const q of ['0.5', '0.99', '1'])
        expect(text).toMatch(
          new RegExp(`^timecoin_event_loop_delay_seconds\\{quantile="${q}"\\} \\S+$`, 'm'),
        );
    } finally {
      m.close();
    }
  });

  it('finality latency buckets run from 25 ms to 30 s (a sub-second target needs the fine ones)', async () => {
    const m = new NodeMetrics();
    try {
      m.finalityLatency.observe(0.12);
      m.finalityLatency.observe(3);
      const les = await bucketsOf(m, 'timecoin_finality_latency_seconds');
      expect(les.map((x) => x[0])).toEqual([
        '0.025',
        '0.05',
        '0.1',
        '0.15',
        '0.2',
        '0.25',
        '0.35',
        '0.5',
        '0.75',
        '1',
        '1.5',
        '2.5',
        '5',
        '10',
        '30',
        '+Inf',
      ]);
      expect(les.map((x) => x[1])).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
    } finally {
      m.close();
    }
  });

  it('polls-per-transaction buckets start just below β = 20 and reach 500 (a stalled transaction)', async () => {
    const m = new NodeMetrics();
    try {
      m.pollsPerFinalizedTx.observe(20);
      m.pollsPerFinalizedTx.observe(21);
      m.pollsPerFinalizedTx.observe(300);
      const les = await bucketsOf(m, 'timecoin_tx_polls');
      expect(les.map((x) => x[0])).toEqual([
        '19',
        '20',
        '22',
        '25',
        '30',
        '40',
        '50',
        '60',
        '80',
        '100',
        '150',
        '200',
        '500',
        '+Inf',
      ]);
      expect(les.map((x) => x[1])).toEqual([0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3]);
    } finally {
      m.close();
    }
  });

  it('scrape-time gauges read their source on every scrape', async () => {
    const m = new NodeMetrics();
    try {
      let height = 5;
      const counts: Record<string, number> = { WIRE_BAD_CBOR: 3 };
      m.gauge('timecoin_test_height', 'a height read at scrape time', () => height);
      m.labelledCounts('timecoin_test_events', 'counts kept elsewhere', () => counts);
      let text = await m.registry.metrics();
      expect(text).toMatch(/^timecoin_test_height 5$/m);
      expect(text).toMatch(/^timecoin_test_events\{event="WIRE_BAD_CBOR"\} 3$/m);
      height = 6;
      counts['EVICTED'] = 1;
      text = await m.registry.metrics();
      expect(text).toMatch(/^timecoin_test_height 6$/m);
      expect(text).toMatch(/^timecoin_test_events\{event="EVICTED"\} 1$/m);
    } finally {
      m.close();
    }
  });

  it('reports the loop delay in seconds, and records nothing once closed', async () => {
    const m = new NodeMetrics();
    await new Promise((r) => setTimeout(r, 30));
    let until = performance.now() + 60;
    while (performance.now() < until); // 60 ms blocked: ~50 ms of lag
    await new Promise((r) => setTimeout(r, 30));
    const text = await m.registry.metrics();
    const max = Number(/^timecoin_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m.exec(text)?.[1]);
    expect(max).toBeGreaterThanOrEqual(0.04);
    // Seconds, not milliseconds, for every quantile.
    for (const q of ['0.5', '0.99', '1']) {
      const v = Number(
        new RegExp(`^timecoin_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(text)?.[1],
      );
      expect(v, q).toBeGreaterThanOrEqual(0);
      expect(v, q).toBeLessThanOrEqual(max);
    }
    expect(max).toBeLessThan(10);
    m.close();
    until = performance.now() + 60;
    while (performance.now() < until);
    await new Promise((r) => setTimeout(r, 30));
    expect(m.eventLoopDelayMs().max).toBeLessThan(40);
  });
});

describe('resident memory split into private and mapped-file pages', () => {
  const status = [
    'Name:\tnode',
    'VmRSS:\t  190000 kB',
    'RssAnon:\t  120000 kB',
    'RssFile:\t   69000 kB',
    'RssShmem:\t    1000 kB',
    '',
  ].join('\n');

  it('reads RssAnon and RssFile from a status text, in bytes', () => {
    expect(rssParts(status)).toEqual({ anon: 120_000 * 1024, file: 69_000 * 1024 });
  });

  it('is undefined where the kernel does not report the split', () => {
    expect(rssParts('Name:\tnode\nVmRSS:\t 190000 kB\n')).toBeUndefined();
    expect(rssParts('RssAnon:\t 1 kB\n')).toBeUndefined();
    expect(rssParts('RssFile:\t 1 kB\n')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('reads this process: both parts inside its RSS', () => {
    const parts = rssParts()!;
    const rss = process.memoryUsage.rss();
    expect(parts.anon).toBeGreaterThan(0);
    expect(parts.file).toBeGreaterThan(0);
    // Sampled a moment apart, so allow a little drift between the two reads.
    expect(parts.anon + parts.file).toBeLessThanOrEqual(rss * 1.1);
  });
});
