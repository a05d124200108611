import type { SignatureItem } from '../crypto/signature-verifier.js';

/**
 * Largest batch sent to a worker. Measured in-process on this machine (µs per signature): single
 * 66.8; batches of 4: 43.9, 8: 37.1, 16: 34.3, 32: 32.9, 64: 32.3, 128: 31.5. The curve is flat
 * past 32; 64 also halves the per-task cost of the thread hop (message, transfer, wake-up)
 * against 32, while 128 would double every signature's wait for 2 % less work.
 */
export const MAX_BATCH_SIZE = 64;

/**
 * Longest a signature waits for companions while every worker is busy: about one 64-batch of
 * worker time (64 × 32 µs ≈ 2 ms), so waiting adds at most one batch time of latency. When a
 * worker is idle the batcher does not wait at all.
 */
export const MAX_BATCH_WAIT_MS = 2;

/**
 * Fewest signatures given a task of their own when the batcher splits what it holds among idle
 * workers. A burst (32 RPC submissions read in one turn of the event loop) used to go to one
 * worker as one batch while the other idled: split in two it finished in 2.0-2.2 ms instead of
 * 3.2-3.8 ms (p50, 2 workers, three of four interleaved runs on the 2-core box), for ~0.5 ms more
 * CPU per burst (a second task's hand-off and wake-up). Below 8 signatures a share's work (~0.3 ms)
 * no longer pays for its own hand-off.
 */
export const MIN_SPLIT_BATCH = 8;

export interface SignatureBatcherOptions {
  readonly maxBatchSize?: number;
  readonly maxWaitMs?: number;
  /** Smallest share when pending signatures are split among idle workers (Infinity: never split). */
  readonly minSplitBatch?: number;
}

interface Pending {
  readonly item: SignatureItem;
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Coalesces signatures arriving one by one (from the coordinator's message handlers) into
 * batches: a batch leaves when it is full, when a worker is idle (no reason to wait), or when
 * the oldest signature has waited MAX_BATCH_WAIT_MS. What leaves at once is spread over the idle
 * workers in shares of at least `minSplitBatch`, so a burst never waits on one worker while
 * another has nothing to do; with every worker busy it leaves as full batches, the cheapest form.
 */
export class SignatureBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  readonly minSplitBatch: number;

  constructor(
    private readonly send: (items: readonly SignatureItem[]) => Promise<boolean[]>,
    /** Workers with no task right now. */
    private readonly idleWorkers: () => number,
    opts: SignatureBatcherOptions = {},
  ) {
    this.maxBatchSize = opts.maxBatchSize ?? MAX_BATCH_SIZE;
    this.maxWaitMs = opts.maxWaitMs ?? MAX_BATCH_WAIT_MS;
    this.minSplitBatch = opts.minSplitBatch ?? MIN_SPLIT_BATCH;
  }

  /** Signatures waiting to be sent. */
  get pendingCount(): number {
    return this.pending.length;
  }

  verify(item: SignatureItem): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatchSize) this.sendFull();
      else this.schedule();
    });
  }

  /** Called when a worker becomes free: pending signatures should not wait any longer. */
  workerFreed(): void {
    if (this.pending.length > 0) this.flush();
  }

  /**
   * Sends everything pending now (fewer than maxBatchSize: a full batch leaves the moment it
   * fills) in equal shares, one per idle worker as long as each gets minSplitBatch signatures.
   */
  flush(): void {
    this.clearTimers();
    const n = this.pending.length;
    const batches = Math.max(1, Math.min(this.idleWorkers(), Math.floor(n / this.minSplitBatch)));
    const size = Math.ceil(n / batches);
    while (this.pending.length > 0) this.sendOne(this.pending.splice(0, size));
  }

  private sendFull(): void {
    while (this.pending.length >= this.maxBatchSize) this.sendOne(this.pending.splice(0, this.maxBatchSize));
    if (this.pending.length === 0) this.clearTimers();
  }

  private schedule(): void {
    if (this.idleWorkers() > 0) {
      // Let the current turn of the event loop add its signatures first, then go.
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.maxWaitMs);
    }
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private sendOne(batch: Pending[]): void {
    this.send(batch.map((p) => p.item)).then(
      (answers) => {
        batch.forEach((p, i) => {
          p.resolve(answers[i] === true);
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
