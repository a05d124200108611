import { describe, expect, it } from 'vitest';
import { ConflictSet, type TieBreak } from '../../../src/consensus/snowball/conflict-set.js';

const RED = 0;
const BLUE = 1;
const GREEN = 2;

/** k = 20 thresholds of every network; beta small so the tests stay short. */
const params = (beta: number) => ({ alphaPreference: 11, alphaConfidence: 14, beta });
/** Ties go to the lower handle: RED, then BLUE, then GREEN (arrival order in most tests). */
const lowerHandle: TieBreak = (a, b) => a < b;
/** Ties go to BLUE, then RED, then GREEN: a ranking (txid order in the engine) unlike arrival. */
const RANK = [1, 0, 2];
const blueFirst: TieBreak = (a, b) => RANK[a]! < RANK[b]!;
/** A poll in which `c` reached alphaConfidence (14 yes). */
const confident = (s: ConflictSet, c: number) => s.recordPoll(14, c);
/** A poll in which `c` reached alphaPreference but not alphaConfidence (13 yes). */
const preferring = (s: ConflictSet, c: number) => s.recordPoll(13, c);

describe('ConflictSet (n-ary Snowball, dual alpha)', () => {
  it('a lone member finalizes at exactly beta consecutive confident polls', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    confident(s, RED);
    confident(s, RED);
    expect(s.finalized).toBe(false);
    expect(s.decision).toBe(-1);
    expect(s.toString()).toBe(
      'SB(Preference = 0, Successes = [0:2], SF(LastChoice = 0, Confidence = 2, Finalized = false))',
    );
    confident(s, RED);
    expect(s.finalized).toBe(true);
    expect(s.decision).toBe(RED);
    expect(s.confidence).toBe(3);
  });

  it('alphaPreference <= yes < alphaConfidence: a success for the preference, confidence back to 0', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    confident(s, RED);
    confident(s, RED);
    preferring(s, BLUE); // BLUE 1 < RED 2: no flip, but the streak is over
    expect(s.toString()).toBe(
      'SB(Preference = 0, Successes = [0:2 1:1], SF(LastChoice = 0, Confidence = 0, Finalized = false))',
    );
    preferring(s, BLUE);
    preferring(s, BLUE); // BLUE 3 > RED 2: the preference moves without any confidence
    expect(s.preference).toBe(BLUE);
    expect(s.confidence).toBe(0);
    expect(s.finalized).toBe(false);
  });

  it('thresholds are inclusive: 11 is a success, 10 is not; 14 counts for confidence, 13 does not', () => {
    const s = new ConflictSet(params(2), RED, lowerHandle);
    s.add(BLUE);
    s.recordPoll(10, BLUE);
    expect(s.successes).toEqual([0, 0]);
    s.recordPoll(11, BLUE);
    expect(s.successes).toEqual([0, 1]);
    expect(s.preference).toBe(BLUE);
    expect(s.confidence).toBe(0);
    s.recordPoll(14, BLUE);
    expect(s.confidence).toBe(1);
    s.recordPoll(13, BLUE);
    expect(s.confidence).toBe(0);
    s.recordPoll(14, BLUE);
    s.recordPoll(14, BLUE);
    expect(s.decision).toBe(BLUE);
  });

  it('an unsuccessful poll resets confidence to 0 and finalization needs beta fresh confident polls', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    confident(s, RED);
    confident(s, RED);
    s.recordUnsuccessful();
    expect(s.confidence).toBe(0);
    expect(s.successes).toEqual([2]); // successes are never forgotten
    confident(s, RED);
    confident(s, RED);
    expect(s.finalized).toBe(false);
    confident(s, RED);
    expect(s.finalized).toBe(true);
  });

  it('the preference is the member with the most successes, ties to the one ranked first', () => {
    const s = new ConflictSet(params(5), RED, blueFirst);
    expect(s.preference).toBe(RED); // alone
    s.add(BLUE);
    expect(s.preference).toBe(BLUE); // 0 = 0: BLUE ranks first, whatever arrived first
    confident(s, RED); // RED 1 > BLUE 0: flips
    expect(s.preference).toBe(RED);
    expect(s.confidence).toBe(1);
    confident(s, BLUE); // BLUE 1 = RED 1: the tie goes to BLUE; confidence restarts for the new choice
    expect(s.preference).toBe(BLUE);
    expect(s.lastChoice).toBe(BLUE);
    expect(s.confidence).toBe(1);
    confident(s, RED); // RED 2 > BLUE 1: flips back
    expect(s.preference).toBe(RED);
    expect(s.toString()).toBe(
      'SB(Preference = 0, Successes = [0:2 1:1], SF(LastChoice = 0, Confidence = 1, Finalized = false))',
    );
    s.add(GREEN); // ranks last and has nothing: no change
    expect(s.preference).toBe(RED);
  });

  it('a newcomer ranked first takes the preference only while the preference has no successes', () => {
    const s = new ConflictSet(params(5), RED, blueFirst);
    preferring(s, RED);
    s.add(BLUE);
    expect(s.preference).toBe(RED); // RED 1 > BLUE 0
  });

  it('a change of confident choice resets confidence to 1, not 0', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    confident(s, RED);
    confident(s, RED);
    confident(s, BLUE);
    expect(s.confidence).toBe(1);
    expect(s.lastChoice).toBe(BLUE);
    expect(s.preference).toBe(RED);
  });

  it('finalizes on the Snowflake choice even when success counts favour another member', () => {
    // avalanchego nnarySnowball: beta consecutive confident polls decide, whatever the totals say.
    const s = new ConflictSet(params(2), RED, lowerHandle);
    s.add(BLUE);
    for (let i = 0; i < 5; i++) {
      confident(s, RED);
      s.recordUnsuccessful();
    }
    confident(s, BLUE);
    expect(s.preference).toBe(RED);
    confident(s, BLUE);
    expect(s.finalized).toBe(true);
    expect(s.decision).toBe(BLUE);
    expect(s.preference).toBe(BLUE);
  });

  it('polls change nothing once finalized; unknown choices never', () => {
    const s = new ConflictSet(params(1), RED, lowerHandle);
    confident(s, GREEN); // not a member
    expect(s.confidence).toBe(0);
    confident(s, RED);
    expect(s.finalized).toBe(true);
    const before = s.toString();
    confident(s, RED);
    preferring(s, RED);
    s.recordUnsuccessful();
    expect(s.toString()).toBe(before);
  });

  it('a member joining a finalized set waits as a member', () => {
    const s = new ConflictSet(params(1), RED, lowerHandle);
    confident(s, RED);
    s.add(BLUE);
    expect(s.members).toEqual([RED, BLUE]);
    expect(s.decision).toBe(RED);
    s.remove(BLUE); // a waiting member rejected elsewhere just leaves
    expect(s.members).toEqual([RED]);
    expect(s.decision).toBe(RED);
  });

  it('remove from an open set moves the preference to the strongest remaining member and ends its streak', () => {
    const s = new ConflictSet(params(10), RED, lowerHandle);
    s.add(BLUE);
    s.add(GREEN);
    confident(s, GREEN);
    confident(s, RED);
    confident(s, RED);
    confident(s, RED);
    confident(s, GREEN);
    expect(s.preference).toBe(RED);
    confident(s, RED);
    s.remove(RED);
    expect(s.members).toEqual([BLUE, GREEN]);
    expect(s.preference).toBe(GREEN);
    expect(s.lastChoice).toBe(-1);
    expect(s.confidence).toBe(0);
    s.remove(BLUE);
    s.remove(GREEN);
    expect(s.preference).toBe(-1);
    s.add(BLUE); // a new spender of the same outpoint becomes the preference of the empty set
    expect(s.preference).toBe(BLUE);
  });

  it('remove on a tie hands the preference to the remaining member ranked first', () => {
    const s = new ConflictSet(params(10), GREEN, blueFirst);
    s.add(RED);
    s.add(BLUE);
    confident(s, GREEN);
    confident(s, RED);
    confident(s, BLUE);
    expect(s.preference).toBe(BLUE);
    s.remove(BLUE);
    expect(s.preference).toBe(RED); // RED 1 = GREEN 1, RED ranks before GREEN
  });

  it('removing the finalized member reopens the set among the others with fresh state', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    s.add(GREEN);
    confident(s, GREEN);
    confident(s, GREEN);
    confident(s, RED);
    confident(s, RED);
    confident(s, RED);
    expect(s.decision).toBe(RED);
    s.remove(RED);
    expect(s.finalized).toBe(false);
    expect(s.reopened).toBe(1);
    // Fresh: GREEN's two successes from before the decision are gone; the earliest member leads.
    expect(s.toString()).toBe(
      'SB(Preference = 1, Successes = [1:0 2:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    confident(s, GREEN);
    confident(s, GREEN);
    expect(s.finalized).toBe(false); // a full beta again
    confident(s, GREEN);
    expect(s.decision).toBe(GREEN);
    s.remove(GREEN);
    expect(s.toString()).toBe(
      'SB(Preference = 1, Successes = [1:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    s.remove(BLUE);
    expect(s.preference).toBe(-1);
    expect(s.finalized).toBe(false);
  });
});

