// SPDX-License-Identifier: MIT
//
// chromeTrace() against the rules of the Trace Event Format (the JSON Object
// form) that Perfetto and chrome://tracing read: phases, units, metadata,
// instant scopes, flows bound to the slices they leave and enter.
import { describe, expect, it } from 'vitest';
import { chromeTrace, PID_REUSE_STRIDE, type TraceEvent } from '../../cli/trace-json.js';
import type { Run } from '../../cli/run.js';
import { madeUpBuild, recordRun, RunScript } from '../helpers/runs.js';

const MS = 1_000_000n;
const METADATA = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);

/** Every rule an event of this writer must keep; returns the trace's complete events by pid. */
function checkFormat(trace: ReturnType<typeof chromeTrace>, run: Run): Map<number, TraceEvent> {
  expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
  expect(trace.displayTimeUnit).toBe('ms');
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  const complete = new Map<number, TraceEvent>();
  const endUs = run.durationMs * 1000;
  for (const e of trace.traceEvents) {
    expect(['X', 'i', 'M', 's', 'f']).toContain(e.ph);
    expect(typeof e.name).toBe('string');
    expect(Number.isSafeInteger(e.pid) && e.pid > 0, JSON.stringify(e)).toBe(true);
    expect(Number.isSafeInteger(e.tid) && e.tid > 0).toBe(true);
    if (e.ph === 'M') {
      expect(METADATA.has(e.name), e.name).toBe(true);
      expect(e.ts).toBeUndefined();
      expect(e.args).toBeTypeOf('object');
      continue;
    }
    expect(Number.isFinite(e.ts) && e.ts! >= 0 && e.ts! <= endUs + 0.001, JSON.stringify(e)).toBe(true);
    if (e.ph === 'X') {
      expect(Number.isFinite(e.dur) && e.dur! >= 0).toBe(true);
      expect(e.ts! + e.dur!).toBeLessThanOrEqual(endUs + 0.001);
      // One complete event per track: nesting on a track can never be wrong.
      expect(complete.has(e.pid)).toBe(false);
      complete.set(e.pid, e);
    }
    if (e.ph === 'i') expect(['g', 'p', 't']).toContain(e.s);
  }
  // Flows: one start and one end per id, each inside the slice of its track.
  const flows = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents.filter((x) => x.ph === 's' || x.ph === 'f')) flows.set(e.id!, [...(flows.get(e.id!) ?? []), e]);
  for (const [id, pair] of flows) {
    expect(pair.map((e) => e.ph), `flow ${id}`).toEqual(['s', 'f']);
    expect(pair[1]!.bp).toBe('e');
    for (const e of pair) {
      const slice = complete.get(e.pid)!;
      expect(e.ts!).toBeGreaterThanOrEqual(slice.ts!);
      expect(e.ts!).toBeLessThanOrEqual(slice.ts! + slice.dur!);
    }
  }
  // Instants sit inside their process's slice too.
  for (const e of trace.traceEvents.filter((x) => x.ph === 'i')) {
    const slice = complete.get(e.pid)!;
    expect(e.ts!).toBeGreaterThanOrEqual(slice.ts!);
    expect(e.ts!).toBeLessThanOrEqual(slice.ts! + slice.dur! + 0.001);
  }
  return complete;
}

