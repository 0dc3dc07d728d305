// SPDX-License-Identifier: MIT
//
// The end and the start of processes: exit events with the code, signal or
// core dump the test caused, exactly one per process whatever its threads
// do, fork events for new processes only, and the identities that tie a
// process's execs, fork and exit together.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecEvent, ExitEvent, ForkEvent } from '../../lib/index.js';
import { fixture, kernel, patience, realBinding, run, traceDuring, uniqueTag } from './kernel.js';

interface Seen {
  execs: ExecEvent[];
  exits: ExitEvent[];
  forks: ForkEvent[];
}

/** Traces while `body` runs, keeping every event of each kind; none may be lost. */
async function trace(body: () => Promise<void>, options: { exits?: boolean; forks?: boolean } = {}): Promise<Seen> {
  const { events: execs, exits, forks, tracer } = await traceDuring(body, options, { keep: ['exit', 'fork'] });
  expect(tracer.stats().lost).toBe(0);
  return { execs, exits, forks };
}

const exitsOf = (seen: Seen, pid: number) => seen.exits.filter((e) => e.pid === pid);

/** Runs `file args`, measuring the boot-clock span it lived in. */
async function timed(file: string, args: string[], options: Parameters<typeof run>[2] = {}) {
  const before = realBinding().bootTimeNs();
  const result = await run(file, args, options);
  const after = realBinding().bootTimeNs();
  return { ...result, before, after };
}

