import { describe, expect, it } from 'vitest';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Poll, Vote } from '../../../src/consensus/snowball/poll.js';
import { Xoshiro128 } from '../../../src/consensus/snowball/prng.js';

const { YES, NO, UNKNOWN } = Vote;

/** k = 5 draws: a drawn 2 times, b 2 times, c once; alphaPreference = 3, alphaConfidence = 4. */
function poll(items = 2): Poll {
  return new Poll(
    7,
    Int32Array.from({ length: items }, (_, i) => i),
    ['a', 'b', 'a', 'c', 'b'],
    3,
    4,
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
    expect(p.reachedPreference(0)).toBe(true);
    expect(p.reachedConfidence(0)).toBe(false);
    expect(p.reachedPreference(1)).toBe(false);
  });

  it('lists the validators to ask sorted by id, whatever order they were drawn in', () => {
    // Requests go out in id order, not draw order, so a seeded run sends them in one replayable order.
    const p = new Poll(1, new Int32Array(1), ['c', 'a', 'b', 'c', 'a'], 3, 4);
    expect(p.validators()).toEqual(['a', 'b', 'c']);
  });

  it('ignores unsampled and repeated responders', () => {
    const p = poll();
    expect(p.record('z', [YES, YES])).toBe(false);
    expect(p.record('a', [YES, YES])).toBe(true);
    expect(p.record('a', [YES, YES])).toBe(false);
    expect(Array.from(p.yes)).toEqual([2, 2]);
  });

  it('terminates early once both outcomes of every item are settled', () => {
    const p = poll();
    p.record('a', [YES, NO]); // item 0: 2, item 1: 0 with 3 draws outstanding -> both open
    expect(p.complete).toBe(false);
    p.record('b', [YES, NO]); // item 0: 4 >= alphaConfidence; item 1: 0 + 1 < alphaPreference
    expect(p.complete).toBe(true);
    expect(p.remaining).toBe(1);
    expect(p.record('c', [YES, YES])).toBe(false); // late answers change nothing
    expect(Array.from(p.yes)).toEqual([4, 0]);
  });

  it('waits while alphaPreference is reached but alphaConfidence still reachable', () => {
    const p = poll(1);
    p.record('a', [YES]);
    p.record('c', [YES]); // 3 >= alphaPreference, 3 + 2 outstanding >= alphaConfidence
    expect(p.complete).toBe(false);
    p.record('b', [NO]);
    expect(p.complete).toBe(true);
    expect(p.reachedPreference(0)).toBe(true);
    expect(p.reachedConfidence(0)).toBe(false);
  });

  it('waits while alphaConfidence is out of reach but alphaPreference still reachable', () => {
    const p = poll(1);
    p.record('a', [YES]);
    p.record('b', [NO]); // 2 + 1 outstanding: alphaConfidence = 4 unreachable, alphaPreference = 3 not
    expect(p.complete).toBe(false);
    p.record('c', [YES]);
    expect(p.complete).toBe(true);
    expect(p.reachedPreference(0)).toBe(true);
  });

  it('unknown counts as no vote', () => {
    const p = poll(1);
    p.record('a', [UNKNOWN]);
    expect(p.yes[0]).toBe(0);
    expect(p.complete).toBe(false); // 0 yes, 3 draws outstanding: alphaPreference = 3 still reachable
    p.record('c', [UNKNOWN]);
    expect(p.complete).toBe(true); // 0 + 2 outstanding < alphaPreference
    expect(p.reachedPreference(0)).toBe(false);
  });

  it('is complete at once when no threshold can ever be reached', () => {
    expect(new Poll(1, new Int32Array(1), ['a', 'b'], 3, 3).complete).toBe(true);
    expect(new Poll(1, new Int32Array(1), ['a', 'b', 'c'], 3, 4).complete).toBe(false);
  });

  it('early termination is exact: the outcomes equal those of waiting for every answer', () => {
    const rng = new Xoshiro128(77);
    let early = 0;
    for (let trial = 0; trial < 3_000; trial++) {
      const k = 1 + rng.below(20);
      const ap = Math.floor(k / 2) + 1 + rng.below(k - Math.floor(k / 2));
      const ac = ap + rng.below(k - ap + 1);
      const validators = 1 + rng.below(k);
      const sample = Array.from({ length: k }, () => `v${rng.below(validators)}`);
      const items = 1 + rng.below(4);
      const ids = [...new Set(sample)];
      const votes = new Map(ids.map((id) => [id, Array.from({ length: items }, () => rng.below(3))]));
      // Oracle: every answer counted.
      const full = new Array<number>(items).fill(0);
      for (const id of sample) for (let i = 0; i < items; i++) if (votes.get(id)![i] === YES) full[i]!++;
      const p = new Poll(trial, new Int32Array(items), sample, ap, ac);
      // Answers in a random order; stop as soon as the poll says it is complete.
      for (let i = ids.length - 1; i > 0; i--) {
        const j = rng.below(i + 1);
        [ids[i], ids[j]] = [ids[j]!, ids[i]!];
      }
      let answered = 0;
      for (const id of ids) {
        if (p.complete) break;
        p.record(id, votes.get(id)!);
        answered++;
      }
      if (answered < ids.length) early++;
      for (let i = 0; i < items; i++) {
        expect(p.reachedPreference(i), `trial ${trial}`).toBe(full[i]! >= ap);
        expect(p.reachedConfidence(i), `trial ${trial}`).toBe(full[i]! >= ac);
      }
    }
    expect(early).toBeGreaterThan(500); // the property was exercised, not vacuous
  });

  it('rejects a vote list of the wrong length without counting it', () => {
    const p = poll();
    // The operator sees which peer sent a malformed answer to which request, and the two lengths.
    expect(() => p.record('a', [YES])).toThrow(
      expect.objectContaining({
        code: 'INVALID_VOTES',
        message: expect.stringMatching(/1 votes for a poll of 2 items/),
        details: { requestId: 7, validatorId: 'a' },
      }),
    );
    expect(() => p.record('a', [YES])).toThrow(SnowballError);
    expect(p.remaining).toBe(5);
    expect(p.record('a', [YES, YES])).toBe(true);
  });
});
