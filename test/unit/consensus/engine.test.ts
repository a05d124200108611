import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { only, outpoint, PARAMS, poll, txid, VALIDATORS } from './engine-driver.js';

describe('SnowballEngine', () => {
  it('accepts a non-conflicting transaction after exactly beta successful polls', () => {
    const e = new SnowballEngine(PARAMS);
    expect(e.add(txid(1), [outpoint(1)])).toBe('processing');
    expect(e.preferred(txid(1))).toBe(true);
    for (let i = 1; i < 20; i++) poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('processing');
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('accepted');
    expect(e.pollCount(txid(1))).toBe(20);
    expect(e.takeDecided().accepted.map(toHex)).toEqual([toHex(txid(1))]);
    expect(e.processingCount).toBe(0);
    expect(e.startPoll(VALIDATORS)).toBeNull();
  });

  it('one yes short of alphaConfidence is a success for the preference but resets confidence', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    for (let i = 0; i < 19; i++) poll(e, () => 20);
    poll(e, () => 13);
    expect(e.conflictSetState(outpoint(1))).toBe(
      'SB(Preference = 0, Successes = [0:20], SF(LastChoice = 0, Confidence = 0, Finalized = false))',
    );
    poll(e, () => 10); // below alphaPreference: no success either
    expect(e.conflictSetState(outpoint(1))).toContain('Successes = [0:20]');
    for (let i = 0; i < 19; i++) poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('processing');
    poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('accepted');
  });

  it('alphaPreference yes votes move the preference without any confidence', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    const B = toHex(txid(2));
    poll(e, (h) => (h === B ? 10 : 0));
    expect(e.preferred(txid(1))).toBe(true); // 10 < alphaPreference: nothing moves
    poll(e, (h) => (h === B ? 11 : 0));
    expect(e.preferred(txid(2))).toBe(true);
    expect(e.conflictSetState(outpoint(9))).toBe(
      'SB(Preference = 1, Successes = [0:0 1:1], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
  });

  it('decides a conflict: the loser is rejected, the winner accepted, later spenders rejected', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    expect(e.preferred(txid(1))).toBe(true); // lower txid
    expect(e.vote(txid(2))).toBe(Vote.NO);
    const B = toHex(txid(2));
    poll(e, (h) => (h === B ? 15 : 5));
    expect(e.preferred(txid(2))).toBe(true); // one success flips the preference
    expect(e.vote(txid(1))).toBe(Vote.NO);
    for (let i = 1; i < 20; i++) poll(e, (h) => (h === B ? 15 : 5));
    expect(e.statusOf(txid(2))).toBe('accepted');
    expect(e.statusOf(txid(1))).toBe('rejected');
    const d = e.takeDecided();
    expect(d.accepted.map(toHex)).toEqual([B]);
    expect(d.rejected.map(toHex)).toEqual([toHex(txid(1))]);
    expect(e.add(txid(3), [outpoint(9)])).toBe('rejected');
    expect(e.takeDecided().rejected.map(toHex)).toEqual([toHex(txid(3))]);
    expect(e.vote(txid(4))).toBe(Vote.UNKNOWN);
  });

  it('starts a conflict on the lower txid, whichever spend arrived first', () => {
    // Every honest node that knows both spends starts on the same one: arrival order is a local,
    // timing-dependent input and would split the network in half for a double spend published twice.
    const e = new SnowballEngine(PARAMS);
    e.add(txid(7), [outpoint(9)]);
    expect(e.preferred(txid(7))).toBe(true);
    e.add(txid(3), [outpoint(9)]);
    expect(e.preferred(txid(3))).toBe(true);
    expect(e.vote(txid(7))).toBe(Vote.NO);
    poll(e, (h) => (h === toHex(txid(7)) ? 11 : 0)); // one success is enough to move it back
    expect(e.preferred(txid(7))).toBe(true);
    e.add(txid(1), [outpoint(9)]); // a lower newcomer does not displace a member with successes
    expect(e.preferred(txid(7))).toBe(true);
  });

  it('latin1 string conflict keys (the mempool form) name the same set as the bytes', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [Buffer.from(outpoint(9)).toString('latin1')]);
    expect(e.preferred(txid(2))).toBe(false); // same conflict set: txid 1 was first
    expect(e.conflictSetState(outpoint(9))).toBe(
      e.conflictSetState(Buffer.from(outpoint(9)).toString('latin1')),
    );
    expect(e.conflictSetState(outpoint(9))).toContain('Successes = [0:0 1:0]');
    expect(() => e.add(txid(3), [''])).toThrow(SnowballError);
  });

  it('two members reaching alphaPreference in one poll (equivocation) is an unsuccessful poll for the set', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    const A = toHex(txid(1));
    for (let i = 0; i < 5; i++) poll(e, (h) => (h === A ? 20 : 0));
    poll(e, (h) => (h === A ? 20 : 11)); // A confident, B at alphaPreference: both reached it
    expect(e.conflictSetState(outpoint(9))).toBe(
      'SB(Preference = 0, Successes = [0:5 1:0], SF(LastChoice = 0, Confidence = 0, Finalized = false))',
    );
    poll(e, (h) => (h === A ? 20 : 10)); // B one short: A alone, a confident poll again
    expect(e.conflictSetState(outpoint(9))).toBe(
      'SB(Preference = 0, Successes = [0:6 1:0], SF(LastChoice = 0, Confidence = 1, Finalized = false))',
    );
  });

  it('accepts a transaction only when every one of its conflict sets is decided for it', () => {
    const e = new SnowballEngine(PARAMS);
    // t1 spends outpoints 1 and 2; t2 spends outpoint 2; t3 spends outpoint 1.
    e.add(txid(1), [outpoint(1), outpoint(2)]);
    e.add(txid(2), [outpoint(2)]);
    e.add(txid(3), [outpoint(1)]);
    expect(e.preferred(txid(1))).toBe(true);
    expect(e.preferred(txid(2))).toBe(false);
    const [T1, T2, T3] = [1, 2, 3].map((n) => toHex(txid(n)));
    // t2 wins outpoint 2, so t1 is rejected; outpoint 1 saw no winner yet, so t3 is still open there.
    for (let i = 0; i < 20; i++) poll(e, (h) => (h === T2 ? 20 : 0));
    expect(e.statusOf(txid(2))).toBe('accepted');
    expect(e.statusOf(txid(1))).toBe('rejected');
    expect(e.statusOf(txid(3))).toBe('processing');
    expect(e.preferred(txid(3))).toBe(true); // the rejected t1 no longer holds outpoint 1's preference
    for (let i = 0; i < 19; i++) poll(e, (h) => (h === T3 ? 20 : 0));
    expect(e.statusOf(txid(3))).toBe('processing');
    poll(e, (h) => (h === T3 ? 20 : 0));
    expect(e.statusOf(txid(3))).toBe('accepted');
    expect(e.takeDecided().accepted.map(toHex)).toEqual([T2, T3]);
    expect(T1).not.toBe(T2);
  });

  it('accepting a transaction rejects the other members of all its sets', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 2 });
    e.add(txid(1), [outpoint(1), outpoint(2)]);
    e.add(txid(3), [outpoint(1)]);
    // Outpoint 1 finalizes on t1 (t3 rejected) while outpoint 2 is still open.
    const T1 = toHex(txid(1));
    poll(e, (h) => (h === T1 ? 20 : 0));
    poll(e, (h) => (h === T1 ? 20 : 0));
    expect(e.statusOf(txid(1))).toBe('accepted'); // both its sets finalized on it
    expect(e.statusOf(txid(3))).toBe('rejected');
  });

  it('a timed-out poll counts missing answers as no votes', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const req = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 10; v++)
      expect(e.recordResponse(req.requestId, req.validators[v]!, [Vote.YES])).toBe(false);
    expect(e.timeoutPoll(req.requestId)).toBe(true);
    expect(e.timeoutPoll(req.requestId)).toBe(false);
    expect(e.conflictSetState(outpoint(1))).toContain('Successes = [0:0]');
    const req2 = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 13; v++)
      expect(e.recordResponse(req2.requestId, req2.validators[v]!, [Vote.YES])).toBe(false);
    expect(e.pollsInFlight).toBe(1); // 13 yes: alphaConfidence still reachable, keep waiting
    expect(e.recordResponse(req2.requestId, req2.validators[13]!, [Vote.YES])).toBe(true);
    expect(e.pollsInFlight).toBe(0); // early termination after the 14th yes
    expect(e.conflictSetState(outpoint(1))).toContain('Confidence = 1');
    const req3 = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 11; v++) e.recordResponse(req3.requestId, req3.validators[v]!, [Vote.YES]);
    for (let v = 11; v < 18; v++)
      expect(e.recordResponse(req3.requestId, req3.validators[v]!, [Vote.NO])).toBe(v === 17);
    // 11 yes and 2 draws outstanding: both outcomes are settled (success, no confidence).
    expect(e.conflictSetState(outpoint(1))).toBe(
      'SB(Preference = 0, Successes = [0:2], SF(LastChoice = 0, Confidence = 0, Finalized = false))',
    );
  });

  it('counts a validator drawn several times once per draw', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const sample = [...Array(14).fill('heavy'), ...VALIDATORS.slice(0, 6)];
    const req = e.startPoll(sample)!;
    expect(req.validators).toEqual(['heavy', ...VALIDATORS.slice(0, 6)]);
    expect(e.recordResponse(req.requestId, 'heavy', [Vote.YES])).toBe(true);
    expect(e.conflictSetState(outpoint(1))).toContain('Confidence = 1');
  });

  it('spreads more than a poll of transactions round-robin over successive polls', () => {
    const e = new SnowballEngine(PARAMS, 4);
    for (let n = 0; n < 10; n++) e.add(txid(n), [outpoint(n)]);
    const seen = [poll(e, () => 0), poll(e, () => 0), poll(e, () => 0)];
    expect(seen.map((s) => s.length)).toEqual([4, 4, 4]);
    expect(new Set(seen.flat().slice(0, 10)).size).toBe(10);
    expect(seen[2]!.slice(2)).toEqual(seen[0]!.slice(0, 2));
  });

  it('reuses forgotten handles and set slots: memory follows what is known, not all ever seen', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    for (let i = 0; i < 20_000; i++) {
      const t = txid(i % 250);
      t[1] = i >> 8;
      const o = outpoint(i % 250, i >> 8);
      expect(e.add(t, [o])).toBe('processing');
      const polled = poll(e, () => 20);
      expect(polled).toEqual([toHex(t)]);
      expect(e.statusOf(t)).toBe('accepted');
      expect(e.pollCount(t)).toBe(1);
      expect(e.takeDecided().accepted.map(toHex)).toEqual([toHex(t)]);
      expect(e.forget(t)).toBe(true);
    }
    expect(e.knownCount).toBe(0);
    expect(e.capacity.handles).toBeLessThanOrEqual(4);
    expect(e.capacity.sets).toBeLessThanOrEqual(2);
  });

  it('a poll started before a handle was forgotten never counts for the next transaction on it', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(1)]);
    e.add(txid(2), [outpoint(2)]);
    e.add(txid(3), [outpoint(3)]);
    const first = e.startPoll(VALIDATORS)!;
    const older = e.startPoll(VALIDATORS)!; // lists 1, 2 and 3 and stays open
    const yes12 = first.txids.map((t) => (toHex(t) === toHex(txid(3)) ? Vote.NO : Vote.YES));
    for (const v of first.validators) if (e.recordResponse(first.requestId, v, yes12)) break;
    expect(e.statusOf(txid(1))).toBe('accepted');
    e.takeDecided();
    // `older` stays open: 1 and 2 are compacted out of the order by the next poll, then forgotten.
    const open = e.startPoll(VALIDATORS)!;
    expect(open.txids.map(toHex)).toEqual([toHex(txid(3))]);
    expect(e.forget(txid(1))).toBe(true);
    expect(e.forget(txid(2))).toBe(true);
    const before = e.capacity.handles;
    e.add(txid(4), [outpoint(4)]);
    // `older` (listing 1 and 2) started before they were forgotten: their handles wait for it.
    expect(e.capacity.handles).toBe(before + 1);
    // All yes: were 4 on 1's handle, this stale poll would accept it (beta = 1).
    for (const v of older.validators) e.recordResponse(older.requestId, v, [Vote.YES, Vote.YES, Vote.NO]);
    expect(e.statusOf(txid(4))).toBe('processing');
    expect(e.pollCount(txid(4))).toBe(0);
    for (const v of open.validators) e.recordResponse(open.requestId, v, [Vote.YES]);
    expect(e.statusOf(txid(3))).toBe('accepted');
    e.takeDecided();
    // With no poll left from before, the next transaction takes a forgotten handle.
    e.add(txid(5), [outpoint(5)]);
    expect(e.capacity.handles).toBe(before + 1);
    expect(e.pollCount(txid(5))).toBe(0);
  });

  it('a decided handle still in the poll order is not reused (it would be polled twice)', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(1)]);
    e.add(txid(2), [outpoint(2)]);
    const req = e.startPoll(VALIDATORS)!;
    const yes = req.txids.map((t) => (toHex(t) === toHex(txid(1)) ? Vote.YES : Vote.NO));
    for (const v of req.validators) if (e.recordResponse(req.requestId, v, yes)) break;
    e.takeDecided();
    expect(e.forget(txid(1))).toBe(true); // no poll open, but 1 is still in the order
    e.add(txid(3), [outpoint(3)]);
    e.add(txid(4), [outpoint(4)]);
    const next = e.startPoll(VALIDATORS)!;
    const hexes = next.txids.map(toHex);
    expect(new Set(hexes).size).toBe(hexes.length);
    expect(hexes.sort()).toEqual([toHex(txid(2)), toHex(txid(3)), toHex(txid(4))].sort());
  });

  it('a handle whose decision awaits takeDecided is not reused (the new transaction would be reported)', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(1)]);
    e.add(txid(2), [outpoint(2)]);
    e.add(txid(3), [outpoint(3)]);
    poll(e, only(1, 2));
    expect(e.forget(txid(1))).toBe(true); // before takeDecided
    expect(e.forget(txid(2))).toBe(true);
    poll(e, only()); // compacts 1 and 2 out of the order; no poll stays open
    e.add(txid(4), [outpoint(4)]);
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    expect(e.statusOf(txid(4))).toBe('processing');
  });

  it('withdrawn transactions free their handles too', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    e.add(txid(2), [outpoint(2)]);
    e.add(txid(3), [outpoint(3)]);
    expect(e.withdraw(txid(1))).toBe(true);
    expect(e.withdraw(txid(2))).toBe(true);
    expect(poll(e, only())).toEqual([toHex(txid(3))]); // compacts them out of the order
    const before = e.capacity.handles;
    e.add(txid(4), [outpoint(4)]);
    e.add(txid(5), [outpoint(5)]);
    expect(e.capacity.handles).toBe(before);
    expect(e.statusOf(txid(4))).toBe('processing');
    expect(e.pollCount(txid(4))).toBe(0);
  });

  /** Rivals 1 and 2 spending outpoint 9, decided by one poll (β = 1): 1 accepted, 2 rejected. */
  function decidedRivals(): SnowballEngine {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    poll(e, only(1));
    expect(e.statusOf(txid(2))).toBe('rejected');
    e.takeDecided();
    return e;
  }

  it('an accepted transaction whose conflict set a remembered rival keeps alive keeps its handle', () => {
    const e = decidedRivals();
    expect(e.forget(txid(1))).toBe(true); // outpoint 9's set lives on: txid 2 still names it
    e.add(txid(3), [outpoint(3)]); // compacts 1 and 2 out of the order at its poll
    poll(e, only(3));
    e.takeDecided();
    const before = e.capacity.handles;
    e.add(txid(4), [outpoint(4)]);
    expect(e.capacity.handles).toBe(before + 1); // 1's handle is not free: the set still lists it
    expect(e.forget(txid(2))).toBe(true); // a rejected one left its sets: free
    e.add(txid(5), [outpoint(5)]);
    expect(e.capacity.handles).toBe(before + 1);
  });

  it('a rejected transaction forgotten while its accepted rival is known frees its handle', () => {
    const e = decidedRivals();
    // Outpoint 9's set lives on (txid 1 still names it), but 2 left it when it was rejected.
    expect(e.forget(txid(2))).toBe(true);
    expect(e.statusOf(txid(1))).toBe('accepted');
    e.add(txid(3), [outpoint(3)]); // compacts 1 and 2 out of the order at its poll
    poll(e, only(3));
    e.takeDecided();
    const before = e.capacity.handles;
    e.add(txid(4), [outpoint(4)]);
    expect(e.capacity.handles).toBe(before); // 4 took 2's handle
    expect(e.statusOf(txid(4))).toBe('processing');
  });

  it('forget drops decided transactions and their conflict sets, never processing ones', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    e.add(txid(3), [outpoint(3)]);
    expect(e.forget(txid(1))).toBe(false); // processing
    expect(e.forget(txid(7))).toBe(false); // unknown
    // beta = 1: one successful poll accepts txids 1 and 3 and rejects 2.
    const req = e.startPoll(VALIDATORS)!;
    const inFlight = e.startPoll(VALIDATORS)!;
    const yes = req.txids.map((t) => (toHex(t) === toHex(txid(2)) ? Vote.NO : Vote.YES));
    for (const v of req.validators) if (e.recordResponse(req.requestId, v, yes)) break;
    expect(e.statusOf(txid(2))).toBe('rejected');
    expect(e.forget(txid(1))).toBe(true);
    expect(e.forget(txid(1))).toBe(false);
    expect(e.statusOf(txid(1))).toBe('unknown');
    expect(e.vote(txid(1))).toBe(Vote.UNKNOWN);
    expect(e.conflictSetState(outpoint(9))).toBeDefined(); // txid 2 still remembers outpoint 9
    expect(e.forget(txid(2))).toBe(true);
    expect(e.conflictSetState(outpoint(9))).toBeUndefined();
    expect(e.knownCount).toBe(1);
    // Decisions not yet taken are not reported for forgotten transactions.
    expect(e.takeDecided().accepted.map(toHex)).toEqual([toHex(txid(3))]);
    // A poll that was in flight still applies; it skips the forgotten items.
    e.add(txid(4), [outpoint(4)]);
    for (const v of inFlight.validators)
      e.recordResponse(inFlight.requestId, v, [Vote.YES, Vote.YES, Vote.YES]);
    expect(e.pollsInFlight).toBe(0);
    expect(e.statusOf(txid(4))).toBe('processing');
    // Only the ledger remembers the spend now: a new spender of outpoint 9 starts a fresh set.
    expect(e.add(txid(5), [outpoint(9)])).toBe('processing');
  });

  it('applies polls in the order they were started, whatever order they complete in', () => {
    // Poll 1 fails (a silent validator holds it open until the timeout); polls 2-4 succeed early.
    // Applied in completion order the late failure would wipe their confidence; in poll order the
    // failure comes first and the three successes after it count.
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const first = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 13; v++) e.recordResponse(first.requestId, first.validators[v]!, [Vote.YES]);
    const later = [e.startPoll(VALIDATORS)!, e.startPoll(VALIDATORS)!, e.startPoll(VALIDATORS)!];
    for (const req of later)
      for (let v = 0; v < 14; v++)
        expect(e.recordResponse(req.requestId, req.validators[v]!, [Vote.YES])).toBe(false);
    expect(e.pollsInFlight).toBe(4); // completed, but waiting behind the open poll 1
    expect(e.conflictSetState(outpoint(1))).toContain('Successes = [0:0]');
    expect(e.timeoutPoll(first.requestId)).toBe(true);
    expect(e.pollsInFlight).toBe(0);
    expect(e.conflictSetState(outpoint(1))).toBe(
      'SB(Preference = 0, Successes = [0:4], SF(LastChoice = 0, Confidence = 3, Finalized = false))',
    );
    expect(e.timeoutPoll(later[0]!.requestId)).toBe(false); // already applied
  });

  it('cancelling the oldest poll applies the completed polls waiting behind it', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const first = e.startPoll(VALIDATORS)!;
    const second = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 14; v++) e.recordResponse(second.requestId, second.validators[v]!, [Vote.YES]);
    expect(e.pollsInFlight).toBe(2);
    expect(e.cancelPoll(first.requestId)).toBe(true);
    expect(e.pollsInFlight).toBe(0);
    expect(e.conflictSetState(outpoint(1))).toContain('Confidence = 1');
    expect(e.cancelPoll(first.requestId)).toBe(false);
  });

  it('cancelled polls change nothing; bad input is a typed error', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const req = e.startPoll(VALIDATORS)!;
    expect(e.cancelPoll(req.requestId)).toBe(true);
    expect(e.recordResponse(req.requestId, VALIDATORS[0]!, [Vote.YES])).toBe(false);
    expect(() => e.add(new Uint8Array(31), [outpoint(1)])).toThrow(SnowballError);
    expect(() => e.add(txid(2), [])).toThrow(SnowballError);
    expect(() => e.startPoll(VALIDATORS.slice(1))).toThrow(SnowballError);
    expect(() => e.startPoll(VALIDATORS, 0)).toThrow(SnowballError);
    const r2 = e.startPoll(VALIDATORS)!;
    expect(() => e.recordResponse(r2.requestId, VALIDATORS[0]!, [Vote.YES, Vote.YES])).toThrow(SnowballError);
    expect(() => new SnowballEngine({ ...PARAMS, alphaPreference: 10 })).toThrow('k/2 < alphaPreference');
    expect(e.add(txid(1), [outpoint(7)])).toBe('processing'); // a known txid is not re-added
  });
});

