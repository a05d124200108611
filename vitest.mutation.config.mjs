// The vitest configuration Stryker runs (stryker.config.mjs): the project's own, narrowed to the
// test files mapped to MUTATE_MODULE in scripts/mutation-modules.mjs.
//
// Why not Stryker's `testFiles` option: with it, Stryker 9.6.1 (and 10.0) activates static mutants
// (module-level code such as a regex constant) only after the module was imported, so tests that
// kill them still report them Survived (stryker-js issues #6144, #6209). Narrowing `include` here
// leaves Stryker without a test filter for static mutants, and it activates them before loading.
import { defineConfig } from 'vitest/config';
import { resolveModule } from './scripts/mutation-modules.mjs';
import LoadFailureAsFailedTest from './scripts/vitest-load-failure-reporter.mjs';
import base from './vitest.config.ts';

const module = resolveModule(process.env.MUTATE_MODULE);

// The project config splits the suite into vitest projects (the in-process suite, then the
// multi-process networks one file at a time). A root `include` is ignored once `projects` is set,
// so take the in-process project's settings (pool, timeouts) and drop the projects: otherwise every
// mutant would run the whole suite, networks included.
const { projects, ...rootTest } = base.test ?? {};
const suite = projects?.find((p) => p?.test?.name === 'suite')?.test ?? {};
const { name: _name, include: _include, exclude: _exclude, sequence: _sequence, ...suiteSettings } = suite;

export default defineConfig({
  test: {
    ...rootTest,
    ...suiteSettings,
    include: module.tests,
    // No JSON report inside the sandbox; a test file that fails to load counts as a failed test.
    reporters: ['default', new LoadFailureAsFailedTest()],
  },
});