const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-exits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!kernel)('exits, forks and identities, on the real kernel', () => {
  it('reports an exit code, with the identity of the process and of its last image', async () => {
    const tag = uniqueTag('exit3');
    let r!: Awaited<ReturnType<typeof timed>>;
    const seen = await trace(async () => {
      r = await timed('sh', ['-c', 'exit 3', tag]);
    });
    expect(r.code).toBe(3);
    const [exit, ...more] = exitsOf(seen, r.pid);
    expect(more).toHaveLength(0);
    const exec = seen.execs.find((e) => e.pid === r.pid)!;
    expect(exit).toMatchObject({ exitCode: 3, signal: undefined, coreDumped: false, comm: 'sh', ppid: process.pid });
    expect(exit!.processId).toBe(exec.processId);
    expect(exit!.execId).toBe(exec.execId);
    // It lived within the span the test measured around it.
    expect(exit!.startBootNs).toBeGreaterThanOrEqual(r.before);
    expect(exit!.bootNs).toBeLessThanOrEqual(r.after);
    expect(exit!.durationNs).toBeGreaterThan(0n);
    expect(exit!.durationNs).toBeLessThanOrEqual(r.after - r.before);
  });

  it('reports the signal that ended a process, and whether the kernel dumped its core', async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    // A core written as a file in the process's directory: the kernel's default.
    expect(pattern.startsWith('|'), `core_pattern is a pipe (${pattern}): cores would go to a helper`).toBe(false);
    let killed = 0;
    let noCore = 0;
    let withCore = 0;
    let aborted = 0;
    const seen = await trace(async () => {
      const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, patience(100)));
      sleeper.kill('SIGKILL');
      await once(sleeper, 'close');
      killed = sleeper.pid!;
      noCore = (await run('sh', ['-c', 'ulimit -c 0; kill -SEGV $$'], { cwd: dir })).pid;
      withCore = (await run('sh', ['-c', 'ulimit -c unlimited; kill -SEGV $$'], { cwd: dir })).pid;
      // abort(3) itself, and no core: Node's would be large.
      aborted = (await run('sh', ['-c', 'ulimit -c 0; exec "$0" -e "process.abort()"', process.execPath], { cwd: dir })).pid;
    });
    expect(exitsOf(seen, killed)).toMatchObject([{ signal: 'SIGKILL', signalNumber: 9, exitCode: undefined, coreDumped: false }]);
    expect(exitsOf(seen, noCore)).toMatchObject([{ signal: 'SIGSEGV', signalNumber: 11, coreDumped: false }]);
    expect(exitsOf(seen, withCore)).toMatchObject([{ signal: 'SIGSEGV', signalNumber: 11, coreDumped: true }]);
    // Signal 6 by its first name, as Node's 'exit' event gives it; glibc also calls it SIGIOT.
    expect(exitsOf(seen, aborted)).toMatchObject([{ signal: 'SIGABRT', signalNumber: 6, coreDumped: false }]);
  });

  it('reports one exit per process, whichever of its threads end first or together', async () => {
    const threads = fixture('threads');
    const results: Record<string, { pid: number; code: number | null }> = {};
    const seen = await trace(async () => {
      for (const mode of ['threads-first', 'leader-first', 'together']) results[mode] = await run(threads, [mode]);
    });
    const expected: Record<string, number> = { 'threads-first': 5, 'leader-first': 7, together: 9 };
    for (const [mode, { pid, code }] of Object.entries(results)) {
      expect(code, mode).toBe(expected[mode]);
      const exits = exitsOf(seen, pid);
      expect(exits, mode).toHaveLength(1);
      expect(exits[0]!.exitCode, mode).toBe(expected[mode]);
    }
  });

  it('reports a zombie when it exits, not when it is reaped', async () => {
    const results: Record<string, number> = {};
    const seen = await trace(async () => {
      const r = await run('sh', ['-c', '(exit 4) & echo $!; sleep 0.3; wait $!; echo reaped $?']);
      expect(r.stdout).toMatch(/reaped 4/);
      results.zombie = Number(r.stdout.split('\n')[0]);
      results.shell = r.pid;
    });
    const zombie = exitsOf(seen, results.zombie!);
    expect(zombie).toMatchObject([{ exitCode: 4 }]);
    const shell = exitsOf(seen, results.shell!)[0]!;
    // The child ended ~0.3 s before its parent reaped it and exited.
    expect(shell.bootNs - zombie[0]!.bootNs).toBeGreaterThan(200_000_000n);
  });

  it('gives one process two execs one processId and two execIds, and names its parent\'s image', async () => {
    let pid = 0;
    const seen = await trace(async () => {
      pid = (await run('sh', ['-c', 'exec sleep 0'])).pid;
    });
    const execs = seen.execs.filter((e) => e.pid === pid);
    expect(execs.map((e) => e.comm)).toEqual(['sh', 'sleep']);
    const [sh, sleep] = execs as [ExecEvent, ExecEvent];
    expect(sleep.processId).toBe(sh.processId);
    expect(sleep.execId).not.toBe(sh.execId);
    // The kernel's count of execs goes up by one.
    const seq = (id: string) => BigInt(id.split(':')[2]!);
    expect(seq(sleep.execId)).toBe(seq(sh.execId) + 1n);
    // Both execs' parent is this test's process, running the same image.
    expect(sh.parentProcessId).toBe(sleep.parentProcessId);
    expect(sleep.parentExecId).toBe(sh.parentExecId);
    expect(sleep.parentExecId!.startsWith(`${process.pid}:`)).toBe(true);
    // The exit names the last image.
    expect(exitsOf(seen, pid)).toMatchObject([{ processId: sh.processId, execId: sleep.execId }]);
  });

  it('reports forks of processes, not of threads, only when asked', async () => {
    let shell = 0;
    let threaded = 0;
    const seen = await trace(
      async () => {
        const r = await run('sh', ['-c', '(echo $(sh -c \'echo $PPID\')); echo done']);
        shell = r.pid;
        threaded = (await run(fixture('threads'), ['threads-first'])).pid;
      },
      { forks: true },
    );
    const shExec = seen.execs.find((e) => e.pid === shell && e.comm === 'sh')!;
    const children = seen.forks.filter((f) => f.ppid === shell);
    expect(children.length).toBeGreaterThanOrEqual(1);
    for (const f of children) {
      expect(f.parentProcessId).toBe(shExec.processId);
      // A forked child runs its parent's image until it execs.
      expect(f.execId.split(':')[2]).toBe(shExec.execId.split(':')[2]);
      expect(f.execId.startsWith(`${f.processId}:`)).toBe(true);
      expect(f.comm).toBe('sh');
    }
    // The spawn of each process by this test is a fork too; its threads are not.
    expect(seen.forks.filter((f) => f.pid === threaded)).toHaveLength(1);
    expect(seen.forks.filter((f) => f.ppid === threaded)).toHaveLength(0);
    // Every process that forked here also ended, exactly once.
    for (const f of seen.forks) expect(exitsOf(seen, f.pid).length, `exit of ${f.pid}`).toBeLessThanOrEqual(1);

    const quiet = await trace(() => run('true', []).then(() => {}));
    expect(quiet.forks).toHaveLength(0);
  });

  it('reports no exit when exits are off', async () => {
    let pid = 0;
    const seen = await trace(async () => {
      pid = (await run('sh', ['-c', 'exit 6'])).pid;
    }, { exits: false });
    expect(seen.execs.some((e) => e.pid === pid)).toBe(true);
    expect(seen.exits).toHaveLength(0);
  });
});
