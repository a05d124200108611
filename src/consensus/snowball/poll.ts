import { SnowballError } from './errors.js';

/** A responder's answer for one queried txid (wire values). */
export const Vote = {
  /** The responder knows the transaction and does not prefer it in all its conflict sets. */
  NO: 0,
  /** The responder prefers the transaction in every conflict set it belongs to. */
  YES: 1,
  /** The responder has not seen the transaction (it fetches it); counts as no vote. */
  UNKNOWN: 2,
} as const;
export type Vote = (typeof Vote)[keyof typeof Vote];

/**
 * One outstanding poll: the queried items, the sampled validators with their multiplicity, and the
 * yes tally per item. A validator drawn m times adds m to every item it says yes to. Missing answers
 * count as no vote, so a timed-out poll is applied with what it has.
 *
 * Early termination: the engine's per-conflict-set outcome depends only on two bits per item (did
 * it reach alphaPreference, did it reach alphaConfidence). A bit is settled once yes >= threshold
 * or yes + (draws still unanswered) < threshold; an item is settled once BOTH bits are, and once
 * every item is settled the poll is complete and can be applied without waiting: the answers still
 * missing could not change any outcome.
 */
export class Poll {
  /** yes[i]: weighted yes votes for items[i] so far. */
  readonly yes: Uint16Array;
  /** Draws (k minus answered multiplicity) whose answer has not arrived. */
  remaining: number;
  /** True once every item's outcome is settled (or all answers arrived). */
  complete = false;
  private readonly pending: Map<string, number>;

  constructor(
    readonly requestId: number,
    /** Engine transaction handles queried, in wire order. */
    readonly items: Int32Array,
    sample: readonly string[],
    readonly alphaPreference: number,
    readonly alphaConfidence: number,
    /** The engine's count of polls started before this one (handle reuse waits for older polls). */
    readonly seq = 0,
  ) {
    this.yes = new Uint16Array(items.length);
    this.remaining = sample.length;
    this.pending = new Map();
    for (const id of sample) this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    this.complete = this.settled();
  }

  /** The distinct validators to send the request to, sorted. */
  validators(): string[] {
    return [...this.pending.keys()].sort();
  }

  /**
   * Adds one validator's answer (votes[i] for items[i]). Returns true if it was counted; answers from
   * validators not sampled, repeated answers and answers after completion are ignored (false).
   */
  record(validatorId: string, votes: ArrayLike<number>): boolean {
    if (this.complete) return false;
    const m = this.pending.get(validatorId);
    if (m === undefined) return false;
    const n = this.items.length;
    if (votes.length !== n)
      throw new SnowballError('INVALID_VOTES', `${votes.length} votes for a poll of ${n} items`, {
        requestId: this.requestId,
        validatorId,
      });
    this.pending.delete(validatorId);
    this.remaining -= m;
    const yes = this.yes;
    const remaining = this.remaining;
    const ap = this.alphaPreference;
    const ac = this.alphaConfidence;
    let open = 0;
    for (let i = 0; i < n; i++) {
      let y = yes[i]!;
      if (votes[i] === Vote.YES) yes[i] = y += m;
      if (isOpen(y, remaining, ap, ac)) open++;
    }
    this.complete = open === 0;
    return true;
  }

  /** The timeout: answers still missing count as no votes, the outcomes are final. */
  close(): void {
    this.complete = true;
  }

  /** Whether items[i] reached alphaPreference (final once complete). */
  reachedPreference(i: number): boolean {
    return this.yes[i]! >= this.alphaPreference;
  }

  /** Whether items[i] reached alphaConfidence (final once complete). */
  reachedConfidence(i: number): boolean {
    return this.yes[i]! >= this.alphaConfidence;
  }

  private settled(): boolean {
    for (let i = 0; i < this.items.length; i++)
      if (isOpen(this.yes[i]!, this.remaining, this.alphaPreference, this.alphaConfidence)) return false;
    return true;
  }
}

/** An outcome bit is still open while the threshold is unreached but reachable by the missing draws. */
function isOpen(yes: number, remaining: number, alphaPreference: number, alphaConfidence: number): boolean {
  return (
    (yes < alphaConfidence && yes + remaining >= alphaConfidence) ||
    (yes < alphaPreference && yes + remaining >= alphaPreference)
  );
}
