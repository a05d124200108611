import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { outpointKey } from '../../../src/protocol/tx-codec.js';

const PARAMS = { k: 20, alpha: 14, beta: 20 };
const VALIDATORS = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);

function txid(n: number): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = 0xaa;
  b[31] = n;
  return b;
}
function outpoint(n: number, vout = 0): Uint8Array {
  const prev = new Uint8Array(32);
  prev[0] = 0x55;
  prev[31] = n;
  return outpointKey({ txid: prev, vout });
}

/**
 * One poll over whatever the engine offers; `yesFor(txidHex)` is how many of the 20 validators say
 * yes to that txid. Returns the hex txids polled.
 */
function poll(engine: SnowballEngine, yesFor: (hex: string) => number): string[] {
  const req = engine.startPoll(VALIDATORS);
  if (!req) return [];
  const hexes = req.txids.map(toHex);
  const yes = hexes.map(yesFor);
  for (let v = 0; v < 20; v++) {
    const votes = yes.map((y) => (v < y ? Vote.YES : Vote.NO));
    if (engine.recordResponse(req.requestId, req.validators[v]!, votes)) break;
  }
  expect(engine.pollsInFlight).toBe(0);
  return hexes;
}

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

  it('one yes short of alpha resets confidence', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    for (let i = 0; i < 19; i++) poll(e, () => 20);
    poll(e, () => 13);
    expect(e.conflictSetState(outpoint(1))).toContain('Confidence = 0');
    for (let i = 0; i < 19; i++) poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('processing');
    poll(e, () => 14);
    expect(e.statusOf(txid(1))).toBe('accepted');
  });

  it('decides a conflict: the loser is rejected, the winner accepted, later spenders rejected', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    expect(e.preferred(txid(1))).toBe(true); // first seen
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

  it('two members reaching alpha in one poll (equivocation) is an unsuccessful poll for the set', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    for (let i = 0; i < 5; i++) poll(e, (h) => (h === toHex(txid(1)) ? 20 : 0));
    poll(e, () => 14);
    expect(e.conflictSetState(outpoint(9))).toBe(
      'SB(Preference = 0, Successes = [0:5 1:0], SF(LastChoice = 0, Confidence = 0, Finalized = false))',
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

  it('rejects the other members of a set decided for a transaction that lost elsewhere', () => {
    const e = new SnowballEngine({ k: 20, alpha: 14, beta: 2 });
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
    for (let v = 0; v < 13; v++)
      expect(e.recordResponse(req.requestId, req.validators[v]!, [Vote.YES])).toBe(false);
    expect(e.timeoutPoll(req.requestId)).toBe(true);
    expect(e.timeoutPoll(req.requestId)).toBe(false);
    expect(e.conflictSetState(outpoint(1))).toContain('Successes = [0:0]');
    const req2 = e.startPoll(VALIDATORS)!;
    for (let v = 0; v < 14; v++) e.recordResponse(req2.requestId, req2.validators[v]!, [Vote.YES]);
    expect(e.pollsInFlight).toBe(0); // early termination after the 14th yes
    expect(e.conflictSetState(outpoint(1))).toContain('Confidence = 1');
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

  it('forget drops decided transactions and their conflict sets, never processing ones', () => {
    const e = new SnowballEngine({ k: 20, alpha: 14, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    e.add(txid(3), [outpoint(3)]);
    expect(e.forget(txid(1))).toBe(false); // processing
    expect(e.forget(txid(7))).toBe(false); // unknown
    const inFlight = e.startPoll(VALIDATORS)!;
    // beta = 1: one successful poll accepts txids 1 and 3 and rejects 2.
    const req = e.startPoll(VALIDATORS)!;
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
    expect(() => new SnowballEngine({ k: 20, alpha: 10, beta: 20 })).toThrow('k/2 < alpha');
    expect(e.add(txid(1), [outpoint(7)])).toBe('processing'); // a known txid is not re-added
  });
});

describe('SnowballEngine.withdraw', () => {
  it('takes a processing transaction out without a decision: unknown, never polled, its set moves on', async () => {
    const { SnowballEngine: Engine } = await import('../../../src/consensus/snowball/engine.js');
    const { Vote: V } = await import('../../../src/consensus/snowball/poll.js');
    const e = new Engine({ k: 1, alpha: 1, beta: 2 } as never);
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
