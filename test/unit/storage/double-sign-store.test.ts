import type { Database } from 'lmdb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { type ChainDatabases, openDatabases } from '../../../src/storage/databases.js';
import { type DoubleSignEvidence, DoubleSignStore } from '../../../src/storage/double-sign-store.js';
import { tempDir } from './temp-dir.js';

/*
 * The store runs in the chain store's environment (openDatabases: raw-bytes default encoding), as in
 * the node. One environment for the file; each test starts from an empty evidence database.
 */
const { dir, cleanup } = tempDir('double-sign-store');
let dbs: ChainDatabases = openDatabases(dir);

/** The evidence database under the name docs/architecture.md gives operators (mdb_dump -s …). */
const documented = (): Database<unknown, Buffer> =>
  dbs.env.openDB<unknown, Buffer>({
    name: 'double-sign-evidence',
    keyEncoding: 'binary',
    encoding: 'msgpack',
  });

beforeEach(() => documented().clearSync());
afterAll(async () => {
  await dbs.env.close();
  cleanup();
});

const pubkey = (b: number): Uint8Array => new Uint8Array(32).fill(b);

function evidence(producer: number, slot: number): DoubleSignEvidence {
  return {
    producer: toHex(pubkey(producer)),
    slot,
    height: slot + 100,
    hashes: [`${'a'.repeat(63)}${producer}`, `${'b'.repeat(63)}${producer}`],
    headers: [`01${slot}`, `02${slot}`],
    detectedAtMs: 1_000 + slot,
  };
}

function keyOf(producer: number, slot: number): Buffer {
  const key = Buffer.alloc(40);
  key.set(pubkey(producer), 0);
  key.writeBigUInt64BE(BigInt(slot), 32);
  return key;
}

/** Writes `value` at the store's key for (producer, slot), as foreign data or an older layout would. */
const putRaw = (producer: number, slot: number, value: unknown): void =>
  void documented().putSync(keyOf(producer, slot), value);

/** Writes raw bytes there, as outside damage to the file would (not even msgpack). */
const putBytes = (producer: number, slot: number, bytes: number[]): void =>
  void dbs.env
    .openDB<Uint8Array, Buffer>({ name: 'double-sign-evidence', keyEncoding: 'binary', encoding: 'binary' })
    .putSync(keyOf(producer, slot), Uint8Array.from(bytes));

const slotsOf = (list: readonly DoubleSignEvidence[]) => list.map((e) => [e.producer.slice(0, 2), e.slot]);

