/** Time and timers, injectable so slot logic runs in fake time in unit tests. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, delayMs: number) => {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return t;
  },
  clearTimer: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
});

/** A clock that moves only when told (unit tests): timers fire in time order during `advance`. */
export class ManualClock implements Clock {
  private nowMs: number;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(fn: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** When the earliest armed timer falls due, or undefined when none is armed. */
  nextTimerAtMs(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers.values()) if (at === undefined || t.at < at) at = t.at;
    return at;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest (then oldest) first. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let nextId = -1;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= target && (next === undefined || t.at < next.at)) {
          next = t;
          nextId = id;
        }
      }
      if (!next) break;
      this.timers.delete(nextId);
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fn();
    }
    this.nowMs = target;
  }
}
