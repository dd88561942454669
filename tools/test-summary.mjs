// Prints vitest's JSON results as the plain line CI counts: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test/.tmp/vitest.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`test summary: ${file} was not written (vitest did not finish)`);
  process.exit(0);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
