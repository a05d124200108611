import { describe, expect, it } from 'vitest';
import { ConflictSet } from '../../../src/consensus/snowball/conflict-set.js';

const RED = 0;
const BLUE = 1;
const GREEN = 2;

describe('ConflictSet (n-ary Snowball)', () => {
  it('a lone member finalizes at exactly beta consecutive successes', () => {
    const s = new ConflictSet(3, RED);
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    expect(s.finalized).toBe(false);
    expect(s.decision).toBe(-1);
    expect(s.toString()).toBe(
      'SB(Preference = 0, Successes = [0:2], SF(LastChoice = 0, Confidence = 2, Finalized = false))',
    );
    s.recordSuccess(RED);
    expect(s.finalized).toBe(true);
    expect(s.decision).toBe(RED);
    expect(s.confidence).toBe(3);
  });

  it('an unsuccessful poll resets confidence to 0 and finalization needs beta fresh successes', () => {
    const s = new ConflictSet(3, RED);
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    s.recordUnsuccessful();
    expect(s.confidence).toBe(0);
    expect(s.successes).toEqual([2]); // successes are never forgotten
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    expect(s.finalized).toBe(false);
    s.recordSuccess(RED);
    expect(s.finalized).toBe(true);
  });

  it('preference flips only when another member has strictly more successes', () => {
    const s = new ConflictSet(5, RED);
    s.add(BLUE);
    expect(s.preference).toBe(RED); // first seen
    s.recordSuccess(BLUE); // BLUE 1 > RED 0: flips
    expect(s.preference).toBe(BLUE);
    expect(s.confidence).toBe(1);
    s.recordSuccess(RED); // RED 1 = BLUE 1: tie keeps BLUE, confidence restarts for the new choice
    expect(s.preference).toBe(BLUE);
    expect(s.lastChoice).toBe(RED);
    expect(s.confidence).toBe(1);
    s.recordSuccess(RED); // RED 2 > BLUE 1: flips back
    expect(s.preference).toBe(RED);
    expect(s.confidence).toBe(2);
    expect(s.toString()).toBe(
      'SB(Preference = 0, Successes = [0:2 1:1], SF(LastChoice = 0, Confidence = 2, Finalized = false))',
    );
  });

  it('a change of choice resets confidence to 1, not 0', () => {
    const s = new ConflictSet(3, RED);
    s.add(BLUE);
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    s.recordSuccess(BLUE);
    expect(s.confidence).toBe(1);
    expect(s.lastChoice).toBe(BLUE);
    expect(s.preference).toBe(RED);
  });

  it('finalizes on the Snowflake choice even when success counts favour another member', () => {
    // avalanchego nnarySnowball: beta consecutive successes decide, whatever the totals say.
    const s = new ConflictSet(2, RED);
    s.add(BLUE);
    for (let i = 0; i < 5; i++) {
      s.recordSuccess(RED);
      s.recordUnsuccessful();
    }
    s.recordSuccess(BLUE);
    expect(s.preference).toBe(RED);
    s.recordSuccess(BLUE);
    expect(s.finalized).toBe(true);
    expect(s.decision).toBe(BLUE);
    expect(s.preference).toBe(BLUE);
  });

  it('ignores everything once finalized, and unknown choices always', () => {
    const s = new ConflictSet(1, RED);
    s.recordSuccess(GREEN); // not a member
    expect(s.confidence).toBe(0);
    s.recordSuccess(RED);
    expect(s.finalized).toBe(true);
    const before = s.toString();
    s.add(BLUE);
    s.recordSuccess(BLUE);
    s.recordUnsuccessful();
    s.remove(RED);
    expect(s.toString()).toBe(before);
  });

  it('remove moves the preference to the strongest remaining member and ends its streak', () => {
    const s = new ConflictSet(10, RED);
    s.add(BLUE);
    s.add(GREEN);
    s.recordSuccess(GREEN);
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    s.recordSuccess(RED);
    s.recordSuccess(GREEN);
    expect(s.preference).toBe(RED);
    s.recordSuccess(RED);
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
});
