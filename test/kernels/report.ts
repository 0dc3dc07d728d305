// SPDX-License-Identifier: MIT
//
// What a guest's console says: the guest's /init prints vitest's JSON report,
// base64-encoded, between two marker lines (test/kernels/guest-init.sh).
// Everything else on the console is the test output and the kernel's own.

const BEGIN = '@@exec-tracer-report-begin';
const END = '@@exec-tracer-report-end';
export const NO_REPORT = 'the guest printed no report (see its console)';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

export interface GuestReport {
  counts: { passed: number; failed: number; skipped: number };
  /** Everything that makes the kernel's run a failure; empty when it passed. */
  problems: string[];
}

function lines(consoleText: string): string[] {
  return consoleText.replaceAll('\r', '').split('\n');
}

/** Reads the report off a console, and says what is wrong with the run. */
export function readReport(consoleText: string): GuestReport {
  const all = lines(consoleText);
  // A marker can follow escape sequences vitest left on the same line.
  const begin = all.findIndex((l) => l.includes(BEGIN));
  const end = all.findIndex((l, i) => i > begin && l.includes(END));
  const counts = { passed: 0, failed: 0, skipped: 0 };
  if (begin < 0 || end < 0) return { counts, problems: [NO_REPORT] };
  const rc = Number(/rc=(\d+)/.exec(all[begin]!)?.[1] ?? NaN);
  const encoded = all.slice(begin + 1, end).join('');
  if (encoded === '') return { counts, problems: [`vitest wrote no report (exit code ${rc})`] };
  let report: VitestReport;
  try {
    report = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as VitestReport;
  } catch (error) {
    return { counts, problems: [`the report does not parse: ${(error as Error).message}`] };
  }
  counts.passed = report.numPassedTests;
  counts.failed = report.numFailedTests;
  counts.skipped = report.numPendingTests + report.numTodoTests;
  const problems: string[] = [];
  for (const file of report.testResults) {
    const name = file.name.replace(/^\/project\//, '');
    if (file.status === 'failed' && file.assertionResults.length === 0)
      problems.push(`${name} did not run: ${file.message ?? ''}`.trim());
    for (const test of file.assertionResults.filter((t) => t.status === 'failed')) {
      const message = test.failureMessages.join('\n').split('\n').slice(0, 6).join('\n      ');
      problems.push(`${test.fullName}\n      ${message}`);
    }
  }
  // CI=true in the guest: a real-kernel test must run, never skip.
  if (counts.skipped > 0) problems.push(`${counts.skipped} test(s) skipped`);
  if (counts.passed + counts.failed === 0) problems.push('no test ran');
  if (rc !== 0 && problems.length === 0) problems.push(`vitest exited with ${rc}`);
  return { counts, problems };
}

/** The console as a reader wants it: the encoded report left out. */
export function withoutReport(consoleText: string): string {
  const all = lines(consoleText);
  const begin = all.findIndex((l) => l.includes(BEGIN));
  const end = all.findIndex((l, i) => i > begin && l.includes(END));
  if (begin < 0 || end < 0) return all.join('\n');
  return [...all.slice(0, begin + 1), '(the encoded report)', ...all.slice(end)].join('\n');
}
