import { describe, expect, it } from 'vitest';
import { loopLagMs, NodeMetrics } from '../../../src/node/node-metrics.js';

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
});
