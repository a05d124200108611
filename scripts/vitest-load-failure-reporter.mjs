// A vitest reporter for mutation runs only (vitest.mutation.config.mjs): a test file that fails to
// load becomes one failed test, so Stryker counts the mutant that broke the load as Killed.
//
// Why: Stryker's vitest runner (9.6.1, 10.0) reads the tests vitest collected; a file whose import
// throws collects none, so a static mutant that makes a module throw while loading (e.g. a domain
// tag built by asciiBytes at import time) was reported Survived with 0 tests run
// (stryker-js issue #6150). Appending a failed test to such a file, before the run's results are
// read, restores the obvious verdict. Files that loaded are left alone.

function hasTests(suite) {
  return suite.tasks.some((task) => task.type === 'test' || (task.type === 'suite' && hasTests(task)));
}

export default class LoadFailureAsFailedTest {
  onTestRunEnd(testModules) {
    for (const testModule of testModules) {
      const file = testModule.task;
      if (file.result?.state !== 'fail' || hasTests(file)) continue;
      file.tasks.push({
        type: 'test',
        id: `${file.id}_load_failure`,
        name: 'test file failed to load',
        mode: 'run',
        file,
        suite: undefined,
        meta: {},
        context: undefined,
        annotations: [],
        artifacts: [],
        timeout: 0,
        result: { state: 'fail', errors: file.result.errors ?? [{ message: 'test file failed to load' }] },
      });
    }
  }
}