describe('ConflictSet membership changes (snowball mutation run 2)', () => {
  it('a transaction seen again does not join twice', () => {
    // Gossip delivers the same spend many times; a second slot would split its successes.
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    s.add(BLUE);
    s.add(RED);
    expect(s.members).toEqual([RED, BLUE]);
    preferring(s, BLUE);
    expect(s.successes).toEqual([0, 1]);
    expect(s.preference).toBe(BLUE);
  });

  it('a newcomer joining a finalized set leaves the decision on the Snowflake choice', () => {
    // Finalized on BLUE by Snowflake while GREEN has more successes: re-ranking on the join would
    // hand the decision to GREEN.
    const s = new ConflictSet(params(2), BLUE, lowerHandle);
    s.add(GREEN);
    for (let i = 0; i < 3; i++) {
      confident(s, GREEN);
      s.recordUnsuccessful();
    }
    confident(s, BLUE);
    confident(s, BLUE);
    expect(s.decision).toBe(BLUE);
    s.add(RED); // ranks before BLUE on the tie-break, no successes
    expect(s.members).toEqual([BLUE, GREEN, RED]);
    expect(s.decision).toBe(BLUE);
    expect(s.preference).toBe(BLUE);
  });

  it('removing a transaction that is not a member changes nothing', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    confident(s, BLUE);
    const before = s.toString();
    s.remove(GREEN);
    expect(s.members).toEqual([RED, BLUE]);
    expect(s.toString()).toBe(before);
  });

  it('removing a member other than the last confident choice keeps the streak going to beta', () => {
    const s = new ConflictSet(params(3), RED, lowerHandle);
    s.add(BLUE);
    s.add(GREEN);
    confident(s, RED);
    confident(s, RED);
    s.remove(BLUE); // rejected elsewhere: RED's run of confident polls is not affected
    expect(s.lastChoice).toBe(RED);
    expect(s.confidence).toBe(2);
    confident(s, RED);
    expect(s.decision).toBe(RED);
  });
});
