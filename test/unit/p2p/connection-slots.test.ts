import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  admit,
  classOf,
  PROTECT_LONGEST,
  PROTECT_NETGROUPS,
  PROTECT_RECENTLY_USEFUL,
  type SlotClass,
  type SlotLimits,
  type SlotPeer,
  selectEviction,
} from '../../../src/p2p/connection-slots.js';

const SECRET = new Uint8Array(32).fill(7);
const secretN = (n: number) => new Uint8Array(32).fill(n);

/** A peer in `group` connected at `t`; its IP is unique unless given. */
const peer = (id: string, group: string, t: number, over: Partial<SlotPeer> = {}): SlotPeer => ({
  peerId: id,
  direction: 'inbound',
  ip: `${group}:${id}`,
  netgroup: group,
  connectedAtMs: t,
  lastUsefulMs: 0,
  ...over,
});

/** `n` peers of one netgroup, ids `<prefix>00…`, connected at `t0`, `t0 + 1`, … */
const groupOf = (prefix: string, n: number, t0: number, over: Partial<SlotPeer> = {}): SlotPeer[] =>
  Array.from({ length: n }, (_, i) => peer(`${prefix}${String(i).padStart(2, '0')}`, prefix, t0 + i, over));

/** A deterministic shuffle (mulberry32), so an order-dependence shows up as a plain failure. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The input orders every eviction property is checked under: as given, reversed, shuffled. */
const orders = <T>(xs: readonly T[]): T[][] => [
  [...xs],
  [...xs].reverse(),
  ...[1, 2, 3, 4, 5].map((seed) => shuffled(xs, seed)),
];

/**
 * Evicts one peer after another (each newcomer takes the freed slot and leaves again), until every
 * remaining peer is protected: the order of evictions and the peers nobody can evict.
 */
function drain(
  candidates: readonly SlotPeer[],
  secret: Uint8Array = SECRET,
): { evicted: string[]; kept: string[] } {
  let left = [...candidates];
  const evicted: string[] = [];
  for (;;) {
    const victim = selectEviction(left, secret);
    if (victim === undefined) return { evicted, kept: left.map((p) => p.peerId).sort() };
    expect(left.some((p) => p.peerId === victim)).toBe(true);
    evicted.push(victim);
    left = left.filter((p) => p.peerId !== victim);
  }
}

const ids = (ps: readonly SlotPeer[]) => ps.map((p) => p.peerId).sort();
const keyedHash = (secret: Uint8Array, group: string) =>
  createHash('sha256').update(secret).update(group).digest('hex');

describe('slot classes', () => {
  it('an active validator is a validator whichever side dialed; a configured dial is manual', () => {
    const table: [direction: 'inbound' | 'outbound', validator: boolean, configured: boolean, SlotClass][] = [
      ['inbound', true, false, 'validator'],
      ['inbound', true, true, 'validator'],
      ['outbound', true, false, 'validator'],
      ['outbound', true, true, 'validator'],
      ['outbound', false, true, 'manual'],
      ['outbound', false, false, 'outbound'],
      // Only our own dials to a configured address are manual: an inbound peer cannot claim it.
      ['inbound', false, true, 'inbound'],
      ['inbound', false, false, 'inbound'],
    ];
    for (const [direction, validator, configured, cls] of table) {
      expect(classOf(direction, validator, configured), `${direction} ${validator} ${configured}`).toBe(cls);
    }
  });
});

