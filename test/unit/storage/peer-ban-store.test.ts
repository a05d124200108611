import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'lmdb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BanRecord } from '../../../src/p2p/ban-list.js';
import { type ChainDatabases, openDatabases } from '../../../src/storage/databases.js';
import { PEER_BANS_DB, PeerBanStore } from '../../../src/storage/peer-ban-store.js';
import { tempDir } from './temp-dir.js';

const key = (n: number) => new Uint8Array(32).fill(n);
const hex = (n: number) => Buffer.from(key(n)).toString('hex');
const ban = (untilMs: number, bannedAtMs = 0): BanRecord => ({
  untilMs,
  reason: `until ${untilMs}`,
  bannedAtMs,
});
/** Far beyond every `now` below: a ban that is active throughout. */
const FAR = 1e12;

/**
 * The store over the node's own data environment (binary by default, as in ChainStore), with a
 * raw msgpack view of the same named database to plant what another version or damage left there.
 */
describe('PeerBanStore in a shared environment', () => {
  let dbs: ChainDatabases;
  let raw: Database<unknown, Buffer>;
  let cleanup: () => void;
  beforeAll(() => {
    const t = tempDir('peer-ban-store');
    cleanup = t.cleanup;
    dbs = openDatabases(t.dir);
    raw = dbs.env.openDB<unknown, Buffer>({ name: PEER_BANS_DB, keyEncoding: 'binary', encoding: 'msgpack' });
  });
  afterAll(async () => {
    await dbs.env.close();
    cleanup();
  });
  beforeEach(() => raw.clearSync());

  const subjects = (store: PeerBanStore) => store.list(0).map((b) => b.pubkey);

  // What a foreign or corrupted record may look like: each must read as no ban rather than crash
  // the node or ban a peer on garbage (a missing field must not pass for a ban).
  const foreign: [string, unknown][] = [
    ['null', null],
    ['a string', 'INVALID_BLOCK'],
    ['a number', FAR],
    ['no untilMs', { bannedAtMs: 0, reason: 'r' }],
    ['no bannedAtMs', { untilMs: FAR, reason: 'r' }],
    ['no reason', { untilMs: FAR, bannedAtMs: 0 }],
    ['a reason only', { reason: 'r' }],
    ['untilMs as a string', { untilMs: String(FAR), bannedAtMs: 0, reason: 'r' }],
  ];

  it.each(foreign)('a stored value that is %s reads as no ban and is not listed', (_, value) => {
    const store = new PeerBanStore(dbs.env);
    raw.putSync(Buffer.from(key(1)), value);
    expect(store.list(0)).toEqual([]);
    expect(store.get(key(1), 0)).toBeUndefined();
    // Read once, it is gone: it cannot be mistaken for a ban later.
    expect(raw.get(Buffer.from(key(1)))).toBeUndefined();
  });

  it('prune deletes foreign records and expired bans (expiry is inclusive) and keeps active ones', () => {
    const store = new PeerBanStore(dbs.env);
    for (const [i, [, value]] of foreign.entries()) raw.putSync(Buffer.from(key(100 + i)), value);
    store.ban(key(1), ban(100));
    store.ban(key(2), ban(200));
    store.ban(key(3), ban(300));
    expect(store.prune(200)).toBe(foreign.length + 2);
    expect(subjects(store)).toEqual([hex(3)]);
    expect(store.prune(200)).toBe(0);
  });

  // Truncated msgpack (an array, a string) and an empty value: decoding them throws inside lmdb-js.
  // The handshake asks get() for every inbound key, so such a record must not throw there, nor
  // stop list, prune or eviction from reaching the records after it.
  it.each([[[0x92, 0x01]], [[0xd9, 0x10, 0x41]], [[]]])(
    'a record whose bytes are not msgpack (%j) reads as no ban, is pruned, and makes room first',
    (bytes) => {
      const store = new PeerBanStore(dbs.env, 3);
      const rawBytes = dbs.env.openDB<Uint8Array, Buffer>({
        name: PEER_BANS_DB,
        keyEncoding: 'binary',
        encoding: 'binary',
      });
      store.ban(key(2), ban(FAR));
      rawBytes.putSync(Buffer.from(key(1)), Uint8Array.from(bytes));
      expect(store.list(0)).toEqual([{ pubkey: hex(2), record: ban(FAR) }]);
      store.ban(key(3), ban(FAR));
      store.ban(key(4), ban(FAR)); // at capacity: the damaged record is the one to go
      expect(subjects(store)).toEqual([hex(2), hex(3), hex(4)]);
      expect(rawBytes.get(Buffer.from(key(1)))).toBeUndefined();
      rawBytes.putSync(Buffer.from(key(1)), Uint8Array.from(bytes));
      expect(store.get(key(1), 0)).toBeUndefined();
      expect(rawBytes.get(Buffer.from(key(1)))).toBeUndefined(); // read once, it is gone
      rawBytes.putSync(Buffer.from(key(1)), Uint8Array.from(bytes));
      expect(store.prune(0)).toBe(1);
      expect(subjects(store)).toEqual([hex(2), hex(3), hex(4)]);
    },
  );

  it('a ban is active until, and not at, its untilMs: get and list agree', () => {
    const store = new PeerBanStore(dbs.env);
    store.ban(key(1), ban(500, 100));
    expect(store.list(499)).toEqual([{ pubkey: hex(1), record: ban(500, 100) }]);
    expect(store.get(key(1), 499)).toEqual(ban(500, 100));
    expect(store.list(500)).toEqual([]);
    expect(store.get(key(1), 500)).toBeUndefined();
    // Expired and read: deleted, so an earlier clock no longer sees it either.
    expect(store.list(0)).toEqual([]);
  });

  it('unban lifts a ban and says whether there was one', () => {
    const store = new PeerBanStore(dbs.env);
    store.ban(key(1), ban(FAR));
    expect(store.unban(key(1))).toBe(true);
    expect(store.get(key(1), 0)).toBeUndefined();
    expect(store.unban(key(1))).toBe(false);
  });

  describe('capacity', () => {
    it('a new subject at capacity evicts the ban that expires soonest', () => {
      const store = new PeerBanStore(dbs.env, 3);
      store.ban(key(1), ban(900));
      store.ban(key(2), ban(300));
      store.ban(key(3), ban(700));
      store.ban(key(4), ban(500));
      expect(subjects(store)).toEqual([hex(1), hex(3), hex(4)]);
    });

    it('permanent bans (untilMs = Infinity) cannot outgrow it: at capacity the first of equals goes', () => {
      const store = new PeerBanStore(dbs.env, 2);
      store.ban(key(1), ban(Number.POSITIVE_INFINITY));
      store.ban(key(2), ban(Number.POSITIVE_INFINITY));
      store.ban(key(3), ban(Number.POSITIVE_INFINITY));
      expect(subjects(store)).toEqual([hex(2), hex(3)]);
      // A ban that ends still goes before a permanent one.
      store.ban(key(4), ban(FAR));
      store.ban(key(5), ban(Number.POSITIVE_INFINITY));
      expect(subjects(store)).toEqual([hex(3), hex(5)]);
    });

    it('at capacity, expired bans make room first and no active ban is evicted', () => {
      const store = new PeerBanStore(dbs.env, 2);
      store.ban(key(1), ban(100));
      store.ban(key(2), ban(1_000));
      store.ban(key(3), ban(2_000, 500)); // banned at 500: key 1 has expired
      expect(subjects(store)).toEqual([hex(2), hex(3)]);
    });

    it('re-banning a subject already banned at capacity replaces its ban and evicts nobody', () => {
      const store = new PeerBanStore(dbs.env, 2);
      store.ban(key(1), ban(300));
      store.ban(key(2), ban(200));
      store.ban(key(1), ban(400));
      expect(store.list(0)).toEqual([
        { pubkey: hex(1), record: ban(400) },
        { pubkey: hex(2), record: ban(200) },
      ]);
    });

    it('below capacity a ban neither prunes nor evicts (expired bans wait for a read or prune)', () => {
      const store = new PeerBanStore(dbs.env, 3);
      store.ban(key(1), ban(100));
      store.ban(key(2), ban(1_000, 500));
      expect(subjects(store)).toEqual([hex(1), hex(2)]);
    });
  });

  it('close() leaves the shared environment open for its owner', async () => {
    const store = new PeerBanStore(dbs.env);
    store.ban(key(1), ban(FAR));
    await store.close();
    expect(new PeerBanStore(dbs.env).get(key(1), 0)).toEqual(ban(FAR));
  });
});

describe('PeerBanStore at a path of its own', () => {
  it('keeps its bans in that path across a reopen, and close() closes what it opened', async () => {
    const { dir, cleanup } = tempDir('peer-ban-path');
    try {
      const path = join(dir, 'p2p-bans');
      const s1 = new PeerBanStore(path);
      s1.ban(key(1), ban(FAR, 5));
      await s1.close();
      expect(() => s1.get(key(1), 0)).toThrow();
      expect(existsSync(join(path, 'data.mdb'))).toBe(true);
      const s2 = new PeerBanStore(path);
      expect(s2.get(key(1), 0)).toEqual(ban(FAR, 5));
      await s2.close();
    } finally {
      cleanup();
    }
  });
});
