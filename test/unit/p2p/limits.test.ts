import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/p2p/backoff.js';
import { type BanRecord, MemoryBanList } from '../../../src/p2p/ban-list.js';
import { OUTBOUND_SHARE, OutboundPacer } from '../../../src/p2p/outbound-pacer.js';
import { ScoreBook } from '../../../src/p2p/peer-scores.js';
import { DEFAULT_RATE_LIMITS, PeerRateLimiter } from '../../../src/p2p/rate-limits.js';
import { TokenBucket } from '../../../src/p2p/token-bucket.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { type MessageType, MSG } from '../../../src/wire/message-types.js';

describe('default reconnect backoff', () => {
  const at = (attempt: number, random: number) =>
    backoffDelay(attempt, { ...DEFAULT_BACKOFF, random: () => random });

  it('first retry after 250-500 ms, doubling, never more than 30 s', () => {
    expect([at(1, 0), at(1, 0.999_999)]).toEqual([250, 500]);
    expect([at(2, 0), at(3, 0), at(6, 0), at(6, 0.999_999)]).toEqual([500, 1_000, 8_000, 16_000]);
    expect([at(7, 0), at(7, 0.999_999)]).toEqual([15_000, 30_000]); // 32 s capped
    expect([at(1_000, 0), at(1_000, 0.999_999)]).toEqual([15_000, 30_000]);
  });
});