describe('admission: every limit is exact (at the limit refused, one below admitted)', () => {
  const limits: SlotLimits = {
    maxOutbound: 3,
    maxInbound: 6,
    maxInboundPerIp: 2,
    maxInboundPerNetgroup: 3,
    maxValidatorSlots: 4,
  };
  const entries = (ps: readonly SlotPeer[], cls: SlotClass) => ps.map((p) => ({ peer: p, cls }));
  /** Peers of every other class, and many of them: they never take a slot of another class. */
  const crowd = (except: SlotClass) =>
    (['validator', 'manual', 'outbound', 'inbound'] as const)
      .filter((c) => c !== except)
      .flatMap((c) => entries(groupOf(`${c}-`, 10, 1_000, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }), c));
  const newcomer = peer('new', '10.9.9.0/24', 5_000, { ip: '10.9.9.9' });

  it('validator slots: as many as the active set is large, capped by maxValidatorSlots', () => {
    const validators = (n: number) => [...crowd('validator'), ...entries(groupOf('v', n, 0), 'validator')];
    // A set of 3 (below the cap of 4): the 3rd validator gets a slot, a 4th does not.
    expect(admit(newcomer, 'validator', validators(2), limits, 3, SECRET)).toEqual({ ok: true });
    const full = admit(newcomer, 'validator', validators(3), limits, 3, SECRET);
    expect(full.ok).toBe(false);
    if (!full.ok) expect(full.reason).toBe('validator slots (3) full');
    // A set of 10 (above the cap): 4 slots, never more.
    expect(admit(newcomer, 'validator', validators(3), limits, 10, SECRET)).toEqual({ ok: true });
    const capped = admit(newcomer, 'validator', validators(4), limits, 10, SECRET);
    expect(capped.ok).toBe(false);
    if (!capped.ok) expect(capped.reason).toBe('validator slots (4) full');
  });

  it('manual connections always get a slot and never evict anyone', () => {
    const everythingFull = [
      ...entries(groupOf('v', 4, 0), 'validator'),
      ...entries(groupOf('o', 3, 0), 'outbound'),
      ...entries(groupOf('i', 6, 0, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }), 'inbound'),
      ...entries(groupOf('m', 50, 0, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }), 'manual'),
    ];
    expect(admit(newcomer, 'manual', everythingFull, limits, 4, SECRET)).toEqual({ ok: true });
  });

  it('outbound slots: maxOutbound of our own dials, whatever else is connected', () => {
    const outbound = (n: number) => [...crowd('outbound'), ...entries(groupOf('o', n, 0), 'outbound')];
    expect(admit(newcomer, 'outbound', outbound(2), limits, 3, SECRET)).toEqual({ ok: true });
    const full = admit(newcomer, 'outbound', outbound(3), limits, 3, SECRET);
    expect(full.ok).toBe(false);
    if (!full.ok) expect(full.reason).toBe('outbound slots (3) full');
  });

  it('inbound per IP: maxInboundPerIp from one address, even with free inbound slots', () => {
    const sameIp = (n: number) => [
      ...crowd('inbound'),
      ...entries(groupOf('i', n, 0, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }), 'inbound'),
    ];
    expect(admit(newcomer, 'inbound', sameIp(1), limits, 3, SECRET)).toEqual({ ok: true });
    const full = admit(newcomer, 'inbound', sameIp(2), limits, 3, SECRET);
    expect(full.ok).toBe(false);
    if (!full.ok) expect(full.reason).toBe('2 inbound peers from 10.9.9.9 already');
    // Another address of the same /24 is still welcome.
    expect(admit({ ...newcomer, ip: '10.9.9.10' }, 'inbound', sameIp(2), limits, 3, SECRET)).toEqual({
      ok: true,
    });
  });

  it('inbound per netgroup: maxInboundPerNetgroup from one /24, even with free inbound slots', () => {
    const sameGroup = (n: number) => [
      ...crowd('inbound'),
      ...entries(
        Array.from({ length: n }, (_, i) => peer(`g${i}`, '10.9.9.0/24', i, { ip: `10.9.9.${100 + i}` })),
        'inbound',
      ),
    ];
    expect(admit(newcomer, 'inbound', sameGroup(2), limits, 3, SECRET)).toEqual({ ok: true });
    const full = admit(newcomer, 'inbound', sameGroup(3), limits, 3, SECRET);
    expect(full.ok).toBe(false);
    if (!full.ok) expect(full.reason).toBe('3 inbound peers from 10.9.9.0/24 already');
    expect(
      admit(
        { ...newcomer, netgroup: '10.9.8.0/24', ip: '10.9.8.9' },
        'inbound',
        sameGroup(3),
        limits,
        3,
        SECRET,
      ),
    ).toEqual({ ok: true });
  });

  it('inbound capacity: below maxInbound a plain slot; at maxInbound only by evicting an unprotected peer', () => {
    // Distinct netgroups and IPs, so only the capacity limit applies.
    const inbound = (n: number, over: Partial<SlotPeer> = {}) =>
      entries(
        Array.from({ length: n }, (_, i) => peer(`i${String(i).padStart(2, '0')}`, `g${i}`, i, over)),
        'inbound',
      );
    const stranger = peer('new', 'elsewhere', 5_000);
    const bigLimits = { ...limits, maxInbound: 20 };
    expect(admit(stranger, 'inbound', [...crowd('inbound'), ...inbound(19)], bigLimits, 3, SECRET)).toEqual({
      ok: true,
    });
    // 20 inbound peers: 4 netgroups and the 8 longest-connected are protected; the youngest goes.
    const full = [...crowd('inbound'), ...inbound(20)];
    expect(admit(stranger, 'inbound', full, bigLimits, 3, SECRET)).toEqual({
      ok: true,
      evict: selectEviction(
        inbound(20).map((e) => e.peer),
        SECRET,
      ),
    });
    const decision = admit(stranger, 'inbound', full, bigLimits, 3, SECRET);
    // Never one of the 8 longest-connected.
    expect(decision.ok && decision.evict !== undefined && decision.evict >= 'i08').toBe(true);
    // 6 inbound peers, every one protected (longest-connected): the newcomer is refused.
    const refused = admit(stranger, 'inbound', [...crowd('inbound'), ...inbound(6)], limits, 3, SECRET);
    expect(refused).toEqual({ ok: false, reason: 'inbound slots (6) full' });
  });

  it('an address at its per-IP limit cannot evict anyone to get in', () => {
    const full = entries(
      [
        ...Array.from({ length: 18 }, (_, i) => peer(`h${String(i).padStart(2, '0')}`, `g${i}`, i)),
        ...groupOf('a', 2, 100, { ip: '10.6.6.6', netgroup: '10.6.6.0/24' }),
      ],
      'inbound',
    );
    const limits20 = { ...limits, maxInbound: 20 };
    const attacker = peer('a99', '10.6.6.0/24', 200, { ip: '10.6.6.6' });
    expect(admit(attacker, 'inbound', full, limits20, 3, SECRET)).toEqual({
      ok: false,
      reason: '2 inbound peers from 10.6.6.6 already',
    });
  });
});

