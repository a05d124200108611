import { expect } from 'vitest';

/** What `f` throws; the test fails if it returns instead. For asserting an error's code, message and details. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** What `f` throws, asserted to be an instance of `type` (the test fails otherwise, or if it returns). */
export function thrownAs<E extends Error>(f: () => unknown, type: abstract new (...args: never[]) => E): E {
  const err = thrown(f);
  expect(err).toBeInstanceOf(type);
  return err as E;
}
