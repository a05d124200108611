import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LATE_ANSWER_MEMORY_MS, PendingRequests, RequestError } from '../../../src/p2p/pending-requests.js';

// Request/response correlation as a peer probes it: answers by id and type, the cap on outstanding
// requests exactly at and one past the edge, timeouts, and the difference between a late answer
// (its request timed out: no blame) and an unsolicited one (scored), with an injected clock.

type Msg = { t: number; id: number };
const ASK = 8;
const OTHER = 11;

let clock = 0;
const now = () => clock;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  clock = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

/** Advances both the timers and the injected clock. */
function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

/** Opens a request and lets it time out; returns its id. */
async function timedOut(p: PendingRequests<Msg>, timeoutMs = 10): Promise<number> {
  const r = p.open(ASK, timeoutMs);
  const outcome = expect(r.response).rejects.toMatchObject({ code: 'P2P_TIMEOUT' });
  advance(timeoutMs);
  await outcome;
  return r.id;
}

describe('request ids and the outstanding cap', () => {
  it('hands out distinct ids counting up from 1 (0 means refused)', () => {
    const p = new PendingRequests<Msg>(4, now);
    const ids = [p.open(ASK, 100).id, p.open(ASK, 100).id, p.open(ASK, 100).id];
    expect(ids).toEqual([1, 2, 3]);
  });

  it('ids stay u32: after 2^32−1 the next id is 1 again, never 0 (refused) or 2^32', () => {
    const p = new PendingRequests<Msg>(4, now, 0xffff_fffe);
    const ids = [p.open(ASK, 100).id, p.open(ASK, 100).id, p.open(ASK, 100).id];
    expect(ids).toEqual([0xffff_fffe, 0xffff_ffff, 1]);
    for (const bad of [0, 2 ** 32, 1.5, Number.NaN])
      expect(() => new PendingRequests<Msg>(4, now, bad)).toThrow(
        new RangeError(`a request id is 1..2^32−1, got ${bad}`),
      );
    expect(new PendingRequests<Msg>(4, now, 0xffff_ffff).open(ASK, 100).id).toBe(0xffff_ffff);
  });

  it('allows exactly maxOutstanding open requests; one more is refused, naming how many are open', async () => {
    const p = new PendingRequests<Msg>(2, now);
    p.open(ASK, 100);
    p.open(ASK, 100);
    expect(p.size).toBe(2);
    const refused = p.open(ASK, 100);
    expect(refused.id).toBe(0);
    await expect(refused.response).rejects.toThrow(/P2P_TOO_MANY_REQUESTS: 2 outstanding/);
    expect(p.size).toBe(2);
  });

  it('a timeout names the request and its deadline and carries the id', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const r = p.open(ASK, 250);
    const caught = r.response.catch((e: unknown) => e);
    advance(249);
    expect(p.size).toBe(1);
    advance(1);
    const err = (await caught) as RequestError;
    expect(err).toBeInstanceOf(RequestError);
    expect(err.code).toBe('P2P_TIMEOUT');
    expect(err.message).toContain(`request ${r.id} within 250 ms`);
    expect(err.details).toEqual({ id: r.id });
    expect(p.size).toBe(0);
  });
});

