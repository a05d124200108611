import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressBook } from '../../../src/p2p/address-book.js';
import { backoffDelay } from '../../../src/p2p/backoff.js';
import { MemoryBanList } from '../../../src/p2p/ban-list.js';
import { admit, type SlotPeer, selectEviction } from '../../../src/p2p/connection-slots.js';
import { ENTRY_BYTES, GossipRelay } from '../../../src/p2p/gossip-relay.js';
import { connectionGroupOf, ipKeyBytes, isPublicIp, normalizeIp } from '../../../src/p2p/ip-address.js';
import { OFFENCE_POINTS } from '../../../src/p2p/misbehaviour.js';
import { ScoreBook } from '../../../src/p2p/peer-scores.js';
import { LATE_ANSWER_MEMORY_MS, PendingRequests, RequestError } from '../../../src/p2p/pending-requests.js';
import { TokenBucket } from '../../../src/p2p/token-bucket.js';
import {
  glibcVersion,
  loadUws,
  loadUwsFrom,
  UWS_BINARIES,
  UwsLoadError,
  uwsBinaryPath,
} from '../../../src/p2p/uws.js';
import { PEER_BANS_DB, PeerBanStore } from '../../../src/storage/peer-ban-store.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'timecoin-p2p-components-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('uWS native loader', () => {
  it('loads the binary for this Node ABI directly (not the JS fallback)', () => {
    expect(uwsBinaryPath()).toMatch(
      new RegExp(`uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node$`),
    );
    const uws = loadUws();
    expect(typeof uws.App).toBe('function');
    expect(typeof uws.us_listen_socket_close).toBe('function');
  });

  it('a missing binary is a typed start-up error naming the path and Node version', () => {
    const bogus = uwsBinaryPath().replace(/_\d+\.node$/, '_9999.node');
    try {
      loadUwsFrom(bogus);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UwsLoadError);
      expect((err as UwsLoadError).code).toBe('UWS_NATIVE_UNAVAILABLE');
      expect((err as UwsLoadError).message).toContain(bogus);
      expect((err as UwsLoadError).message).toContain(process.version);
      expect((err as UwsLoadError).message).toContain('install Node.js 22 LTS');
    }
  });

  it('a binary that needs a newer glibc names the glibc found, the one needed and the way out', () => {
    // The package's Node 24 binary references GLIBC_2.38; on an older glibc it really fails to load.
    const glibc = glibcVersion();
    const needs238 = uwsBinaryPath().replace(/_\d+\.node$/, '_137.node');
    if (glibc === undefined || Number(glibc.split('.')[1]) >= 38) {
      // A newer system loads it (or it is not Linux): the remedy text is then never shown.
      expect(UWS_BINARIES['137']!.glibc).toBe('2.38');
      return;
    }
    try {
      loadUwsFrom(needs238);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UwsLoadError);
      const msg = (err as UwsLoadError).message;
      expect(msg).toContain(`glibc ${glibc}`);
      expect(msg).toContain('GLIBC_2.38');
      expect(msg).toContain('the Node 24 binary needs glibc 2.38 or newer');
      expect(msg).toContain('install Node.js 22 LTS');
    }
  });
});

