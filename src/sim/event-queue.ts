/**
 * Virtual-time event queue: a binary min-heap ordered by (time, insertion sequence). The sequence
 * number makes simultaneous events run in the order they were scheduled, so a seeded run is
 * reproducible bit for bit (a heap alone is not stable).
 */
export class EventQueue<E> {
  private times: number[] = [];
  private seqs: number[] = [];
  private events: E[] = [];
  private seq = 0;

  get size(): number {
    return this.events.length;
  }

  push(time: number, event: E): void {
    let i = this.events.length;
    const seq = this.seq++;
    this.times.push(time);
    this.seqs.push(seq);
    this.events.push(event);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!this.before(time, seq, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.events[i] = event;
  }

  /** Time of the next event, or Infinity when empty. */
  peekTime(): number {
    return this.events.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  /** Removes and returns the earliest event (undefined when empty). */
  pop(): E | undefined {
    const n = this.events.length;
    if (n === 0) return undefined;
    const top = this.events[0]!;
    const lastTime = this.times.pop()!;
    const lastSeq = this.seqs.pop()!;
    const last = this.events.pop()!;
    if (n === 1) return top;
    const size = n - 1;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && this.before(this.times[r]!, this.seqs[r]!, l) ? r : l;
      if (!this.before(this.times[c]!, this.seqs[c]!, -1, lastTime, lastSeq)) break;
      this.move(c, i);
      i = c;
    }
    this.times[i] = lastTime;
    this.seqs[i] = lastSeq;
    this.events[i] = last;
    return top;
  }

  /** (time, seq) strictly before slot j, or before (t2, s2) when j is -1. */
  private before(time: number, seq: number, j: number, t2 = this.times[j]!, s2 = this.seqs[j]!): boolean {
    return time < t2 || (time === t2 && seq < s2);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.events[to] = this.events[from]!;
  }
}
