/**
 * Resolves on a later turn of the event loop, after the I/O and timers that are waiting. Awaiting
 * an already settled promise does not do that (its continuation runs as a microtask in the same
 * turn), so a long job made of awaits can still hold the coordinator for its whole length: a full
 * block's validation, signature results and write ran as one 850 ms stretch before it yielded.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