describe('chromeTrace', () => {
  it('writes a made-up build by the format: a track per process in tree order, an arrow per fork', async () => {
    const build = madeUpBuild(300);
    const run = await recordRun(build.records, { rootPid: build.rootPid, exitStatus: 0 });
    const trace = chromeTrace(run);
    const complete = checkFormat(trace, run);
    expect(complete.size).toBe(run.processes.length);
    expect(trace.traceEvents.filter((e) => e.ph === 's')).toHaveLength(run.processes.length - 1);
    const sortIndex = trace.traceEvents.filter((e) => e.name === 'process_sort_index');
    expect(sortIndex.map((e) => e.args!.sort_index)).toEqual(run.processes.map((_, i) => i));
    expect(sortIndex.map((e) => e.pid)).toEqual(run.processes.map((p) => p.pid));
    // Each flow leaves the parent's track for the child's, at the fork.
    const parentPid = new Map(run.processes.map((p) => [p.pid, run.processes.find((q) => q.id === p.parentId)?.pid]));
    for (const f of trace.traceEvents.filter((e) => e.ph === 'f')) {
      const s = trace.traceEvents.find((e) => e.ph === 's' && e.id === f.id)!;
      expect(s.pid).toBe(parentPid.get(f.pid));
      expect(s.ts).toBe(f.ts);
    }
    const crashed = [...complete.values()].find((e) => e.cat === 'process,signal')!;
    expect(crashed.args).toMatchObject({ signal: 'SIGSEGV', coreDumped: true, outcome: 'signal', exit: 'killed by SIGSEGV (11), core dumped' });
    const daemon = [...complete.values()].find((e) => e.cat === 'process,running')!;
    expect(daemon.args).toMatchObject({ running: true, argv: ['/usr/bin/sccache', '--start-server'] });
    expect(daemon.ts! + daemon.dur!).toBeCloseTo(run.durationMs * 1000, 3);
    const failed = trace.traceEvents.filter((e) => e.cat === 'execFailed');
    expect(failed).toHaveLength(build.counts.execFailed);
    expect(failed[0]).toMatchObject({ ph: 'i', s: 't', name: 'exec failed: ENOENT', args: { filename: './does-not-exist', errno: 2 } });
    expect(trace.otherData).toMatchObject({ command: ['make', '-j4'], exitStatus: 0, processes: run.processes.length, lostRecords: 0 });
  });

  it('keeps µs to the ns, names tracks by command line indented by depth, and marks re-execs', async () => {
    const s = new RunScript(1000);
    const root = s.fork(undefined, 10n * MS);
    s.exec(root, undefined, 10n * MS, ['sh', '-c', 'exec make']);
    s.exec(root, undefined, 10n * MS + 1_234_567n, ['make']);
    const child = s.fork(root, 12n * MS, 'make');
    s.exec(child, root, 12n * MS + 1n, ['cc', 'a b.c']);
    s.exit(child, root, 13n * MS, 0);
    s.exit(root, undefined, 14n * MS, 0);
    const run = await recordRun(s.ordered(), { rootPid: root.pid });
    const trace = chromeTrace(run);
    checkFormat(trace, run);
    const names = trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
    expect(names).toEqual(['make', "· cc 'a b.c'"]);
    const reexec = trace.traceEvents.find((e) => e.ph === 'i' && e.name === 'exec')!;
    expect(reexec).toMatchObject({ ts: 1234.567, pid: 1000, args: { argv: ['make'] } });
    const x = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(x.map((e) => [e.ts, e.dur])).toEqual([
      [0, 4000],
      [2000, 1000],
    ]);
    expect(trace.otherData.exitStatus).toBeUndefined();
  });

  it('gives a pid reused within the run a track of its own', async () => {
    const s = new RunScript(1000);
    const root = s.fork(undefined, 10n * MS);
    s.exec(root, undefined, 10n * MS, ['sh']);
    for (const start of [11n, 13n]) s.exit(s.fork(root, start * MS), root, (start + 1n) * MS, 0);
    const run = await recordRun(s.ordered(), { rootPid: root.pid });
    // The kernel gave both children pid 4242, one after the other.
    const reused: Run = { ...run, processes: run.processes.map((p, i) => (i === 0 ? p : { ...p, pid: 4242 })) };
    const trace = chromeTrace(reused);
    expect(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => e.pid)).toEqual([1000, 4242, 4242 + PID_REUSE_STRIDE]);
    checkFormat(trace, reused);
  });
});
