// SPDX-License-Identifier: MIT
//
// The check build's leak and fault tests, run by `npm run test:check`. Each
// runs test/check/driver.ts in a process of its own with LeakSanitizer on
// (see there why), and passes only if that process ends by itself with no
// finding from ASan, LeakSanitizer or UBSan and none of the driver's own
// checks failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { kernel, root } from '../integration/kernel.js';

interface Result {
  problems: string[];
  storm?: number;
  overflowLost?: number;
  startFaults?: FaultResult;
  filterFaults?: FaultResult;
}
interface FaultResult {
  calls: Record<string, number>;
  runs: number;
  errors: number;
  recovered: string[];
}

/** Runs the driver's phases with leak detection on; resolves with its result, stderr and exit. */
function drive(phases: string): Promise<{ code: number | null; signal: string | null; stderr: string; result?: Result }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsEntryArgs(join(root, 'test', 'check', 'driver.ts')), phases], {
      cwd: root,
      env: {
        ...process.env,
        // On top of scripts/test-check.sh's options: leaks judged at exit,
        // reported on stderr (not in log files) so a failure shows them.
        ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:detect_leaks=1:log_path=stderr`,
        LSAN_OPTIONS: `suppressions=${join(root, 'test', 'check', 'lsan.supp')}:print_suppressions=0`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({ code, signal, stderr, result: line ? (JSON.parse(line.slice(7)) as Result) : undefined });
    });
  });
}

/** No sanitizer said anything. */
function expectNoFinding(stderr: string): void {
  expect(stderr).not.toMatch(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer/);
}

// That this is the check build, test/check/setup.ts makes sure.
describe.skipIf(!kernel)('the check build, with LeakSanitizer on', () => {
  it('leaks nothing through start/stop cycles, a storm, an overflow and a worker ended without stop()', { timeout: 300_000 }, async () => {
    const { code, signal, stderr, result } = await drive('cycles,storm,overflow,worker');
    expectNoFinding(stderr);
    expect({ code, signal }, stderr.slice(-4000)).toEqual({ code: 0, signal: null });
    expect(result?.problems).toEqual([]);
    expect(result?.storm).toBe(1000);
    expect(result?.overflowLost).toBeGreaterThan(0);
  });

  it('makes every call of start() and setFilter() fail in turn: a typed error each, nothing left behind, nothing leaked', { timeout: 600_000 }, async () => {
    const { code, signal, stderr, result } = await drive('faults');
    expectNoFinding(stderr);
    expect({ code, signal }, stderr.slice(-4000)).toEqual({ code: 0, signal: null });
    expect(result?.problems).toEqual([]);
    const start = result!.startFaults!;
    const filter = result!.filterFaults!;
    // Every point is reached by start(), and most injected failures are
    // fatal (libbpf gets over some bpf() calls: a feature probe, BTF, map
    // creation retried without BTF, a load repeated for its log, an
    // optional map binding; those tracers were checked to work).
    for (const point of ['open', 'load', 'attach', 'seed', 'ringbuf', 'bpf', 'epoll', 'mmap', 'fd']) expect(start.calls[point]).toBeGreaterThan(0);
    expect(start.errors).toBeGreaterThan(start.runs / 2);
    expect(filter.errors).toBeGreaterThan(filter.runs / 2);
    console.log(
      `[check] start(): ${start.runs} injected failures, ${start.errors} typed errors, ${start.recovered.length} recovered by libbpf; ` +
        `setFilter(): ${filter.runs}, ${filter.errors}, ${filter.recovered.length}`,
    );
  });
});
