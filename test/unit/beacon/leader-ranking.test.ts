import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CumulativeWeights } from '../../../src/beacon/cumulative-weights.js';
import {
  leaderAtRank,
  RankingError,
  rankLeaders,
  rankOf,
  rankZeroLeader,
} from '../../../src/beacon/leader-ranking.js';

/** Deterministic test data: SHA-256 of a label, stretched. */
function bytes(label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i * 32 < length; i++)
    out.set(
      createHash('sha256')
        .update(`${label}/${i}`)
        .digest()
        .subarray(0, Math.min(32, length - i * 32)),
      i * 32,
    );
  return out;
}

const nodes = [1, 2, 5, 10, 1, 3, 7, 4].map((weight, i) => ({
  nodePubkey: bytes(`node${i}`, 32),
  weight,
  id: i,
}));
const beacon = (i: number) => bytes(`beacon${i}`, 256);

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (bytes(`shuffle${seed}/${i}`, 4)[0] as number) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('leader ranking', () => {
  it('is a permutation of the active set, deterministic across runs and input orderings', () => {
    for (let b = 0; b < 50; b++) {
      const y = beacon(b);
      const ids = rankLeaders(nodes, y).map((n) => n.id);
      expect([...ids].sort((p, q) => p - q)).toEqual(nodes.map((n) => n.id));
      expect(rankLeaders(nodes, y).map((n) => n.id)).toEqual(ids);
      for (let s = 0; s < 3; s++)
        expect(rankLeaders(shuffled(nodes, b * 10 + s), y).map((n) => n.id)).toEqual(ids);
      expect(rankZeroLeader(shuffled(nodes, b), y).id).toBe(ids[0]);
      expect(rankOf(nodes, y, nodes[3]!.nodePubkey)).toBe(ids.indexOf(3));
    }
  });

  it('depends on y', () => {
    const orders = new Set<string>();
    for (let b = 0; b < 20; b++)
      orders.add(
        rankLeaders(nodes, beacon(b))
          .map((n) => n.id)
          .join(','),
      );
    expect(orders.size).toBeGreaterThan(10);
  });

  it('gives each node a share of rank 0 matching its weight share over 10,000 beacons (chi-square, p > 0.001)', () => {
    const counts = new Array<number>(nodes.length).fill(0);
    const beacons = 10_000;
    for (let b = 0; b < beacons; b++) {
      const leader = rankZeroLeader(nodes, beacon(b));
      counts[leader.id] = (counts[leader.id] as number) + 1;
    }
    const total = nodes.reduce((s, n) => s + n.weight, 0);
    let chi2 = 0;
    for (const n of nodes) {
      const expected = (beacons * n.weight) / total;
      chi2 += ((counts[n.id] as number) - expected) ** 2 / expected;
    }
    // Critical value of χ² with 7 degrees of freedom at p = 0.001.
    expect(chi2).toBeLessThan(24.322);
    // And the test has power: a uniform (unweighted) choice would fail it by far.
    let chiUniform = 0;
    for (const n of nodes) {
      const expected = (beacons * n.weight) / total;
      chiUniform += (beacons / nodes.length - expected) ** 2 / expected;
    }
    expect(chiUniform).toBeGreaterThan(24.322);
  });

  it('rejects bad input with typed errors', () => {
    const y = beacon(0);
    expect(() => rankLeaders([], y)).toThrow(RankingError);
    expect(() => rankLeaders([{ nodePubkey: bytes('a', 32), weight: 1.5 }], y)).toThrow(/RANKING_BAD_WEIGHT/);
    expect(() => rankLeaders([{ nodePubkey: bytes('a', 32), weight: 0 }], y)).toThrow(/RANKING_BAD_WEIGHT/);
    expect(() => rankLeaders([nodes[0]!, { ...nodes[0]! }], y)).toThrow(/RANKING_DUPLICATE/);
    expect(() => rankLeaders(nodes, new Uint8Array(0))).toThrow(/RANKING_BAD_BEACON/);
    expect(() => rankLeaders(nodes, new Uint8Array(255))).toThrow(/RANKING_BAD_BEACON/);
  });

  it('draws rank 0 exactly as specified in docs/protocol.md (independent re-implementation)', () => {
    // Spec: sort by pubkey; u64le words of SHA-256("TIME:rank:1"\0 ‖ y ‖ u32le(k)); reject ≥ 2^64 − 2^64 mod W.
    const y = beacon(42);
    const sorted = [...nodes].sort((a, b) =>
      Buffer.compare(Buffer.from(a.nodePubkey), Buffer.from(b.nodePubkey)),
    );
    const total = BigInt(sorted.reduce((s, n) => s + n.weight, 0));
    const block0 = createHash('sha256')
      .update(Buffer.concat([Buffer.from('TIME:rank:1\0'), Buffer.from(y), Buffer.from([0, 0, 0, 0])]))
      .digest();
    const word = block0.readBigUInt64LE(0);
    expect(word < (1n << 64n) - ((1n << 64n) % total)).toBe(true); // rejection is ~2^-60 likely
    const u = Number(word % total);
    let below = 0;
    const expected = sorted.find((n) => {
      below += n.weight;
      return u < below;
    })!;
    expect(rankZeroLeader(nodes, y).id).toBe(expected.id);
  });

  it('the whole ranking equals the specification run as a plain O(n²) scan (random sets, 1–300 nodes)', () => {
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + (bytes(`n${trial}`, 2).readUInt16LE(0) % 300);
      const set = Array.from({ length: n }, (_, i) => ({
        nodePubkey: bytes(`t${trial}/${i}`, 32),
        // Tier-like weights and, in some trials, large ones (sums still below 2^53).
        weight:
          trial % 4 === 3
            ? 1 + (bytes(`w${trial}/${i}`, 6).readUIntLE(0, 6) % 2 ** 40)
            : [1, 10, 100, 1000][i % 4]!,
        id: i,
      }));
      const y = beacon(1000 + trial);
      const ranking = rankLeaders(set, y).map((m) => m.id);
      expect(ranking).toEqual(specRanking(set, y));
      for (const r of [0, 1, n >> 1, n - 1].filter((r) => r < n)) {
        expect(leaderAtRank(set, y, r)?.id).toBe(ranking[r]);
        expect(rankOf(set, y, set[ranking[r]!]!.nodePubkey)).toBe(r);
      }
      expect(leaderAtRank(set, y, n)).toBeUndefined();
      expect(leaderAtRank(set, y, -1)).toBeUndefined();
      expect(rankOf(set, y, bytes('absent', 32))).toBe(-1);
    }
  });
});

