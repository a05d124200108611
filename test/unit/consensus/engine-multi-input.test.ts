import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { only, outpoint, PARAMS, poll, txid, VALIDATORS } from './engine-driver.js';

/**
 * Transactions with several inputs (DESIGN §5): a transaction is rejected only when a conflicting
 * transaction is ACCEPTED; a conflict set finalized on a member that is then rejected through another
 * input reopens among its remaining members with fresh Snowball state.
 */
const BETA = 3;
const P = { ...PARAMS, beta: BETA };
const A = outpoint(1);
const B = outpoint(2);
const C = outpoint(3);
const hex = (n: number) => toHex(txid(n));
const times = (n: number, f: () => void) => {
  for (let i = 0; i < n; i++) f();
};

/**
 * t1 spends A and B, t2 spends A, t3 spends B. The network first backs t1 and t3 together (B sees
 * two members reach alphaPreference: no progress there), so A finalizes on t1; then it backs t3
 * alone, so B finalizes on t3 and t3 is accepted.
 */
function triangle(): SnowballEngine {
  const e = new SnowballEngine(P);
  e.add(txid(1), [A, B]);
  e.add(txid(2), [A]);
  e.add(txid(3), [B]);
  times(BETA, () => poll(e, only(1, 3)));
  return e;
}

