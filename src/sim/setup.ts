import type { Rng } from '../consensus/snowball/prng.js';
import type { ResolvedOptions } from './scenario.js';

/** Fisher–Yates with the injected Rng (in place). */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Byzantine nodes for a weight share: a seeded shuffle, then nodes join while the Byzantine weight
 * stays <= fraction × total (exact integer comparison), so "20 %" of 50 equal nodes is exactly 10.
 */
export function pickByzantine(weights: readonly number[], fraction: number, rng: Rng): number[] {
  const order = shuffle(
    Array.from({ length: weights.length }, (_, i) => i),
    rng,
  );
  const total = BigInt(weights.reduce((s, w) => s + w, 0));
  const ppm = BigInt(Math.round(fraction * 1e6));
  const out: number[] = [];
  let w = 0n;
  for (const i of order) {
    const wi = BigInt(weights[i]!);
    if ((w + wi) * 1_000_000n <= ppm * total) {
      out.push(i);
      w += wi;
    }
  }
  return out;
}

/** One transaction handed to one node at one virtual time. */
export interface Injection {
  readonly tx: number;
  readonly atMs: number;
  readonly node: number;
}

/**
 * Where and when transactions enter: conflicting pair c (txs 2c, 2c+1) at two different honest
 * nodes at the same time — or, with `conflictSplit`, at every honest node at time 0 split by that
 * share — then each non-conflicting transaction at one random honest node. Only nodes up at that
 * moment are chosen (a crashed node would drop it); with none up, the transaction is not injected.
 */
export function planInjections(o: ResolvedOptions, honest: readonly number[], rng: Rng): Injection[] {
  const upAt = (n: number, t: number) =>
    !o.crashes.some((c) => c.node === n && c.atMs <= t && (c.recoverAtMs === undefined || t < c.recoverAtMs));
  const honestAt = (t: number) => honest.filter((n) => upAt(n, t));
  const out: Injection[] = [];
  for (let c = 0; c < o.conflicts; c++) {
    if (o.conflictSplit !== undefined) {
      const nodes = shuffle(honestAt(0), rng);
      const cut = Math.round(o.conflictSplit * nodes.length);
      nodes.forEach((node, i) => {
        out.push({ tx: 2 * c + (i < cut ? 0 : 1), atMs: 0, node });
      });
      continue;
    }
    const t = rng.below(o.injectWindowMs + 1);
    const up = honestAt(t);
    if (up.length === 0) continue;
    const a = up[rng.below(up.length)]!;
    let b = up[rng.below(up.length)]!;
    while (up.length > 1 && b === a) b = up[rng.below(up.length)]!;
    out.push({ tx: 2 * c, atMs: t, node: a }, { tx: 2 * c + 1, atMs: t, node: b });
  }
  for (let tx = 2 * o.conflicts; tx < 2 * o.conflicts + o.txs; tx++) {
    const t = rng.below(o.injectWindowMs + 1);
    const up = honestAt(t);
    if (up.length > 0) out.push({ tx, atMs: t, node: up[rng.below(up.length)]! });
  }
  return out;
}
