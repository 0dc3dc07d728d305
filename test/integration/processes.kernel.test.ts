// SPDX-License-Identifier: MIT
//
// The process table and failed execs, on the real kernel: a tree that was
// running before start() resolves exactly (seeded from the kernel with the
// identities later events carry), one started after resolves through fork
// and exec records, pids that repeat never mix, a storm's dead leave the
// table, and execs that fail say why.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecEvent, ExecFailedEvent, ExitEvent, ProcessInfo } from '../../lib/index.js';
import { ExecTracer } from '../../lib/index.js';
import { fixture, kernel, patience, run, scaled, testScale, uniqueTag } from './kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chain = (list: ProcessInfo[]) => list.map((p) => ({ pid: p.pid, comm: p.comm, argv: [...p.argv] }));

/** Waits until `check` holds, polling; false after `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * A shell tree: `sh -c "sh -c '<wait>; /bin/true TAG; exit 0'"` (two nested
 * shells, then a marked exec). The inner shell waits with `read` on a FIFO
 * (a builtin: no exec) until release() writes to it, or not at all.
 */
function startTree(tag: string, held: boolean) {
  const fifo = join(dir, `gate-${tag}`);
  if (held) execFileSync('mkfifo', [fifo]);
  const wait = held ? `read gate < ${fifo}` : 'true';
  const inner = `${wait}; /bin/true ${tag}; exit 0`;
  const child = spawn('sh', ['-c', `sh -c '${inner}' inner-${tag}; exit 0`, `outer-${tag}`], { stdio: 'ignore' });
  return { child, inner, release: () => writeFileSync(fifo, 'go\n') };
}

/**
 * The two storms take a fixed count of processes through the table, not a
 * fixed time: 10,000 execs take ~26 s and 100,000 forks ~100 s on these
 * 2-core VMs on a quiet day, and one that is slower that day must still get
 * to the end and check what the storm is for (nothing lost, memory bounded).
 */
const STORM_TIMEOUT_MS = 300_000;

