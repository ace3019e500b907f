// Prints the suite's closing line in the plain form CI reads: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
let postgres = 0;
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (test.status === 'passed' && /postgres/i.test(test.fullName ?? '')) postgres += 1;
  }
}
console.log(`PostgreSQL tests passed: ${postgres}`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (process.env.DATABASE_URL && postgres === 0) {
  console.error('DATABASE_URL is set but no PostgreSQL test passed: the PostgreSQL suite did not run');
  process.exit(1);
}
