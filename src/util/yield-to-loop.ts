/**
 * Resolves on a later turn of the event loop, after the I/O and timers that are waiting. Awaiting
 * an already settled promise does not do that (its continuation runs as a microtask in the same
 * turn), so a long job made of awaits can still hold the coordinator for its whole length: a full
 * block's validation, signature results and write ran as one 850 ms stretch before it yielded.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A computation written as a generator that yields between turns of bounded work, so one body of
 * code can run to its end at once (`finishNow`: tests, tools) or give the event loop a turn at each
 * yield (`finishInTurns`: the node's coordinator).
 */
export type Turns<T> = Generator<void, T, void>;

export function finishNow<T>(turns: Turns<T>): T {
  for (;;) {
    const step = turns.next();
    if (step.done) return step.value;
  }
}

export async function finishInTurns<T>(turns: Turns<T>): Promise<T> {
  for (;;) {
    const step = turns.next();
    if (step.done) return step.value;
    await yieldToLoop();
  }
}
