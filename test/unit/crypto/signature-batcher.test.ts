import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SignatureItem } from '../../../src/crypto/signature-verifier.js';
import { SignatureBatcher } from '../../../src/workers/signature-batcher.js';

// The batcher's only dependency is the function that sends a batch; here it records the batches
// and answers "valid" for messages whose first byte is even.
function harness(
  idle: () => number,
  opts: { maxBatchSize?: number; maxWaitMs?: number; minSplitBatch?: number } = {},
) {
  const sent: { size: number; at: number }[] = [];
  const batcher = new SignatureBatcher(
    async (items) => {
      sent.push({ size: items.length, at: performance.now() });
      if (items.some((it) => it.message[0] === 255)) throw new Error('worker failed');
      return items.map((it) => (it.message[0] as number) % 2 === 0);
    },
    idle,
    opts,
  );
  return { batcher, sent };
}
const item = (b: number): SignatureItem => ({
  publicKey: new Uint8Array(32),
  signature: new Uint8Array(64),
  message: Uint8Array.of(b),
});

describe('SignatureBatcher', () => {
  it('sends full batches at once and gives every caller its own answer', async () => {
    const { batcher, sent } = harness(() => 0, { maxBatchSize: 8, maxWaitMs: 1_000 });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.verify(item(i))));
    expect(answers).toEqual(Array.from({ length: 16 }, (_, i) => i % 2 === 0));
    expect(sent.map((s) => s.size)).toEqual([8, 8]);
  });

  it('with an idle worker, sends what one turn of the event loop produced without waiting', async () => {
    const { batcher, sent } = harness(() => 1, { maxBatchSize: 64, maxWaitMs: 1_000 });
    const t0 = performance.now();
    const answers = await Promise.all([
      batcher.verify(item(0)),
      batcher.verify(item(1)),
      batcher.verify(item(2)),
    ]);
    expect(answers).toEqual([true, false, true]);
    expect(sent.map((s) => s.size)).toEqual([3]);
    expect((sent[0] as { at: number }).at - t0).toBeLessThan(500);
  });

  it('with every worker busy, holds a partial batch until the wait limit or a freed worker', async () => {
    const { batcher, sent } = harness(() => 0, { maxBatchSize: 64, maxWaitMs: 30 });
    const t0 = performance.now();
    const first = batcher.verify(item(0));
    await new Promise((r) => setTimeout(r, 5));
    expect(sent).toHaveLength(0);
    expect(batcher.pendingCount).toBe(1);
    await first;
    expect((sent[0] as { at: number }).at - t0).toBeGreaterThanOrEqual(25);

    const second = batcher.verify(item(2));
    batcher.workerFreed();
    expect(await second).toBe(true);
    expect(sent).toHaveLength(2);
  });

  it('spreads what one turn produced over the idle workers in equal shares', async () => {
    const { batcher, sent } = harness(() => 2, { maxBatchSize: 64, maxWaitMs: 1_000 });
    const answers = await Promise.all(Array.from({ length: 32 }, (_, i) => batcher.verify(item(i))));
    expect(answers).toEqual(Array.from({ length: 32 }, (_, i) => i % 2 === 0));
    expect(sent.map((s) => s.size)).toEqual([16, 16]);

    // Unequal remainders go last; the default share floor (MIN_SPLIT_BATCH = 8) allows 3 of 25.
    const three = harness(() => 3, { maxBatchSize: 64, maxWaitMs: 1_000 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => three.batcher.verify(item(i))));
    expect(three.sent.map((s) => s.size)).toEqual([9, 9, 7]);
  });

  it('gives no idle worker a share smaller than minSplitBatch', async () => {
    const { batcher, sent } = harness(() => 2, { maxBatchSize: 64, maxWaitMs: 1_000, minSplitBatch: 8 });
    await Promise.all(Array.from({ length: 15 }, (_, i) => batcher.verify(item(i))));
    expect(sent.map((s) => s.size)).toEqual([15]);
    await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.verify(item(i))));
    expect(sent.map((s) => s.size)).toEqual([15, 8, 8]);
    // Four idle workers, 24 signatures: three shares of 8, not four of 6.
    const four = harness(() => 4, { maxBatchSize: 64, maxWaitMs: 1_000, minSplitBatch: 8 });
    await Promise.all(Array.from({ length: 24 }, (_, i) => four.batcher.verify(item(i))));
    expect(four.sent.map((s) => s.size)).toEqual([8, 8, 8]);
  });

  it('never splits with minSplitBatch Infinity', async () => {
    const { batcher, sent } = harness(() => 2, {
      maxBatchSize: 64,
      maxWaitMs: 1_000,
      minSplitBatch: Infinity,
    });
    await Promise.all(Array.from({ length: 32 }, (_, i) => batcher.verify(item(i))));
    expect(sent.map((s) => s.size)).toEqual([32]);
  });

  it('a batch that fills leaves whole, and only the rest is split', async () => {
    const { batcher, sent } = harness(() => 2, { maxBatchSize: 16, maxWaitMs: 1_000, minSplitBatch: 4 });
    await Promise.all(Array.from({ length: 26 }, (_, i) => batcher.verify(item(i))));
    expect(sent.map((s) => s.size)).toEqual([16, 5, 5]);
  });

  it('rejects every caller of a batch whose worker task failed', async () => {
    const { batcher } = harness(() => 1);
    const results = await Promise.allSettled([batcher.verify(item(0)), batcher.verify(item(255))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('SignatureBatcher: the exact moments a batch leaves (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a batch leaves the moment it holds maxBatchSize signatures, even with every worker busy', () => {
    const { batcher, sent } = harness(() => 0, { maxBatchSize: 8, maxWaitMs: 1_000 });
    for (let i = 0; i < 7; i++) void batcher.verify(item(i));
    expect(sent).toHaveLength(0);
    void batcher.verify(item(7));
    expect(sent.map((s) => s.size)).toEqual([8]);
    expect(batcher.pendingCount).toBe(0);
  });

  it('a freed worker takes what waits at once; with nothing waiting it sends nothing', () => {
    const { batcher, sent } = harness(() => 0, { maxBatchSize: 8, maxWaitMs: 1_000 });
    batcher.workerFreed();
    expect(sent).toHaveLength(0);
    for (let i = 0; i < 3; i++) void batcher.verify(item(i));
    expect(sent).toHaveLength(0);
    batcher.workerFreed();
    expect(sent.map((s) => s.size)).toEqual([3]);
    // Its wait timer went with it: nothing more leaves later.
    vi.advanceTimersByTime(5_000);
    expect(sent.map((s) => s.size)).toEqual([3]);
  });

  it('each partial batch waits its own limit, counted from its own first signature', () => {
    const { batcher, sent } = harness(() => 0, { maxBatchSize: 8, maxWaitMs: 1_000 });
    for (let i = 0; i < 7; i++) void batcher.verify(item(i));
    vi.advanceTimersByTime(500);
    void batcher.verify(item(7)); // full: leaves now
    expect(sent.map((s) => s.size)).toEqual([8]);
    vi.advanceTimersByTime(100);
    void batcher.verify(item(8)); // waits until 600 + 1,000 ms
    vi.advanceTimersByTime(999);
    expect(sent.map((s) => s.size)).toEqual([8]);
    vi.advanceTimersByTime(1);
    expect(sent.map((s) => s.size)).toEqual([8, 1]);
  });
});