describe('DoubleSignStore', () => {
  it('keeps the first evidence for a producer and slot: a second one is refused and changes nothing', () => {
    const store = new DoubleSignStore(dbs.env);
    const first = evidence(1, 7);
    expect(store.record(pubkey(1), first)).toBe(true);
    const later = { ...evidence(1, 7), detectedAtMs: 99_999 };
    expect(store.record(pubkey(1), later)).toBe(false);
    expect(store.get(pubkey(1), 7)).toEqual(first);
    expect(store.count).toBe(1);
    expect(store.get(pubkey(1), 8)).toBeUndefined();
    expect(store.get(pubkey(2), 7)).toBeUndefined();
  });

  it('is kept in the documented named database and survives a reopen of the environment', async () => {
    const store = new DoubleSignStore(dbs.env);
    store.record(pubkey(3), evidence(3, 5));
    expect([...documented().getRange()].map((r) => r.value)).toEqual([evidence(3, 5)]);
    await dbs.env.close();
    dbs = openDatabases(dir);
    const reopened = new DoubleSignStore(dbs.env);
    expect(reopened.get(pubkey(3), 5)).toEqual(evidence(3, 5));
    expect(reopened.list()).toEqual([evidence(3, 5)]);
  });

  it('lists one producer in slot order, or every producer, at most `limit` records', () => {
    const store = new DoubleSignStore(dbs.env);
    for (const [p, s] of [
      [2, 4],
      [1, 9],
      [1, 3],
      [2, 1],
    ] as const)
      store.record(pubkey(p), evidence(p, s));
    expect(slotsOf(store.list(pubkey(1)))).toEqual([
      ['01', 3],
      ['01', 9],
    ]);
    expect(slotsOf(store.list())).toEqual([
      ['01', 3],
      ['01', 9],
      ['02', 1],
      ['02', 4],
    ]);
    expect(slotsOf(store.list(undefined, 3))).toEqual([
      ['01', 3],
      ['01', 9],
      ['02', 1],
    ]);
    expect(slotsOf(store.list(pubkey(2), 1))).toEqual([['02', 1]]);
    expect(store.list(pubkey(5))).toEqual([]);
    expect(store.count).toBe(4);
  });

  // Capacity 3. Keys sort by producer, then slot; eviction goes by slot across producers.
  it.each([
    {
      why: 'the oldest slot goes, whichever producer holds it',
      held: [
        [1, 5],
        [2, 1],
        [3, 9],
      ],
      evicted: [2, 1],
    },
    {
      why: 'among records of the oldest slot, the lowest producer key goes (deterministic)',
      held: [
        [1, 2],
        [2, 2],
        [3, 4],
      ],
      evicted: [1, 2],
    },
  ])('a full store makes room by evicting one record: $why', ({ held, evicted }) => {
    const store = new DoubleSignStore(dbs.env, 3);
    for (const [p, s] of held) expect(store.record(pubkey(p!), evidence(p!, s!))).toBe(true);
    expect(store.count).toBe(3);
    expect(store.record(pubkey(4), evidence(4, 6))).toBe(true);
    expect(store.count).toBe(3);
    expect(store.get(pubkey(4), 6)).toEqual(evidence(4, 6));
    const kept = held.filter(([p, s]) => p !== evicted[0] || s !== evicted[1]);
    for (const [p, s] of kept) expect(store.get(pubkey(p!), s!), `${p}/${s}`).toEqual(evidence(p!, s!));
    expect(store.get(pubkey(evicted[0]!), evicted[1]!)).toBeUndefined();
  });

  const good = evidence(9, 3);
  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'evidence'],
    ['producer not a string', { ...good, producer: 7 }],
    ['slot not a number', { ...good, slot: '3' }],
    ['height not a number', { ...good, height: '103' }],
    ['detectedAtMs missing', { ...good, detectedAtMs: undefined }],
    ['hashes a two-character string', { ...good, hashes: 'ab' }],
    ['three hashes', { ...good, hashes: ['a', 'b', 'c'] }],
    ['a hash not a string', { ...good, hashes: ['a', 1] }],
    ['one header', { ...good, headers: ['a'] }],
    ['headers missing', { ...good, headers: undefined }],
  ])('a record that does not parse (%s) reads as absent and is left out of lists', (_, value) => {
    const store = new DoubleSignStore(dbs.env);
    store.record(pubkey(9), evidence(9, 1));
    putRaw(9, 3, value);
    store.record(pubkey(9), evidence(9, 5));
    expect(store.get(pubkey(9), 3)).toBeUndefined();
    expect(slotsOf(store.list(pubkey(9)))).toEqual([
      ['09', 1],
      ['09', 5],
    ]);
    expect(slotsOf(store.list(undefined, 2))).toEqual([
      ['09', 1],
      ['09', 5],
    ]);
  });

  it('a record that does not parse is the first to make room, before the oldest evidence', () => {
    const store = new DoubleSignStore(dbs.env, 3);
    store.record(pubkey(1), evidence(1, 1));
    store.record(pubkey(1), evidence(1, 2));
    putRaw(1, 3, { damaged: true });
    expect(store.record(pubkey(1), evidence(1, 4))).toBe(true);
    expect(slotsOf(store.list())).toEqual([
      ['01', 1],
      ['01', 2],
      ['01', 4],
    ]);
    expect(store.count).toBe(3);
  });

  // Truncated msgpack (an array, a string) and an empty value: decoding them throws inside lmdb-js.
  it.each([[[0x92, 0x01]], [[0xd9, 0x10, 0x41]], [[]]])(
    'a record whose bytes are not msgpack (%j) reads as absent, is left out of lists and makes room first',
    (bytes) => {
      const store = new DoubleSignStore(dbs.env, 3);
      store.record(pubkey(1), evidence(1, 1));
      putBytes(1, 2, bytes);
      expect(store.get(pubkey(1), 2)).toBeUndefined();
      expect(store.record(pubkey(1), evidence(1, 2))).toBe(false); // something is held there
      expect(slotsOf(store.list())).toEqual([['01', 1]]);
      store.record(pubkey(1), evidence(1, 3));
      expect(store.record(pubkey(1), evidence(1, 4))).toBe(true);
      expect(slotsOf(store.list(pubkey(1)))).toEqual([
        ['01', 1],
        ['01', 3],
        ['01', 4],
      ]);
    },
  );
});
