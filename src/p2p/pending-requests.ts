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

/**
 * Request/response correlation for one peer: ids 1..2^32−1, a timeout per request, and a cap on how
 * many are outstanding (a slow peer cannot make us hold unbounded state).
 */
export class PendingRequests<T extends { t: number }> {
  private readonly pending = new Map<number, Pending<T>>();
  private nextId = 1;

  constructor(private readonly maxOutstanding: number) {}

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
        reject(new RequestError('P2P_TIMEOUT', `no answer to request ${id} within ${timeoutMs} ms`, { id }));
      }, timeoutMs);
      this.pending.set(id, { expectType, resolve, reject, timer });
    });
    return { id, response };
  }

  /**
   * Delivers an answer. Returns false when no request with this id and answer type is open (an
   * unsolicited or late answer: the caller scores it).
   */
  settle(id: number, message: T): boolean {
    const p = this.pending.get(id);
    if (!p || p.expectType !== message.t) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(message);
    return true;
  }

  /** Fails one request (the peer sent a Reject for it). */
  fail(id: number, err: Error): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
    return true;
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
