/** What `f` throws; the test fails if it returns instead. For asserting an error's code, message and details. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
