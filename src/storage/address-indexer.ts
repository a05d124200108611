import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bytesEqual } from '../encoding/bytes.js';
import type { OutPoint } from '../protocol/transaction.js';
import { CodedError } from '../util/coded-error.js';
import { packageRoot } from '../util/package-root.js';
import {
  type AddressIndexDatabases,
  type AddressTotals,
  type AddressUtxo,
  addressIndexCounts,
  openAddressIndex,
  readAddressUtxos,
  readIndexTip,
  readTotals,
  rebuildAddressIndex,
} from './address-index.js';
import type { IndexerReply, IndexRequest, IndexWorkerData } from './address-index-messages.js';
import type { ChainTip } from './chain-tip.js';
import type { BinaryDb } from './databases.js';

/**
 * Blocks handed to the thread and not yet indexed before `applied` makes the store wait: each one
 * queued holds its delta (70 bytes per input and output, ~2 MB for a full block), and a syncing
 * node applies blocks faster than the thread indexes them, so without a bound the queue would
 * grow with the length of the sync.
 */
export const MAX_INDEX_LAG = 8;

export class AddressIndexError extends CodedError<'ADDRESS_INDEX_FAILED' | 'ADDRESS_INDEX_CLOSED'> {}

/**
 * The chain store's handle on the address index (address-index.ts): opens it, rebuilds it from the
 * UTXO set when it is not at the chain's tip (a new or upgraded data directory, or a crash between
 * a block's commit and its index commit), and then hands every committed block to the index's own
 * thread, in commit order. The coordinator only records the block's index changes as it walks the
 * block (AddressIndexDelta) and transfers that buffer; the index's LMDB work (several random-keyed
 * writes per output) runs on that thread, off the block's transaction and off the event loop.
 *
 * Reads wait until the thread has indexed every block handed to it (`synced`), so an RPC answer
 * never mixes a new tip with an old index. A failed index stays failed (reads throw
 * ADDRESS_INDEX_FAILED) until the next start rebuilds it; the chain is unaffected.
 */
