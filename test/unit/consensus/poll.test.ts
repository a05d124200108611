import { describe, expect, it } from 'vitest';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Poll, Vote } from '../../../src/consensus/snowball/poll.js';

const { YES, NO, UNKNOWN } = Vote;

/** k = 5 draws: a drawn 2 times, b 2 times, c once; alpha = 3. */
function poll(items = 2): Poll {
  return new Poll(
    7,
    Int32Array.from({ length: items }, (_, i) => i),
    ['a', 'b', 'a', 'c', 'b'],
    3,
  );
}

describe('Poll', () => {
  it('sends to the distinct sampled validators and counts a validator drawn m times m times', () => {
    const p = poll();
    expect(p.validators()).toEqual(['a', 'b', 'c']);
    expect(p.record('a', [YES, NO])).toBe(true);
    expect(Array.from(p.yes)).toEqual([2, 0]);
    expect(p.remaining).toBe(3);
    expect(p.record('c', [YES, YES])).toBe(true);
    expect(Array.from(p.yes)).toEqual([3, 1]);
    expect(p.success(0)).toBe(true);
    expect(p.success(1)).toBe(false);
  });

  it('ignores unsampled and repeated responders', () => {
    const p = poll();
    expect(p.record('z', [YES, YES])).toBe(false);
    expect(p.record('a', [YES, YES])).toBe(true);
    expect(p.record('a', [YES, YES])).toBe(false);
    expect(Array.from(p.yes)).toEqual([2, 2]);
  });

  it('terminates early once every outcome is settled', () => {
    const p = poll();
    p.record('a', [YES, NO]); // item 0: 2, item 1: 0 with 3 draws outstanding -> both open
    expect(p.complete).toBe(false);
    p.record('b', [YES, NO]); // item 0: 4 >= alpha; item 1: 0 + 1 < alpha
    expect(p.complete).toBe(true);
    expect(p.remaining).toBe(1);
    expect(p.record('c', [YES, YES])).toBe(false); // late answers change nothing
    expect(Array.from(p.yes)).toEqual([4, 0]);
  });

  it('unknown counts as no vote', () => {
    const p = poll(1);
    p.record('a', [UNKNOWN]);
    expect(p.yes[0]).toBe(0);
    expect(p.complete).toBe(false); // 0 yes, 3 draws outstanding: alpha = 3 still reachable
    p.record('c', [UNKNOWN]);
    expect(p.complete).toBe(true); // 0 + 2 outstanding < alpha
    expect(p.success(0)).toBe(false);
  });

  it('is complete at once when alpha can never be reached by anyone', () => {
    expect(new Poll(1, new Int32Array(1), ['a', 'b'], 3).complete).toBe(true);
  });

  it('rejects a vote list of the wrong length without counting it', () => {
    const p = poll();
    expect(() => p.record('a', [YES])).toThrow(SnowballError);
    expect(p.remaining).toBe(5);
    expect(p.record('a', [YES, YES])).toBe(true);
  });
});
