import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { encodeSignatureBatch } from '../crypto/signature-batch-codec.js';
import type { SignatureItem, SignatureVerifier } from '../crypto/signature-verifier.js';
import { poolVdfEvaluate, poolVdfProve, poolVdfVerify } from '../vdf/pool-vdf.js';
import type { VdfOutput } from '../vdf/vdf.js';
import { workerEntryUrl } from './worker-url.js';

export interface CryptoPoolOptions {
  /** Worker threads; default: all cores but never fewer than one. */
  readonly threads?: number;
  /**
   * Tasks allowed to wait for a worker before `canAcceptWork()` turns false. Each task is a whole
   * batch, so a few per thread keep every worker busy without hoarding latency.
   */
  readonly maxQueue?: number;
}

export interface RunOptions {
  readonly transferList?: readonly ArrayBuffer[];
  readonly signal?: AbortSignal;
}

/** Enough queued batches per thread that a worker never idles between two of them. */
const QUEUED_TASKS_PER_THREAD = 4;

/**
 * The node's crypto worker pool (the only module that talks to piscina): signature batches,
 * merkle roots and VDF tasks run here, off the coordinator's event loop. Every worker owns one
 * WASM instance.
 */
export class CryptoPool implements SignatureVerifier {
  readonly threads: number;
  readonly maxQueue: number;
  private readonly piscina: Piscina;
  private closed = false;

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
  }

  /** Runs the worker handler `name` with `payload`; transfer big buffers instead of copying them. */
  run<T>(name: string, payload: unknown, opts: RunOptions = {}): Promise<T> {
    return this.piscina.run(
      { name, payload },
      {
        ...(opts.transferList ? { transferList: [...opts.transferList] } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    ) as Promise<T>;
  }

  /** Back-pressure: false when the queue of waiting tasks is full (callers should slow down). */
  canAcceptWork(): boolean {
    return !this.closed && this.piscina.queueSize < this.maxQueue;
  }

  /** Tasks waiting for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const bytes = encodeSignatureBatch(items);
    const answers = await this.run<ArrayBuffer>('crypto.verifyBatch', bytes, {
      transferList: [bytes.buffer],
    });
    return Array.from(new Uint8Array(answers), (a) => a === 1);
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
    await this.piscina.close();
  }
}

export function createCryptoPool(opts: CryptoPoolOptions = {}): CryptoPool {
  return new CryptoPool(opts);
}