describe('eviction: what an attacker who fills the inbound slots can and cannot do', () => {
  it('an attacker filling one netgroup evicts its own peers, youngest first, before any honest peer', () => {
    // 12 long-connected honest peers, 8 honest peers that connected after the attack began, each in
    // its own netgroup; 30 attacker connections from one /24.
    const oldHonest = Array.from({ length: 12 }, (_, i) => peer(`old${i}`, `h-old-${i}`, i));
    const newHonest = Array.from({ length: 8 }, (_, i) => peer(`new${i}`, `h-new-${i}`, 1_000 + i));
    const attackers = groupOf('evil', 30, 100);
    for (let s = 0; s < 3; s++) {
      for (const input of orders([...oldHonest, ...newHonest, ...attackers]).slice(0, 3)) {
        const { evicted } = drain(input, secretN(s));
        const firstHonest = evicted.findIndex((id) => !id.startsWith('evil'));
        const attackersFirst = evicted.slice(0, firstHonest);
        // Youngest first; an honest peer goes only when the attacker's group is down to one peer
        // the rules protect (its oldest, if the secret picked its netgroup) and one more.
        expect(attackersFirst).toEqual(ids(attackers).reverse().slice(0, attackersFirst.length));
        expect(attackersFirst.length).toBeGreaterThanOrEqual(30 - 1 - 1);
      }
    }
  });

  it('evicts from the netgroup with the most unprotected peers, even when another has younger peers', () => {
    // Three netgroups (all protected once); 9 old peers take the longest-connected protection.
    const old = groupOf('old', 9, 0);
    const crowded = groupOf('c', 5, 100); // oldest c00 protected; c01..c04 evictable
    const young = groupOf('y', 4, 500); // oldest y00 protected; y01..y03 evictable, all younger
    for (const input of orders([...old, ...crowded, ...young])) {
      // c has 4 evictable, y 3: c04 goes; then 3 against 3, and y's youngest is the younger.
      expect(drain(input).evicted.slice(0, 4)).toEqual(['c04', 'y03', 'c03', 'y02']);
    }
  });

  it('of two netgroups with as many evictable peers, evicts the younger group’s youngest', () => {
    const old = groupOf('old', 9, 0);
    // Oldest of each group protected; then a01/a02 against b01/b02, equal in number.
    const a = [peer('a00', 'a', 100), peer('a01', 'a', 101), peer('a02', 'a', 150)];
    const b = [peer('b00', 'b', 100), peer('b01', 'b', 102), peer('b02', 'b', 140)];
    for (const input of orders([...old, ...a, ...b])) expect(selectEviction(input, SECRET)).toBe('a02');
    const b2 = [peer('b00', 'b', 100), peer('b01', 'b', 102), peer('b02', 'b', 160)];
    for (const input of orders([...old, ...a, ...b2])) expect(selectEviction(input, SECRET)).toBe('b02');
  });

  it('peers connected in the same millisecond: the larger key counts as younger, whatever the input order', () => {
    // One netgroup, everyone connected at once: the smallest key is the group's protected peer,
    // the next 8 the longest-connected, and the rest go largest key first.
    const same = Array.from({ length: 20 }, (_, i) => peer(`s${String(i).padStart(2, '0')}`, 'g', 5));
    const expectedKept = ['s00', 's01', 's02', 's03', 's04', 's05', 's06', 's07', 's08'];
    for (const input of orders(same)) {
      const { evicted, kept } = drain(input);
      expect(kept).toEqual(expectedKept);
      expect(evicted).toEqual(ids(same).reverse().slice(0, 11));
    }
  });

  it('two netgroups whose youngest peers tie in age and number: the larger key goes, whatever the input order', () => {
    const old = groupOf('old', 9, 0);
    const a = [peer('a0', 'a', 100), peer('a1', 'a', 200)];
    const b = [peer('b0', 'b', 100), peer('b1', 'b', 200)];
    for (const input of orders([...old, ...a, ...b])) expect(selectEviction(input, SECRET)).toBe('b1');
  });

  it('protects the 4 most recently useful peers, however young, and only 4', () => {
    // One netgroup of 30, connected at 0..29: the youngest 5 recently sent us something new.
    const useful = new Map([
      ['g29', 500],
      ['g28', 400],
      ['g27', 300],
      ['g26', 200],
      ['g25', 100], // the least recent of the five: not protected
    ]);
    const all = groupOf('g', 30, 0).map((p) => ({ ...p, lastUsefulMs: useful.get(p.peerId) ?? 0 }));
    for (const input of orders(all)) {
      const { evicted, kept } = drain(input);
      expect(evicted[0]).toBe('g25');
      // 4 useful + the group's longest-connected + 8 longest-connected others.
      expect(kept).toEqual(
        ['g00', 'g01', 'g02', 'g03', 'g04', 'g05', 'g06', 'g07', 'g08', 'g26', 'g27', 'g28', 'g29'].sort(),
      );
    }
    expect(PROTECT_RECENTLY_USEFUL + 1 + PROTECT_LONGEST).toBe(13);
  });

  it('a peer that never sent anything new earns no usefulness protection', () => {
    // Only the youngest peer was ever useful; the other useful-protection places stay empty.
    const all = groupOf('g', 30, 0).map((p) => (p.peerId === 'g29' ? { ...p, lastUsefulMs: 1_000 } : p));
    for (const input of orders(all)) {
      const { evicted, kept } = drain(input);
      expect(evicted[0]).toBe('g28');
      expect(kept).toEqual(['g00', 'g01', 'g02', 'g03', 'g04', 'g05', 'g06', 'g07', 'g08', 'g29']);
    }
    // Nobody useful at all: just the group's oldest and the 8 longest-connected.
    expect(drain(groupOf('g', 30, 0)).kept).toEqual(ids(groupOf('g', 9, 0)));
  });

  it('usefulness ties: the smaller keys are protected, whatever the input order', () => {
    const all = groupOf('g', 30, 0).map((p, i) => (i >= 24 ? { ...p, lastUsefulMs: 777 } : p));
    for (const input of orders(all)) {
      const { kept } = drain(input);
      expect(kept.filter((id) => id >= 'g24')).toEqual(['g24', 'g25', 'g26', 'g27']);
    }
  });

  it('usefulness: the most recent win, not the smallest keys or the first given', () => {
    // Here the larger keys were useful later: recency decides, not key order or input order.
    const all = groupOf('g', 30, 0).map((p, i) => (i >= 20 ? { ...p, lastUsefulMs: 100 + i } : p));
    for (const input of orders(all)) {
      expect(drain(input).kept.filter((id) => id >= 'g20')).toEqual(['g26', 'g27', 'g28', 'g29']);
    }
  });

  it('each protected netgroup keeps its longest-connected peer', () => {
    // Three netgroups: all protected. The old group (9 peers) is fully protected (oldest + 8 longest).
    const old = groupOf('old', 9, 0);
    const a = shuffled(groupOf('a', 10, 100), 9);
    const b = [peer('b01', 'b', 200), ...groupOf('b', 10, 200).slice(2), peer('b00', 'b', 200)];
    for (const input of orders([...old, ...a, ...b])) {
      // b00 and b01 connected in the same ms: the smaller key is the longer-connected.
      expect(drain(input).kept).toEqual([...ids(old), 'a00', 'b00'].sort());
    }
  });

  it('protects one peer in each of 4 netgroups chosen by the secret, not by the attacker', () => {
    // 10 young netgroups of 3 peers each, behind 9 long-connected peers of one netgroup (which take
    // the longest-connected places): which young groups keep a peer is decided by the secret.
    const old = groupOf('old', 9, 0);
    const young = Array.from({ length: 10 }, (_, g) => groupOf(`y${g}-`, 3, 100 + 10 * g));
    const all = [...old, ...young.flat()];
    const protectedGroups = (secret: Uint8Array) => {
      const kept = drain(all, secret).kept.filter((id) => id.startsWith('y'));
      // The peer kept in each such group is its longest-connected one.
      for (const id of kept) expect(id.endsWith('00')).toBe(true);
      return kept.map((id) => id.slice(0, id.indexOf('-') + 1));
    };
    const seen = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const secret = secretN(s);
      const groups = protectedGroups(secret);
      // The 4 netgroups with the lowest SHA-256(secret ‖ netgroup), the old one among them or not.
      const chosen = [...new Set(all.map((p) => p.netgroup))]
        .sort((x, y) => (keyedHash(secret, x) < keyedHash(secret, y) ? -1 : 1))
        .slice(0, PROTECT_NETGROUPS);
      expect(groups).toEqual(chosen.filter((g) => g !== 'old').sort());
      // The same for any order the peers are listed in.
      for (const input of s < 2 ? orders(all).slice(1, 4) : []) {
        expect(
          drain(input, secret)
            .kept.filter((id) => id.startsWith('y'))
            .map((id) => id.slice(0, id.indexOf('-') + 1)),
        ).toEqual(groups);
      }
      seen.add(groups.join());
    }
    // An attacker who does not know the secret cannot know which groups are protected.
    expect(seen.size).toBeGreaterThan(4);
  });

  it('within a netgroup the youngest goes first, whatever the keys', () => {
    // Keys in the opposite order of age: z… connected first, a… last.
    const old = groupOf('old', 9, 0);
    const g = Array.from({ length: 6 }, (_, i) => peer(`${String.fromCharCode(122 - i)}`, 'g', 100 + i));
    for (const input of orders([...old, ...g])) {
      // z is g's protected peer; then u (youngest), v, w, x, y.
      expect(drain(input).evicted).toEqual(['u', 'v', 'w', 'x', 'y']);
    }
  });

  it('protects the 8 longest-connected peers beyond those, oldest first', () => {
    // One netgroup: its oldest is protected as the group's; the next 8 as the longest-connected.
    const g = groupOf('g', 25, 0);
    for (const input of orders(shuffled(g, 3))) {
      const { evicted, kept } = drain(input);
      expect(kept).toEqual(ids(g.slice(0, 1 + PROTECT_LONGEST)));
      expect(evicted).toEqual(ids(g.slice(1 + PROTECT_LONGEST)).reverse());
    }
  });

  it('nothing to evict when every peer is protected', () => {
    expect(selectEviction([], SECRET)).toBeUndefined();
    expect(selectEviction(groupOf('g', 9, 0), SECRET)).toBeUndefined();
    expect(selectEviction(groupOf('g', 10, 0), SECRET)).toBe('g09');
  });
});
