/**
 * Misbehaviour scores by subject (a node key or an IP), kept across connections: reconnecting does
 * not reset a score. Each score decays linearly (`decayPerSec` points per second). The book is
 * bounded: beyond `capacity` subjects, the least recently scored one is forgotten (by then its score
 * has usually decayed to nothing; an attacker who cycles through more subjects than that gains
 * nothing a fresh subject would not give it).
 */
export class ScoreBook {
  private readonly scores = new Map<string, { value: number; lastMs: number }>();

  constructor(
    private readonly decayPerSec: number,
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.scores.size;
  }

  /** Adds `points` to `subject` and returns its new score. */
  add(subject: string, points: number, nowMs: number): number {
    const value = this.current(subject, nowMs) + points;
    this.scores.delete(subject); // re-insert: Map order is the recency order used for eviction
    this.scores.set(subject, { value, lastMs: nowMs });
    if (this.scores.size > this.capacity) this.scores.delete(this.scores.keys().next().value as string);
    return value;
  }

  current(subject: string, nowMs: number): number {
    const s = this.scores.get(subject);
    if (!s) return 0;
    return Math.max(0, s.value - (Math.max(0, nowMs - s.lastMs) * this.decayPerSec) / 1000);
  }

  /** Forgets a subject (after it was banned: the ban is the record now). */
  clear(subject: string): void {
    this.scores.delete(subject);
  }
}
