/**
 * Runs async ledger mutations one at a time, in call order. Finalizing a batch, applying a block and
 * reverting one each await a durable LMDB commit; if two interleaved at those awaits, one could act
 * on state the other is halfway through changing (a rival finalizing while a block's signatures
 * are verified). Submissions need no slot here: their last check and admission run without an await
 * between them.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;
  private closed = false;

  /** Operations queued or running. */
  get size(): number {
    return this.depth;
  }

  run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('serial queue closed'));
    this.depth++;
    const result = this.tail.then(op);
    // The chain continues whether `op` failed or not; the caller sees its own outcome.
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
