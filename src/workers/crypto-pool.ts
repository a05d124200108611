import { availableParallelism } from 'node:os';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { encodeLeafRootsTask } from '../crypto/leaf-roots-codec.js';
import { encodeSignatureBatch } from '../crypto/signature-batch-codec.js';
import type { SignatureItem, SignatureVerifier } from '../crypto/signature-verifier.js';
import type { BlockRootHasher, BlockRoots, RootedTx } from '../protocol/block-roots.js';
import { TAG } from '../protocol/domain-tags.js';
import { poolVdfEvaluate, poolVdfProve, poolVdfVerify } from '../vdf/pool-vdf.js';
import type { VdfOutput } from '../vdf/vdf.js';
import { SignatureBatcher, type SignatureBatcherOptions } from './signature-batcher.js';
import { workerEntryUrl } from './worker-url.js';

export interface CryptoPoolOptions {
  /** Worker threads; default: all cores but never fewer than one. */
  readonly threads?: number;
  /**
   * Tasks allowed to wait for a worker before `canAcceptWork()` turns false. Each task is a whole
   * batch, so a few per thread keep every worker busy without hoarding latency.
   */
  readonly maxQueue?: number;
  /** Batch size and wait limits (defaults: MAX_BATCH_SIZE, MAX_BATCH_WAIT_MS). */
  readonly batcher?: SignatureBatcherOptions;
  /**
   * 'wasm' (default) verifies in the workers' WASM; 'node-crypto' uses OpenSSL in the same pool and
   * batcher, strictly as the benchmark's native anchor: OpenSSL is not a ZIP-215 verifier.
   */
  readonly verifier?: 'wasm' | 'node-crypto';
}

export interface RunOptions {
  readonly transferList?: readonly ArrayBuffer[];
  readonly signal?: AbortSignal;
}

/**
 * Most signatures in one background task: ~130 ms of one worker at ~32 µs each, the longest a
 * task needed now can wait behind one.
 */
const MAX_BACKGROUND_CHUNK = 4_096;

interface BackgroundChunk {
  readonly items: readonly SignatureItem[];
  readonly resolve: (answers: boolean[]) => void;
  readonly reject: (err: unknown) => void;
}

/** Enough queued batches per thread that a worker never idles between two of them. */
const QUEUED_TASKS_PER_THREAD = 4;

/** Tries per signature batch: the first, and up to two more on fresh workers if workers die under it. */
const VERIFY_ATTEMPTS = 3;

/**
 * The node's crypto worker pool (the only module that talks to piscina): signature batches,
 * merkle roots and VDF tasks run here, off the coordinator's event loop. Every worker owns one
 * WASM instance.
 */
export class CryptoPool implements SignatureVerifier, BlockRootHasher {
  readonly threads: number;
  readonly maxQueue: number;
  private readonly piscina: Piscina;
  private readonly batcher: SignatureBatcher;
  /** Worker task for signature batches: WASM, or node:crypto for the native benchmark anchor. */
  private readonly verifyTask: string;
  private inFlight = 0;
  /** Tasks of any kind handed to piscina and not finished (running or queued for a worker). */
  private tasksUnfinished = 0;
  /** Signature batches that failed on a worker and were sent again (a worker died under them). */
  workerFailures = 0;
  private capacityWaiters: (() => void)[] = [];
  private closed = false;
  /** Low-priority signature batches not yet handed to piscina (verifyBatchInBackground). */
  private readonly background: BackgroundChunk[] = [];
  private backgroundInFlight = 0;

