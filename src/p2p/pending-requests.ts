import { CodedError } from '../util/coded-error.js';

export type RequestErrorCode = 'P2P_TIMEOUT' | 'P2P_PEER_GONE' | 'P2P_TOO_MANY_REQUESTS' | 'P2P_REJECTED';

/** A request that got no (valid) answer. */
export class RequestError extends CodedError<RequestErrorCode> {}

interface Pending<T> {
  readonly expectType: number;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** What became of an answer. */
export type Settlement = 'settled' | 'late' | 'unsolicited';

/** How long an id that timed out is remembered, so its late answer is dropped without blame. */
export const LATE_ANSWER_MEMORY_MS = 60_000;

/**
 * Request/response correlation for one peer: ids 1..2^32−1, a timeout per request, and a cap on how
 * many are outstanding (a slow peer cannot make us hold unbounded state). Ids that timed out are
 * remembered for a minute (at most 4 × the cap): their answers are late, not unsolicited — a peer
 * stalled by GC for a few seconds answers everything late and must not be scored for it.
 */
export class PendingRequests<T extends { t: number }> {
  private readonly pending = new Map<number, Pending<T>>();
  /** id → (expected type, forget at ms), oldest first. */
  private readonly expired = new Map<number, { expectType: number; untilMs: number }>();
  private nextId: number;

  constructor(
    private readonly maxOutstanding: number,
    private readonly now: () => number = Date.now,
    /** The first id handed out (tests start near the top of the range to see it wrap). */
    firstId = 1,
  ) {
    if (!(Number.isInteger(firstId) && firstId >= 1 && firstId <= 0xffff_ffff))
      throw new RangeError(`a request id is 1..2^32−1, got ${firstId}`);
    this.nextId = firstId;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Reserves an id and returns it with the promise of the answer (of type `expectType`). */
  open(expectType: number, timeoutMs: number): { id: number; response: Promise<T> } {
    if (this.pending.size >= this.maxOutstanding) {
      return {
        id: 0,
        response: Promise.reject(
          new RequestError('P2P_TOO_MANY_REQUESTS', `${this.pending.size} outstanding`),
        ),
      };
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    const response = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.remember(id, expectType);
        reject(new RequestError('P2P_TIMEOUT', `no answer to request ${id} within ${timeoutMs} ms`, { id }));
      }, timeoutMs);
      this.pending.set(id, { expectType, resolve, reject, timer });
    });
    return { id, response };
  }

  private remember(id: number, expectType: number): void {
    const now = this.now();
    for (const [old, e] of this.expired) {
      if (e.untilMs > now && this.expired.size < 4 * this.maxOutstanding) break;
      this.expired.delete(old);
    }
    this.expired.set(id, { expectType, untilMs: now + LATE_ANSWER_MEMORY_MS });
  }

  /**
   * Delivers an answer: 'settled' when it completes an open request of that answer type, 'late'
   * when its request already timed out (drop it, blame nobody), 'unsolicited' otherwise.
   */
  settle(id: number, message: T): Settlement {
    const p = this.pending.get(id);
    if (!p || p.expectType !== message.t) {
      const e = this.expired.get(id);
      if (e && e.expectType === message.t && e.untilMs > this.now()) {
        this.expired.delete(id);
        return 'late';
      }
      return 'unsolicited';
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(message);
    return 'settled';
  }

  /** Fails one request (the peer sent a Reject for it); a Reject for a timed-out id is late. */
  fail(id: number, err: Error): Settlement {
    const p = this.pending.get(id);
    if (!p) {
      // A Reject answers any request type, but only within the same memory window as settle().
      const e = this.expired.get(id);
      if (e && e.untilMs > this.now()) {
        this.expired.delete(id);
        return 'late';
      }
      return 'unsolicited';
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
    return 'settled';
  }

  /** Fails every open request (connection closed). */
  failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
