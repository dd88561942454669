// Prints vitest's JSON results as the plain line CI counts: "N passed, N failed".
// Before it, one line per failed test (file, name, the start of its failure
// message), so that the tail of a CI log says what failed and why.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const file = process.argv[2] ?? 'test/.tmp/vitest.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`test summary: ${file} was not written (vitest did not finish)`);
  process.exit(0);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const oneLine = (text, max) => {
  const flat = String(text)
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};
for (const suite of r.testResults ?? []) {
  const where = relative(process.cwd(), suite.name ?? '');
  const failed = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
  if (failed.length === 0 && suite.status === 'failed') console.log(`FAIL ${where}: ${oneLine(suite.message ?? 'the file failed to run', 600)}`);
  // A failure message is the error's text, then its stack ("\n    at …"): the text is what says why.
  const why = (a) => (a.failureMessages ?? []).map((m) => String(m).split(/\n\s+at /)[0]).join(' | ');
  for (const a of failed) console.log(`FAIL ${where} > ${a.fullName}: ${oneLine(why(a), 600)}`);
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
