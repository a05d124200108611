import { describe, expect, it } from 'vitest';
import { CpuMeter, cpuDecayRate } from '../../../src/p2p/cpu-meter.js';
import { CPU_ALLOCATION_DEFAULTS, type CpuAllocation, CpuThrottle } from '../../../src/p2p/cpu-throttle.js';

const HALF_LIFE = 5_000;
const lambda = cpuDecayRate(HALF_LIFE);

describe('CpuMeter', () => {
  it('a steady load of a fraction of a core settles at that fraction', () => {
    for (const f of [0.05, 0.3, 1]) {
      const m = new CpuMeter(lambda, 0);
      for (let t = 0; t <= 120_000; t += 10) m.record(t, 10 * f);
      expect(m.usage(120_000)).toBeCloseTo(f, 2);
    }
  });

  it('halves every half-life once the load stops, and msUntil says when it reaches a level', () => {
    const m = new CpuMeter(lambda, 0);
    m.record(0, 1_000);
    const u0 = m.usage(0);
    expect(u0).toBeCloseTo(1_000 * lambda, 12);
    expect(m.usage(HALF_LIFE)).toBeCloseTo(u0 / 2, 12);
    expect(m.usage(3 * HALF_LIFE)).toBeCloseTo(u0 / 8, 12);
    const at = 3 * HALF_LIFE;
    const wait = m.msUntil(at, u0 / 32);
    expect(wait).toBeCloseTo(2 * HALF_LIFE, 6);
    expect(m.usage(at + wait)).toBeCloseTo(u0 / 32, 12);
    expect(m.msUntil(at + wait + 1, u0 / 32)).toBe(0);
    expect(m.msUntil(at, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('never decays backwards when the clock does', () => {
    const m = new CpuMeter(lambda, 1_000);
    m.record(1_000, 100);
    const u = m.usage(1_000);
    expect(m.usage(500)).toBe(u);
  });
});

const alloc = (over: Partial<CpuAllocation> = {}): CpuAllocation => ({ ...CPU_ALLOCATION_DEFAULTS, ...over });

describe('CpuThrottle targets', () => {
  it('splits the validator share among the other masternodes by weight, leaving our own weight out', () => {
    const t = new CpuThrottle(alloc({ validators: 1, atLargePerPeer: 0.1 }));
    t.setValidators(
      new Map([
        ['self', 10],
        ['a', 1],
        ['b', 3],
        ['z', 0],
      ]),
      'self',
    );
    expect(t.stakeShare('a')).toBeCloseTo(0.25, 12);
    expect(t.stakeShare('b')).toBeCloseTo(0.75, 12);
    expect(t.stakeShare('self')).toBe(0);
    expect(t.stakeShare('z')).toBe(0);
    expect(t.stakeShare('stranger')).toBe(0);
    // The at-large pool lends everyone its per-peer limit while it is unused.
    expect(t.target('a', 0)).toBeCloseTo(0.35, 12);
    expect(t.target('stranger', 0)).toBeCloseTo(0.1, 12);
    // Nobody but us with weight: nobody has a share (and none is NaN).
    t.setValidators(
      new Map([
        ['self', 1],
        ['z', 0],
      ]),
      'self',
    );
    expect(t.stakeShare('z')).toBe(0);
    expect(t.target('z', 0)).toBeCloseTo(0.1, 12);
  });

  it('the at-large pool lends what peers use beyond their stake shares; a non-validator has no share', () => {
    const t = new CpuThrottle(alloc());
    t.setValidators(new Map([['v', 1]]), 'self'); // v's share: the whole core
    for (let ms = 0; ms < 10_000; ms += 10) t.charge('v', ms, 5); // half a core
    const u = t.usage('v', 10_000);
    expect(u).toBeGreaterThan(0.3);
    expect(t.atLargeUsage(10_000)).toBe(0);
    t.setValidators(
      new Map([
        ['v', 1],
        ['w', 9],
      ]),
      'self',
    ); // v's share is now a tenth
    expect(t.atLargeUsage(10_000)).toBeCloseTo(u - 0.1, 12);
    t.charge('n', 10_000, 7);
    // Summed again only after RECOUNT_MS…
    expect(t.atLargeUsage(10_050)).toBeCloseTo(u - 0.1, 12);
    const at = 10_100;
    expect(t.atLargeUsage(at)).toBeCloseTo(t.usage('v', at) - 0.1 + t.usage('n', at), 12);
  });

  it('forgets a meter once its usage has decayed to almost nothing', () => {
    const t = new CpuThrottle(alloc());
    t.charge('gone', 0, 10);
    t.atLargeUsage(0);
    expect(t.usage('gone', 0)).toBeGreaterThan(0);
    // 10 ms·λ ≈ 1.4e-3, below 1e-4 after four half-lives.
    t.atLargeUsage(4 * HALF_LIFE);
    expect(t.usage('gone', 4 * HALF_LIFE)).toBe(0);
  });

  it('holds a peer over its target for the time its usage needs to decay, at most maxRecheckMs', () => {
    const t = new CpuThrottle(alloc({ atLargePerPeer: 0.1, atLarge: 1, maxRecheckMs: 250 }));
    expect(t.waitMs('n', 0)).toBe(0);
    // 0.1 of a core is 0.1/λ ≈ 721 ms of work: a bit more is over the target, by a short wait…
    t.charge('n', 0, 0.1 / lambda + 1);
    const wait = t.waitMs('n', 0);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThan(20);
    expect(t.waitMs('n', wait)).toBe(0);
    // …far over it, the wait is capped so that a rising target is noticed.
    t.charge('n', wait, 10_000);
    expect(t.waitMs('n', wait)).toBe(250);
  });

  it('with the at-large pool used up, a key never seen before waits like every other non-validator', () => {
    const t = new CpuThrottle(alloc({ maxRecheckMs: 250 }));
    t.setValidators(new Map([['v', 1]]), 'self');
    // a fresh key goes on at once while the pool has room…
    expect(t.waitMs('fresh', 0)).toBe(0);
    // …but five non-validator keys just used 1 s of CPU each: far over the 0.25-core pool
    for (let i = 0; i < 5; i++) t.charge(`sybil${i}`, 1_000, 1_000);
    expect(t.atLargeUsage(1_000)).toBeGreaterThan(CPU_ALLOCATION_DEFAULTS.atLarge);
    expect(t.waitMs('sybil0', 1_000)).toBe(250);
    // a key one handshake old has a target of 0 too, and its first frame (of any cost) waits
    expect(t.target('sybil-new', 1_000)).toBe(0);
    expect(t.waitMs('sybil-new', 1_000)).toBe(250);
    // a masternode the throttle has not metered yet has its stake share: never delayed by the pool
    expect(t.waitMs('v', 1_000)).toBe(0);
    // once the pool has decayed below its size the fresh key goes on again
    const later = 1_000 + 4 * HALF_LIFE;
    expect(t.atLargeUsage(later)).toBeLessThan(CPU_ALLOCATION_DEFAULTS.atLarge);
    expect(t.waitMs('sybil-new', later)).toBe(0);
  });

  it('remembers at most maxMeters peers, forgetting the oldest', () => {
    const t = new CpuThrottle(alloc(), 3);
    for (const id of ['a', 'b', 'c', 'd']) t.charge(id, 0, 100);
    expect(t.usage('a', 0)).toBe(0);
    expect(t.usage('d', 0)).toBeGreaterThan(0);
    expect(t.usage('b', 0)).toBeGreaterThan(0);
  });
});

/**
 * A single-threaded coordinator in simulated time: whenever a flooding peer is allowed (waitMs 0)
 * one of its frames runs, costing `costMs` of the coordinator's time; peers take turns. Returns each
 * peer's share of the coordinator over the second half of the run.
 */
function flood(t: CpuThrottle, peers: readonly string[], costMs: number, seconds = 120): Map<string, number> {
  const end = seconds * 1_000;
  const from = end / 2;
  const used = new Map(peers.map((p) => [p, 0]));
  let now = 0;
  let next = 0;
  while (now < end) {
    let ran = false;
    for (let i = 0; i < peers.length; i++) {
      const p = peers[(next + i) % peers.length]!;
      if (t.waitMs(p, now) > 0) continue;
      t.charge(p, now, costMs);
      if (now >= from) used.set(p, used.get(p)! + costMs);
      now += costMs;
      next = (next + i + 1) % peers.length;
      ran = true;
      break;
    }
    if (!ran) now += 1;
  }
  return new Map([...used].map(([p, ms]) => [p, ms / (end - from)]));
}

describe('CpuThrottle under floods', () => {
  it('one flooding non-validator gets its per-peer limit and no more, even when that is the whole pool', () => {
    for (const a of [alloc(), alloc({ atLarge: 0.1, atLargePerPeer: 0.1 })]) {
      const share = flood(new CpuThrottle(a), ['n'], 3).get('n')!;
      expect(share).toBeGreaterThan(a.atLargePerPeer * 0.95);
      expect(share).toBeLessThan(a.atLargePerPeer * 1.05);
    }
  });

  it('any number of flooding identities without stake share the at-large pool together', () => {
    for (const n of [3, 20]) {
      const t = new CpuThrottle(alloc());
      const peers = Array.from({ length: n }, (_, i) => `sybil${i}`);
      const shares = flood(t, peers, 2);
      const total = [...shares.values()].reduce((a, b) => a + b, 0);
      expect(total).toBeLessThan(CPU_ALLOCATION_DEFAULTS.atLarge * 1.05);
      expect(total).toBeGreaterThan(CPU_ALLOCATION_DEFAULTS.atLarge * 0.9);
    }
  });

  it('masternodes keep their stake shares while Sybils flood, and a flooding masternode gets no more than its own', () => {
    const t = new CpuThrottle(alloc({ validators: 0.6 }));
    t.setValidators(
      new Map([
        ['self', 1],
        ['v1', 1],
        ['v2', 2],
      ]),
      'self',
    );
    const sybils = Array.from({ length: 10 }, (_, i) => `sybil${i}`);
    const shares = flood(t, ['v1', 'v2', ...sybils], 2);
    const sybilTotal = sybils.reduce((a, p) => a + shares.get(p)!, 0);
    expect(shares.get('v1')!).toBeGreaterThan(0.2 * 0.95);
    expect(shares.get('v2')!).toBeGreaterThan(0.4 * 0.95);
    // What the masternodes get beyond their shares comes out of the same at-large pool.
    const lent = shares.get('v1')! - 0.2 + (shares.get('v2')! - 0.4) + sybilTotal;
    expect(lent).toBeLessThan(CPU_ALLOCATION_DEFAULTS.atLarge * 1.05);
    // A masternode working at its share does not use up the pool it has no need of.
    expect(sybilTotal).toBeGreaterThan(CPU_ALLOCATION_DEFAULTS.atLarge * 0.8);
  });
});
