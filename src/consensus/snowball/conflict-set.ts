/**
 * Snowball over one conflict set: every processing transaction that spends one outpoint.
 * Members are engine transaction handles (small integers). One instance is an n-ary Snowball
 * (avalanchego nnarySnowball ∘ nnarySnowflake):
 *
 * - a successful poll for member c (c alone got >= alpha yes votes): successes[c] += 1; the
 *   preference moves to c when c now has strictly more successes than the current preference; the
 *   confidence rises if c equals the last choice, else it restarts at 1; last choice := c;
 * - an unsuccessful poll (no member, or more than one, reached alpha) resets confidence to 0;
 * - at confidence >= beta the set is finalized on the last choice. (As in avalanchego, the
 *   finalized choice is the Snowflake one: β consecutive successes for c make c the decision even in
 *   the rare case the success counts still favour another member.)
 *
 * Invariants: members.length == successes.length; preference and lastChoice are members (or -1
 * before the first success for lastChoice); finalized implies confidence >= beta; no method does
 * anything once finalized.
 */
export class ConflictSet {
  /** Transaction handles, in the order they joined (first seen first). */
  readonly members: number[] = [];
  /** successes[i]: successful polls won by members[i]. */
  readonly successes: number[] = [];
  /**
   * Member with the most successes (ties keep the earlier preference); the first member initially;
   * -1 only while every member has been removed.
   */
  preference: number;
  /** Choice of the most recent successful poll, -1 if none yet. */
  lastChoice = -1;
  /** Consecutive successful polls for lastChoice since the last unsuccessful poll. */
  confidence = 0;
  finalized = false;

  constructor(
    readonly beta: number,
    first: number,
  ) {
    this.members.push(first);
    this.successes.push(0);
    this.preference = first;
  }

  /** A conflicting transaction joins; it starts with no successes and does not move the preference. */
  add(member: number): void {
    if (this.finalized || this.members.includes(member)) return;
    if (this.members.length === 0) this.preference = member;
    this.members.push(member);
    this.successes.push(0);
  }

  /**
   * A member left the contest (rejected because another of its conflict sets was decided against
   * it). The preference moves to the remaining member with the most successes (earliest on ties),
   * and a streak for the removed member is over.
   */
  remove(member: number): void {
    if (this.finalized) return;
    const at = this.members.indexOf(member);
    if (at < 0) return;
    this.members.splice(at, 1);
    this.successes.splice(at, 1);
    if (this.lastChoice === member) {
      this.lastChoice = -1;
      this.confidence = 0;
    }
    if (this.preference === member) {
      let best = -1;
      for (let i = 0; i < this.members.length; i++)
        if (best < 0 || this.successes[i]! > this.successes[best]!) best = i;
      this.preference = best < 0 ? -1 : this.members[best]!;
    }
  }

  recordSuccess(choice: number): void {
    if (this.finalized) return;
    const at = this.members.indexOf(choice);
    if (at < 0) return;
    const won = ++this.successes[at]!;
    if (choice !== this.preference && won > this.successes[this.members.indexOf(this.preference)]!)
      this.preference = choice;
    if (choice === this.lastChoice) this.confidence++;
    else {
      this.lastChoice = choice;
      this.confidence = 1;
    }
    if (this.confidence >= this.beta) {
      this.finalized = true;
      this.preference = choice;
    }
  }

  recordUnsuccessful(): void {
    if (!this.finalized) this.confidence = 0;
  }

  /** The decided member, or -1 while not finalized. */
  get decision(): number {
    return this.finalized ? this.preference : -1;
  }

  /** Snapshot-friendly state, avalanchego `String()` style. */
  toString(): string {
    const s = this.members.map((m, i) => `${m}:${this.successes[i]}`).join(' ');
    return `SB(Preference = ${this.preference}, Successes = [${s}], SF(LastChoice = ${this.lastChoice}, Confidence = ${this.confidence}, Finalized = ${this.finalized}))`;
  }
}
