/**
 * Runs asynchronous operations one at a time, in call order. LedgerService's state changes
 * (finalize, apply a block, revert a block) each await storage; run concurrently, a block could be
 * applied while a finalization waits for its fsync, and memory would no longer follow the order of
 * the durable writes. A failed operation does not stop the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