/** The ranking of docs/protocol.md, written independently: BigInt words, linear scans, splice. */
function specRanking(set: readonly { nodePubkey: Uint8Array; weight: number; id: number }[], y: Uint8Array) {
  const pool = [...set].sort((a, b) => Buffer.compare(Buffer.from(a.nodePubkey), Buffer.from(b.nodePubkey)));
  const words: bigint[] = [];
  let block = 0;
  const nextWord = (): bigint => {
    if (words.length === 0) {
      const counter = Buffer.alloc(4);
      counter.writeUInt32LE(block++);
      const h = createHash('sha256')
        .update(Buffer.concat([Buffer.from('TIME:rank:1\0'), Buffer.from(y), counter]))
        .digest();
      for (let i = 0; i < 4; i++) words.push(h.readBigUInt64LE(8 * i));
    }
    return words.shift()!;
  };
  const order: number[] = [];
  while (pool.length > 0) {
    const total = BigInt(pool.reduce((s, m) => s + m.weight, 0));
    let w = nextWord();
    while (w >= (1n << 64n) - ((1n << 64n) % total)) w = nextWord();
    const u = w % total;
    let acc = 0n;
    const i = pool.findIndex((m) => {
      acc += BigInt(m.weight);
      return u < acc;
    });
    order.push(pool[i]!.id);
    pool.splice(i, 1);
  }
  return order;
}

describe('CumulativeWeights (Fenwick tree)', () => {
  it('find and remove agree with a linear scan, including zero and removed weights', () => {
    for (let trial = 0; trial < 30; trial++) {
      const n = 1 + (bytes(`cw${trial}`, 1)[0]! % 40);
      const weights: number[] = Array.from({ length: n }, (_, i) => bytes(`cw${trial}/${i}`, 1)[0]! % 9);
      if (!weights.some((w) => w > 0)) weights[0] = 1;
      const tree = new CumulativeWeights(weights);
      const live = [...weights];
      for (let step = 0; live.some((w) => w > 0); step++) {
        const total = live.reduce((s, w) => s + w, 0);
        expect(tree.total).toBe(total);
        for (let u = 0; u < total; u++) {
          let acc = 0;
          const expected = live.findIndex((w) => {
            acc += w;
            return acc > u;
          });
          expect(tree.find(u)).toBe(expected);
        }
        const victim = tree.find(bytes(`v${trial}/${step}`, 2).readUInt16LE(0) % total);
        tree.remove(victim);
        live[victim] = 0;
      }
      expect(() => tree.find(0)).toThrow(RangeError);
    }
  });

  it('refuses u outside [0, total), naming it: a negative u is not a draw', () => {
    const tree = new CumulativeWeights([2, 3]);
    expect(() => tree.find(-1)).toThrow('u = -1 outside [0, 5)');
    expect(() => tree.find(5)).toThrow(RangeError);
    expect(() => tree.find(Number.NaN)).toThrow(RangeError);
    expect(tree.find(0)).toBe(0);
    expect(tree.find(4)).toBe(1);
  });
});
