import { describe, expect, it } from 'vitest';
import { AddressBook, type AddressBookOptions, type BookEntry } from '../../../src/p2p/address-book.js';

// The address book as an attacker probes it: one source trying to fill (eclipse) the book, peers
// trying to overwrite what we know about an address, capacity limits exactly at and one past the
// edge, and what we hand on to others.

const secret = new Uint8Array(32).fill(7);
const PORT = 24_000;

function book(extra: Partial<AddressBookOptions> = {}): AddressBook {
  return new AddressBook({ secret, acceptLocalAddresses: false, ...extra });
}

/** A book with a single bucket, so every learned address competes for the same slots. */
function oneBucket(bucketSize: number, extra: Partial<AddressBookOptions> = {}): AddressBook {
  return book({ newBuckets: 1, bucketSize, ...extra });
}

const learn = (b: AddressBook, host: string, key = `key-${host}`, source = '8.8.8.8'): BookEntry => {
  const e = b.addLearned(host, PORT, key, source);
  if (e === undefined) throw new Error(`${host} was refused`);
  return e;
};

const hosts = (entries: readonly BookEntry[]) => entries.map((e) => e.host);

describe('address book: what is accepted from peers', () => {
  it('works with every option left at its default', () => {
    const b = book();
    const e = learn(b, '1.2.3.4');
    expect(b.get('1.2.3.4', PORT)).toBe(e);
    expect(b.size).toBe(1);
    expect(b.get('1.2.3.5', PORT)).toBeUndefined();
    expect(b.get('1.2.3.4', PORT + 1)).toBeUndefined();
  });

  it('accepts ports 1 and 65535 and refuses 0 and 65536', () => {
    const b = book();
    expect(b.addLearned('1.2.3.4', 0, 'k', '8.8.8.8')).toBeUndefined();
    expect(b.addLearned('1.2.3.4', 65_536, 'k', '8.8.8.8')).toBeUndefined();
    expect(b.addLearned('1.2.3.4', 1, 'k', '8.8.8.8')?.port).toBe(1);
    expect(b.addLearned('1.2.3.4', 65_535, 'k', '8.8.8.8')?.port).toBe(65_535);
    expect(b.size).toBe(2);
  });

  it('learned addresses are dial candidates, not configured ones', () => {
    const b = book();
    const e = learn(b, '1.2.3.4');
    expect(e.persistent).toBe(false);
    expect(b.candidates()).toEqual([e]);
  });

  it('a known address keeps its first claimed key: a later claim cannot overwrite it', () => {
    const b = book();
    const e = learn(b, '1.2.3.4', 'honest');
    expect(b.addLearned('1.2.3.4', PORT, 'attacker', '9.9.9.9')).toBeUndefined();
    expect(e.claimedKey).toBe('honest');
    expect(b.addressOf('attacker')).toBeUndefined();
    expect(b.addressOf('honest')).toBe(e);
  });

  it('a configured address with no key yet takes the first claimed key as a hint, and keeps it', () => {
    const b = book();
    const seed = b.addConfigured('1.2.3.4', PORT);
    expect(b.addLearned('1.2.3.4', PORT, 'k1', '9.9.9.9')).toBeUndefined();
    expect(b.addressOf('k1')).toBe(seed);
    b.addLearned('1.2.3.4', PORT, 'k2', '9.9.9.10');
    expect(b.addressOf('k1')).toBe(seed);
    expect(b.addressOf('k2')).toBeUndefined();
    expect(seed.persistent).toBe(true);
  });

  it('an address our dial proved takes no claimed key at all', () => {
    const b = book();
    const seed = b.addConfigured('1.2.3.4', PORT);
    b.markConnected(seed, 'proven', 1);
    b.addLearned('1.2.3.4', PORT, 'attacker', '9.9.9.9');
    expect([seed.verifiedKey, seed.claimedKey]).toEqual(['proven', undefined]);
    expect(b.addressOf('attacker')).toBeUndefined();
  });
});

