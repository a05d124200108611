// Prints the vitest JSON reports named on the command line as the plain totals line CI reads:
// "N passed, N failed" (summed over every report; a missing report counts as one failure).
// Above it, each failure by file and name with the head of its message: CI keeps only the tail of
// the log, and a red run must say what failed without a rerun.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

/** The first lines of a failure message, without colour codes, for a one-glance reason. */
function firstLines(message, lines = 6) {
  return stripVTControlCharacters(String(message ?? ''))
    .split('\n')
    .slice(0, lines)
    .join('\n    ');
}

const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-results/vitest.json'];
let passed = 0;
let failed = 0;
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`no test report at ${file}: ${err.message}`);
    failed += 1;
    continue;
  }
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name);
    if (suite.status === 'failed' && !(suite.assertionResults ?? []).some((t) => t.status === 'failed')) {
      console.error(`FAILED ${where}: ${firstLines(suite.message)}`);
    }
    for (const test of suite.assertionResults ?? []) {
      if (test.status === 'failed') {
        console.error(
          `FAILED ${where} > ${test.fullName}: ${firstLines((test.failureMessages ?? []).join('\n'))}`,
        );
      }
    }
  }
  const suiteFailedWithoutTests = report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? 1 : 0;
  console.error(
    `${file}: ${report.numPassedTests} passed, ${report.numFailedTests + suiteFailedWithoutTests} failed`,
  );
  passed += report.numPassedTests;
  failed += report.numFailedTests + suiteFailedWithoutTests;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