describe('SnowballEngine.withdraw', () => {
  it('takes a processing transaction out without a decision: unknown, never polled, its set moves on', async () => {
    const { SnowballEngine: Engine } = await import('../../../src/consensus/snowball/engine.js');
    const { Vote: V } = await import('../../../src/consensus/snowball/poll.js');
    const e = new Engine({ k: 1, alphaPreference: 1, alphaConfidence: 1, beta: 2 } as never);
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const c = new Uint8Array(32).fill(3);
    const op = new Uint8Array(36).fill(9);
    e.add(a, [op]);
    e.add(b, [op]);
    e.add(c, [new Uint8Array(36).fill(8)]);
    expect(e.vote(a)).toBe(V.YES); // first member is the preference
    expect(e.withdraw(a)).toBe(true);
    expect(e.statusOf(a)).toBe('unknown');
    expect(e.vote(a)).toBe(V.UNKNOWN);
    expect(e.vote(b)).toBe(V.YES); // the set's preference moved to the remaining member
    expect(e.processingCount).toBe(2);
    const req = e.startPoll(['v'])!;
    expect(req.txids.map((t) => t[0])).not.toContain(1);
    expect(e.withdraw(a)).toBe(false);
    // A decided transaction is not withdrawn.
    e.recordResponse(
      req.requestId,
      'v',
      req.txids.map(() => 1),
    );
    const req2 = e.startPoll(['v'])!;
    e.recordResponse(
      req2.requestId,
      'v',
      req2.txids.map(() => 1),
    );
    expect(e.statusOf(c)).toBe('accepted');
    expect(e.withdraw(c)).toBe(false);
  });
});

