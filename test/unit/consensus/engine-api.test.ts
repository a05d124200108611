import { describe, expect, it } from 'vitest';
import { SnowballEngine } from '../../../src/consensus/snowball/engine.js';
import { SnowballError } from '../../../src/consensus/snowball/errors.js';
import { Vote } from '../../../src/consensus/snowball/poll.js';
import { thrown } from '../../support/thrown.js';
import { only, outpoint, PARAMS, poll, txid, VALIDATORS } from './engine-driver.js';

/** The wire's request id range (src/wire/schemas.ts `requestId`): 0 is not a valid id. */
const U32_MAX = 0xffff_ffff;

describe('SnowballEngine input errors', () => {
  // An operator (or a peer's garbage reaching the engine) sees the code and the offending value.
  const engine = () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    return e;
  };
  const cases: [string, () => unknown, string, RegExp[]][] = [
    ['maxItemsPerPoll 0', () => new SnowballEngine(PARAMS, 0), 'INVALID_SAMPLE', [/maxItemsPerPoll = 0/]],
    [
      'no conflict keys',
      () => engine().add(txid(2), []),
      'INVALID_CONFLICT_KEYS',
      [/at least one conflict key/],
    ],
    [
      'an empty conflict key',
      () => engine().add(txid(2), [outpoint(2), new Uint8Array(0)]),
      'INVALID_CONFLICT_KEYS',
      [/non-empty/],
    ],
    [
      'a sample of k - 1 draws',
      () => engine().startPoll(VALIDATORS.slice(1)),
      'INVALID_SAMPLE',
      [/19 draws/, /k = 20/],
    ],
    ['maxItems 0', () => engine().startPoll(VALIDATORS, 0), 'INVALID_SAMPLE', [/maxItems = 0/]],
    ['a 31-byte txid', () => engine().statusOf(new Uint8Array(31)), 'INVALID_TXID', [/32 bytes, got 31/]],
    // An untyped caller passing no txid gets the typed error, not a TypeError from reading .length.
    ['no txid at all', () => engine().statusOf(undefined as never), 'INVALID_TXID', [/got undefined/]],
  ];
  it.each(cases)('%s', (_name, f, code, messages) => {
    const err = thrown(f);
    expect(err).toBeInstanceOf(SnowballError);
    expect((err as SnowballError).code).toBe(code);
    for (const m of messages) expect((err as SnowballError).message).toMatch(m);
  });
});

describe('SnowballEngine.add of a known txid', () => {
  it('changes nothing and answers the current status, whatever keys come with it', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    expect(e.add(txid(1), [outpoint(1)])).toBe('processing');
    // The same txid with other keys (a relay with a mangled body) must not enter a second time.
    expect(e.add(txid(1), [outpoint(7)])).toBe('processing');
    expect(e.processingCount).toBe(1);
    expect(e.knownCount).toBe(1);
    expect(e.conflictSetState(outpoint(7))).toBeUndefined();
    expect(e.add(txid(2), [outpoint(1)])).toBe('processing');
    poll(e, only(1));
    expect(e.takeDecided()).toEqual({ accepted: [txid(1)], rejected: [txid(2)] });
    expect(e.add(txid(1), [outpoint(1)])).toBe('accepted');
    expect(e.add(txid(2), [outpoint(9)])).toBe('rejected');
    // Neither is reported (or counted) a second time.
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    expect(e.processingCount).toBe(0);
    expect(e.startPoll(VALIDATORS)).toBeNull();
  });
});

describe('SnowballEngine queries of unknown txids', () => {
  it('an unknown or forgotten txid was counted in 0 polls and is not preferred', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    expect(e.pollCount(txid(1))).toBe(0);
    e.add(txid(1), [outpoint(1)]);
    poll(e, only(1));
    expect(e.pollCount(txid(1))).toBe(1);
    expect(e.forget(txid(1))).toBe(true);
    expect(e.pollCount(txid(1))).toBe(0);
    expect(e.preferred(txid(1))).toBe(false);
  });
});