describe('address book: configured addresses', () => {
  it('keeps host names and normalizes IP literals; a second add returns the same entry untouched', () => {
    const b = book();
    const named = b.addConfigured('seed.example.org', PORT);
    expect([named.host, named.port, named.persistent]).toEqual(['seed.example.org', PORT, true]);
    expect(b.get('seed.example.org', PORT)).toBe(named);
    const mapped = b.addConfigured('::ffff:1.2.3.4', PORT);
    expect(mapped.host).toBe('1.2.3.4');
    expect(b.get('1.2.3.4', PORT)).toBe(mapped);
    b.markFailed(named);
    b.markFailed(named);
    expect(b.addConfigured('seed.example.org', PORT)).toBe(named);
    expect(named.attempts).toBe(2);
    expect(b.size).toBe(2);
  });

  it('are not learned-address dial candidates and take no bucket slot', () => {
    const b = oneBucket(2);
    const seed = b.addConfigured('1.2.3.4', PORT);
    expect(seed.bucket).toBe(-1);
    const l1 = learn(b, '5.0.0.1');
    const l2 = learn(b, '5.0.0.2');
    expect(b.candidates()).toEqual([l1, l2]);
    expect(b.size).toBe(3);
  });

  it('promoting a learned address keeps what we knew of it and frees its bucket slot for good', () => {
    const b = oneBucket(1);
    const learned = learn(b, '1.2.3.4', 'claimed');
    const seed = b.addConfigured('1.2.3.4', PORT);
    expect(seed).not.toBe(learned);
    expect([seed.persistent, seed.claimedKey, seed.verifiedKey]).toEqual([true, 'claimed', undefined]);
    // The only bucket slot is free again: a new learned address takes it, the configured one stays.
    const other = learn(b, '5.6.7.8');
    expect(b.get('1.2.3.4', PORT)).toBe(seed);
    expect(b.get('5.6.7.8', PORT)).toBe(other);
    expect(b.size).toBe(2);
    // …and the newcomer is evicted by the next one, never the configured address.
    learn(b, '5.6.7.9');
    expect(b.get('1.2.3.4', PORT)).toBe(seed);
    expect(b.size).toBe(2);
  });

  it('promoting a proven learned address keeps its proven key', () => {
    const b = book();
    const learned = learn(b, '1.2.3.4', 'claimed');
    b.markConnected(learned, 'proven', 5);
    const seed = b.addConfigured('1.2.3.4', PORT);
    expect([seed.verifiedKey, seed.claimedKey]).toEqual(['proven', undefined]);
    expect(b.addressOf('proven')).toBe(seed);
  });
});

