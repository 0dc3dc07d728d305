// SPDX-License-Identifier: MIT
//
// The kernel filter against execs the test controls: other uids (setpriv),
// task names it chooses (copies of /bin/true named uniquely, so no other
// process on the host can match), cgroups it makes, a new pid namespace
// (unshare), and a tree of shells for descendantsOf, with a grandchild that
// re-parents. Each case also runs an exec the filter must drop, so it can
// fail.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecTracer, type ExecEvent, type ExecFilter, type ExecTracerOptions } from '../../lib/index.js';
import { cgroup2Mount, eventually, kernel, ourPrograms, patience, run, scaled, startChild, traceDuring, uniqueTag } from './kernel.js';

const work = mkdtempSync(join(tmpdir(), 'et-filter-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of /bin/true (or `from`) whose task name no other process has. */
function uniqueBinary(from = '/bin/true'): { path: string; comm: string } {
  const comm = `etf${Math.random().toString(36).slice(2, 10)}`.slice(0, 15);
  const path = join(work, comm);
  copyFileSync(from, path);
  chmodSync(path, 0o755);
  return { path, comm };
}

async function ok(file: string, args: string[]): Promise<void> {
  const result = await run(file, args);
  expect(result.code, `${file} ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

/** traceDuring() with the options first (they are what each case varies), keeping exits, with the final stats. */
async function traced(options: ExecTracerOptions, body: (tracer: ExecTracer) => Promise<void>) {
  const { events: execs, exits, tracer } = await traceDuring(body, options, { keep: ['exit'] });
  return { execs, exits, stats: tracer.stats(), tracer };
}

/** The tags (argv[1]) of the events that carry one starting with `tag`, sorted. */
const tagsOf = (events: ExecEvent[], tag: string) =>
  events.map((e) => e.argv[1] ?? '').filter((a) => a.startsWith(tag)).sort();

describe.skipIf(!kernel)('in-kernel filters, on the real kernel', () => {
  it('keeps only the listed real uids, gids and effective uids', async () => {
    const tag = uniqueTag('ids');
    const as = (flags: string[], label: string) => ok('setpriv', [...flags, '/bin/true', `${tag}-${label}`]);
    const body = async () => {
      await ok('/bin/true', [`${tag}-root`]);
      await as(['--reuid=65534', '--regid=65534', '--clear-groups'], 'nobody');
      await as(['--regid=4242', '--clear-groups'], 'gid');
      await as(['--euid=4343'], 'euid');
    };
    const uids = await traced({ filter: { uids: [65534] } }, body);
    expect(tagsOf(uids.execs, tag)).toEqual([`${tag}-nobody`]);
    expect(uids.stats.filtered).toBeGreaterThanOrEqual(3);
    const gids = await traced({ filter: { gids: [4242] } }, body);
    expect(tagsOf(gids.execs, tag)).toEqual([`${tag}-gid`]);
    const euids = await traced({ filter: { euids: [4343] } }, body);
    expect(tagsOf(euids.execs, tag)).toEqual([`${tag}-euid`]);
    expect(euids.execs.find((e) => e.argv[1] === `${tag}-euid`)?.uid).toBe(0);
    // AND across keys, OR within one.
    const both = await traced({ filter: { uids: [0, 65534], gids: [65534] } }, body);
    expect(tagsOf(both.execs, tag)).toEqual([`${tag}-nobody`]);
    const except = await traced({ filter: { exclude: { uids: [0] } } }, body);
    expect(tagsOf(except.execs, tag)).toEqual([`${tag}-nobody`]);
  });

  it('judges exec, fork, failed-exec and exit records alike, and counts exactly what it drops', async () => {
    // A shell under a unique name: it forks a child that fails to exec, then
    // runs a few execs of a unique /bin/true.
    const sh = uniqueBinary('/bin/sh');
    const t = uniqueBinary();
    const n = 5;
    const script = `${join(work, 'missing-binary')} 2>/dev/null; i=0; while [ $i -lt ${n} ]; do ${t.path} x; i=$((i+1)); done`;
    const options = { forks: true, failedExecs: true } as const;
    const events = { forks: 0, failed: 0 };
    const kept = await traced({ ...options, filter: { comms: [sh.comm] } }, async (tracer) => {
      tracer.on('fork', (e) => e.comm === sh.comm && events.forks++);
      tracer.on('execFailed', (e) => e.comm === sh.comm && events.failed++);
      await ok(sh.path, ['-c', script]);
    });
    // Only the shell's records: its exec, its forks (one per command), the
    // failed exec, and the exits of the shell and its failed child.
    expect(kept.execs.map((e) => e.comm)).toEqual([sh.comm]);
    expect(events.forks).toBe(n + 1);
    expect(events.failed).toBeGreaterThanOrEqual(1);
    expect(kept.exits.every((e) => e.comm === sh.comm)).toBe(true);
    expect(kept.exits.length).toBe(2);

    const dropped = await traced({ ...options, filter: { exclude: { comms: [t.comm] } } }, async () => {
      await ok(sh.path, ['-c', script]);
    });
    expect(dropped.execs.filter((e) => e.comm === t.comm)).toEqual([]);
    expect(dropped.execs.filter((e) => e.comm === sh.comm)).toHaveLength(1);
    // No other process on the host has this name: the counts are exact.
    expect(dropped.stats.filtered).toBe(n);
    expect(dropped.stats.filteredExits).toBe(n);
    expect(dropped.exits.filter((e) => e.comm === t.comm)).toEqual([]);
    expect(dropped.stats.lost).toBe(0);
  });

  it('matches path prefixes: the path as passed, and the binary that ran', async () => {
    const tag = uniqueTag('paths');
    const real = readlinkSync('/bin') === 'usr/bin';
    const body = async () => {
      await ok('/bin/true', [`${tag}-bin`]);
      await ok('/usr/bin/true', [`${tag}-usr`]);
      await ok('/bin/echo', [`${tag}-echo`]);
    };
    const filename = await traced({ filter: { filenamePrefixes: ['/usr/bin/'] } }, body);
    expect(tagsOf(filename.execs, tag)).toEqual([`${tag}-usr`]);
    const exe = await traced({ filter: { exePrefixes: ['/usr/bin/t'] } }, body);
    // /bin is a symlink to usr/bin on Debian: both run /usr/bin/true.
    expect(tagsOf(exe.execs, tag)).toEqual(real ? [`${tag}-bin`, `${tag}-usr`] : [`${tag}-usr`]);
    const excluded = await traced({ filter: { exclude: { exePrefixes: ['/usr/bin/true'] } } }, body);
    expect(tagsOf(excluded.execs, tag)).toEqual([`${tag}-echo`]);
    // An exit is judged by its process's last exec: only the kept ones end.
    for (const e of exe.execs.filter((x) => x.argv[1]?.startsWith(tag)))
      expect(exe.exits.some((x) => x.processId === e.processId)).toBe(true);
    expect(exe.exits.filter((x) => x.comm === 'echo')).toEqual([]);
  });

  it('keeps a cgroup and everything below it, by path or id', async () => {
    const tag = uniqueTag('cg');
    const top = join(cgroup2Mount(), `exec-tracer-${tag}`);
    const child = join(top, 'pod.slice', 'ctr.scope');
    mkdirSync(child, { recursive: true });
    const trueIn = (dir: string, label: string) =>
      ok('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec /bin/true "$2"', 'sh', dir, `${tag}-${label}`]);
    try {
      const body = async () => {
        await trueIn(child, 'inside');
        await ok('/bin/true', [`${tag}-outside`]);
      };
      const byPath = await traced({ filter: { cgroups: [top] } }, body);
      expect(tagsOf(byPath.execs, tag)).toEqual([`${tag}-inside`]);
      const inside = byPath.execs.find((e) => e.argv[1] === `${tag}-inside`)!;
      // As event.cgroup names it, and by id.
      const relative = `/exec-tracer-${tag}/pod.slice`;
      const byName = await traced({ filter: { cgroups: [relative] } }, body);
      expect(tagsOf(byName.execs, tag)).toEqual([`${tag}-inside`]);
      const byId = await traced({ filter: { cgroups: [inside.cgroupId] } }, body);
      expect(tagsOf(byId.execs, tag)).toEqual([`${tag}-inside`]);
      const except = await traced({ filter: { exclude: { cgroups: [top] } } }, body);
      expect(tagsOf(except.execs, tag)).toEqual([`${tag}-outside`]);
    } finally {
      for (const dir of [child, join(top, 'pod.slice'), top]) {
        for (let i = 0; ; i++) {
          try {
            rmdirSync(dir);
            break;
          } catch (error) {
            if (i >= 200) throw error;
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      }
    }
  });

  it('tells containers from the host by pid namespace', async () => {
    const tag = uniqueTag('ns');
    const hostNs = Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]);
    const body = async () => {
      await ok('/bin/true', [`${tag}-host`]);
      await ok('unshare', ['--pid', '--fork', '/bin/true', `${tag}-contained`]);
    };
    const containers = await traced({ filter: { containersOnly: true } }, body);
    expect(tagsOf(containers.execs, tag)).toEqual([`${tag}-contained`]);
    const host = await traced({ filter: { hostOnly: true } }, body);
    expect(tagsOf(host.execs, tag)).toEqual([`${tag}-host`]);
    const listed = await traced({ filter: { pidNamespaces: [hostNs] } }, body);
    expect(tagsOf(listed.execs, tag)).toEqual([`${tag}-host`]);
    const contained = containers.execs.find((e) => e.argv[1] === `${tag}-contained`)!;
    const byNs = await traced({ filter: { exclude: { pidNamespaces: [hostNs] } } }, body);
    expect(tagsOf(byNs.execs, tag)).toEqual([`${tag}-contained`]);
    expect(contained.namespaces.pid).not.toBe(hostNs);
  });

  it('follows a subtree in the kernel: processes there before, forked after, and re-parented', async () => {
    const tag = uniqueTag('tree');
    const fifo = (name: string) => {
      const path = join(work, `${tag}-${name}`);
      execFileSync('mkfifo', [path]);
      return path;
    };
    const [f0, f1, f2, f3] = ['f0', 'f1', 'f2', 'f3'].map(fifo) as [string, string, string, string];
    // The root shell has a child waiting before the tracer starts; later it
    // forks a middle shell that leaves a grandchild behind and exits, so
    // the grandchild re-parents before it execs.
    const script =
      `( cat ${f0} >/dev/null; exec /bin/true ${tag}-pre ) & ` +
      `cat ${f1} >/dev/null; /bin/true ${tag}-child; ` +
      `sh -c '( cat ${f2} >/dev/null; exec /bin/true ${tag}-grand ) & exit 0'; ` +
      `cat ${f3} >/dev/null; wait`;
    const tree = spawn('sh', ['-c', script], { stdio: 'ignore' });
    const ended = new Promise((resolve) => tree.once('exit', resolve));
    // Both the shell and its waiting child exist before the filter does.
    await new Promise((r) => setTimeout(r, patience(200)));
    const { execs } = await traced({ filter: { descendantsOf: [tree.pid!] } }, async () => {
      writeFileSync(f0, 'go\n');
      writeFileSync(f1, 'go\n');
      await new Promise((r) => setTimeout(r, patience(300))); // the middle shell exits
      writeFileSync(f2, 'go\n');
      await ok('/bin/true', [`${tag}-other`]);
      writeFileSync(f3, 'go\n');
      await ended;
      await new Promise((r) => setTimeout(r, patience(100)));
    });
    expect(tagsOf(execs, tag)).toEqual([`${tag}-child`, `${tag}-grand`, `${tag}-pre`]);
    const grand = execs.find((e) => e.argv[1] === `${tag}-grand`)!;
    expect(grand.ppid).not.toBe(tree.pid);
  });

  it('a tracer started without a filter can switch to one that follows a subtree, and leaves nothing behind', async () => {
    const tag = uniqueTag('late');
    // The earlier tests' programs go a grace period after their stop().
    expect(await eventually(() => ourPrograms() === 0)).toBe(true);
    const baseline = 0;
    const fifo = join(work, `${tag}-go`);
    execFileSync('mkfifo', [fifo]);
    const tree = spawn('sh', ['-c', `( cat ${fifo} >/dev/null; exec /bin/true ${tag}-inside ) & wait`], { stdio: 'ignore' });
    const ended = new Promise((resolve) => tree.once('exit', resolve));
    const { execs, exits, tracer } = await traced({ exits: false }, async (t) => {
      await new Promise((r) => setTimeout(r, patience(200)));
      await ok('/bin/true', [`${tag}-before`]);
      // With exits: false only the exec program was loaded; the exit and
      // fork programs and the seeding iterator are loaded now, beside it,
      // sharing its maps.
      expect(ourPrograms()).toBe(baseline + 1);
      await t.setFilter({ descendantsOf: [tree.pid!] });
      expect(ourPrograms()).toBe(baseline + 4);
      writeFileSync(fifo, 'go\n');
      await ended;
      await ok('/bin/true', [`${tag}-outside`]);
    });
    expect(tagsOf(execs, tag)).toEqual([`${tag}-before`, `${tag}-inside`]);
    // exits: false stays so: the exit program runs for the filter alone.
    expect(exits).toEqual([]);
    expect(tracer.stats().filtered).toBeGreaterThanOrEqual(1);
    expect(await eventually(() => ourPrograms() === baseline)).toBe(true);
  });

  it('setFilter during a storm: each exec judged by the old filter or the new, none by neither', async () => {
    const a = uniqueBinary();
    const b = uniqueBinary();
    const n = scaled(2000, 40);
    const script = `i=0; while [ $i -lt ${n} ]; do if [ $((i % 2)) = 0 ]; then ${a.path} $i; else ${b.path} $i; fi; i=$((i+1)); done`;
    let switched = false;
    const { execs, stats } = await traced({ filter: { comms: [a.comm] } }, async (tracer) => {
      const storm = run('sh', ['-c', script]);
      // A quarter in, or the storm's end if the first filter kept nothing
      // (then the checks below fail, rather than the wait hanging).
      const quarter = new Promise<void>((resolve) => {
        let seen = 0;
        tracer.on('exec', () => {
          if (++seen === Math.floor(n / 4)) resolve();
        });
      });
      await Promise.race([quarter, storm]);
      await tracer.setFilter({ comms: [b.comm] });
      switched = true;
      expect((await storm).code).toBe(0);
    });
    expect(switched).toBe(true);
    const kept = execs.filter((e) => e.comm === a.comm || e.comm === b.comm).map((e) => [e.comm, Number(e.argv[1])] as const);
    const lastA = Math.max(...kept.filter(([c]) => c === a.comm).map(([, i]) => i));
    // The switch happened between two execs k - 1 and k: every even index
    // below k kept by the first filter, every odd one from k by the second.
    const expected = (k: number) => {
      const out: (readonly [string, number])[] = [];
      for (let i = 0; i < n; i++) {
        if (i < k && i % 2 === 0) out.push([a.comm, i]);
        if (i >= k && i % 2 === 1) out.push([b.comm, i]);
      }
      return out;
    };
    const matches = [lastA + 1, lastA + 2].some((k) => JSON.stringify(expected(k)) === JSON.stringify(kept));
    expect(matches, `kept ${JSON.stringify(kept.slice(0, 8))}… around ${lastA}`).toBe(true);
    expect(lastA).toBeGreaterThan(0);
    expect(lastA).toBeLessThan(n - 2);
    expect(stats.lost).toBe(0);
  });

  it('excludeSelf: a listener that spawns a process per event does not feed itself', async () => {
    for (const mode of ['on', 'off'] as const) {
      const tag = uniqueTag(`self-${mode}`);
      const traceChild = startChild(['loop', tag, mode]);
      try {
        expect(await traceChild.next()).toBe('ready');
        for (let i = 0; i < 3; i++) await ok('/bin/true', [`${tag}-${i}`]);
        await new Promise((r) => setTimeout(r, patience(500)));
        traceChild.proc.stdin!.write('stop\n');
        const line = await traceChild.next();
        expect(line).toMatch(/^counts /);
        const counts = JSON.parse(line.slice('counts '.length)) as { external: number; echoes: number; spawned: number };
        expect(counts.external).toBe(3);
        if (mode === 'on') {
          expect(counts.echoes).toBe(0);
          expect(counts.spawned).toBe(3);
        } else {
          // Without it the listener sees its own processes: the loop the option stops.
          expect(counts.echoes).toBeGreaterThan(0);
        }
      } finally {
        traceChild.proc.kill();
      }
    }
  });

  it('rejects what does not exist with EFILTER, and setFilter on a stopped tracer with ECLOSED', async () => {
    const missing = join(cgroup2Mount(), `no-such-${uniqueTag('x')}`);
    await expect(new ExecTracer({ filter: { cgroups: [missing] } }).start()).rejects.toMatchObject({
      code: 'EFILTER',
      message: expect.stringContaining('filter.cgroups[0]'),
    });
    const tracer = new ExecTracer({});
    await tracer.start();
    await expect(tracer.setFilter({ descendantsOf: [4194000] })).rejects.toMatchObject({ code: 'EFILTER' });
    await expect(tracer.setFilter({ uids: [] })).rejects.toThrow(RangeError);
    await tracer.stop();
    await expect(tracer.setFilter({ uids: [0] })).rejects.toMatchObject({ code: 'ECLOSED' });
    const filter: ExecFilter = { comms: ['x'] };
    expect(() => new ExecTracer({ filter, attach: 'tracepoint' })).not.toThrow();
    expect(() => new ExecTracer({ filter: { excludeSelf: true }, attach: 'tracepoint' })).toThrow(TypeError);
  });
});