describe('SnowballEngine request ids', () => {
  it('are distinct valid wire ids (1 … 2^32-1)', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const ids = Array.from({ length: 4 }, () => e.startPoll(VALIDATORS)!.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(U32_MAX);
    }
  });

  it('wrap from 2^32-1 back to 1, never to 0 or past the u32 range', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    // Four billion polls cannot be run in a test: start the counter just below the top.
    Reflect.set(e, 'nextRequestId', U32_MAX - 1);
    const ids = Array.from({ length: 3 }, () => e.startPoll(VALIDATORS)!.requestId);
    expect(ids).toEqual([U32_MAX - 1, U32_MAX, 1]);
  });
});

describe('SnowballEngine.isPollOpen', () => {
  it('is true from startPoll until the poll is applied or cancelled, waiting polls included', () => {
    const e = new SnowballEngine(PARAMS);
    e.add(txid(1), [outpoint(1)]);
    const first = e.startPoll(VALIDATORS)!;
    const second = e.startPoll(VALIDATORS)!;
    expect(e.isPollOpen(first.requestId)).toBe(true);
    for (const v of second.validators) e.recordResponse(second.requestId, v, [Vote.YES]);
    expect(e.isPollOpen(second.requestId)).toBe(true); // complete, waiting behind the older poll
    expect(e.cancelPoll(first.requestId)).toBe(true);
    expect(e.isPollOpen(first.requestId)).toBe(false);
    expect(e.isPollOpen(second.requestId)).toBe(false); // applied once nothing older was open
    expect(e.isPollOpen(second.requestId + 1)).toBe(false);
  });
});

describe('SnowballEngine, polls applied after a decision', () => {
  it('a poll listing a transaction that an older poll decided does not count for it', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    e.add(txid(2), [outpoint(9)]);
    const first = e.startPoll(VALIDATORS)!;
    const second = e.startPoll(VALIDATORS)!; // lists both too
    const yesFor = (req: typeof first, n: number) => req.txids.map((t) => (t[31] === n ? Vote.YES : Vote.NO));
    // The newer poll completes first backing t2, then the older one backing t1: applied in start
    // order, t1 is accepted (t2 rejected) before the newer poll's votes arrive at either.
    for (const v of second.validators) e.recordResponse(second.requestId, v, yesFor(second, 2));
    for (const v of first.validators) if (e.recordResponse(first.requestId, v, yesFor(first, 1))) break;
    expect(e.pollsInFlight).toBe(0);
    expect(e.takeDecided()).toEqual({ accepted: [txid(1)], rejected: [txid(2)] });
    expect(e.pollCount(txid(1))).toBe(1);
    expect(e.pollCount(txid(2))).toBe(1);
  });
});

describe('SnowballEngine handle reuse timing', () => {
  it('a handle whose rejection awaits takeDecided is not reused (the newcomer would be reported rejected)', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    e.add(txid(1), [outpoint(9)]);
    poll(e, only(1));
    expect(e.takeDecided()).toEqual({ accepted: [txid(1)], rejected: [] });
    // Rejected on arrival (outpoint 9 is spent), forgotten before anyone took the rejection.
    expect(e.add(txid(2), [outpoint(9)])).toBe('rejected');
    expect(e.forget(txid(2))).toBe(true);
    e.add(txid(3), [outpoint(3)]);
    expect(e.takeDecided()).toEqual({ accepted: [], rejected: [] });
    expect(e.statusOf(txid(3))).toBe('processing');
  });

  it('a poll started after the forget does not hold the handle back', () => {
    const e = new SnowballEngine({ ...PARAMS, beta: 1 });
    for (let n = 1; n <= 3; n++) e.add(txid(n), [outpoint(n)]);
    poll(e, only(1, 2));
    e.takeDecided();
    expect(e.forget(txid(1))).toBe(true);
    expect(e.forget(txid(2))).toBe(true);
    // Started after the forget (and compacting 1 and 2 out of the order): it cannot list them.
    const later = e.startPoll(VALIDATORS)!;
    expect(later.txids).toEqual([txid(3)]);
    const before = e.capacity.handles;
    e.add(txid(4), [outpoint(4)]);
    expect(e.capacity.handles).toBe(before); // a freed handle, although `later` is still open
    for (const v of later.validators) e.recordResponse(later.requestId, v, [Vote.YES]);
    expect(e.statusOf(txid(3))).toBe('accepted');
    expect(e.pollCount(txid(4))).toBe(0);
  });
});