describe('token bucket', () => {
  it('msUntil is 0 while enough tokens are there, and counts only the missing ones', () => {
    const b = new TokenBucket(10, 5, 0);
    expect([b.msUntil(0, 1), b.msUntil(0, 5)]).toEqual([0, 0]);
    expect(b.take(0, 4)).toBe(true); // 1 left
    expect([b.msUntil(0, 1), b.msUntil(0, 2), b.msUntil(0, 3)]).toEqual([0, 100, 200]);
    expect(b.msUntil(50, 2)).toBe(50); // 1.5 tokens by then
    expect(b.take(100, 2)).toBe(true);
  });

  it('a request of exactly the burst waits for a full refill; one beyond it never fits', () => {
    const b = new TokenBucket(10, 5, 0);
    expect(b.take(0, 5)).toBe(true);
    expect(b.msUntil(0, 5)).toBe(500);
    expect(b.msUntil(0, 6)).toBe(Number.POSITIVE_INFINITY);
    expect(b.take(499, 5)).toBe(false);
    expect(b.take(500, 5)).toBe(true);
  });

  it('msUntilFull: 0 while full, else the time the refill takes to reach the burst', () => {
    const b = new TokenBucket(10, 5, 0);
    expect(b.msUntilFull(0)).toBe(0);
    expect(b.take(0, 4)).toBe(true);
    expect(b.msUntilFull(0)).toBe(400);
    expect(b.msUntilFull(150)).toBe(250);
    expect(b.take(150, 2.5)).toBe(true); // 0 left
    expect(b.msUntilFull(150)).toBe(500);
    expect(b.msUntilFull(10_000)).toBe(0);
  });

  it('with no refill it is a fixed allowance: no wait while a token is left, forever after', () => {
    const b = new TokenBucket(0, 3, 0);
    expect(b.take(0, 2)).toBe(true);
    expect(b.msUntil(0, 1)).toBe(0);
    expect(b.take(1_000_000, 1)).toBe(true);
    expect(b.msUntil(1_000_000, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(b.take(2_000_000)).toBe(false);
  });

  it('an unlimited bucket (infinite rate) never makes anyone wait, even at the instant it is made', () => {
    const open = new TokenBucket(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1_000);
    expect([open.available(1_000), open.msUntil(1_000, 1e12), open.take(1_000, 1e12)]).toEqual([
      Number.POSITIVE_INFINITY,
      0,
      true,
    ]);
    const refillsAtOnce = new TokenBucket(Number.POSITIVE_INFINITY, 10, 1_000);
    expect([
      refillsAtOnce.take(1_000, 10),
      refillsAtOnce.msUntil(1_000, 5),
      refillsAtOnce.msUntil(1_001, 10),
    ]).toEqual([true, 0, 0]);
  });

  it('a clock that steps backwards neither drains nor refills the bucket', () => {
    const b = new TokenBucket(10, 5, 10_000);
    expect(b.available(5_000)).toBe(5);
    expect(b.take(5_000, 5)).toBe(true); // a peer is not throttled because our clock jumped back
    expect(b.available(0)).toBe(0);
    expect(b.take(10_000)).toBe(false); // no refill for time it already had
    expect(b.available(10_100)).toBe(1);
  });
});

describe('token bucket debt (charge)', () => {
  it('charge takes tokens that are not there; the refill repays the debt before anything can be taken', () => {
    const b = new TokenBucket(10, 5, 0);
    b.charge(0, 8); // 5 there: 3 owed
    expect(b.available(0)).toBe(-3);
    expect(b.take(0)).toBe(false);
    expect(b.msUntil(0, 1)).toBe(400); // 3 owed + 1 wanted at 10/s
    expect(b.available(300)).toBe(0);
    expect(b.take(399)).toBe(false);
    expect(b.take(400)).toBe(true);
    expect(b.available(10_000)).toBe(5); // repaid, then capped at the burst as before
  });
});

describe('outbound pacer: answers share the byte budget', () => {
  function pacer(bytesPerSec: number, burstBytes: number) {
    let now = 0;
    const sent: Uint8Array[] = [];
    const p = new OutboundPacer(
      {
        peerRates: DEFAULT_RATE_LIMITS,
        peerBytesPerSec: bytesPerSec / OUTBOUND_SHARE,
        peerBurstBytes: burstBytes / OUTBOUND_SHARE,
        maxQueuedTxs: 100,
        maxQueuedTxBytes: 1 << 20,
        maxQueuedMessages: 10,
      },
      () => now,
      (frame) => {
        sent.push(frame);
        return true;
      },
      () => true,
    );
    return { p, sent, at: (ms: number) => (now = ms) };
  }

  it('an answer may overdraw the budget; it is overdrawn until repaid, and gossip waits for that', () => {
    const { p, sent, at } = pacer(1_000, 1_000);
    expect(p.overdrawn).toBe(false);
    p.chargeAnswer(1_000); // exactly the allowance: spent, not overdrawn
    expect(p.overdrawn).toBe(false);
    p.chargeAnswer(500);
    expect(p.overdrawn).toBe(true);
    vi.useFakeTimers();
    try {
      p.queueTxs([new Uint8Array(100)]); // a frame of ~140 bytes
      expect(sent).toHaveLength(0); // our gossip would push the peer over its inbound budget
      at(499);
      expect(p.overdrawn).toBe(true);
      at(500);
      expect(p.overdrawn).toBe(false);
      // Debt repaid, but the frame needs its own ~140 tokens: the pacer's timer retries until then.
      at(600);
      vi.advanceTimersByTime(600);
      expect(sent).toHaveLength(0);
      at(700);
      vi.advanceTimersByTime(100);
      expect(sent).toHaveLength(1);
    } finally {
      p.stop();
      vi.useRealTimers();
    }
  });
});

describe('misbehaviour scores', () => {
  it('a score does not decay before time passes, then decays at the configured rate', () => {
    const s = new ScoreBook(10, 100);
    expect(s.add('peer', 25, 5_000)).toBe(25);
    expect(s.current('peer', 5_000)).toBe(25);
    expect(s.current('peer', 6_000)).toBe(15);
    expect(s.add('peer', 10, 6_000)).toBe(25);
    expect(s.current('peer', 6_000)).toBe(25);
  });

  it('clear forgets one subject only', () => {
    const s = new ScoreBook(1, 100);
    s.add('a', 50, 1_000);
    s.add('b', 30, 1_000);
    s.clear('a');
    expect([s.size, s.current('a', 1_000), s.current('b', 1_000)]).toEqual([1, 0, 30]);
    expect(s.add('a', 5, 1_000)).toBe(5); // a fresh start after the ban that cleared it
    s.clear('nobody');
    expect(s.size).toBe(2);
  });
});

describe('memory ban list', () => {
  const key = (n: number) => new Uint8Array(16).fill(n);
  const rec = (untilMs: number, bannedAtMs = 0, reason = `until ${untilMs}`): BanRecord => ({
    untilMs,
    bannedAtMs,
    reason,
  });

  it('a ban holds until just before untilMs and is over at untilMs', () => {
    const l = new MemoryBanList();
    l.ban(key(1), rec(1_000));
    expect(l.get(key(1), 999)?.reason).toBe('until 1000');
    expect(l.get(key(1), 1_000)).toBeUndefined();
    expect(l.get(key(1), 500)).toBeUndefined(); // an expired ban read once is gone
    expect(l.size).toBe(0);
  });

  it('prune removes and counts the bans that are over, including one ending exactly now', () => {
    const l = new MemoryBanList();
    l.ban(key(1), rec(1_000));
    l.ban(key(2), rec(1_001));
    l.ban(key(3), rec(500));
    expect(l.prune(999)).toBe(1);
    expect(l.prune(1_000)).toBe(1);
    expect([l.size, l.get(key(2), 1_000)?.reason]).toEqual([1, 'until 1001']);
  });

  it('extending a ban on a full list keeps every other ban', () => {
    const l = new MemoryBanList(2);
    l.ban(key(1), rec(100));
    l.ban(key(2), rec(300));
    l.ban(key(2), rec(900, 50, 'extended'));
    expect([l.size, l.get(key(1), 50)?.reason, l.get(key(2), 50)?.reason]).toEqual([
      2,
      'until 100',
      'extended',
    ]);
  });

  it('permanent bans (untilMs = Infinity) cannot outgrow a full list: the oldest of equals goes', () => {
    const l = new MemoryBanList(2);
    for (const n of [1, 2, 3]) l.ban(key(n), rec(Number.POSITIVE_INFINITY, n));
    expect([l.size, l.get(key(1), 10), l.get(key(2), 10)?.bannedAtMs, l.get(key(3), 10)?.bannedAtMs]).toEqual(
      [2, undefined, 2, 3],
    );
  });

  it('on a full list with nothing expired, the ban that ends soonest goes, not the oldest', () => {
    const l = new MemoryBanList(2);
    l.ban(key(1), rec(900)); // oldest, ends last
    l.ban(key(2), rec(300)); // newer, ends first
    l.ban(key(3), rec(800, 200));
    expect([l.get(key(1), 200)?.reason, l.get(key(2), 200), l.get(key(3), 200)?.reason]).toEqual([
      'until 900',
      undefined,
      'until 800',
    ]);
  });

  it('on a full list an expired ban makes room first; a live one is dropped only if none expired', () => {
    const l = new MemoryBanList(2);
    l.ban(key(1), rec(100));
    l.ban(key(2), rec(300));
    l.ban(key(3), rec(900, 150)); // at 150, ban 1 is over: it makes room, ban 2 stays
    expect([l.size, l.get(key(2), 150)?.reason, l.get(key(3), 150)?.reason]).toEqual([
      2,
      'until 300',
      'until 900',
    ]);
    l.ban(key(4), rec(800, 200)); // nothing expired: ban 2 (ends soonest) is dropped
    expect([l.get(key(2), 200), l.get(key(3), 200)?.reason, l.get(key(4), 200)?.reason]).toEqual([
      undefined,
      'until 900',
      'until 800',
    ]);
  });
});

describe('default per-type rate limits (docs/protocol.md, the message table)', () => {
  const doc = readFileSync(join(packageRoot(), 'docs', 'protocol.md'), 'utf8');
  const header = '| t | message | fields (after `t`) | frame limit | rate / burst per peer |';
  const table = doc.slice(doc.indexOf(header)).split('\n\n')[0]!.split('\n').slice(2);
  /** t → the documented rate: "once per connection" is one message, no refill to speak of. */
  const documented = new Map(
    table.map((row) => {
      const cells = row.split('|').map((c) => c.trim());
      const rate = cells[cells.length - 2]!;
      const m = /^([\d,]+)\/s, ([\d,]+)$/.exec(rate);
      const n = (s: string) => Number(s.replaceAll(',', ''));
      return [Number(cells[1]), m ? { perSec: n(m[1]!), burst: n(m[2]!) } : rate] as const;
    }),
  );

  it('are the ones the message table documents, for every message type', () => {
    expect([...documented.keys()]).toEqual(Object.values(MSG).sort((a, b) => a - b));
    for (const [t, rate] of documented)
      expect(DEFAULT_RATE_LIMITS[t as MessageType], `type ${t}`).toEqual(
        rate === 'once per connection' ? { perSec: 1, burst: 1 } : rate,
      );
  });

  it('a peer may send its burst at once, then one more per 1/rate; a type with no limit never', () => {
    for (const [t, { perSec, burst }] of Object.entries(DEFAULT_RATE_LIMITS)) {
      const limiter = new PeerRateLimiter(DEFAULT_RATE_LIMITS);
      for (let i = 0; i < burst; i++) expect(limiter.allow(Number(t), 0), `type ${t} #${i}`).toBe(true);
      expect(limiter.allow(Number(t), 0), `type ${t} over its burst`).toBe(false);
      expect(limiter.allow(Number(t), Math.ceil(1_000 / perSec)), `type ${t} refilled`).toBe(true);
      expect(limiter.allow(Number(t), Math.ceil(1_000 / perSec)), `type ${t} again`).toBe(false);
    }
    expect(new PeerRateLimiter(DEFAULT_RATE_LIMITS).allow(99, 0)).toBe(false);
  });
});