describe('late versus unsolicited answers', () => {
  it('a late answer is dropped without blame for exactly LATE_ANSWER_MEMORY_MS after the timeout', async () => {
    const p = new PendingRequests<Msg>(4, now);
    const a = p.open(ASK, 10);
    const b = p.open(ASK, 10);
    const both = Promise.allSettled([a.response, b.response]);
    advance(10); // both time out now
    await both;
    advance(LATE_ANSWER_MEMORY_MS - 1);
    expect(p.settle(a.id, { t: ASK, id: a.id })).toBe('late'); // 1 ms before its memory ends
    advance(1);
    expect(p.settle(b.id, { t: ASK, id: b.id })).toBe('unsolicited'); // exactly at the end
  });

  it('a late answer of the wrong type is unsolicited', async () => {
    const p = new PendingRequests<Msg>(4, now);
    const a = await timedOut(p);
    expect(p.settle(a, { t: OTHER, id: a })).toBe('unsolicited');
    expect(p.settle(a, { t: ASK, id: a })).toBe('late');
  });

  it('remembers several timed-out requests at once, not just the last', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const ids = [await timedOut(p), await timedOut(p), await timedOut(p)];
    expect(ids.map((id) => p.settle(id, { t: ASK, id }))).toEqual(['late', 'late', 'late']);
  });

  it('remembers at most 4 × maxOutstanding timed-out ids: the oldest is forgotten first', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const ids: number[] = [];
    for (let i = 0; i < 9; i++) ids.push(await timedOut(p, 1));
    // 9 timed out, room for 8: the first one's answer is now unsolicited
    expect(ids.map((id) => p.settle(id, { t: ASK, id }))).toEqual([
      'unsolicited',
      'late',
      'late',
      'late',
      'late',
      'late',
      'late',
      'late',
      'late',
    ]);
  });

  it('exactly 4 × maxOutstanding timed-out ids are all remembered', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await timedOut(p, 1));
    expect(ids.map((id) => p.settle(id, { t: ASK, id }))).toEqual(Array(8).fill('late'));
  });

  it('a timed-out id past its memory makes room, so the cap counts only ids still remembered', async () => {
    const p = new PendingRequests<Msg>(1, now);
    const old = await timedOut(p);
    advance(LATE_ANSWER_MEMORY_MS);
    const fresh: number[] = [];
    for (let i = 0; i < 4; i++) fresh.push(await timedOut(p, 1));
    expect(fresh.map((id) => p.settle(id, { t: ASK, id }))).toEqual(Array(4).fill('late'));
    expect(p.settle(old, { t: ASK, id: old })).toBe('unsolicited');
  });
});

describe('rejects (fail)', () => {
  it('fails an open request with the peer’s error, once', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const r = p.open(ASK, 1_000);
    const err = new RequestError('P2P_REJECTED', 'busy');
    expect(p.fail(r.id, err)).toBe('settled');
    await expect(r.response).rejects.toBe(err);
    expect(p.size).toBe(0);
    expect(p.fail(r.id, err)).toBe('unsolicited');
    // its timer was cleared: no timeout later turns the id into a remembered one
    advance(2_000);
    expect(p.settle(r.id, { t: ASK, id: r.id })).toBe('unsolicited');
  });

  it('a reject for a timed-out request is late once; one for a request never made is unsolicited', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const a = await timedOut(p);
    const err = new RequestError('P2P_REJECTED', 'busy');
    expect(p.fail(a, err)).toBe('late');
    expect(p.fail(a, err)).toBe('unsolicited');
    expect(p.fail(999, err)).toBe('unsolicited');
  });

  it('a reject arriving after the late-answer memory has ended is unsolicited', async () => {
    const p = new PendingRequests<Msg>(2, now);
    const a = await timedOut(p);
    advance(LATE_ANSWER_MEMORY_MS);
    expect(p.fail(a, new RequestError('P2P_REJECTED', 'busy'))).toBe('unsolicited');
  });
});

describe('connection closed (failAll)', () => {
  it('fails every open request at once with the given error and remembers none of them', async () => {
    const p = new PendingRequests<Msg>(3, now);
    const a = p.open(ASK, 1_000);
    const b = p.open(OTHER, 5_000);
    const gone = new RequestError('P2P_PEER_GONE', 'closed');
    const outcomes = Promise.allSettled([a.response, b.response]);
    p.failAll(gone);
    expect(p.size).toBe(0);
    expect(await outcomes).toEqual([
      { status: 'rejected', reason: gone },
      { status: 'rejected', reason: gone },
    ]);
    advance(10_000);
    expect(p.settle(a.id, { t: ASK, id: a.id })).toBe('unsolicited');
    expect(p.settle(b.id, { t: OTHER, id: b.id })).toBe('unsolicited');
    // the cap is free again
    expect(p.open(ASK, 100).id).toBe(3);
  });
});
