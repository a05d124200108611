/**
 * A Fenwick (binary indexed) tree over non-negative integer weights in a fixed order: "which item's
 * cumulative-weight interval holds u" and "remove item i" in O(log n) each, built in O(n). The
 * leader ranking draws n times without replacement, which a linear scan made O(n²) (226–324 ms at
 * 20,000 masternodes). Sums stay below 2^53 (the caller checks the total), so doubles are exact.
 */
export class CumulativeWeights {
  /** 1-based Fenwick array: tree[i] sums the weights of items (i − lowbit(i), i]. */
  private readonly tree: Float64Array;
  private readonly weights: Float64Array;
  private readonly topStep: number;
  private remaining: number;

  constructor(weights: readonly number[]) {
    const n = weights.length;
    this.tree = new Float64Array(n + 1);
    this.weights = Float64Array.from(weights);
    let total = 0;
    for (let i = 1; i <= n; i++) {
      const w = weights[i - 1] as number;
      total += w;
      this.tree[i] = (this.tree[i] as number) + w;
      const parent = i + (i & -i);
      if (parent <= n) this.tree[parent] = (this.tree[parent] as number) + (this.tree[i] as number);
    }
    this.remaining = total;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    this.topStep = n === 0 ? 0 : step;
  }

  /** Sum of the weights still present. */
  get total(): number {
    return this.remaining;
  }

  /**
   * The index of the first item, in the original order, whose running sum of present weights
   * exceeds u (0 ≤ u < total). Removed items have weight 0, so they are never chosen: the answer
   * equals a linear scan over the items still present.
   */
  find(u: number): number {
    if (!(u >= 0 && u < this.remaining)) throw new RangeError(`u = ${u} outside [0, ${this.remaining})`);
    let pos = 0;
    let rest = u;
    const n = this.weights.length;
    for (let step = this.topStep; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && (this.tree[next] as number) <= rest) {
        pos = next;
        rest -= this.tree[next] as number;
      }
    }
    return pos; // 0-based index of item pos + 1 (1-based)
  }

  /** Removes item i (its weight becomes 0). */
  remove(i: number): void {
    const w = this.weights[i] as number;
    if (w === 0) return;
    this.weights[i] = 0;
    this.remaining -= w;
    for (let j = i + 1; j < this.tree.length; j += j & -j) this.tree[j] = (this.tree[j] as number) - w;
  }
}
