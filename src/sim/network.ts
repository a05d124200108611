import type { Rng } from '../consensus/snowball/prng.js';

/** Link model knobs; times are virtual milliseconds. */
export interface NetworkModel {
  /** Mean one-way latency of a link. */
  readonly meanMs: number;
  /** Per-message extra delay, uniform in [0, jitterMs]. */
  readonly jitterMs: number;
  /** Probability a message is dropped, in parts per million (integer math on the hot path). */
  readonly lossPpm: number;
}

/**
 * Per-link latency distributions: every directed link gets its own base latency, uniform in
 * [mean/2, 3·mean/2], drawn once from the seed (some peers are near, some far); every message then
 * adds uniform jitter. Loss is independent per message. A node talking to itself is instant and lossless.
 */
export class SimNetwork {
  private readonly base: Int32Array;

  constructor(
    readonly nodes: number,
    readonly model: NetworkModel,
    private readonly rng: Rng,
  ) {
    this.base = new Int32Array(nodes * nodes);
    const m = Math.max(0, Math.round(model.meanMs));
    for (let i = 0; i < nodes; i++)
      for (let j = 0; j < nodes; j++)
        this.base[i * nodes + j] = i === j ? 0 : Math.floor(m / 2) + (m > 0 ? rng.below(m + 1) : 0);
  }

  /** Delay of one message from → to, or -1 if it is lost. */
  delay(from: number, to: number): number {
    if (from === to) return 0;
    if (this.model.lossPpm > 0 && this.rng.below(1_000_000) < this.model.lossPpm) return -1;
    const jitter = this.model.jitterMs > 0 ? this.rng.below(this.model.jitterMs + 1) : 0;
    return this.base[from * this.nodes + to]! + jitter;
  }
}
