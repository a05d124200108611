import { bytesKey } from '../ledger/map-keys.js';

export type Outcome = 'finalized' | 'rejected';

/**
 * Clients waiting for a transaction's outcome (RPC `waittransactionfinality`, the CLI's `send`).
 * One map entry per txid with waiters, removed when it settles, times out or is aborted, so the
 * memory held is bounded by the waiters alive (which the RPC server bounds).
 */
export class FinalityWaiters {
  private readonly waiting = new Map<string, Set<(o: Outcome | 'timeout') => void>>();

  get size(): number {
    return this.waiting.size;
  }

  /**
   * The outcome, or 'timeout' at the timeout or when `signal` aborts. A signal already aborted
   * answers 'timeout' at once, holding nothing: its 'abort' event has fired and never fires again.
   */
  wait(txid: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Outcome | 'timeout'> {
    if (signal?.aborted) return Promise.resolve('timeout');
    const key = bytesKey(txid);
    return new Promise((resolve) => {
      let set = this.waiting.get(key);
      if (!set) {
        set = new Set();
        this.waiting.set(key, set);
      }
      const settle = (o: Outcome | 'timeout') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const s = this.waiting.get(key);
        s?.delete(settle);
        if (s?.size === 0) this.waiting.delete(key);
        resolve(o);
      };
      const onAbort = () => settle('timeout');
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(settle);
    });
  }

  settle(txid: Uint8Array, outcome: Outcome): void {
    const set = this.waiting.get(bytesKey(txid));
    if (!set) return;
    for (const s of [...set]) s(outcome);
  }
}
