// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { outcomeOf, RunRecorder } from '../../cli/run.js';
import { MockBinding } from '../helpers/mock-binding.js';
import { madeUpBuild, recordRun, RunScript } from '../helpers/runs.js';

const MS = 1_000_000n;

/** A held command (pid 1000) that runs a shell script; its processes as RunScript writes them. */
function script() {
  const s = new RunScript(1000);
  const root = s.fork(undefined, 10n * MS);
  s.exec(root, undefined, 10n * MS, ['sh', '-c', 'build']);
  return { s, root };
}

describe('RunRecorder', () => {
  it('builds the tree from forks, execs and exits: depth first, children by start, times from the first event', async () => {
    const { s, root } = script();
    const late = s.fork(root, 30n * MS);
    s.exec(late, root, 31n * MS, ['/bin/late']);
    s.exit(late, root, 40n * MS, 0);
    const early = s.fork(root, 20n * MS);
    s.exec(early, root, 21n * MS, ['/usr/bin/cc', '-c', 'a.c']);
    const sub = s.fork(early, 22n * MS, 'cc');
    s.exit(sub, early, 25n * MS, 0, 'cc');
    s.exit(early, root, 26n * MS, 0, 'cc');
    s.exit(root, undefined, 50n * MS, 0);
    const run = await recordRun(s.ordered(), { rootPid: root.pid, exitStatus: 0 });

    expect(run.processes.map((p) => [p.pid, p.depth])).toEqual([
      [1000, 0],
      [1002, 1],
      [1003, 2],
      [1001, 1],
    ]);
    expect(run.command).toEqual(['sh', '-c', 'build']);
    expect(run.exitStatus).toBe(0);
    expect(run.durationMs).toBe(40);
    expect(run.lost).toBe(0);
    const [r, cc, child, lateP] = run.processes;
    expect(run.rootId).toBe(r!.id);
    expect(r).toMatchObject({ id: '1000:10000000', parentId: undefined, startMs: 0, endMs: 40, forkSeen: false, outcome: 'success', comm: 'sh' });
    expect(cc).toMatchObject({ parentId: r!.id, startMs: 10, endMs: 16, forkSeen: true, argv: ['/usr/bin/cc', '-c', 'a.c'], argvInherited: false, comm: 'cc' });
    expect(cc!.execs).toEqual([{ atMs: 11, filename: '/usr/bin/cc', argv: ['/usr/bin/cc', '-c', 'a.c'] }]);
    // Never exec'd: it ran its parent's image.
    expect(child).toMatchObject({ parentId: cc!.id, argv: ['/usr/bin/cc', '-c', 'a.c'], argvInherited: true, execs: [], comm: 'cc' });
    expect(lateP).toMatchObject({ startMs: 20, endMs: 30 });
    expect(run.childrenOf(r!.id).map((p) => p.pid)).toEqual([1002, 1001]);
    expect(run.childrenOf(undefined)).toEqual([r]);
    expect(run.childrenOf('nobody')).toEqual([]);
    // startTime is the first event's wall-clock time, and the run's length follows it.
    expect(Math.abs(run.startTime.getTime() - (Date.now() - 2000 + 10))).toBeLessThan(1000);
  });

  it('takes the outcome from the exit, and from a failed exec nothing followed', async () => {
    const { s, root } = script();
    const at = (ms: number) => BigInt(ms) * MS + 10n * MS;
    const make = (n: number) => s.fork(root, at(n));
    const ok = make(1);
    s.exit(ok, root, at(2), 0);
    const failed = make(3);
    s.exit(failed, root, at(4), 2 << 8);
    const crashed = make(5);
    s.exit(crashed, root, at(6), 11 | 0x80);
    const missing = make(7);
    s.execFailed(missing, root, at(8), './does-not-exist');
    s.exit(missing, root, at(9), 127 << 8);
    const searched = make(10);
    s.execFailed(searched, root, at(11), '/usr/local/bin/cc');
    s.exec(searched, root, at(12), ['/usr/bin/cc']);
    s.exit(searched, root, at(13), 0);
    const daemon = make(14);
    s.exec(daemon, root, at(15), ['/usr/bin/sccache', '--start-server']);
    s.exit(root, undefined, at(20), 0);
    const run = await recordRun(s.ordered(), { rootPid: root.pid });
    const byPid = new Map(run.processes.map((p) => [p.pid, p]));

    expect(byPid.get(ok.pid)).toMatchObject({ outcome: 'success', exit: { exitCode: 0, signal: undefined, coreDumped: false } });
    expect(byPid.get(failed.pid)).toMatchObject({ outcome: 'failure', exit: { exitCode: 2 } });
    expect(byPid.get(crashed.pid)).toMatchObject({
      outcome: 'signal',
      exit: { exitCode: undefined, signal: 'SIGSEGV', signalNumber: 11, coreDumped: true },
    });
    expect(byPid.get(missing.pid)).toMatchObject({ outcome: 'execFailed', exit: { exitCode: 127 } });
    expect(byPid.get(missing.pid)!.failedExecs).toEqual([{ atMs: 8, filename: './does-not-exist', code: 'ENOENT', errno: 2 }]);
    expect(byPid.get(searched.pid)).toMatchObject({ outcome: 'success', argv: ['/usr/bin/cc'] });
    expect(byPid.get(searched.pid)!.failedExecs).toHaveLength(1);
    expect(byPid.get(daemon.pid)).toMatchObject({ outcome: 'running', endMs: undefined, exit: undefined });
    expect(run.exitStatus).toBeUndefined();
  });

  it('orders a failed exec after a successful one as a failure to exec', () => {
    const exit = { exitCode: 127, signal: undefined, signalNumber: undefined, coreDumped: false };
    const exec = { atMs: 1, filename: '/bin/sh', argv: ['sh'] };
    const failed = { atMs: 2, filename: 'x', code: 'ENOENT', errno: 2 };
    expect(outcomeOf({ exit, execs: [exec], failedExecs: [failed] })).toBe('execFailed');
    expect(outcomeOf({ exit, execs: [{ ...exec, atMs: 3 }], failedExecs: [failed] })).toBe('failure');
    expect(outcomeOf({ exit: undefined, execs: [], failedExecs: [failed] })).toBe('execFailed');
    expect(outcomeOf({ exit: undefined, execs: [exec], failedExecs: [] })).toBe('running');
  });

  it('keeps every exec of a process, the last one naming it', async () => {
    const { s, root } = script();
    s.exec(root, undefined, 12n * MS, ['make', '-j4']);
    s.exit(root, undefined, 15n * MS, 0, 'make');
    const run = await recordRun(s.ordered(), { rootPid: root.pid, command: ['sh', '-c', 'exec make -j4'] });
    const [p] = run.processes;
    expect(run.processes).toHaveLength(1);
    expect(p).toMatchObject({ argv: ['make', '-j4'], comm: 'make', startMs: 0, endMs: 5 });
    expect(p!.execs.map((x) => [x.atMs, x.argv[0]])).toEqual([
      [0, 'sh'],
      [2, 'make'],
    ]);
    expect(run.command).toEqual(['sh', '-c', 'exec make -j4']);
  });

  it('places a process first seen at its exit (its fork and exec were lost) from its own start time, and counts the loss', async () => {
    const { s, root } = script();
    const ghost = { pid: 2000, start: 12n * MS };
    s.exit(ghost, root, 14n * MS, 0, 'ghost');
    const before = { pid: 2001, start: 1n * MS }; // started before the run
    s.exit(before, root, 16n * MS, 0, 'old');
    const run = await recordRun(s.ordered(), { rootPid: root.pid, dropped: 3 });
    const byPid = new Map(run.processes.map((p) => [p.pid, p]));
    expect(run.lost).toBe(3);
    // An exit names no parent: such a process stands at the top.
    expect(byPid.get(2000)).toMatchObject({ comm: 'ghost', startMs: 2, endMs: 4, parentId: undefined, depth: 0, argv: [] });
    expect(byPid.get(2001)).toMatchObject({ startMs: 0, endMs: 6 });
  });

  it("stretches the run to finish()'s end when a process is still running, and stops listening", async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ forks: true, exits: true, failedExecs: true }, { binding });
    const { s, root } = script();
    const recorder = new RunRecorder(tracer, { rootPid: root.pid });
    await tracer.start();
    binding.current.push(...s.ordered());
    expect(recorder.size).toBe(1);
    const first = recorder.run();
    expect(first.durationMs).toBe(0);
    const run = recorder.finish(143, new Date(first.startTime.getTime() + 2500));
    expect(run).toMatchObject({ exitStatus: 143, durationMs: 2500 });
    expect(run.processes[0]).toMatchObject({ outcome: 'running', endMs: undefined });
    s.exit(root, undefined, 20n * MS, 0);
    binding.current.push(...s.ordered().slice(1));
    expect(recorder.run().processes[0]!.exit).toBeUndefined();
    recorder.detach();
    await tracer.stop();
  });

  it('walks a chain thousands deep without recursion', async () => {
    const s = new RunScript(1000);
    let parent = s.fork(undefined, MS);
    s.exec(parent, undefined, MS, ['sh']);
    for (let i = 0; i < 5000; i++) parent = s.fork(parent, MS + BigInt(i + 1) * 1000n);
    const run = await recordRun(s.ordered(), { rootPid: 1000, batch: 1000 });
    expect(run.processes).toHaveLength(5001);
    expect(run.processes.at(-1)!.depth).toBe(5000);
  });

  it('records a made-up build of 2,000 processes with the outcomes it was made with', async () => {
    const build = madeUpBuild(2000);
    const run = await recordRun(build.records, { rootPid: build.rootPid });
    expect(run.processes).toHaveLength(build.counts.processes);
    const counts: Record<string, number> = {};
    for (const p of run.processes) counts[p.outcome] = (counts[p.outcome] ?? 0) + 1;
    const { processes, ...byOutcome } = build.counts;
    expect(counts).toEqual(Object.fromEntries(Object.entries(byOutcome).filter(([, n]) => n > 0)));
    expect(processes).toBeGreaterThanOrEqual(2000);
  });
});