describe.skipIf(!kernel)('the process table, on the real kernel', () => {
  it('resolves the ancestry of a tree started before start() exactly, with the seeded identities later events carry', async () => {
    const tag = uniqueTag('seeded');
    const { child: tree, inner: innerScript, release } = startTree(tag, true);
    const exited = once(tree, 'exit');
    // Both shells are running (the inner one waiting on its FIFO) before the tracer starts.
    const ps = () => readFileSync(`/proc/${tree.pid}/task/${tree.pid}/children`, 'utf8').trim();
    expect(await until(() => { try { return ps() !== ''; } catch { return false; } }, patience(3000))).toBe(true);
    const innerPid = Number(ps().split(' ')[0]);

    const tracer = new ExecTracer({ processTable: true });
    let marked: { event: ExecEvent; ancestors: ProcessInfo[] } | undefined;
    const exits: ExitEvent[] = [];
    tracer.on('exec', (e) => {
      if (e.argv[1] === tag) marked = { event: e, ancestors: e.ancestors() };
    });
    tracer.on('exit', (e) => exits.push(e));
    await tracer.start();
    const table = tracer.processes!;
    // Seeded from the kernel: both shells, with argv from /proc, marked as seeded.
    const outer = table.get(tree.pid!)!;
    const inner = table.get(innerPid)!;
    expect(outer).toMatchObject({ pid: tree.pid, ppid: process.pid, comm: 'sh', seeded: true });
    expect(outer.argv).toEqual(['sh', '-c', `sh -c '${innerScript}' inner-${tag}; exit 0`, `outer-${tag}`]);
    expect(inner).toMatchObject({ pid: innerPid, ppid: tree.pid, comm: 'sh', seeded: true });
    expect(inner.parent).toBe(outer);
    const seededIds = [outer.processId, inner.processId];
    try {
      release();
      await exited;
      expect(await until(() => exits.some((e) => e.pid === tree.pid), patience(2000))).toBe(true);
    } finally {
      await tracer.stop();
    }
    expect(marked, 'the marked exec under the seeded tree').toBeDefined();
    const { event, ancestors } = marked!;
    // `exec /bin/true` is not used: the marked exec is a child of the inner shell.
    expect(event.ppid).toBe(innerPid);
    expect(chain(ancestors).slice(0, 2)).toEqual([
      { pid: innerPid, comm: 'sh', argv: ['sh', '-c', innerScript, `inner-${tag}`] },
      { pid: tree.pid, comm: 'sh', argv: outer.argv },
    ]);
    // Then this test's own process, seeded too, with its real command line.
    expect(ancestors[2]).toMatchObject({ pid: process.pid, seeded: true });
    expect(ancestors[2]!.argv).toEqual(readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1));
    expect(ancestors.at(-1)!.pid).toBe(1);
    // The seeded processIds are, to the nanosecond, what their exits carry.
    const exitIds = exits.filter((e) => e.pid === tree.pid || e.pid === innerPid).map((e) => e.processId);
    expect(exitIds.sort()).toEqual([...seededIds].sort());
  });

  it('resolves the ancestry of a tree started after start() through its fork and exec records', async () => {
    const tag = uniqueTag('live');
    const tracer = new ExecTracer({ processTable: true, exitGraceMs: 60_000 });
    let marked: { event: ExecEvent; ancestors: ProcessInfo[] } | undefined;
    tracer.on('exec', (e) => {
      if (e.argv[1] === tag) marked = { event: e, ancestors: e.ancestors() };
    });
    await tracer.start();
    let tree!: ReturnType<typeof startTree>['child'];
    try {
      tree = startTree(tag, false).child;
      await once(tree, 'exit');
      expect(await until(() => marked !== undefined, patience(2000))).toBe(true);
    } finally {
      await tracer.stop();
    }
    const { event, ancestors } = marked!;
    expect(chain(ancestors).slice(0, 2)).toEqual([
      { pid: event.ppid, comm: 'sh', argv: ['sh', '-c', `true; /bin/true ${tag}; exit 0`, `inner-${tag}`] },
      { pid: tree.pid, comm: 'sh', argv: ['sh', '-c', `sh -c 'true; /bin/true ${tag}; exit 0' inner-${tag}; exit 0`, `outer-${tag}`] },
    ]);
    expect(ancestors[0]!.seeded).toBe(false);
    expect(ancestors[0]!.filename).toMatch(/\/sh$/); // found on PATH by the outer shell
    expect(ancestors[2]!.pid).toBe(process.pid);
    expect(ancestors.at(-1)!.pid).toBe(1);
    // The exec's own parent identity is the table's entry for it.
    expect(event.parent?.processId).toBe(event.parentProcessId);
    expect(event.parent?.execId).toBe(event.parentExecId);
  });

  it('never mixes two processes that had the same pid', async () => {
    // A pid repeats after the kernel cycles through pid_max; lowered for the
    // test (pid_max is global: a fresh pid namespace only repeats the
    // namespace's own numbers, not the host pids the table is keyed by).
    const pidMaxFile = '/proc/sys/kernel/pid_max';
    const saved = readFileSync(pidMaxFile, 'utf8').trim();
    const forks = fixture('forks');
    const tracer = new ExecTracer({ processTable: true, forks: true, exitGraceMs: 600_000 });
    const problems: string[] = [];
    const byPid = new Map<number, string[]>();
    tracer.on('fork', (e) => {
      const entry = tracer.processes!.get(e.pid);
      if (entry?.processId !== e.processId) problems.push(`fork ${e.processId}: table has ${entry?.processId}`);
    });
    tracer.on('exit', (e) => {
      const ids = byPid.get(e.pid) ?? [];
      ids.push(e.processId);
      byPid.set(e.pid, ids);
      if (tracer.processes!.get(e.pid)?.processId === e.processId) problems.push(`exit ${e.processId}: still live`);
      const gone = tracer.processes!.byProcessId(e.processId);
      if (gone?.pid !== e.pid || !gone.exited) problems.push(`exit ${e.processId}: not resolvable as exited`);
    });
    await tracer.start();
    let out = '';
    try {
      writeFileSync(pidMaxFile, '1024');
      out = (await run(forks, ['--until-reuse', '5000'])).stdout;
    } finally {
      writeFileSync(pidMaxFile, saved);
      await tracer.stop();
    }
    const reused = Number(/reused=(\d+)/.exec(out)?.[1]);
    expect(reused, out).toBeGreaterThan(0);
    const ids = byPid.get(reused)!;
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(problems).toEqual([]);
    expect(tracer.stats().lost).toBe(0);
  });

  it('delivers every exec and exit of a storm and returns the table to its baseline after the grace period', async () => {
    const tag = uniqueTag('tablestorm');
    const count = scaled(10_000, 100);
    const tracer = new ExecTracer({ processTable: true, exitGraceMs: 200 });
    const pids = new Set<number>();
    const exitIds = new Set<string>();
    const execIds = new Set<string>();
    tracer.on('exec', (e) => {
      if (e.argv[1]?.startsWith(tag)) {
        pids.add(e.pid);
        execIds.add(e.processId);
      }
    });
    tracer.on('exit', (e) => {
      if (execIds.has(e.processId)) exitIds.add(e.processId);
    });
    await tracer.start();
    const table = tracer.processes!;
    const baseline = table.size;
    try {
      const result = await run(fixture('storm'), ['2', String(count / 2), tag]);
      expect(result.stdout).toContain(`spawned=${count} failed=0`);
    } finally {
      await tracer.stop();
    }
    expect(tracer.stats().lost).toBe(0);
    expect(execIds.size).toBe(count);
    expect(exitIds.size).toBe(count);
    // None of the storm is left, and past the grace period none resolves.
    for (const pid of pids) expect(table.get(pid)?.argv[1]?.startsWith(tag) ?? false).toBe(false);
    expect(Math.abs(table.size - baseline)).toBeLessThanOrEqual(10);
    await new Promise((r) => setTimeout(r, 300));
    expect([...execIds].filter((id) => table.byProcessId(id) !== undefined)).toEqual([]);
  }, STORM_TIMEOUT_MS);

  it('keeps its memory bounded through 100,000 short-lived processes', async () => {
    // Under the kernel matrix's emulated CPUs a fork costs ~10 ms: 500 still
    // pass the table through many batches, prunes and the exited cap's churn.
    const count = testScale < 1 ? 500 : 100_000;
    const tracer = new ExecTracer({ processTable: true, exitGraceMs: 5000 });
    let exits = 0;
    tracer.on('exit', () => exits++);
    await tracer.start();
    const table = tracer.processes!;
    const baseline = table.size;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    try {
      const result = await run(fixture('forks'), [String(count)]);
      expect(result.stdout).toContain(`forked=${count}`);
    } finally {
      clearInterval(sampler);
      await tracer.stop();
    }
    expect(tracer.stats().lost).toBe(0);
    expect(exits).toBeGreaterThanOrEqual(count);
    expect(Math.abs(table.size - baseline)).toBeLessThanOrEqual(10);
    // The exited are kept for the grace period, at most 16,384 of them
    // (a few hundred bytes each): the peak stays far below what 100,000
    // retained processes and their events would take.
    expect((rssPeak - rssBefore) / 2 ** 20).toBeLessThan(64);
  }, STORM_TIMEOUT_MS);
});

