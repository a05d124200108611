import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { selectAnchor } from '../../../src/beacon/beacon-input.js';
import {
  leaderAtRank,
  RankingError,
  rankLeaders,
  rankOf,
  rankZeroLeader,
} from '../../../src/beacon/leader-ranking.js';

/*
 * The parts of the leader ranking the spec comparison in leader-ranking.test.ts cannot reach, found
 * by the first mutation run of src/beacon (issue 15): the rejection step (with tier-sized weights a
 * word is rejected with probability ~2^-44, so no random beacon exercises it; dropping it survived),
 * and the refusals' codes, messages and details. The oracle is docs/protocol.md ("Leader ranking")
 * written with node:crypto and BigInt.
 */

const RANK_TAG = Buffer.from('54494d453a72616e6b3a3100', 'hex'); // "TIME:rank:1" ‖ 0x00
const TWO_64 = 1n << 64n;

interface Node {
  readonly nodePubkey: Uint8Array;
  readonly weight: number;
  readonly id: number;
}

function digest(...parts: (string | Uint8Array)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function beacon(label: string): Uint8Array {
  return new Uint8Array(Buffer.concat(Array.from({ length: 8 }, (_, i) => digest(`${label}/${i}`))));
}

function makeNodes(label: string, weights: readonly number[]): Node[] {
  return weights.map((weight, id) => ({
    nodePubkey: new Uint8Array(digest(`${label}/node/${id}`)),
    weight,
    id,
  }));
}

/** The u64le words of SHA-256(TAG ‖ y ‖ u32le(k)), k = 0, 1, … */
function wordStream(y: Uint8Array): () => bigint {
  let k = 0;
  const words: bigint[] = [];
  return () => {
    if (words.length === 0) {
      const counter = Buffer.alloc(4);
      counter.writeUInt32LE(k++);
      const d = digest(RANK_TAG, y, counter);
      for (let i = 0; i < 4; i++) words.push(d.readBigUInt64LE(8 * i));
    }
    return words.shift()!;
  };
}

/** The spec, step by step. `reject: false` is the rule without rejection sampling (a contrast). */
function oracleRanking(nodes: readonly Node[], y: Uint8Array, reject = true): number[] {
  const pool = [...nodes].sort((a, b) =>
    Buffer.compare(Buffer.from(a.nodePubkey), Buffer.from(b.nodePubkey)),
  );
  const next = wordStream(y);
  const order: number[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, n) => s + BigInt(n.weight), 0n);
    const limit = TWO_64 - (TWO_64 % total);
    let word = next();
    while (reject && word >= limit) word = next();
    const u = word % total;
    let running = 0n;
    const index = pool.findIndex((n) => {
      running += BigInt(n.weight);
      return u < running;
    });
    order.push(pool.splice(index, 1)[0]!.id);
  }
  return order;
}

describe('leader ranking: the rejection step (issue 15)', () => {
  it('rejects a word at or above 2^64 − (2^64 mod W): a beacon found where rejecting changes the leader', () => {
    // W ≈ 2^52.8 with 2^64 mod W ≈ 0.97 W: about one first word in 2,500 is rejected.
    const total = 7_686_239_442_038_671;
    const remainder = TWO_64 % BigInt(total);
    expect(Number(remainder) / total).toBeGreaterThan(0.9);
    const nodes = makeNodes('huge', [total - 4_000_000_000_000_000, 4_000_000_000_000_000]);
    const limit = TWO_64 - remainder;
    let found: Uint8Array | undefined;
    for (let b = 0; b < 60_000 && !found; b++) {
      const y = beacon(`huge/beacon/${b}`);
      if (wordStream(y)() < limit) continue;
      // Only a beacon where rejecting changes the answer tells the rule apart from its absence.
      if (oracleRanking(nodes, y)[0] !== oracleRanking(nodes, y, false)[0]) found = y;
    }
    expect(found, 'a beacon whose first word is rejected and matters').toBeDefined();
    const expected = oracleRanking(nodes, found!);
    expect(rankLeaders(nodes, found!).map((n) => n.id)).toEqual(expected);
    expect(rankZeroLeader(nodes, found!).id).toBe(expected[0]);
    expect(leaderAtRank(nodes, found!, 1)?.id).toBe(expected[1]);
    expect(rankOf(nodes, found!, nodes[expected[0]!]!.nodePubkey)).toBe(0);
  });
});

describe('leader ranking and beacon inputs: refusals with their codes and messages (issue 15)', () => {
  const y = beacon('refusals');
  const refusal = (fn: () => unknown): string => {
    try {
      fn();
      return 'OK';
    } catch (err) {
      if (err instanceof RankingError) return err.message;
      throw err;
    }
  };

  it('names each refusal', () => {
    const a = makeNodes('refuse', [1])[0]!;
    expect(refusal(() => rankLeaders([], y))).toBe('RANKING_EMPTY: no active masternodes');
    expect(refusal(() => rankLeaders([a], new Uint8Array(32)))).toBe(
      'RANKING_BAD_BEACON: beacon y must be its 256-byte encoding',
    );
    expect(refusal(() => rankLeaders([{ ...a, weight: 0 }], y))).toBe(
      'RANKING_BAD_WEIGHT: weights must be positive integers',
    );
    expect(refusal(() => rankLeaders([a, { ...a }], y))).toBe(
      'RANKING_DUPLICATE: duplicate masternode pubkey',
    );
    try {
      rankLeaders([{ ...a, weight: -3 }], y);
      expect.unreachable();
    } catch (err) {
      expect((err as RankingError).details).toEqual({ weight: -3 });
    }
  });

  it('refuses weights whose total is not a safe integer, though each weight is', () => {
    const [a, b] = makeNodes('overflow', [2 ** 52, 2 ** 52]) as [Node, Node];
    expect(refusal(() => rankLeaders([a, b], y))).toBe('RANKING_BAD_WEIGHT: total weight overflows');
    expect(refusal(() => rankZeroLeader([a, b], y))).toBe('RANKING_BAD_WEIGHT: total weight overflows');
    expect(refusal(() => rankLeaders([a, { ...b, weight: 2 ** 52 - 1 }], y))).toBe('OK');
  });

  it('selectAnchor refuses an empty chain', () => {
    expect(() => selectAnchor([], 5)).toThrow(new RangeError('empty chain'));
  });
});
