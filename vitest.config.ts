import { defineConfig } from 'vitest/config';

// One config for the whole suite. Tests run against the TypeScript sources; tests that need the
// compiled worker or WASM use build/ and dist/, which `npm test` builds first.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native modules (lmdb, uWS) and worker threads are happiest in child processes.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CI runs the end-to-end suites a second time on Node 22 and points this at another file.
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON ?? 'test-results/vitest.json' }]],
  },
});