describe('SnowballEngine.withdraw and the sets it leaves', () => {
  it('withdrawing the member a set is finalized on reopens that set (counted); an open set just loses it', () => {
    const [A, B] = [outpoint(1), outpoint(2)];
    const e = new SnowballEngine({ ...PARAMS, beta: 3 });
    e.add(txid(1), [A, B]);
    e.add(txid(2), [A]);
    e.add(txid(3), [B]);
    for (let i = 0; i < 3; i++) poll(e, only(1, 3)); // A finalizes on t1; in B both reach alphaPreference
    expect(e.conflictSetState(A)).toContain('Finalized = true');
    expect(e.withdraw(txid(3))).toBe(true); // B was open: nothing reopens
    expect(e.reopenedCount).toBe(0);
    expect(e.conflictSetState(B)).toBe(
      'SB(Preference = 0, Successes = [0:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    expect(e.withdraw(txid(1))).toBe(true); // A was finalized on t1: it reopens among {t2}
    expect(e.reopenedCount).toBe(1);
    expect(e.conflictSetState(B)).toBeUndefined(); // nobody names B any more: dropped
    expect(e.conflictSetState(A)).toBe(
      'SB(Preference = 1, Successes = [1:0], SF(LastChoice = -1, Confidence = 0, Finalized = false))',
    );
    expect(e.vote(txid(2))).toBe(Vote.YES);
    for (let i = 0; i < 3; i++) poll(e, only(2));
    expect(e.takeDecided()).toEqual({ accepted: [txid(2)], rejected: [] });
    expect(e.reopenedCount).toBe(1);
  });
});

describe('SnowballEngine poll order', () => {
  it('round robin resumes after the last polled transaction while at most half the order is decided', () => {
    const e = new SnowballEngine(PARAMS);
    for (let n = 1; n <= 4; n++) e.add(txid(n), [outpoint(n)]);
    const next = (maxItems: number) => {
      const req = e.startPoll(VALIDATORS, maxItems)!;
      e.cancelPoll(req.requestId);
      return req.txids.map((t) => t[31]);
    };
    expect(next(2)).toEqual([1, 2]);
    e.withdraw(txid(1));
    e.withdraw(txid(4)); // two of four decided: exactly half, the order is kept as it is
    expect(next(2)).toEqual([3, 2]); // t3 has waited longest, t2 was just polled
    e.withdraw(txid(2)); // three of four: compacted, and the one left is still polled
    expect(next(2)).toEqual([3]);
  });
});

describe('SnowballEngine edges (issue 15, snowball mutation run)', () => {
  it('maxItemsPerPoll and maxItems of 1 are allowed: one txid per poll', () => {
    expect(() => new SnowballEngine(PARAMS, 0)).toThrow(SnowballError);
    expect(() => new SnowballEngine(PARAMS, 1.5)).toThrow(SnowballError);
    const e = new SnowballEngine(PARAMS, 1);
    e.add(txid(1), [outpoint(1)]);
    e.add(txid(2), [outpoint(2)]);
    expect(e.startPoll(VALIDATORS)!.txids).toHaveLength(1);
    const big = new SnowballEngine(PARAMS);
    for (let n = 0; n < 5; n++) big.add(txid(n), [outpoint(n)]);
    expect(big.startPoll(VALIDATORS, 1)!.txids).toHaveLength(1);
    expect(big.startPoll(VALIDATORS, 3)!.txids).toHaveLength(3);
    // Fewer processing than the limit: exactly those, no padding.
    expect(big.startPoll(VALIDATORS, 64)!.txids).toHaveLength(5);
  });

  it('conflict keys must be non-empty byte strings (or non-empty latin1 strings)', () => {
    const e = new SnowballEngine(PARAMS);
    expect(() => e.add(txid(1), [new Uint8Array(0)])).toThrow(SnowballError);
    expect(() => e.add(txid(1), [''])).toThrow(SnowballError);
    expect(() => e.add(txid(1), [[1, 2, 3] as unknown as Uint8Array])).toThrow(SnowballError);
    expect(e.statusOf(txid(1))).toBe('unknown');
  });

  it('keeps its own copy of a txid: the caller may reuse the buffer', () => {
    const e = new SnowballEngine(PARAMS);
    const id = txid(1);
    e.add(id, [outpoint(1)]);
    id[5] = 0x77;
    expect(e.statusOf(txid(1))).toBe('processing');
    expect(toHex(e.startPoll(VALIDATORS)!.txids[0]!)).toBe(toHex(txid(1)));
  });

  it('a rejection of a transaction forgotten before takeDecided is not reported', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    poll(e, (hex) => (hex === toHex(txid(1)) ? 20 : 0));
    expect(e.statusOf(txid(2))).toBe('rejected');
    expect(e.forget(txid(2))).toBe(true);
    const d = e.takeDecided();
    expect(d.accepted.map(toHex)).toEqual([toHex(txid(1))]);
    expect(d.rejected).toEqual([]);
  });
});
