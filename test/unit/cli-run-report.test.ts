// SPDX-License-Identifier: MIT
//
// What `exec-tracer -- CMD` prints at the end: the summary line and --tree's
// whole tree, from a run recorded through a real ExecTracer on the mock binding.
import { describe, expect, it } from 'vitest';
import { runCounts, runSummary, runTreeLines } from '../../cli/run-report.js';
import { recordRun, RunScript } from '../helpers/runs.js';

const MS = 1_000_000n;

async function buildRun() {
  const s = new RunScript(1000);
  const root = s.fork(undefined, 10n * MS);
  s.exec(root, undefined, 10n * MS, ['make', '-j2']);
  const a = s.fork(root, 12n * MS, 'make');
  s.exec(a, root, 13n * MS, ['/bin/sh', '-c', 'cc -c a.c']);
  const cc = s.fork(a, 14n * MS);
  s.exec(cc, a, 15n * MS, ['cc', '-c', 'a.c']);
  s.exit(cc, a, 40n * MS, 0, 'cc');
  s.exit(a, root, 41n * MS, 0);
  const b = s.fork(root, 16n * MS, 'make');
  s.exec(b, root, 17n * MS, ['sh', '-c', 'kill -TERM $$']);
  s.exit(b, root, 18n * MS, 15);
  const sub = s.fork(root, 19n * MS, 'make');
  s.exit(sub, root, 20n * MS, 2 << 8, 'make');
  s.exit(root, undefined, 50n * MS, 0, 'make');
  return recordRun(s.ordered(), { rootPid: root.pid, exitStatus: 0 });
}

describe('the end of -- CMD', () => {
  it('draws the whole tree once, each process with how it ended and how long it lived', async () => {
    const run = await buildRun();
    expect(runTreeLines(run, 20)).toEqual([
      'make(1000) make -j2  [exit 0, 40.0ms]',
      '├─ sh(1001) /bin/sh -c \'cc -c a.c\'  [exit 0, 29.0ms]',
      '│  └─ cc(1002) cc -c a.c  [exit 0, 26.0ms]',
      '├─ sh(1003) sh -c \'kill -TERM $$\'  [killed by SIGTERM, 2.00ms]',
      '└─ make(1004) (fork of make)  [exit 2, 1.00ms]',
    ]);
    // --npm's label goes before a process's name; --max-args cuts the arguments.
    const labelled = runTreeLines(run, 1, (p) => (p.comm === 'cc' ? '[dep@1.0.0 install] ' : ''));
    expect(labelled[2]).toBe('│  └─ [dep@1.0.0 install] cc(1002) cc ...  [exit 0, 26.0ms]');
  });

  it('sums up the run: how CMD ended, execs, failed execs, processes, the deepest chain, lost', async () => {
    const run = await buildRun();
    expect(runCounts(run)).toEqual({ execs: 4, failedExecs: 0, processes: 5, deepestChain: 3 });
    expect(runSummary(['make', '-j2'], { code: 0, signal: null, status: 0 }, 1_234_000_000n, run)).toBe(
      'exec-tracer: make -j2 exited 0 after 1.23s: 4 execs, 0 failed, 5 processes, deepest chain 3, 0 lost',
    );
    expect(runSummary(['make'], { code: null, signal: 'SIGTERM', status: 143 }, 5_000n, run)).toMatch(
      /^exec-tracer: make killed by SIGTERM \(status 143\) after 5µs: /,
    );
  });
});
