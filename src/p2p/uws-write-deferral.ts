/**
 * Keeps our writes out of uWS's TLS read loop.
 *
 * uWebSockets.js v20.51 (@based/uws 6.0.1) breaks a TLS connection when a socket is written to
 * from inside a `message` callback while the peer's input is still being read: with WebSocket
 * messages of 16 KiB or more (they span TLS records) arriving back to back and each answered at
 * once, the server misreads its own input stream after a few dozen answers, sends the TLS alert
 * `protocol_version` and drops the peer with close code 1006. Plain TCP is not affected, nor are
 * the same writes made a turn of the event loop later. An honest node answering pipelined
 * 1,024-txid PollRequests hit it (test/e2e/p2p/pipelined.test.ts reproduces it with the fix off).
 *
 * So every write we make while a uWS callback runs (answers, relays, closes, publishes, on any
 * socket) is queued and performed in one `setImmediate`, after uWS has finished reading. While
 * anything is queued, later writes queue behind it, so frames leave in the order we made them.
 */
export class UwsWriteDeferral {
  private depth = 0;
  private readonly queue: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Writes that went through the queue (metrics, tests). */
  deferred = 0;
  /** Deferred writes that threw (each is skipped; the ones after it still run). */
  failed = 0;

  /** Runs a uWS callback; writes made inside it are deferred. */
  during<T>(callback: () => T): T {
    this.depth++;
    try {
      return callback();
    } finally {
      this.depth--;
    }
  }

  /** True when a write must be queued rather than made now. */
  get mustDefer(): boolean {
    return this.depth > 0 || this.queue.length > 0;
  }

  /** Performs `write` now when that is safe, otherwise after the current uWS callback. */
  write(write: () => void): void {
    if (!this.mustDefer) {
      write();
      return;
    }
    this.deferred++;
    this.queue.push(write);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Drops what is queued (the server is closing). */
  clear(): void {
    this.queue.length = 0;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private flush(): void {
    this.scheduled = undefined;
    // A write may trigger a uWS callback synchronously (a close at the backpressure limit) that
    // queues more: those run in this same pass, after everything queued before them.
    // One write that throws (uWS refuses a socket it closed meanwhile) must neither stop the others
    // nor leave them queued to run twice, nor escape: it would be an uncaught exception.
    for (let i = 0; i < this.queue.length; i++) {
      try {
        this.queue[i]!();
      } catch {
        this.failed++;
      }
    }
    this.queue.length = 0;
  }
}