describe('address book: a full bucket', () => {
  it('holds exactly bucketSize addresses; one more evicts one', () => {
    const b = oneBucket(4);
    for (let i = 1; i <= 4; i++) learn(b, `5.0.0.${i}`);
    expect(b.size).toBe(4);
    learn(b, '5.0.0.5');
    expect(b.size).toBe(4);
    expect(b.get('5.0.0.5', PORT)).toBeDefined();
  });

  it('evicts the never-proven address with the most failed dials', () => {
    const b = oneBucket(4);
    const [a, c, d, e] = ['5.0.0.1', '5.0.0.2', '5.0.0.3', '5.0.0.4'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    b.markFailed(c);
    b.markFailed(c);
    b.markFailed(c);
    b.markFailed(d);
    learn(b, '5.0.0.9');
    expect(hosts(b.all()).sort()).toEqual(['5.0.0.1', '5.0.0.3', '5.0.0.4', '5.0.0.9']);
    expect([a, d, e].every((x) => b.get(x.host, PORT) === x)).toBe(true);
  });

  it('a flood of fresh addresses never displaces a proven address, even a flaky one', () => {
    const b = oneBucket(4);
    const [a, c, d, e] = ['5.0.0.1', '5.0.0.2', '5.0.0.3', '5.0.0.4'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    b.markConnected(a, 'ka', 10);
    b.markConnected(d, 'kd', 20);
    // d has failed many times since it was proven; e (never proven) once; c never.
    for (let i = 0; i < 5; i++) b.markFailed(d);
    b.markFailed(e);
    learn(b, '6.0.0.1');
    expect(hosts(b.all()).sort()).toEqual(['5.0.0.1', '5.0.0.2', '5.0.0.3', '6.0.0.1']);
    learn(b, '6.0.0.2'); // evicts c or 6.0.0.1 (both unproven, no failures)
    expect(b.get(a.host, PORT)).toBe(a);
    expect(b.get(d.host, PORT)).toBe(d);
    expect(b.get(c.host, PORT) === undefined || b.get('6.0.0.1', PORT) === undefined).toBe(true);
  });

  it('a proven but flaky address learned after unproven ones is still kept over them', () => {
    const b = oneBucket(4);
    const [c, e, a, d] = ['5.0.0.1', '5.0.0.2', '5.0.0.3', '5.0.0.4'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    b.markConnected(a, 'ka', 10);
    b.markConnected(d, 'kd', 20);
    for (let i = 0; i < 5; i++) b.markFailed(d);
    b.markFailed(e);
    learn(b, '6.0.0.1');
    expect(hosts(b.all()).sort()).toEqual(['5.0.0.1', '5.0.0.3', '5.0.0.4', '6.0.0.1']);
    expect(b.get(c.host, PORT)).toBe(c);
  });

  it('when unproven addresses sit behind proven ones, an unproven one is evicted', () => {
    const b = oneBucket(4);
    const entries = ['5.0.0.1', '5.0.0.2', '5.0.0.3', '5.0.0.4'].map((h) => learn(b, h));
    entries.slice(0, 3).forEach((x, i) => {
      b.markConnected(x, `k${i}`, i + 1);
    });
    expect(learn(b, '6.0.0.1').host).toBe('6.0.0.1');
    expect(hosts(b.all()).sort()).toEqual(['5.0.0.1', '5.0.0.2', '5.0.0.3', '6.0.0.1']);
  });

  it('a bucket full of proven addresses refuses newcomers', () => {
    const b = oneBucket(3);
    const entries = ['5.0.0.1', '5.0.0.2', '5.0.0.3'].map((h) => learn(b, h));
    entries.forEach((x, i) => {
      b.markConnected(x, `k${i}`, i + 1);
    });
    b.markFailed(entries[1]!);
    expect(b.addLearned('6.0.0.1', PORT, 'k', '8.8.8.8')).toBeUndefined();
    expect(hosts(b.all()).sort()).toEqual(['5.0.0.1', '5.0.0.2', '5.0.0.3']);
  });
});

describe('address book: eclipse attempts by one source', () => {
  const flood = (b: AddressBook, source: string, n: number) => {
    for (let i = 0; i < n; i++) b.addLearned(`5.${(i >> 8) & 255}.${i & 255}.1`, PORT, `flood${i}`, source);
  };

  it('one source writes into at most 8 of the 64 default buckets', () => {
    const b = book({ bucketSize: 1 });
    flood(b, '6.6.6.6', 2_000);
    const buckets = new Set(b.all().map((e) => e.bucket));
    expect(buckets.size).toBeLessThanOrEqual(8);
    expect(b.size).toBeLessThanOrEqual(8);
    // …and the same is true for every source in that /24: the limit is per netgroup.
    flood(b, '6.6.6.7', 2_000);
    expect(new Set(b.all().map((e) => e.bucket)).size).toBeLessThanOrEqual(8);
  });

  it('sources in every /64 of one IPv6 /48 (one customer site) are one source', () => {
    const b = book({ bucketSize: 1 });
    for (let s = 0; s < 256; s++) {
      const source = `2a01:4f8:77:${s.toString(16)}::1`;
      for (let i = 0; i < 8; i++) b.addLearned(`5.${s}.${i}.1`, PORT, `flood${s}/${i}`, source);
    }
    expect(new Set(b.all().map((e) => e.bucket)).size).toBeLessThanOrEqual(8);
    // Another /48 is another source.
    for (let i = 0; i < 64; i++) b.addLearned(`6.0.${i}.1`, PORT, `other${i}`, '2a01:4f8:78::1');
    expect(new Set(b.all().map((e) => e.bucket)).size).toBeGreaterThan(8);
  });

  it('many sources together spread over most of the book', () => {
    const b = book({ bucketSize: 1 });
    for (let s = 0; s < 200; s++) b.addLearned(`7.${s}.0.1`, PORT, `k${s}`, `9.${s}.0.1`);
    expect(new Set(b.all().map((e) => e.bucket)).size).toBeGreaterThan(32);
  });

  it('addresses told by honest sources mostly survive a flood from one source', () => {
    const b = book();
    for (let s = 0; s < 40; s++) learn(b, `7.${s}.0.1`, `honest${s}`, `9.${s}.0.1`);
    flood(b, '6.6.6.6', 10_000);
    const honestLeft = b.all().filter((e) => e.claimedKey?.startsWith('honest')).length;
    expect(honestLeft).toBeGreaterThanOrEqual(25);
    // the flood itself fills at most 8 buckets of 16
    expect(b.all().filter((e) => e.claimedKey?.startsWith('flood')).length).toBeLessThanOrEqual(8 * 16);
  });
});

describe('address book: proven addresses', () => {
  it('keeps exactly maxVerified proven learned addresses; one more drops the least recently proven', () => {
    const b = book({ maxVerified: 2 });
    const [x, y, z] = ['1.0.0.1', '1.0.0.2', '1.0.0.3'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    b.markConnected(x, 'kx', 100);
    b.markConnected(y, 'ky', 50);
    expect(b.size).toBe(3);
    b.markConnected(z, 'kz', 200);
    expect(hosts(b.all()).sort()).toEqual(['1.0.0.1', '1.0.0.3']);
    expect(b.addressOf('ky')).toBeUndefined();
  });

  it('the default keeps 256 proven learned addresses', () => {
    const b = book();
    const entries = Array.from({ length: 257 }, (_, i) =>
      learn(b, `1.${i >> 8}.${i & 255}.1`, `k${i}`, `9.${i}.0.1`),
    );
    expect(b.size).toBe(257);
    entries.forEach((e, i) => {
      b.markConnected(e, `k${i}`, 1_000 + i);
    });
    expect(b.all().filter((e) => e.verifiedKey !== undefined).length).toBe(256);
    expect(b.addressOf('k0')).toBeUndefined();
  });

  it('neither configured addresses nor unproven ones count towards that limit or are dropped by it', () => {
    const b = book({ maxVerified: 1 });
    const seed = b.addConfigured('1.0.0.1', PORT);
    const proven = learn(b, '1.0.0.2');
    const unproven1 = learn(b, '1.0.0.3');
    const unproven2 = learn(b, '1.0.0.4');
    b.markConnected(seed, 'seed', 1);
    b.markConnected(proven, 'proven', 10);
    expect(b.size).toBe(4);
    const named = b.addConfigured('seed.example.org', PORT);
    b.markConnected(named, 'named', 20);
    expect(b.size).toBe(5);
    for (const e of [seed, proven, unproven1, unproven2, named]) expect(b.get(e.host, PORT)).toBe(e);
  });

  it('configured addresses never proven survive when a learned one is proven past the limit', () => {
    const b = book({ maxVerified: 1 });
    const seed = b.addConfigured('1.0.0.1', PORT);
    const first = learn(b, '1.0.0.2');
    b.markConnected(first, 'k1', 10);
    const second = learn(b, '1.0.0.3');
    b.markConnected(second, 'k2', 20);
    expect(b.get(seed.host, PORT)).toBe(seed);
    expect(b.get(first.host, PORT)).toBeUndefined();
    expect(b.get(second.host, PORT)).toBe(second);
  });

  it('only addresses our dials proved are handed on, IP literals only, most recent first, up to the limit', () => {
    const b = book();
    const named = b.addConfigured('seed.example.org', PORT);
    b.markConnected(named, 'named', 99);
    const [p, q, r] = ['1.0.0.1', '1.0.0.2', '1.0.0.3'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    learn(b, '1.0.0.4'); // claimed only
    b.markConnected(p, 'kp', 20);
    b.markConnected(q, 'kq', 30);
    b.markConnected(r, 'kr', 10);
    expect(hosts(b.verified(10))).toEqual(['1.0.0.2', '1.0.0.1', '1.0.0.3']);
    expect(hosts(b.verified(2))).toEqual(['1.0.0.2', '1.0.0.1']);
    expect(b.verified(0)).toEqual([]);
  });
});

describe('address book: which address we dial for a key', () => {
  it('a proven address wins over any claim; unknown keys have no address', () => {
    const b = book();
    const claimed = learn(b, '1.0.0.1', 'k');
    const other = learn(b, '1.0.0.2', 'other');
    const proven = learn(b, '1.0.0.3', 'x');
    b.markConnected(proven, 'k', 5);
    expect(b.addressOf('k')).toBe(proven);
    expect(b.addressOf('other')).toBe(other);
    expect(b.addressOf('nobody')).toBeUndefined();
    expect(claimed.claimedKey).toBe('k');
  });

  it('among claims for one key, the address with fewest failed dials; a tie keeps the earlier one', () => {
    const b = book();
    const a = learn(b, '1.0.0.1', 'k');
    const c = learn(b, '1.0.0.2', 'k');
    const d = learn(b, '1.0.0.3', 'k');
    const bystander = learn(b, '1.0.0.4', 'someone-else');
    expect(b.addressOf('k')).toBe(a);
    b.markFailed(a);
    b.markFailed(a);
    b.markFailed(d);
    expect(b.addressOf('k')).toBe(c);
    b.markFailed(c);
    b.markFailed(c);
    expect(b.addressOf('k')).toBe(d);
    expect(bystander.attempts).toBe(0);
    expect(b.addressOf('someone-else')).toBe(bystander);
  });
});

describe('address book: dial candidates', () => {
  it('fewest failed dials first, then the most recently proven', () => {
    const b = book();
    const [a, c, d, e] = ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4'].map((h) => learn(b, h)) as [
      BookEntry,
      BookEntry,
      BookEntry,
      BookEntry,
    ];
    b.addConfigured('1.0.0.9', PORT);
    b.markFailed(a);
    b.markFailed(a);
    b.markFailed(c);
    b.markConnected(d, 'kd', 10);
    b.markConnected(e, 'ke', 30);
    expect(hosts(b.candidates())).toEqual(['1.0.0.4', '1.0.0.3', '1.0.0.2', '1.0.0.1']);
    expect(a.attempts).toBe(2);
  });
});

describe('address book: entries it drops are reported (onRemove), so dial state goes with them', () => {
  it('a bucket eviction, the maxVerified limit and a configured address replacing a learned one', () => {
    const removed: BookEntry[] = [];
    const b = oneBucket(2, { maxVerified: 1, onRemove: (e) => removed.push(e) });
    const first = learn(b, '1.0.0.1');
    const second = learn(b, '1.0.0.2');
    b.markFailed(first);
    learn(b, '1.0.0.3'); // the bucket is full: the unproven address with the most failures goes
    expect(removed).toEqual([first]);
    const third = b.get('1.0.0.3', PORT)!;
    b.markConnected(second, 'k2', 1);
    b.markConnected(third, 'k3', 2); // past maxVerified: the least recently proven goes
    expect(removed).toEqual([first, second]);
    b.addConfigured('1.0.0.3', PORT); // the learned entry is replaced by a configured one
    expect(removed).toEqual([first, second, third]);
    expect(b.get('1.0.0.3', PORT)?.persistent).toBe(true);
    learn(b, '1.0.0.4');
    expect(removed).toHaveLength(3); // an add that evicts nobody reports nobody
  });
});