  constructor(opts: CryptoPoolOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.maxQueue = opts.maxQueue ?? this.threads * QUEUED_TASKS_PER_THREAD;
    this.piscina = new Piscina({
      filename: workerEntryUrl(),
      minThreads: this.threads,
      maxThreads: this.threads,
      // The queue bound is enforced by canAcceptWork(); piscina's own limit would reject instead.
      maxQueue: Number.POSITIVE_INFINITY,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    this.verifyTask = opts.verifier === 'node-crypto' ? 'crypto.verifyBatchNodeCrypto' : 'crypto.verifyBatch';
    this.batcher = new SignatureBatcher(
      (items) => this.verifyChunk(items),
      // A VDF or merkle task occupies a worker too: a batch split for it would wait behind it.
      () => this.idleWorkers,
      opts.batcher,
    );
  }

  /** Runs the worker handler `name` with `payload`; transfer big buffers instead of copying them. */
  run<T>(name: string, payload: unknown, opts: RunOptions = {}): Promise<T> {
    const task = this.piscina.run(
      { name, payload },
      {
        ...(opts.transferList ? { transferList: [...opts.transferList] } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    ) as Promise<T>;
    this.tasksUnfinished++;
    // Any finished task (VDF, merkle, signatures) frees queue room for waiting producers, and
    // maybe a worker for background batches.
    const finished = (): void => {
      this.tasksUnfinished--;
      this.wakeCapacityWaiters();
      this.pumpBackground();
    };
    task.then(finished, finished);
    return task;
  }

  /**
   * Back-pressure: false when the queue of tasks waiting for a worker is full (callers should slow
   * down). The batcher never holds a full batch (one leaves the moment it fills), so what waits
   * there is always less than one task's worth and needs no bound of its own.
   */
  canAcceptWork(): boolean {
    return !this.closed && this.piscina.queueSize < this.maxQueue;
  }

  /**
   * Resolves as soon as `canAcceptWork()` is true again (immediately if it is): producers await
   * this instead of polling, so a back-pressured coordinator sleeps rather than spins.
   */
  whenCanAcceptWork(): Promise<void> {
    if (this.canAcceptWork() || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  private wakeCapacityWaiters(): void {
    if (this.capacityWaiters.length === 0 || !(this.canAcceptWork() || this.closed)) return;
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Each worker thread's event-loop utilization (pass an earlier result to get the interval since
   * it): near 1 means the worker always had a task, so a throughput limit lies elsewhere (cores).
   */
  workerUtilization(previous?: readonly EventLoopUtilization[]): EventLoopUtilization[] {
    return this.piscina.threads.map((t, i) => t.performance.eventLoopUtilization(previous?.[i]));
  }

  /** Workers with no task of ours running or queued for them (what the batcher splits among). */
  get idleWorkers(): number {
    return Math.max(0, this.threads - this.tasksUnfinished);
  }

  /** Tasks waiting for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  /**
   * One answer per item. Large arrays (a block's signatures) are split into batches that run on
   * all workers at once; small ones (a transaction's) are coalesced with other callers' by the
   * batcher.
   */
  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (items.length < this.batcher.maxBatchSize)
      return Promise.all(items.map((it) => this.batcher.verify(it)));
    const size = this.batcher.maxBatchSize;
    const chunks: Promise<boolean[]>[] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(this.verifyChunk(items.slice(i, i + size)));
    return (await Promise.all(chunks)).flat();
  }

  /**
   * verifyBatch at low priority: a batch goes to a worker only while no other task waits for one,
   * and at most one per thread at a time, so work needed now (the current block's signatures and
   * roots, transactions, VDF) waits behind at most one background batch per worker (up to
   * MAX_BACKGROUND_CHUNK signatures, ~130 ms) and never behind the whole backlog. Sync verifies the
   * blocks ahead with it.
   */
  async verifyBatchInBackground(items: readonly SignatureItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    // One task per worker: piscina hands each next task out from the coordinator's thread, which
    // is busy with the current block (ledger checks, a ~250 ms LMDB write), so small background
    // tasks left the workers idle most of the time (one worker's 64-signature task lasts ~2 ms).
    const size = Math.min(MAX_BACKGROUND_CHUNK, Math.ceil(items.length / this.threads));
    const chunks: Promise<boolean[]>[] = [];
    for (let i = 0; i < items.length; i += size) {
      const chunk = items.slice(i, i + size);
      chunks.push(new Promise((resolve, reject) => this.background.push({ items: chunk, resolve, reject })));
    }
    this.pumpBackground();
    return (await Promise.all(chunks)).flat();
  }

  private pumpBackground(): void {
    while (
      this.background.length > 0 &&
      (this.closed ||
        (this.backgroundInFlight < this.threads &&
          this.piscina.queueSize === 0 &&
          this.inFlight < this.threads))
    ) {
      const job = this.background.shift()!;
      if (this.closed) {
        job.reject(new Error('crypto pool closed'));
        continue;
      }
      this.backgroundInFlight++;
      this.verifyChunk(job.items)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.backgroundInFlight--;
          this.pumpBackground();
        });
    }
  }

  /** One signature, coalesced with concurrent callers' into a batch. */
  verify(item: SignatureItem): Promise<boolean> {
    return this.batcher.verify(item);
  }

  /** Signatures waiting in the batcher (not yet sent to a worker). */
  get pendingSignatures(): number {
    return this.batcher.pendingCount;
  }

  /**
   * One worker task: the batch crosses threads as one transferred buffer each way. A worker that
   * dies under a batch (out of memory, a crash in native code, terminate()) rejects it; piscina
   * starts a replacement, and the batch is sent again (re-encoded: the first buffer went with the
   * dead thread), up to VERIFY_ATTEMPTS times, so one lost thread never fails transactions.
   */
  private async verifyChunk(items: readonly SignatureItem[]): Promise<boolean[]> {
    this.inFlight++;
    try {
      return await this.survivingWorkerLoss(async () => {
        const bytes = encodeSignatureBatch(items);
        const answers = await this.run<ArrayBuffer>(this.verifyTask, bytes, { transferList: [bytes.buffer] });
        return Array.from(new Uint8Array(answers), (a) => a === 1);
      });
    } finally {
      this.inFlight--;
      this.batcher.workerFreed();
      this.wakeCapacityWaiters();
    }
  }

  /** RFC 6962 merkle root of 32-byte txids, computed in a worker (one transferred buffer). */
  async merkleRoot(txids: readonly Uint8Array[]): Promise<Uint8Array> {
    const packed = new Uint8Array(32 * txids.length);
    txids.forEach((id, i) => {
      if (id.length !== 32) throw new RangeError(`txid ${i} is ${id.length} bytes, expected 32`);
      packed.set(id, 32 * i);
    });
    const root = await this.run<ArrayBuffer>('crypto.merkleRoot', packed, { transferList: [packed.buffer] });
    return new Uint8Array(root);
  }

  /**
   * BlockRootHasher: the merkle root over the txids and the witness root over the wtxids
   * (SHA-256(TAG.wtx ‖ transaction bytes)) of a block body, both in one worker task. A worker that
   * dies under it is survived as for signatures (sent again, re-encoded, up to VERIFY_ATTEMPTS
   * times): a lost thread must not fail a valid block, which the chain would then not retry.
   */
  blockRoots(txs: readonly RootedTx[]): Promise<BlockRoots> {
    return this.survivingWorkerLoss(async () => {
      const task = encodeLeafRootsTask(
        txs.map((t) => t.txid),
        TAG.wtx,
        txs.map((t) => t.bytes),
      );
      const out = new Uint8Array(
        await this.run<ArrayBuffer>('crypto.leafRoots', task, { transferList: [task.buffer] }),
      );
      return { merkleRoot: out.slice(0, 32), witnessRoot: out.slice(32, 64) };
    });
  }

  /**
   * Runs `attempt` (encode, run one worker task, decode) again when it fails while the pool is
   * open, up to VERIFY_ATTEMPTS times in all: a worker that dies under a task (out of memory, a
   * crash in native code, terminate()) rejects it and piscina starts a replacement. `attempt` must
   * encode its buffer each time: a transferred one went with the dead thread.
   */
  private async survivingWorkerLoss<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (this.closed || n >= VERIFY_ATTEMPTS) throw err;
        this.workerFailures++;
      }
    }
  }

  /** VDF y = x^(2^T) in a worker, with checkpoints for vdfProve; abort terminates that worker. */
  vdfEvaluate(x: Uint8Array, t: number, opts: { signal?: AbortSignal } = {}): Promise<VdfOutput> {
    return poolVdfEvaluate(this, x, t, opts);
  }

  /** Wesolowski proof for an evaluation, split across all workers. */
  vdfProve(x: Uint8Array, output: VdfOutput): Promise<Uint8Array> {
    return poolVdfProve(this, x, output);
  }

  vdfVerify(x: Uint8Array, y: Uint8Array, proof: Uint8Array, t: number): Promise<boolean> {
    return poolVdfVerify(this, x, y, proof, t);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pumpBackground(); // rejects what never reached a worker
    this.batcher.flush();
    this.wakeCapacityWaiters();
    await this.piscina.close();
  }
}

export function createCryptoPool(opts: CryptoPoolOptions = {}): CryptoPool {
  return new CryptoPool(opts);
}
