/**
 * Runs asynchronous operations one at a time, in call order. LedgerService's state changes
 * (finalize, apply a block, revert a block) each await storage; run concurrently, a block could be
 * applied while a finalization waits for its fsync, and memory would no longer follow the order of
 * the durable writes. The node uses a second queue for sequences of them (a reorg's reverts and
 * applies). A failed operation does not stop the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;
  private closed = false;

  /** Operations queued or running. */
  get size(): number {
    return this.depth;
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('serial queue closed'));
    this.depth++;
    const result = this.tail.then(operation);
    this.tail = result.then(
      () => this.depth--,
      () => this.depth--,
    );
    return result;
  }

  /** Refuses new operations and resolves when the running and queued ones are done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
