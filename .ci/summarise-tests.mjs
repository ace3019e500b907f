// Prints the suite's closing line in the plain form CI reads: "N passed, N failed, N skipped".
// A test file that fails outside any test (its beforeAll, its imports) counts as one failure:
// vitest reports its tests as skipped, and "0 failed" would hide it.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
let postgres = 0;
let filesFailedOutsideTests = 0;
for (const file of report.testResults ?? []) {
  const testFailed = (file.assertionResults ?? []).some((test) => test.status === 'failed');
  if (file.status === 'failed' && !testFailed) {
    filesFailedOutsideTests += 1;
    console.error(`FAILED outside its tests (set-up or import; its error is printed above): ${file.name}`);
  }
  for (const test of file.assertionResults ?? []) {
    if (test.status === 'passed' && /postgres/i.test(test.fullName ?? '')) postgres += 1;
  }
}
console.log(`PostgreSQL tests passed: ${postgres}`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + filesFailedOutsideTests} failed, ${skipped} skipped`);
if (process.env.DATABASE_URL && postgres === 0) {
  console.error('DATABASE_URL is set but no PostgreSQL test passed: the PostgreSQL suite did not run');
  process.exit(1);
}
if (filesFailedOutsideTests > 0) process.exit(1);
