import { configDefaults, defineConfig } from 'vitest/config';

// One config for the whole suite. Tests run against the TypeScript sources; tests that need the
// compiled worker or WASM use build/ and dist/, which `npm test` builds first.
//
// Two groups: everything else in parallel first, then the multi-process node networks
// (test/e2e/node) one file at a time. A file there runs up to six node processes, each with its
// own worker pool, on slots of a second or less; two such networks at once on a 2-core machine
// starve each other's clocks, which is a test artefact, not a property of the node.
const shared = {
  // Native modules (lmdb, uWS) and worker threads are happiest in child processes.
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

// Extra exclusions for one run (CI's Node 22 pass), comma-separated globs. The CLI's --exclude does
// not reach a project that sets its own `exclude`, so both projects read this instead.
const runExcludes = (process.env['VITEST_EXCLUDE'] ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

export default defineConfig({
  test: {
    // CI runs the end-to-end suites a second time on Node 22 and points this at another file.
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON ?? 'test-results/vitest.json' }]],
    projects: [
      {
        test: {
          ...shared,
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/node/**', ...runExcludes],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'networks',
          include: ['test/e2e/node/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...runExcludes],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