export class AddressIndexer {
  private readonly worker: Worker;
  private sent = 0;
  private done = 0;
  private failure: string | undefined;
  private closed = false;
  private readonly waiters: { seq: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly dbs: AddressIndexDatabases,
    dataDir: string,
    /** Outputs indexed by the rebuild at open; null when the index was already at the chain's tip. */
    readonly rebuilt: number | null,
  ) {
    const data: IndexWorkerData = { dataDir };
    this.worker = new Worker(new URL(workerUrl()), { workerData: data });
    this.worker.on('message', (m: IndexerReply) => this.onReply(m));
    this.worker.on('error', (err) => this.fail(`the index thread crashed: ${err.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the index thread exited with code ${code}`);
    });
    // Idle, the thread does not keep the process alive (a script that forgets close() still
    // exits, and the next open rebuilds what it missed); with work handed over it does (send).
    this.worker.unref();
  }

  /**
   * Opens the index of `dataDir` for a chain at `tip` whose UTXO set is `utxo` (read now, before
   * the store writes anything), rebuilding it when it reflects another block (or none).
   */
  static open(dataDir: string, utxo: BinaryDb<Uint8Array>, tip: ChainTip): AddressIndexer {
    const dbs = openAddressIndex(dataDir);
    let rebuilt: number | null = null;
    try {
      const at = readIndexTip(dbs);
      if (at === null || at.height !== tip.height || !bytesEqual(at.hash, tip.hash))
        rebuilt = rebuildAddressIndex(utxo, dbs, tip);
    } catch (err) {
      void dbs.env.close();
      throw err;
    }
    return new AddressIndexer(dbs, dataDir, rebuilt);
  }

  /**
   * The store committed block `to` on top of `from`, with these index changes: index them. Resolves
   * at once, or once the thread is back within MAX_INDEX_LAG blocks (never rejects: a failed index
   * does not hold the chain back). `delta` is handed over (transferred), not copied.
   */
  applied(from: ChainTip, to: ChainTip, delta: Uint8Array<ArrayBuffer>): Promise<void> {
    this.send('apply', from, to, delta);
    if (this.sent - this.done <= MAX_INDEX_LAG || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = () => resolve();
      this.insertWaiter({ seq: this.sent - MAX_INDEX_LAG, resolve: settle, reject: settle });
    });
  }

  /** The store reverted its tip `from` to `to`, with these index changes (transferred). */
  reverted(from: ChainTip, to: ChainTip, delta: Uint8Array<ArrayBuffer>): void {
    this.send('revert', from, to, delta);
  }

  /** Blocks handed to the thread and not yet indexed (at most MAX_INDEX_LAG once `applied` settles). */
  get lag(): number {
    return this.sent - this.done;
  }

  /** Resolves once every block handed over so far is indexed; rejects when the index failed. */
  synced(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failed());
    if (this.closed)
      return Promise.reject(new AddressIndexError('ADDRESS_INDEX_CLOSED', 'the store is closed'));
    if (this.done >= this.sent) return Promise.resolve();
    return new Promise((resolve, reject) => this.insertWaiter({ seq: this.sent, resolve, reject }));
  }

  totals(address: Uint8Array): AddressTotals {
    this.assertUsable();
    return readTotals(this.dbs, address);
  }

  utxos(
    address: Uint8Array,
    opts: { limit: number; minHeight?: number; after?: { height: number; outpoint: OutPoint } },
  ): AddressUtxo[] {
    this.assertUsable();
    return readAddressUtxos(this.dbs, address, opts);
  }

  counts(): { outputs: number; addresses: number } {
    this.assertUsable();
    return addressIndexCounts(this.dbs);
  }

  /** The block the index reflects on disk (tests compare it with the chain's tip). */
  indexedTip(): ChainTip | null {
    return readIndexTip(this.dbs);
  }

  /** Lets the thread finish what it was handed, then closes it and the environment. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.synced().catch(() => undefined);
      this.closed = true;
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.ref();
      this.worker.postMessage({ t: 'close' });
      await exited;
      for (const w of this.waiters.splice(0))
        w.reject(new AddressIndexError('ADDRESS_INDEX_CLOSED', 'the store is closed'));
      await this.dbs.env.close();
    })();
    return this.closing;
  }

  private send(t: IndexRequest['t'], from: ChainTip, to: ChainTip, delta: Uint8Array<ArrayBuffer>): void {
    if (this.closed || this.failure !== undefined) return;
    // The delta must own its whole buffer: transferring a view would hand over (and detach) more.
    const own =
      delta.byteOffset === 0 && delta.byteLength === delta.buffer.byteLength ? delta : delta.slice();
    const m: IndexRequest = { t, seq: ++this.sent, from, to, delta: own };
    this.worker.postMessage(m, [own.buffer]);
    this.worker.ref();
  }

  private onReply(m: IndexerReply): void {
    if (m.t === 'indexed') {
      this.done = m.seq;
      if (this.done >= this.sent) this.worker.unref();
      // This thread's lmdb-js read snapshot predates the thread's commit: renew it before anyone reads.
      this.dbs.env.resetReadTxn();
      while (this.waiters.length > 0 && this.waiters[0]!.seq <= this.done) this.waiters.shift()!.resolve();
    } else if (m.t === 'failed') this.fail(m.message);
  }

  /** Waiters stay in `seq` order, so each reply settles a prefix of them. */
  private insertWaiter(w: { seq: number; resolve: () => void; reject: (err: Error) => void }): void {
    let i = this.waiters.length;
    while (i > 0 && this.waiters[i - 1]!.seq > w.seq) i--;
    this.waiters.splice(i, 0, w);
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = message;
    this.worker.unref();
    for (const w of this.waiters.splice(0)) w.reject(this.failed());
  }

  private failed(): AddressIndexError {
    return new AddressIndexError(
      'ADDRESS_INDEX_FAILED',
      `the address index stopped (${this.failure}); restart the node to rebuild it`,
    );
  }

  private assertUsable(): void {
    if (this.failure !== undefined) throw this.failed();
    if (this.closed) throw new AddressIndexError('ADDRESS_INDEX_CLOSED', 'the store is closed');
  }
}

/** The compiled thread entry: worker threads need JavaScript, also when tests run the sources. */
function workerUrl(): string {
  const path = join(packageRoot(), 'dist', 'src', 'storage', 'address-index-worker.js');
  if (!existsSync(path))
    throw new AddressIndexError('ADDRESS_INDEX_FAILED', `${path} is missing: run npm run build`);
  return pathToFileURL(path).href;
}
