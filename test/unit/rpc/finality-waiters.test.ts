import { describe, expect, it } from 'vitest';
import { FinalityWaiters } from '../../../src/node/finality-waiters.js';

/*
 * The waits behind waittransactionfinality: each ends with the outcome, at its timeout, or when the
 * request's signal aborts, and leaves nothing behind. Whether a wait is still pending is read after
 * one event-loop turn (setImmediate), not after a sleep.
 */

const TXID = new Uint8Array(32).fill(7);
const HOUR = 3_600_000;

/** The wait's answer if it has one after an event-loop turn, else 'pending'. */
function afterATurn<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('FinalityWaiters', () => {
  it('a wait with an already aborted signal answers timeout at once and holds nothing', async () => {
    const w = new FinalityWaiters();
    const ac = new AbortController();
    ac.abort();
    const p = w.wait(TXID, HOUR, ac.signal);
    // Nothing registered: a settle does not reach it, and no timer keeps the process alive.
    expect(w.size).toBe(0);
    w.settle(TXID, 'finalized');
    expect(await afterATurn(p)).toBe('timeout');
  });

  it('a wait ends with the outcome, or timeout when its signal aborts; either way its entry goes', async () => {
    const w = new FinalityWaiters();
    const ac = new AbortController();
    const aborted = w.wait(TXID, HOUR, ac.signal);
    const settled = w.wait(TXID, HOUR);
    expect(w.size).toBe(1);
    expect(await afterATurn(aborted)).toBe('pending');
    ac.abort();
    expect(await afterATurn(aborted)).toBe('timeout');
    expect(w.size).toBe(1);
    w.settle(TXID, 'rejected');
    expect(await afterATurn(settled)).toBe('rejected');
    expect(w.size).toBe(0);
  });
});