describe.skipIf(!kernel)('failed execs, on the real kernel', () => {
  it('reports ENOENT, EACCES, ENOEXEC and E2BIG once each with the path and argv as passed, and nothing for a success', async () => {
    const tag = uniqueTag('failed');
    const noX = join(dir, `no-x-${tag}`);
    writeFileSync(noX, '#!/bin/sh\nexit 0\n');
    chmodSync(noX, 0o644);
    const garbage = join(dir, `garbage-${tag}`);
    writeFileSync(garbage, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 0, 0, 0, 0xff]));
    chmodSync(garbage, 0o755);
    const missing = join(dir, `missing-${tag}`);
    // Over the kernel's limit for argv + envp together (a quarter of the
    // stack limit, at least 128 KiB per argument): 64 arguments of 127 KiB.
    const big = Array.from({ length: 64 }, () => 'x'.repeat(127 * 1024));

    const tracer = new ExecTracer({ failedExecs: true });
    const failed: ExecFailedEvent[] = [];
    const execs: ExecEvent[] = [];
    tracer.on('execFailed', (e) => failed.push(e));
    tracer.on('exec', (e) => execs.push(e));
    await tracer.start();
    try {
      // A Node child: spawn() reports the exec's errno, and argv is what was passed.
      for (const [file, args] of [
        [missing, [tag, 'enoent']],
        [noX, [tag, 'eacces']],
        [garbage, [tag, 'enoexec']],
        ['/bin/true', [tag, 'ok']],
      ] as const) {
        const p = spawn(file, [...args], { stdio: 'ignore' });
        await once(p, 'close').catch(() => {});
      }
      // libuv waits for the child's exec and throws its error from spawn().
      expect(() => spawn('/bin/true', [tag, 'e2big', ...big], { stdio: 'ignore' })).toThrow(/E2BIG/);
    } finally {
      await tracer.stop();
    }
    const mine = failed.filter((e) => e.argv[1] === tag);
    const byCase = (c: string) => mine.filter((e) => e.argv[2] === c);
    expect(byCase('enoent')).toHaveLength(1);
    expect(byCase('enoent')[0]).toMatchObject({ errno: 2, code: 'ENOENT', filename: missing, argv: [missing, tag, 'enoent'] });
    expect(byCase('eacces')).toHaveLength(1);
    expect(byCase('eacces')[0]).toMatchObject({ errno: 13, code: 'EACCES', filename: noX });
    expect(byCase('enoexec')).toHaveLength(1);
    expect(byCase('enoexec')[0]).toMatchObject({ errno: 8, code: 'ENOEXEC', filename: garbage });
    const [tooBig, ...more] = byCase('e2big');
    expect(more).toHaveLength(0);
    expect(tooBig).toMatchObject({ errno: 7, code: 'E2BIG', filename: '/bin/true', argvTruncated: true });
    // Within argvLimit (8 KiB by default): the start of what was passed.
    expect(tooBig!.argv.slice(0, 3)).toEqual(['/bin/true', tag, 'e2big']);
    expect(byCase('ok')).toHaveLength(0);
    expect(execs.some((e) => e.argv[1] === tag && e.argv[2] === 'ok')).toBe(true);
    for (const e of mine) {
      expect(e.ppid).toBe(process.pid);
      expect(e.processId).toBe(`${e.pid}:${e.startBootNs}`);
    }
    expect(tracer.stats().failedExecs).toBeGreaterThanOrEqual(4);
  });
});
