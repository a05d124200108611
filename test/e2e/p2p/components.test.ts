import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/p2p/backoff.js';
import { DedupCache } from '../../../src/p2p/dedup-cache.js';
import { GossipRelay } from '../../../src/p2p/gossip-relay.js';
import { MisbehaviourScore, OFFENCE_POINTS } from '../../../src/p2p/misbehaviour.js';
import { PendingRequests, RequestError } from '../../../src/p2p/pending-requests.js';
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

describe('misbehaviour score', () => {
  it('adds points per offence and decays linearly', () => {
    const s = new MisbehaviourScore(10, 0);
    expect(s.add('WIRE_BAD_SCHEMA', 0)).toBe(OFFENCE_POINTS.WIRE_BAD_SCHEMA);
    expect(s.current(1_000)).toBe(OFFENCE_POINTS.WIRE_BAD_SCHEMA - 10);
    expect(s.current(100_000)).toBe(0);
  });
});

describe('dedup and gossip relay', () => {
  it('evicts the oldest key beyond capacity', () => {
    const c = new DedupCache(2);
    expect(c.add('a', true)).toBe(true);
    expect(c.add('a', true)).toBe(false);
    c.add('b', true);
    c.add('c', true);
    expect([c.has('a'), c.has('b'), c.has('c'), c.size]).toEqual([false, true, true, 2]);
  });

  it('delivers an item once and never sends it back to a peer that has it', () => {
    const r = new GossipRelay(100);
    const k = GossipRelay.key('tx', new Uint8Array([1, 2, 3]));
    expect(k).not.toBe(GossipRelay.key('block', new Uint8Array([1, 2, 3])));
    expect(r.received(k, 'A')).toBe(true);
    expect(r.received(k, 'B')).toBe(false);
    expect(['A', 'B', 'C', 'C'].map((p) => r.claimSend(k, p))).toEqual([false, false, true, false]);
  });
});

describe('request correlation', () => {
  it('settles by id and type, times out, refuses beyond its cap, fails all on close', async () => {
    const p = new PendingRequests<{ t: number; id: number }>(2);
    const a = p.open(8, 1_000);
    const b = p.open(8, 20);
    const c = p.open(8, 1_000);
    await expect(c.response).rejects.toMatchObject({ code: 'P2P_TOO_MANY_REQUESTS' });
    expect(p.settle(a.id, { t: 11, id: a.id })).toBe(false); // wrong answer type
    expect(p.settle(a.id, { t: 8, id: a.id })).toBe(true);
    await expect(a.response).resolves.toEqual({ t: 8, id: a.id });
    await expect(b.response).rejects.toMatchObject({ code: 'P2P_TIMEOUT' });
    expect(p.settle(b.id, { t: 8, id: b.id })).toBe(false); // late
    const d = p.open(8, 1_000);
    p.failAll(new RequestError('P2P_PEER_GONE', 'closed'));
    await expect(d.response).rejects.toBeInstanceOf(RequestError);
    expect(p.size).toBe(0);
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