describe('token bucket', () => {
  it('allows a burst, then the refill rate', () => {
    const b = new TokenBucket(10, 5, 1_000);
    expect([1, 2, 3, 4, 5, 6].map(() => b.take(1_000))).toEqual([true, true, true, true, true, false]);
    expect(b.take(1_050)).toBe(false); // 0.5 token
    expect(b.take(1_100)).toBe(true); // 1 token after 100 ms at 10/s
    expect(b.take(1_100)).toBe(false);
    expect([1, 2, 3, 4, 5, 6].map(() => b.take(60_000))).toEqual([true, true, true, true, true, false]); // capped at burst
    expect(b.msUntil(60_000, 2)).toBe(200);
    expect(b.msUntil(60_000, 6)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('reconnect backoff', () => {
  const opts = (r: number) => ({ baseMs: 100, maxMs: 1_000, random: () => r });
  it('doubles per attempt with equal jitter, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts(0)))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts(0.999999)))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(10_000, opts(0.5))).toBe(750);
  });
});

describe('scores by key and IP', () => {
  it('add points per offence, decay linearly, survive (no reset), forget the least recent beyond capacity', () => {
    const s = new ScoreBook(10, 2);
    expect(s.add('k1', OFFENCE_POINTS.WIRE_BAD_SCHEMA, 0)).toBe(25);
    expect(s.current('k1', 1_000)).toBe(15);
    expect(s.add('k1', 25, 1_000)).toBe(40); // a reconnect does not reset it
    expect(s.current('k1', 100_000)).toBe(0);
    s.add('k2', 1, 0);
    s.add('k3', 1, 0);
    expect([s.size, s.current('k1', 1_000)]).toEqual([2, 0]);
  });
});

describe('gossip relay (bounded by bytes and by age)', () => {
  it('delivers an item once, never back to a sender, once to everyone connected at relay time', () => {
    const r = new GossipRelay(100 * ENTRY_BYTES, 60_000, () => 0);
    expect(r.capacity).toBe(100);
    const k = GossipRelay.key('tx', new Uint8Array([1, 2, 3]));
    expect(k).not.toBe(GossipRelay.key('block', new Uint8Array([1, 2, 3])));
    expect(GossipRelay.key('beacon', new Uint8Array([1, 2, 3]))).not.toBe(
      GossipRelay.key('block', new Uint8Array([1, 2, 3])),
    );
    expect(GossipRelay.key('tx', new Uint8Array([1, 2, 3]))).toBe(k);
    expect(GossipRelay.key('tx', new Uint8Array([1, 2, 4]))).not.toBe(k);
    expect(r.received(k, 'A')).toBe(true);
    expect(r.received(k, 'B')).toBe(false);
    expect(['A', 'B', 'C'].map((p) => r.needs(k, p, 0))).toEqual([false, false, true]);
    r.relayed(k, 1_000);
    expect(r.needs(k, 'C', 500)).toBe(false); // was connected when we relayed
    expect(r.needs(k, 'D', 1_500)).toBe(true); // connected later
  });

  it('forgets the oldest item beyond its byte budget', () => {
    const r = new GossipRelay(2 * ENTRY_BYTES, 60_000, () => 0);
    const keys = [1, 2, 3].map((i) => GossipRelay.key('tx', new Uint8Array([i])));
    for (const k of keys) r.received(k, 'A');
    expect(r.size).toBe(2);
    expect(r.received(keys[0]!, 'A')).toBe(true);
  });

  it('forgets an item maxAgeMs after it was first seen, so memory follows the gossip rate, not uptime', () => {
    let now = 0;
    const r = new GossipRelay(1_000 * ENTRY_BYTES, 10_000, () => now);
    const key = (i: number) => GossipRelay.key('tx', new Uint8Array([i]));
    r.received(key(1), 'A'); // first seen at 0
    now = 4_000;
    r.relayed(key(2), now); // originated here at 4,000
    now = 9_999;
    r.received(key(3), 'A');
    // Hearing an item again does not make it younger.
    expect(r.received(key(1), 'B')).toBe(false);
    expect(r.size).toBe(3);
    now = 10_000; // item 1 is 10 s old: forgotten when the next item comes in
    r.received(key(4), 'A');
    expect(r.size).toBe(3);
    expect(r.needs(key(1), 'A', 0)).toBe(true);
    expect(r.needs(key(2), 'C', 0)).toBe(false);
    now = 14_000; // item 2 too
    r.received(key(5), 'A');
    expect(r.size).toBe(3);
    expect(r.received(key(1), 'A')).toBe(true); // new again: its owner deduplicates it from here
    expect(r.needs(key(3), 'A', 0)).toBe(false);
  });

  it('refuses a maximum age that would forget an item as it is stored', () => {
    expect(() => new GossipRelay(ENTRY_BYTES, 0, () => 0)).toThrow(RangeError);
    expect(() => new GossipRelay(ENTRY_BYTES, 1.5, () => 0)).toThrow(RangeError);
    expect(new GossipRelay(ENTRY_BYTES, 1, () => 0).capacity).toBe(1);
  });
});

describe('IP literals', () => {
  it('normalizes, groups by /24 and /48, tells public from local, keys bans by 16 bytes', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('[2001:DB8:0:0:1:0:0:1]')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('seed.example.org')).toBeUndefined();
    expect(connectionGroupOf('10.1.2.3')).toBe('10.1.2.0/24');
    expect(connectionGroupOf('2a01:4f8:1:2:3::1')).toBe('2a01:4f8:1::/48');
    expect(
      ['8.8.8.8', '127.0.0.1', '10.0.0.1', '192.168.1.1', '::1', 'fe80::1', '2a01:4f8::1'].map(isPublicIp),
    ).toEqual([true, false, false, false, false, false, true]);
    expect(Buffer.from(ipKeyBytes('1.2.3.4')).toString('hex')).toBe('00000000000000000000ffff01020304');
  });
});

describe('connection slots', () => {
  const peer = (i: number, over: Partial<SlotPeer> = {}): SlotPeer => ({
    peerId: `p${String(i).padStart(3, '0')}`,
    direction: 'inbound',
    ip: `10.0.${i}.1`,
    netgroup: `10.0.${i}.0/24`,
    connectedAtMs: i,
    lastUsefulMs: 0,
    ...over,
  });
  const limits = {
    maxOutbound: 2,
    maxInbound: 20,
    maxInboundPerIp: 2,
    maxInboundPerNetgroup: 3,
    maxValidatorSlots: 5,
  };
  const secret = new Uint8Array(32);

  it('validators, outbound and inbound have separate capacities; per-IP and per-/24 inbound limits', () => {
    const full = Array.from({ length: 20 }, (_, i) => ({ peer: peer(i), cls: 'inbound' as const }));
    expect(admit(peer(99), 'validator', full, limits, 3, secret)).toEqual({ ok: true });
    expect(admit(peer(99, { direction: 'outbound' }), 'outbound', full, limits, 3, secret)).toEqual({
      ok: true,
    });
    const twoOut = [0, 1].map((i) => ({
      peer: peer(i, { direction: 'outbound' }),
      cls: 'outbound' as const,
    }));
    expect(admit(peer(99, { direction: 'outbound' }), 'outbound', twoOut, limits, 3, secret).ok).toBe(false);
    const threeValidators = [0, 1, 2].map((i) => ({ peer: peer(i), cls: 'validator' as const }));
    expect(admit(peer(99), 'validator', threeValidators, limits, 3, secret).ok).toBe(false);
    const sameIp = [0, 1].map((i) => ({
      peer: peer(i, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }),
      cls: 'inbound' as const,
    }));
    expect(
      admit(peer(99, { ip: '10.9.9.9', netgroup: '10.9.9.0/24' }), 'inbound', sameIp, limits, 0, secret).ok,
    ).toBe(false);
    const sameGroup = [0, 1, 2].map((i) => ({
      peer: peer(i, { netgroup: '10.9.9.0/24' }),
      cls: 'inbound' as const,
    }));
    expect(admit(peer(99, { netgroup: '10.9.9.0/24' }), 'inbound', sameGroup, limits, 0, secret).ok).toBe(
      false,
    );
    expect(admit(peer(99, { netgroup: '10.9.8.0/24' }), 'inbound', sameGroup, limits, 0, secret)).toEqual({
      ok: true,
    });
  });

  it('evicts the youngest peer of the biggest netgroup, never a protected one', () => {
    // 8 long-lived honest peers in 8 netgroups, 12 newer attackers in one /24
    const honest = Array.from({ length: 8 }, (_, i) => peer(i));
    const attackers = Array.from({ length: 12 }, (_, i) =>
      peer(100 + i, { ip: `10.66.0.${i}`, netgroup: '10.66.0.0/24' }),
    );
    const victim = selectEviction([...honest, ...attackers], secret);
    expect(victim).toBe('p111');
    // everyone protected: 4 useful + ≤ 4 netgroups + 8 longest
    expect(selectEviction(honest, secret)).toBeUndefined();
  });
});

describe('address book', () => {
  const book = (acceptLocal = false) =>
    new AddressBook({
      secret: new Uint8Array(32).fill(7),
      acceptLocalAddresses: acceptLocal,
      newBuckets: 8,
      bucketSize: 4,
    });

  it('accepts IP literals only, public unless configured otherwise, and never overwrites a known key', () => {
    const b = book();
    expect(b.addLearned('seed.example.org', 24000, 'k1', '8.8.8.8')).toBeUndefined();
    expect(b.addLearned('127.0.0.1', 24000, 'k1', '8.8.8.8')).toBeUndefined();
    expect(b.addLearned('10.0.0.1', 24000, 'k1', '8.8.8.8')).toBeUndefined();
    const e = b.addLearned('1.2.3.4', 24000, 'k1', '8.8.8.8')!;
    expect(e.claimedKey).toBe('k1');
    b.markConnected(e, 'k9', 1);
    expect(b.addLearned('1.2.3.4', 24000, 'k2', '9.9.9.9')).toBeUndefined();
    expect([e.verifiedKey, e.claimedKey]).toEqual(['k9', undefined]);
    expect(b.addressOf('k9')).toBe(e);
    expect(book(true).addLearned('127.0.0.1', 24000, 'k1', '127.0.0.1')).toBeDefined();
  });

  it('one source fills a bounded share of the book', () => {
    const b = book();
    for (let i = 0; i < 1_000; i++)
      b.addLearned(`5.${(i >> 8) & 255}.${i & 255}.1`, 24000, `k${i}`, '6.6.6.6');
    // 8 buckets per source group at most, 4 entries each
    expect(b.size).toBeLessThanOrEqual(8 * 4);
    expect(b.size).toBeGreaterThan(4);
  });

  it('only addresses our own dials proved are handed to others', () => {
    const b = book();
    const e = b.addLearned('1.2.3.4', 24000, 'k1', '8.8.8.8')!;
    b.addLearned('1.2.3.5', 24000, 'k2', '8.8.8.8');
    expect(b.verified(10)).toEqual([]);
    b.markConnected(e, 'k1', 5);
    expect(b.verified(10).map((x) => x.host)).toEqual(['1.2.3.4']);
  });
});

describe('ban list (memory)', () => {
  it('prunes expired bans and stays bounded, dropping the ban that expires soonest', () => {
    const l = new MemoryBanList(2);
    const k = (n: number) => new Uint8Array(32).fill(n);
    l.ban(k(1), { untilMs: 100, reason: 'a', bannedAtMs: 0 });
    l.ban(k(2), { untilMs: 300, reason: 'b', bannedAtMs: 0 });
    l.ban(k(3), { untilMs: 200, reason: 'c', bannedAtMs: 0 });
    expect([l.size, l.get(k(1), 0), l.get(k(2), 0)?.reason, l.get(k(3), 0)?.reason]).toEqual([
      2,
      undefined,
      'b',
      'c',
    ]);
    expect(l.prune(250)).toBe(1);
    expect(l.size).toBe(1);
  });
});

describe('request correlation', () => {
  it('settles by id and type, times out, refuses beyond its cap, tells late from unsolicited', async () => {
    const p = new PendingRequests<{ t: number; id: number }>(2);
    const a = p.open(8, 1_000);
    const b = p.open(8, 20);
    const c = p.open(8, 1_000);
    await expect(c.response).rejects.toMatchObject({ code: 'P2P_TOO_MANY_REQUESTS' });
    expect(p.settle(a.id, { t: 11, id: a.id })).toBe('unsolicited'); // wrong answer type
    expect(p.settle(a.id, { t: 8, id: a.id })).toBe('settled');
    expect(p.settle(a.id, { t: 8, id: a.id })).toBe('unsolicited'); // answered twice
    await expect(a.response).resolves.toEqual({ t: 8, id: a.id });
    await expect(b.response).rejects.toMatchObject({ code: 'P2P_TIMEOUT' });
    expect(p.settle(b.id, { t: 11, id: b.id })).toBe('unsolicited'); // late, but of the wrong type
    expect(p.settle(b.id, { t: 8, id: b.id })).toBe('late'); // dropped without blame
    expect(p.settle(b.id, { t: 8, id: b.id })).toBe('unsolicited'); // …once
    expect(p.settle(999, { t: 8, id: 999 })).toBe('unsolicited'); // never asked
    const d = p.open(8, 1_000);
    p.failAll(new RequestError('P2P_PEER_GONE', 'closed'));
    await expect(d.response).rejects.toBeInstanceOf(RequestError);
    expect(p.size).toBe(0);
  });

  it('remembers timed-out ids for a minute only', async () => {
    let now = 0;
    const p = new PendingRequests<{ t: number; id: number }>(4, () => now);
    const r = p.open(8, 5);
    await expect(r.response).rejects.toMatchObject({ code: 'P2P_TIMEOUT' });
    expect(p.settle(r.id, { t: 9, id: r.id })).toBe('unsolicited');
    now = LATE_ANSWER_MEMORY_MS + 1;
    expect(p.settle(r.id, { t: 8, id: r.id })).toBe('unsolicited');
  });
});

describe('PeerBanStore (LMDB)', () => {
  const key = (n: number) => new Uint8Array(32).fill(n);

  it('bans persist across reopen and read as absent once expired', async () => {
    const path = tmp();
    const s1 = new PeerBanStore(path);
    s1.ban(key(1), { untilMs: 5_000, reason: 'WIRE_BAD_CBOR: x', bannedAtMs: 1_000 });
    s1.ban(key(2), { untilMs: 2_000, reason: 'RATE_LIMITED: y', bannedAtMs: 1_000 });
    await s1.close();
    const s2 = new PeerBanStore(path);
    expect(s2.get(key(1), 1_500)).toEqual({ untilMs: 5_000, reason: 'WIRE_BAD_CBOR: x', bannedAtMs: 1_000 });
    expect(s2.list(1_500).map((b) => b.pubkey)).toEqual([
      Buffer.from(key(1)).toString('hex'),
      Buffer.from(key(2)).toString('hex'),
    ]);
    expect(s2.get(key(2), 2_000)).toBeUndefined();
    expect(s2.get(key(3), 0)).toBeUndefined();
    expect(s2.prune(10_000)).toBe(1);
    expect(s2.list(0)).toEqual([]);
    await s2.close();
  });

  it('keeps IP bans (16-byte keys) next to key bans, bounded by evicting the ban that expires soonest', async () => {
    const store = new PeerBanStore(tmp(), 3);
    store.ban(ipKeyBytes('10.1.2.3'), { untilMs: 500, reason: 'ip', bannedAtMs: 0 });
    store.ban(key(1), { untilMs: 900, reason: 'a', bannedAtMs: 0 });
    store.ban(key(2), { untilMs: 300, reason: 'b', bannedAtMs: 0 });
    store.ban(key(3), { untilMs: 700, reason: 'c', bannedAtMs: 0 });
    expect(store.get(ipKeyBytes('10.1.2.3'), 0)?.reason).toBe('ip');
    expect(store.get(key(2), 0)).toBeUndefined(); // expired soonest: made room
    expect(store.list(0).length).toBe(3);
    await store.close();
  });

  it('shares a node environment and treats a foreign record as no ban', async () => {
    const root = open({ path: tmp(), maxDbs: 8 });
    const store = new PeerBanStore(root);
    const raw = root.openDB({ name: PEER_BANS_DB, keyEncoding: 'binary' });
    await raw.put(Buffer.from(key(7)), { something: 'else' });
    expect(store.get(key(7), 0)).toBeUndefined();
    store.ban(key(8), { untilMs: 10, reason: 'r', bannedAtMs: 0 });
    expect(store.unban(key(8))).toBe(true);
    expect(store.get(key(8), 0)).toBeUndefined();
    await store.close(); // does not close the shared environment
    expect(root.get('anything')).toBeUndefined();
    await root.close();
  });
});
