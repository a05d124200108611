import type { SnowballParams } from '../../params/chain-params.js';

/** The thresholds one conflict set needs (k and the sampling live in the poll). */
export type ConflictSetParams = Pick<SnowballParams, 'alphaPreference' | 'alphaConfidence' | 'beta'>;

/** True when member a ranks before member b on a tie (the engine orders by txid bytes). */
export type TieBreak = (a: number, b: number) => boolean;

/**
 * Snowball over one conflict set: every processing transaction that spends one outpoint.
 * Members are engine transaction handles (small integers). One instance is an n-ary Snowball with
 * avalanchego's dual alpha (nnarySnowball ∘ nnarySnowflake). Per poll, the engine reports the one
 * member that reached alphaPreference, with its yes count, or that no member (or several) did:
 *
 * - yes >= alphaPreference: successes[c] += 1, and the preference moves to c when c now outranks
 *   the current preference;
 * - yes >= alphaConfidence as well: c is this poll's choice for confidence, which rises if c equals
 *   the last choice, else restarts at 1 (last choice := c);
 * - no member reached alphaConfidence (including yes < alphaPreference): confidence = 0;
 * - at confidence >= beta the set is finalized on the last choice. (As in avalanchego, the
 *   finalized choice is the Snowflake one: β consecutive confident polls for c make c the decision
 *   even in the rare case the success counts still favour another member.)
 *
 * The preference is always the member that outranks all others: most successes, and among equal
 * successes the one `before` ranks first (the engine: the lower txid). avalanchego keeps the current
 * preference on a tie, which makes the start of every conflict "first seen": a local, timing-
 * dependent choice that splits the honest nodes roughly in half whenever two spends are published
 * at once — the split a balancing attacker needs. Ranking ties by txid makes every honest node that
 * knows the same members start with the same preference.
 *
 * A finalized set is not necessarily settled: its decision d is accepted only once every conflict
 * set of d is finalized on d. If d is rejected instead (a transaction conflicting with d through
 * another outpoint was accepted), `remove(d)` reopens the set among its remaining members with fresh
 * Snowball state — exactly the state a restarted node builds for that outpoint.
 *
 * Invariants: members.length == successes.length; members are distinct; while open, preference is
 * the member that outranks all others (-1 only while there are none); lastChoice is a member or -1;
 * finalized implies confidence >= beta and preference == lastChoice; polls change nothing once
 * finalized.
 */
export class ConflictSet {
  /** Transaction handles, in the order they joined (first seen first). */
  readonly members: number[] = [];
  /** successes[i]: polls in which members[i] reached alphaPreference. */
  readonly successes: number[] = [];
  /** Member with the most successes, ties to the one `before` ranks first; -1 while there are none. */
  preference: number;
  /** Member of the most recent poll that reached alphaConfidence, -1 if none yet. */
  lastChoice = -1;
  /** Consecutive polls reaching alphaConfidence for lastChoice. */
  confidence = 0;
  finalized = false;
  /** Times the set was reopened because its finalized member was rejected. */
  reopened = 0;

  constructor(
    readonly params: ConflictSetParams,
    first: number,
    /** Tie-break between members with equal successes. */
    private readonly before: TieBreak,
  ) {
    this.members.push(first);
    this.successes.push(0);
    this.preference = first;
  }

  /**
   * A conflicting transaction joins with no successes; it becomes the preference only if the
   * preference has no successes either and it ranks before it. It also joins a finalized set: it
   * cannot win there unless the set reopens, and it must be a member then.
   */
  add(member: number): void {
    if (this.members.includes(member)) return;
    this.members.push(member);
    this.successes.push(0);
    if (!this.finalized) this.preference = this.leader();
  }

  /**
   * A member left the contest: it was rejected because a conflicting transaction was accepted.
   * - If the set was finalized on it, the decision died with it: the set reopens among the remaining
   *   members with fresh Snowball state (no successes, confidence 0, the first-ranked member
   *   preferred).
   * - If the set is open, the preference moves to the remaining member that outranks the others,
   *   and a streak for the removed member is over.
   * - If the set is finalized on another member, it simply leaves the list.
   */
  remove(member: number): void {
    const at = this.members.indexOf(member);
    if (at < 0) return;
    this.members.splice(at, 1);
    this.successes.splice(at, 1);
    if (this.finalized) {
      if (this.preference === member) this.reopen();
      return;
    }
    if (this.lastChoice === member) {
      this.lastChoice = -1;
      this.confidence = 0;
    }
    if (this.preference === member) this.preference = this.leader();
  }

  /**
   * One poll's result for this set: `choice` was the only member with yes >= alphaPreference and got
   * `yes` votes. A yes count below alphaPreference is an unsuccessful poll. Non-members are ignored.
   */
  recordPoll(yes: number, choice: number): void {
    if (this.finalized) return;
    if (yes < this.params.alphaPreference) {
      this.confidence = 0;
      return;
    }
    const at = this.members.indexOf(choice);
    if (at < 0) return;
    this.successes[at]!++;
    if (choice !== this.preference && this.outranks(at, this.members.indexOf(this.preference)))
      this.preference = choice;
    if (yes < this.params.alphaConfidence) {
      this.confidence = 0;
      return;
    }
    if (choice === this.lastChoice) this.confidence++;
    else {
      this.lastChoice = choice;
      this.confidence = 1;
    }
    if (this.confidence >= this.params.beta) {
      this.finalized = true;
      this.preference = choice;
    }
  }

  /** No member (or more than one) reached alphaPreference. */
  recordUnsuccessful(): void {
    if (!this.finalized) this.confidence = 0;
  }

  /** The finalized member, or -1 while not finalized. */
  get decision(): number {
    return this.finalized ? this.preference : -1;
  }

  /** Snapshot-friendly state, avalanchego `String()` style. */
  toString(): string {
    const s = this.members.map((m, i) => `${m}:${this.successes[i]}`).join(' ');
    return `SB(Preference = ${this.preference}, Successes = [${s}], SF(LastChoice = ${this.lastChoice}, Confidence = ${this.confidence}, Finalized = ${this.finalized}))`;
  }

  private reopen(): void {
    this.finalized = false;
    this.successes.fill(0);
    this.preference = this.leader();
    this.lastChoice = -1;
    this.confidence = 0;
    this.reopened++;
  }

  /** members[i] outranks members[j]: more successes, or as many and ranked before it. */
  private outranks(i: number, j: number): boolean {
    const si = this.successes[i]!;
    const sj = this.successes[j]!;
    return si > sj || (si === sj && this.before(this.members[i]!, this.members[j]!));
  }

  /** The member that outranks all others, -1 if there are none. */
  private leader(): number {
    let best = -1;
    for (let i = 0; i < this.members.length; i++) if (best < 0 || this.outranks(i, best)) best = i;
    return best < 0 ? -1 : this.members[best]!;
  }
}