describe('SnowballEngine, multi-input conflicts', () => {
  it('a member of a set finalized on a rival is not rejected while the rival can still lose', () => {
    const e = triangle();
    expect(e.conflictSetState(A)).toContain('Finalized = true');
    expect(e.conflictSetState(B)).toContain('Finalized = false');
    // Nothing conflicting with t2 is accepted: it waits (the old engine rejected it here).
    expect(e.statusOf(txid(2))).toBe('processing');
    expect(e.statusOf(txid(1))).toBe('processing');
    expect(e.vote(txid(2))).toBe(Vote.NO);
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
  });

  it('when the finalized member is rejected through another input, its set reopens fresh', () => {
    const e = triangle();
    times(BETA, () => poll(e, only(3)));
    expect(e.statusOf(txid(3))).toBe('accepted');
    expect(e.statusOf(txid(1))).toBe('rejected');
    const d = e.takeDecided();
    expect(d.accepted.map(toHex)).toEqual([hex(3)]);
    expect(d.rejected.map(toHex)).toEqual([hex(1)]);
    // A reopened among {t2} (handle 1), with no trace of the finalized t1.
    expect(e.conflictSetState(A)).toBe(
      'SB(Preference = 1, Successes = [1:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    expect(e.vote(txid(2))).toBe(Vote.YES);
    times(BETA - 1, () => poll(e, only(2)));
    expect(e.statusOf(txid(2))).toBe('processing'); // fresh: a full beta is needed again
    poll(e, only(2));
    expect(e.statusOf(txid(2))).toBe('accepted');
    expect(e.processingCount).toBe(0);
  });

  it('a co-signer who double-spends its input cannot block the other inputs', () => {
    // Alice's A and Bob's B fund t1 together; Bob also spends B in t3.
    const e = new SnowballEngine(P);
    e.add(txid(1), [A, B]);
    e.add(txid(3), [B]);
    times(BETA, () => poll(e, only(1, 3))); // A finalizes on t1, B stays split
    times(BETA, () => poll(e, only(3))); // then B goes to Bob's t3
    expect(e.statusOf(txid(1))).toBe('rejected');
    // Alice spends A again: it is unspent (t1 was rejected), so it must be decidable now, not
    // after a restart (the old engine kept A finalized on the dead t1 and rejected this at once).
    expect(e.add(txid(4), [A])).toBe('processing');
    times(BETA, () => poll(e, only(4)));
    expect(e.statusOf(txid(4))).toBe('accepted');
  });

  it('a restarted node (empty engine, ledger only) reaches the same decisions as one that ran', () => {
    const running = new SnowballEngine(P);
    running.add(txid(1), [A, B]);
    running.add(txid(2), [A]);
    running.add(txid(3), [B]);
    times(BETA, () => poll(running, only(1, 3)));
    times(BETA, () => poll(running, only(3)));
    // The restarted node's ledger holds the finalized t3; its mempool refuses t1 (B is spent) and
    // hands the engine only t2 and a later spend t4 of A, which the running node also sees.
    const restarted = new SnowballEngine(P);
    restarted.add(txid(2), [A]);
    for (const e of [running, restarted]) expect(e.add(txid(4), [A])).toBe('processing');
    const script = [only(4), only(2, 4), only(4), only(2), only(4), only(4), only(4)];
    for (const yesFor of script) {
      poll(running, yesFor);
      poll(restarted, yesFor);
      for (const n of [2, 4]) {
        expect(running.statusOf(txid(n))).toBe(restarted.statusOf(txid(n)));
        expect(running.vote(txid(n))).toBe(restarted.vote(txid(n)));
      }
      // Same successes per member (handles differ between the engines, so compare the counts).
      const counts = (e: SnowballEngine) =>
        /Successes = \[(.*?)\]/.exec(e.conflictSetState(A)!)![1]!.replace(/\d+:/g, '');
      expect(counts(running)).toBe(counts(restarted));
    }
    expect(running.statusOf(txid(4))).toBe('accepted');
    expect(running.statusOf(txid(2))).toBe('rejected');
  });

  it('a newcomer to a set finalized on a waiting member waits, and loses once that member is accepted', () => {
    const e = new SnowballEngine(P);
    e.add(txid(1), [A, B]);
    e.add(txid(3), [B]);
    times(BETA, () => poll(e, only(1, 3)));
    expect(e.add(txid(5), [A])).toBe('processing'); // A is finalized on t1, but t1 is not accepted
    times(BETA, () => poll(e, only(1)));
    expect(e.statusOf(txid(1))).toBe('accepted');
    expect(e.statusOf(txid(3))).toBe('rejected');
    expect(e.statusOf(txid(5))).toBe('rejected');
    expect(e.add(txid(6), [A, C])).toBe('rejected'); // A is spent for good now
    expect(e.conflictSetState(C)).toBeUndefined(); // and a rejected newcomer opens no sets
  });

  it('a set reopened while a poll is applied does not take that poll, whatever the visiting order', () => {
    // Keys chosen so t1's sets are visited B first (outpoint 1 < outpoint 2): B finalizes, t3 is
    // accepted, t1 rejected, A reopens, and only then would A be visited. Its votes were cast while
    // A was still finalized on t1, so A must come out of this poll fresh.
    const a = outpoint(2);
    const b = outpoint(1);
    const e = new SnowballEngine({ ...PARAMS, beta: 2 });
    e.add(txid(1), [a, b]);
    e.add(txid(2), [a]);
    e.add(txid(3), [b]);
    times(2, () => poll(e, only(1, 3)));
    poll(e, only(3));
    poll(e, only(2, 3));
    expect(e.statusOf(txid(3))).toBe('accepted');
    expect(e.conflictSetState(a)).toBe(
      'SB(Preference = 1, Successes = [1:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
  });

  it('a cycle of double spends each finalized on a member that lost elsewhere stays undecided, safely', () => {
    // t1 spends A,B; t2 spends B,C; t3 spends C,A. Every outpoint's owner signed two spends.
    const e = new SnowballEngine(P);
    e.add(txid(1), [A, B]);
    e.add(txid(2), [B, C]);
    e.add(txid(3), [C, A]);
    const votes = (strong: number, weak: number) => (h: string) =>
      h === hex(strong) ? 20 : h === hex(weak) ? 12 : 0;
    times(BETA, () => poll(e, votes(1, 2))); // A → t1 (B: t1 and t2 both reach alphaPreference)
    times(BETA, () => poll(e, votes(2, 3))); // B → t2
    times(BETA, () => poll(e, votes(3, 1))); // C → t3
    for (const s of [A, B, C]) expect(e.conflictSetState(s)).toContain('Finalized = true');
    // Each waits on a set finalized on a rival that waits too: no acceptance, so no rejection.
    times(10, () => poll(e, () => 20));
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    expect(e.processingCount).toBe(3);
    for (const n of [1, 2, 3]) expect(e.vote(txid(n))).toBe(Vote.NO);
  });

  it('forgetting keeps a spent outpoint refused while any transaction still names it', () => {
    const e = triangle();
    times(BETA, () => poll(e, only(3)));
    expect(e.forget(txid(3))).toBe(true);
    expect(e.add(txid(7), [B])).toBe('rejected'); // t1 (rejected, still known) names B
    expect(e.forget(txid(1))).toBe(true);
    expect(e.forget(txid(7))).toBe(true);
    expect(e.conflictSetState(B)).toBeUndefined();
    expect(e.conflictSetState(A)).toBeDefined(); // t2 is still processing there
    expect(e.add(txid(8), [B])).toBe('processing'); // from here on only the ledger remembers B
  });
});

/**
 * Three-member conflict sets, avalanchego style: A = {t1, t2, t3}, B = {t3, t4, t5}; t3 spends both
 * outpoints. Accepting a transaction rejects every rival in every one of its sets; a rival rejected
 * that way leaves its other sets, whose remaining members then decide among themselves.
 */
describe('SnowballEngine, three-member conflict sets', () => {
  const hexes = (ids: readonly Uint8Array[]) => ids.map(toHex);
  const sorted = (...ns: number[]) => ns.map(hex).sort();
  /** Adds t1..t5 in that order (handles 0..4). */
  function twoSets(): SnowballEngine {
    const e = new SnowballEngine(P);
    e.add(txid(1), [A]);
    e.add(txid(2), [A]);
    e.add(txid(3), [A, B]);
    e.add(txid(4), [B]);
    e.add(txid(5), [B]);
    return e;
  }

  it.each([
    // winner, the rivals rejected with it, then the winner of what is left of B (null: nothing left)
    [1, [2, 3], 5],
    [2, [1, 3], 4],
    [3, [1, 2, 4, 5], null],
  ] as const)(
    'accepting t%i rejects exactly %j, and B’s remaining members still decide',
    (winner, losers, next) => {
      const e = twoSets();
      times(BETA, () => poll(e, only(winner)));
      const d = e.takeDecided();
      expect(hexes(d.accepted)).toEqual([hex(winner)]);
      expect(hexes(d.rejected).sort()).toEqual(sorted(...losers));
      for (const n of [1, 2, 3, 4, 5]) {
        const want =
          n === winner ? 'accepted' : (losers as readonly number[]).includes(n) ? 'rejected' : 'processing';
        expect(e.statusOf(txid(n)), `t${n}`).toBe(want);
      }
      expect(e.vote(txid(winner))).toBe(Vote.YES); // an accepted transaction is voted for
      for (const n of losers) expect(e.vote(txid(n))).toBe(Vote.NO);
      expect(e.processingCount).toBe(5 - 1 - losers.length);
      if (next === null) return;
      // t3 left B when it was rejected: B's two remaining members decide between themselves.
      times(BETA, () => poll(e, only(next)));
      const later = e.takeDecided();
      expect(hexes(later.accepted)).toEqual([hex(next)]);
      expect(hexes(later.rejected)).toEqual([hex(next === 4 ? 5 : 4)]);
      expect(e.processingCount).toBe(0);
    },
  );

  it('B finalized on t3 reopens when t3 loses A, and t5 can still win B', () => {
    const e = twoSets();
    // t1 and t3 both backed: A sees two members at alphaPreference (no progress), B sees t3 alone.
    times(BETA, () => poll(e, only(1, 3)));
    expect(e.conflictSetState(B)).toContain('Finalized = true');
    expect(e.conflictSetState(A)).toContain('Finalized = false');
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    times(BETA, () => poll(e, only(1)));
    const d = e.takeDecided();
    expect(hexes(d.accepted)).toEqual([hex(1)]);
    expect(hexes(d.rejected).sort()).toEqual(sorted(2, 3));
    expect(e.reopenedCount).toBe(1);
    expect(e.conflictSetState(B)).toBe(
      'SB(Preference = 3, Successes = [3:0 4:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    times(BETA, () => poll(e, only(5)));
    expect(e.statusOf(txid(5))).toBe('accepted');
    expect(e.statusOf(txid(4))).toBe('rejected');
    // A later spend of either outpoint is refused at once and never voted for.
    for (const o of [A, B]) {
      expect(e.add(txid(9), [o])).toBe('rejected');
      expect(e.vote(txid(9))).toBe(Vote.NO);
      expect(e.preferred(txid(9))).toBe(false);
      expect(e.forget(txid(9))).toBe(true);
    }
  });

  it('a transaction whose two sets finalize in the same poll is accepted once', () => {
    const e = new SnowballEngine(P);
    e.add(txid(1), [A, B]);
    e.add(txid(2), [A, C]);
    times(BETA, () => poll(e, only(1)));
    expect(e.takeDecided()).toEqual({ accepted: [txid(1)], rejected: [txid(2)] });
    expect(e.processingCount).toBe(0);
    expect(e.startPoll(VALIDATORS)).toBeNull();
  });

  it('the inputs’ order does not change what one poll reports, or in which order', () => {
    // t0 spends A and B; t1 wins A and t2 wins B in the same poll. Two nodes got t0's inputs in
    // different orders (a Set of keys, a different mempool): they must report the same decisions.
    const run = (keys: Uint8Array[]) => {
      const e = new SnowballEngine(P);
      e.add(txid(10), keys);
      e.add(txid(11), [A]);
      e.add(txid(12), [B]);
      const reports = [];
      for (let i = 0; i < BETA; i++) {
        poll(e, only(11, 12));
        reports.push(e.takeDecided());
      }
      return reports;
    };
    const ab = run([A, B]);
    expect(hexes(ab.at(-1)!.accepted).sort()).toEqual(sorted(11, 12));
    expect(run([B, A])).toEqual(ab);
  });

  it('transactions accepted in one poll are reported in the order their last set finalized', () => {
    // t0 and t1 spend A; t1 also spends B, with rival t3; t2 alone spends C. Added t0, t2, t1, t3:
    // a poll visits A (through t0), then C, then B. A finalizes on t1 first, but t1 waits for B;
    // B and C finalize in the same later poll, C visited first: t2 is reported before t1.
    const e = new SnowballEngine(P);
    e.add(txid(0), [A]);
    e.add(txid(2), [C]);
    e.add(txid(1), [A, B]);
    e.add(txid(3), [B]);
    poll(e, only(1, 3)); // B: two members reached alphaPreference, its streak starts later
    times(BETA - 1, () => poll(e, only(1, 2)));
    expect(e.conflictSetState(A)).toContain('Finalized = true');
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    poll(e, only(1, 2));
    const d = e.takeDecided();
    expect(hexes(d.accepted)).toEqual([hex(2), hex(1)]);
    expect(hexes(d.rejected)).toEqual([hex(0), hex(3)]);
  });
});
