import type { Rng } from '../consensus/snowball/prng.js';
import type { ResolvedOptions } from './scenario.js';
import type { TxUniverse } from './transactions.js';

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
 * Where and when transactions enter: the members of each conflict group (pair or chain) at
 * different honest nodes at the same time — or, with `conflictSplit`, at every honest node at time
 * 0, a pair split by that share and a chain's members in equal shares — then each ordinary
 * transaction at one random honest node. Only
 * nodes up at that moment are chosen (a crashed node would drop it); with none up, nothing is
 * injected.
 */
export function planInjections(
  o: ResolvedOptions,
  universe: TxUniverse,
  honest: readonly number[],
  rng: Rng,
): Injection[] {
  const upAt = (n: number, t: number) =>
    !o.crashes.some((c) => c.node === n && c.atMs <= t && (c.recoverAtMs === undefined || t < c.recoverAtMs));
  const honestAt = (t: number) => honest.filter((n) => upAt(n, t));
  const out: Injection[] = [];
  for (const g of universe.groups) {
    if (o.conflictSplit !== undefined) {
      const nodes = shuffle(honestAt(0), rng);
      const cut = Math.round(o.conflictSplit * nodes.length);
      const m = g.txs.length;
      nodes.forEach((node, i) => {
        // A pair splits by the share; a chain's members get equal shares of the nodes.
        const member = g.kind === 'pair' ? (i < cut ? 0 : 1) : Math.floor((i * m) / nodes.length);
        out.push({ tx: g.txs[member]!, atMs: 0, node });
      });
      continue;
    }
    const t = rng.below(o.injectWindowMs + 1);
    const up = shuffle(honestAt(t), rng);
    if (up.length === 0) continue;
    g.txs.forEach((tx, i) => {
      out.push({ tx, atMs: t, node: up[i % up.length]! });
    });
  }
  for (let tx = universe.firstOrdinary; tx < universe.count; tx++) {
    const t = rng.below(o.injectWindowMs + 1);
    const up = honestAt(t);
    if (up.length > 0) out.push({ tx, atMs: t, node: up[rng.below(up.length)]! });
  }
  return out;
}
