import { describe, expect, it } from 'vitest';
import { PeerBuckets } from '../../../src/p2p/peer-buckets.js';

describe('PeerBuckets', () => {
  it('gives each peer a full bucket on first use, refilled at its rate', () => {
    let now = 0;
    const b = new PeerBuckets({ perSec: 1, burst: 2 }, () => now, 4);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, false]);
    expect(b.take('b', 2)).toBe(true);
    now = 1_000;
    expect([b.take('a'), b.take('a')]).toEqual([true, false]);
  });

  it('remembers maxPeers peers, forgetting the least recently used: a forgotten peer starts full again', () => {
    const b = new PeerBuckets({ perSec: 0, burst: 1 }, () => 0, 2);
    expect([b.take('a'), b.take('b')]).toEqual([true, true]);
    expect(b.take('c')).toBe(true); // a is forgotten, b is still remembered (and empty)
    expect(b.take('b')).toBe(false); // b is now the most recently used
    expect(b.take('a')).toBe(true); // a starts again full; c, used before b, is forgotten
    expect(b.take('b')).toBe(false);
    expect(b.take('c')).toBe(true);
    expect(b.take('b')).toBe(false);
  });

  it('never forgets a drained key that keeps asking, however many new keys come', () => {
    const b = new PeerBuckets({ perSec: 0, burst: 1 }, () => 0, 3);
    expect(b.take('spent')).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(b.take(`fresh${i}`)).toBe(true);
      expect(b.take('spent')).toBe(false);
    }
  });
});
