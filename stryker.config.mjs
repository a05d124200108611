// StrykerJS configuration for `npm run mutate -- <module>` (scripts/mutate.mjs), which sets
// MUTATE_MODULE; `MUTATE_MODULE=ledger npx stryker run` works the same without the summary.
// One module per run: its source files are mutated and only the test files mapped to it in
// scripts/mutation-modules.mjs run (vitest.mutation.config.mjs), each mutant against the tests
// that cover it (perTest); a static mutant (module-level code) runs all of the module's tests.
import { mutationPaths, resolveModule } from './scripts/mutation-modules.mjs';

const module = resolveModule(process.env.MUTATE_MODULE);
const paths = mutationPaths(module.slug);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: {
    // The project's vitest config with `include` narrowed to the module's test files (see there
    // why not Stryker's testFiles option).
    configFile: 'vitest.mutation.config.mjs',
    // The include list already names the tests; vitest's import-graph filter would drop the ones
    // that reach the module only through a helper (test/support).
    related: false,
  },
  coverageAnalysis: 'perTest',
  mutate: module.mutate,
  // No type checker: @stryker-mutator/typescript-checker drives the TypeScript compiler API, which
  // TypeScript 7 (the native compiler this project uses) does not ship. Mutants that would not
  // type-check still run; they are killed or reported like any other.
  checkers: [],
  // Stryker rewrites tsconfig.json paths that point outside its sandbox, parsing the file with the
  // TypeScript compiler API, which TypeScript 7 lacks (the run stops with "parseConfigFileTextToJson
  // is not a function"). Our tsconfig has no such paths (no extends, no references), so name a file
  // that does not exist and the rewrite is skipped.
  tsconfigFile: 'no-tsconfig-rewrite-needed.json',
  // Reruns only test mutants in code or tests that changed since the committed incremental file.
  incremental: true,
  incrementalFile: paths.incrementalFile,
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: paths.htmlReport },
  jsonReporter: { fileName: paths.jsonReport },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0, reportScoreTable: true },
  thresholds: { high: module.target ?? 80, low: Math.max(0, (module.target ?? 80) - 10), break: null },
  // Two cores shared by the whole team: one test runner unless asked for more.
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  // The machine is shared, so a slow run is not a hang: leave room before calling a timeout.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 15,
  // Not needed by any test; keeps the sandbox copy small. build/ (WASM) and dist/ (pool workers)
  // stay: tests load them.
  ignorePatterns: ['reports', 'test-results', 'coverage', 'bench/results', '.data'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
