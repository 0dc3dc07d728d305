// SPDX-License-Identifier: MIT
//
// The kernel matrix decides pass or fail from what a guest's console says
// (test/kernels/report.ts): these are the consoles it must read right.
import { describe, expect, it } from 'vitest';
import { NO_REPORT, readReport, withoutReport } from '../../test/kernels/report.js';

interface Test { fullName: string; status: 'passed' | 'failed' | 'skipped'; failureMessages?: string[] }

function report(files: Record<string, Test[] | { loadError: string }>) {
  const tests = Object.values(files).flatMap((f) => (Array.isArray(f) ? f : []));
  return {
    numPassedTests: tests.filter((t) => t.status === 'passed').length,
    numFailedTests: tests.filter((t) => t.status === 'failed').length,
    numPendingTests: tests.filter((t) => t.status === 'skipped').length,
    numTodoTests: 0,
    testResults: Object.entries(files).map(([name, f]) =>
      Array.isArray(f)
        ? {
            name: `/project/${name}`,
            status: f.some((t) => t.status === 'failed') ? 'failed' : 'passed',
            assertionResults: f.map((t) => ({ failureMessages: [], ...t })),
          }
        : { name: `/project/${name}`, status: 'failed', message: f.loadError, assertionResults: [] },
    ),
  };
}

/** A console as the serial port delivers it: CRLF, vitest's escapes, base64 wrapped at 76. */
function consoleWith(body: unknown, rc = 0): string {
  const encoded = Buffer.from(JSON.stringify(body)).toString('base64').match(/.{1,76}/g)!;
  return [
    'exec-tracer-guest: Linux 6.1.0-50-amd64 x86_64, 1 CPU(s), up 7.84 s',
    ' ✓ test/integration/exec.kernel.test.ts (9 tests)',
    `\x1b[?25h@@exec-tracer-report-begin rc=${rc} uptime=125.63@@`,
    ...encoded,
    '@@exec-tracer-report-end@@',
    '[  126.1] reboot: Power down',
  ].join('\r\n');
}

describe("a guest's report", () => {
  it('passes a run where every test passed, and counts them', () => {
    const text = consoleWith(report({ 'test/integration/a.kernel.test.ts': [{ fullName: 'a works', status: 'passed' }] }));
    expect(readReport(text)).toEqual({ counts: { passed: 1, failed: 0, skipped: 0 }, problems: [] });
  });

  it('names each failed test with the start of its message', () => {
    const text = consoleWith(
      report({
        'test/integration/a.kernel.test.ts': [
          { fullName: 'a works', status: 'passed' },
          { fullName: 'a storm loses nothing', status: 'failed', failureMessages: ['AssertionError: expected 99 to be 100\n    at x'] },
        ],
      }),
      1,
    );
    const { counts, problems } = readReport(text);
    expect(counts).toEqual({ passed: 1, failed: 1, skipped: 0 });
    expect(problems).toEqual(['a storm loses nothing\n      AssertionError: expected 99 to be 100\n          at x']);
  });

  it('fails a run in which a test skipped, or none ran, or a file did not load', () => {
    expect(readReport(consoleWith(report({ 'a.test.ts': [{ fullName: 'x', status: 'skipped' }] }))).problems).toEqual([
      '1 test(s) skipped',
      'no test ran',
    ]);
    expect(readReport(consoleWith(report({ 'test/integration/b.kernel.test.ts': { loadError: 'Cannot find module' } }), 1)).problems).toEqual([
      'test/integration/b.kernel.test.ts did not run: Cannot find module',
      'no test ran',
    ]);
  });

  it('fails a run whose vitest failed without a failed test', () => {
    const text = consoleWith(report({ 'a.test.ts': [{ fullName: 'x', status: 'passed' }] }), 1);
    expect(readReport(text).problems).toEqual(['vitest exited with 1']);
  });

  it('fails a console with no report, an empty one, or one cut short', () => {
    expect(readReport('Kernel panic - not syncing: Attempted to kill init!\r\n').problems).toEqual([NO_REPORT]);
    expect(readReport('@@exec-tracer-report-begin rc=1 uptime=3@@\n@@exec-tracer-report-end@@\n').problems).toEqual([
      'vitest wrote no report (exit code 1)',
    ]);
    const cut = consoleWith(report({})).replace(/\r\n[A-Za-z0-9+/=]{76}\r\n/, '\r\n');
    expect(readReport(cut).problems[0]).toMatch(/^the report does not parse/);
  });

  it('leaves the encoded report out of the console shown to a reader', () => {
    const shown = withoutReport(consoleWith(report({ 'a.test.ts': [{ fullName: 'x', status: 'passed' }] })));
    expect(shown).toContain(' ✓ test/integration/exec.kernel.test.ts (9 tests)');
    expect(shown).toContain('(the encoded report)');
    expect(shown).not.toMatch(/^[A-Za-z0-9+/=]{40,}$/m);
    expect(shown).not.toContain('\r');
  });
});
