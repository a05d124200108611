import type { ChainParams } from '../params/chain-params.js';

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

/**
 * Slot arithmetic (DESIGN §6: slot s starts at genesis time + s × slot length) on a clock. Pure
 * functions of time; the only state is the timers callers arm through `at`.
 */
export class SlotClock {
  constructor(
    readonly params: Pick<ChainParams, 'genesisTimeMs' | 'slotMs' | 'leaderFallbackStepMs'>,
    readonly clock: Clock = SYSTEM_CLOCK,
  ) {}

  now(): number {
    return this.clock.now();
  }

  slotStart(slot: number): number {
    return this.params.genesisTimeMs + slot * this.params.slotMs;
  }

  /** The slot containing `ms` (−1 before genesis). */
  slotAt(ms: number = this.now()): number {
    if (ms < this.params.genesisTimeMs) return -1;
    return Math.floor((ms - this.params.genesisTimeMs) / this.params.slotMs);
  }

  /** The window in which rank `rank` publishes in `slot`: [start + r·step, start + (r+1)·step). */
  rankWindow(slot: number, rank: number): { startMs: number; endMs: number } {
    const start = this.slotStart(slot) + rank * this.params.leaderFallbackStepMs;
    return { startMs: start, endMs: start + this.params.leaderFallbackStepMs };
  }

  /** Ranks that have a window inside the slot (a later rank cannot publish in it). */
  get ranksPerSlot(): number {
    return Math.floor(this.params.slotMs / this.params.leaderFallbackStepMs);
  }

  /** Calls `fn` at unix ms `atMs` (at once if past). Returns a function that cancels it. */
  at(atMs: number, fn: () => void): () => void {
    const h = this.clock.setTimer(fn, atMs - this.now());
    return () => this.clock.clearTimer(h);
  }
}

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
