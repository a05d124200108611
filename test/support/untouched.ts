/**
 * A dependency the path under test must not reach: any property read throws, failing the test.
 * Stands in for heavy collaborators (the Snowball engine, the transport) on paths that never use
 * them, so a test that builds the real component around it proves they stay unused.
 */
export const untouched = <T>(name: string): T =>
  new Proxy({} as object, {
    get: (_t, prop) => {
      throw new Error(`${name}.${String(prop)} used on a path that must not reach it`);
    },
  }) as T;
