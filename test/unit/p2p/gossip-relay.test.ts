import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENTRY_BYTES, type GossipKind, GossipRelay } from '../../../src/p2p/gossip-relay.js';

const item = (i: number) => new Uint8Array([i, i >> 8, 0xab]);

describe('gossip dedup keys', () => {
  it('one character for the kind, then 132 bits of SHA-256 in base64 (23 characters, as budgeted)', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const sha = createHash('sha256').update(bytes).digest('base64');
    const prefixes: [GossipKind, string][] = [
      ['tx', 't'],
      ['block', 'k'],
      ['beacon', 'n'],
    ];
    for (const [kind, prefix] of prefixes) {
      const key = GossipRelay.key(kind, bytes);
      expect(key).toBe(prefix + sha.slice(0, 22));
      expect(key).toHaveLength(23);
    }
  });
});

describe('gossip relay rules', () => {
  it('refuses a maximum age that is not a positive integer, naming the option and the value', () => {
    expect(() => new GossipRelay(ENTRY_BYTES, 0, () => 0)).toThrow(
      'dedupMaxAgeMs must be a positive integer: 0',
    );
    expect(() => new GossipRelay(ENTRY_BYTES, -5, () => 0)).toThrow(
      'dedupMaxAgeMs must be a positive integer: -5',
    );
  });

  it('never echoes an item to up to 8 peers that sent it; a 9th sender is not remembered (bounded memory)', () => {
    const r = new GossipRelay(100 * ENTRY_BYTES, 60_000, () => 1);
    const k = GossipRelay.key('tx', item(1));
    const senders = Array.from({ length: 9 }, (_, i) => `peer${i}`);
    expect(r.received(k, senders[0]!)).toBe(true);
    // The first sender sending it again takes no more room.
    expect(r.received(k, senders[0]!)).toBe(false);
    expect(r.received(k, senders[0]!)).toBe(false);
    for (const s of senders.slice(1)) expect(r.received(k, s)).toBe(false);
    expect(senders.slice(0, 8).map((s) => r.needs(k, s, 0))).toEqual(Array(8).fill(false));
    expect(r.needs(k, senders[8]!, 0)).toBe(true);
    // After the relay, the 9th counts as served like any peer connected then.
    r.relayed(k, 1_000);
    expect(r.needs(k, senders[8]!, 500)).toBe(false);
  });

  it('after the relay, only peers connected strictly later need the item (not those connected in its millisecond)', () => {
    // The relay went to every peer connected then; only one that connected after it (a later
    // millisecond) gets it when it is gossiped again, so nobody gets it twice from us.
    const r = new GossipRelay(100 * ENTRY_BYTES, 60_000, () => 1);
    const k = GossipRelay.key('tx', item(5));
    r.received(k, 'A');
    expect(r.needs(k, 'B', 2_000)).toBe(true); // not relayed yet: everyone but the sender
    r.relayed(k, 2_000);
    expect(r.needs(k, 'B', 1_999)).toBe(false);
    expect(r.needs(k, 'B', 2_000)).toBe(false);
    expect(r.needs(k, 'B', 2_001)).toBe(true);
    expect(r.needs(k, 'A', 2_001)).toBe(false);
  });

  it('an item we originated has no senders: 8 peers that echo it back are all remembered', () => {
    const r = new GossipRelay(100 * ENTRY_BYTES, 60_000, () => 1_000);
    const k = GossipRelay.key('block', item(2));
    r.relayed(k, 1_000);
    expect(r.needs(k, 'early', 999)).toBe(false); // connected when we sent it
    expect(r.needs(k, 'late', 1_001)).toBe(true); // connected after
    const echoes = Array.from({ length: 8 }, (_, i) => `peer${i}`);
    for (const s of echoes) expect(r.received(k, s)).toBe(false);
    // Even peers that connected after our relay: they sent it, so they never get it back.
    expect(echoes.map((s) => r.needs(k, s, 5_000))).toEqual(Array(8).fill(false));
  });

  it('relaying an item heard from a peer keeps its first-seen time: it is forgotten maxAgeMs after first heard', () => {
    let now = 1;
    const r = new GossipRelay(100 * ENTRY_BYTES, 10_000, () => now);
    const k = GossipRelay.key('tx', item(3));
    expect(r.received(k, 'A')).toBe(true);
    now = 5_000;
    r.relayed(k, now);
    // The sender is still remembered after the relay.
    expect(r.needs(k, 'A', 6_000)).toBe(false);
    now = 10_001; // 10 s after first heard (not after the relay)
    expect(r.received(GossipRelay.key('tx', item(4)), 'B')).toBe(true);
    expect(r.received(k, 'C')).toBe(true);
  });
});
