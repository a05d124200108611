// Prints the vitest JSON reports named on the command line as the plain totals line CI reads:
// "N passed, N failed" (summed over every report; a missing report counts as one failure).
import { readFileSync } from 'node:fs';

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
  const suiteFailedWithoutTests = report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? 1 : 0;
  console.error(
    `${file}: ${report.numPassedTests} passed, ${report.numFailedTests + suiteFailedWithoutTests} failed`,
  );
  passed += report.numPassedTests;
  failed += report.numFailedTests + suiteFailedWithoutTests;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
