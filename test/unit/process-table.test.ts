// SPDX-License-Identifier: MIT
//
// The process table: seeded, then kept by exec, fork and exit records in
// ring order, with processes told apart by processId when pids are reused.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Processes, type ExecLike, type ExitLike, type ForkLike } from '../../lib/process-table.js';
import type { SeedTask } from '../../lib/records/seed.js';
import type { ExecEvent, ExitEvent, ForkEvent, ProcessInfo, ProcessTable } from '../../types/index.js';

const clock = { epochOffsetNs: 1_700_000_000_000_000_000n };

/** A table on a clock the test moves. */
function makeTable(options: { graceMs?: number; maxExited?: number } = {}) {
  let now = 0;
  const table = new Processes({ graceMs: options.graceMs ?? 1_000, maxExited: options.maxExited, clock, now: () => now });
  // The tracer prunes once per batch; a test's clock step stands for one.
  return {
    table,
    advance: (ms: number) => {
      now += ms;
      table.prune();
    },
  };
}

/** A process is named by its pid and its start time (boot ns). */
const id = (pid: number, start: bigint) => `${pid}:${start}`;

function task(pid: number, start: bigint, ppid: number, parentStart: bigint, comm: string, argv?: string[], more: Partial<SeedTask> = {}): SeedTask {
  return { pid, ppid, startBootNs: start, parentStartBootNs: parentStart, execSeq: 1n, comm, uid: 0, kernelThread: false, argv, exe: argv && `/usr/bin/${comm}`, ...more };
}

function execOf(pid: number, start: bigint, ppid: number, parentStart: bigint, seq: bigint, argv: string[], more: Partial<ExecLike> = {}): ExecLike {
  const comm = argv[0]!.split('/').pop()!;
  return {
    pid, ppid, processId: id(pid, start), parentProcessId: id(ppid, parentStart), execId: `${id(pid, start)}:${seq}`,
    comm, filename: `/usr/bin/${comm}`, exe: `/usr/bin/${comm}`, argv, uid: 1000, startBootNs: start, ...more,
  };
}

function forkOf(pid: number, start: bigint, ppid: number, parentStart: bigint, comm: string, seq = 1n): ForkLike {
  return { pid, ppid, processId: id(pid, start), parentProcessId: id(ppid, parentStart), execId: `${id(pid, start)}:${seq}`, comm, startBootNs: start };
}

function exitOf(pid: number, start: bigint, ppid: number, bootNs: bigint): ExitLike {
  return { pid, processId: id(pid, start), ppid, bootNs };
}

/** kthreadd, init, sshd, bash: the tree most tests start from. */
function seeded(options?: { graceMs?: number; maxExited?: number }) {
  const t = makeTable(options);
  t.table.seed([
    task(2, 10n, 0, 0n, 'kthreadd', undefined, { kernelThread: true }),
    task(1, 5n, 0, 0n, 'systemd', ['/sbin/init', 'splash']),
    task(700, 7_000n, 1, 5n, 'sshd', ['sshd: /usr/sbin/sshd -D']),
    task(900, 9_000n, 700, 7_000n, 'bash', ['-bash'], { uid: 1000 }),
  ]);
  return t;
}

const pids = (list: ProcessInfo[]) => list.map((p) => p.pid);

describe('the seed', () => {
  it('builds the tree, and ancestors() walks it to pid 1', () => {
    const { table } = seeded();
    expect(table.size).toBe(4);
    const bash = table.get(900)!;
    expect(bash).toMatchObject({
      pid: 900, ppid: 700, processId: '900:9000', parentProcessId: '700:7000', execId: '900:9000:1', comm: 'bash',
      filename: undefined, exe: '/usr/bin/bash', argv: ['-bash'], uid: 1000, startBootNs: 9_000n, seeded: true,
      kernelThread: false, exited: false, exitBootNs: undefined,
    });
    expect(bash.parent).toBe(table.get(700));
    expect(bash.ancestors().map((p) => [p.pid, p.comm, p.argv])).toEqual([
      [700, 'sshd', ['sshd: /usr/sbin/sshd -D']],
      [1, 'systemd', ['/sbin/init', 'splash']],
    ]);
    expect(table.get(1)!.ancestors()).toEqual([]);
    expect(table.get(2)).toMatchObject({ kernelThread: true, argv: [], exe: undefined });
  });

  it('keeps what an exec record already said of the same process', () => {
    const { table } = makeTable();
    table.exec(execOf(50, 500n, 1, 5n, 3n, ['/usr/bin/vim', 'x']));
    table.seed([task(50, 500n, 1, 5n, 'vim', ['vim'])]);
    expect(table.get(50)).toMatchObject({ seeded: false, filename: '/usr/bin/vim', argv: ['/usr/bin/vim', 'x'], execId: '50:500:3' });
  });
});

describe('exec', () => {
  it('changes the image and keeps the process', () => {
    const { table } = seeded();
    const before = table.get(900)!;
    table.exec(execOf(900, 9_000n, 700, 7_000n, 2n, ['/usr/bin/python3', 'app.py'], { uid: 1001 }));
    const after = table.get(900)!;
    expect(after).toBe(before);
    expect(after).toMatchObject({
      processId: '900:9000', execId: '900:9000:2', comm: 'python3', filename: '/usr/bin/python3',
      exe: '/usr/bin/python3', argv: ['/usr/bin/python3', 'app.py'], uid: 1001, seeded: false,
    });
    expect(table.size).toBe(4);
  });

  it("copies argv (a listener may change the event's array)", () => {
    const { table } = makeTable();
    const e = execOf(60, 600n, 1, 5n, 1n, ['/bin/ls', '-l']);
    table.exec(e);
    e.argv.length = 0;
    expect(table.get(60)!.argv).toEqual(['/bin/ls', '-l']);
  });

  it("stores an exe of '' (context off) as undefined", () => {
    const { table } = makeTable();
    table.exec(execOf(61, 610n, 1, 5n, 1n, ['/bin/ls'], { exe: '' }));
    expect(table.get(61)!.exe).toBeUndefined();
  });
});

describe('fork', () => {
  it("runs its parent's image until it execs", () => {
    const { table } = seeded();
    table.exec(execOf(900, 9_000n, 700, 7_000n, 2n, ['/usr/bin/make', '-j4']));
    table.fork(forkOf(901, 9_100n, 900, 9_000n, 'make', 2n));
    expect(table.get(901)).toMatchObject({
      pid: 901, ppid: 900, processId: '901:9100', parentProcessId: '900:9000', execId: '901:9100:2', comm: 'make',
      filename: '/usr/bin/make', exe: '/usr/bin/make', argv: ['/usr/bin/make', '-j4'], uid: 1000, seeded: false,
    });
    table.exec(execOf(901, 9_100n, 900, 9_000n, 3n, ['/usr/bin/cc', '-c', 'a.c']));
    expect(table.get(901)).toMatchObject({ execId: '901:9100:3', comm: 'cc', argv: ['/usr/bin/cc', '-c', 'a.c'] });
    expect(table.get(900)!.argv).toEqual(['/usr/bin/make', '-j4']);
    expect(pids(table.get(901)!.ancestors())).toEqual([900, 700, 1]);
  });

  it('copies `seeded` from a seeded parent, and knows no image of an unknown one', () => {
    const { table } = seeded();
    table.fork(forkOf(902, 9_200n, 900, 9_000n, 'bash'));
    expect(table.get(902)).toMatchObject({ seeded: true, filename: undefined, exe: '/usr/bin/bash', argv: ['-bash'] });
    table.fork(forkOf(903, 9_300n, 555, 5_550n, 'ghost'));
    expect(table.get(903)).toMatchObject({ comm: 'ghost', filename: undefined, exe: undefined, argv: [], uid: 4294967295, seeded: false });
    expect(table.get(903)!.parent).toBeUndefined();
    expect(table.get(903)!.ancestors()).toEqual([]);
  });

  it('of a process the seed already saw, only refreshes its parent', () => {
    const { table } = seeded();
    table.fork(forkOf(900, 9_000n, 1, 5n, 'other'));
    expect(table.get(900)).toMatchObject({ ppid: 1, parentProcessId: '1:5', comm: 'bash', argv: ['-bash'], seeded: true });
    expect(table.size).toBe(4);
  });
});

describe('exit', () => {
  it('leaves the live table, and stays resolvable by processId for the grace only', () => {
    const { table, advance } = seeded({ graceMs: 1_000 });
    table.fork(forkOf(910, 9_100n, 900, 9_000n, 'bash'));
    table.exec(execOf(910, 9_100n, 900, 9_000n, 2n, ['/usr/bin/sleep', '9']));
    table.fork(forkOf(911, 9_110n, 910, 9_100n, 'sleep', 2n));
    table.exit(exitOf(910, 9_100n, 900, 20_000n));

    expect(table.has(910)).toBe(false);
    expect(table.get(910)).toBeUndefined();
    expect(table.size).toBe(5);
    const gone = table.byProcessId('910:9100')!;
    expect(gone).toMatchObject({ pid: 910, exited: true, exitBootNs: 20_000n, comm: 'sleep' });
    expect(table.get(911)!.parent).toBe(gone);
    expect(pids(table.get(911)!.ancestors())).toEqual([910, 900, 700, 1]);

    advance(999);
    expect(table.byProcessId('910:9100')).toBe(gone);
    advance(1);
    expect(table.byProcessId('910:9100')).toBeUndefined();
    expect(table.get(911)!.parent).toBeUndefined();
    expect(table.get(911)!.ancestors()).toEqual([]);
    expect(table.exitedCount).toBe(0);
  });

  it('takes the new parent of a re-parented process', () => {
    const { table } = seeded();
    table.fork(forkOf(920, 9_200n, 900, 9_000n, 'bash'));
    table.exit(exitOf(920, 9_200n, 1, 30_000n));
    expect(table.byProcessId('920:9200')).toMatchObject({ ppid: 1, parentProcessId: '1:5' });
    expect(table.byProcessId('920:9200')!.parent).toBe(table.get(1));
  });

  it('of a process the table does not know changes nothing', () => {
    const { table } = seeded();
    table.exit(exitOf(4242, 1n, 1, 2n));
    table.exit(exitOf(900, 1n, 1, 2n));
    expect(table.size).toBe(4);
    expect(table.get(900)).toMatchObject({ processId: '900:9000', exited: false });
    expect(table.exitedCount).toBe(0);
  });

  it('keeps at most maxExited exited processes, forgetting the oldest first', () => {
    const { table } = makeTable({ graceMs: 60_000, maxExited: 3 });
    for (let pid = 100; pid < 105; pid++) {
      table.fork(forkOf(pid, BigInt(pid), 1, 5n, 'w'));
      table.exit(exitOf(pid, BigInt(pid), 1, 1_000n));
      expect(table.exitedCount).toBeLessThanOrEqual(3);
    }
    expect(table.exitedCount).toBe(3);
    expect(table.byProcessId('100:100')).toBeUndefined();
    expect(table.byProcessId('101:101')).toBeUndefined();
    expect([102, 103, 104].map((pid) => table.byProcessId(id(pid, BigInt(pid)))?.exited)).toEqual([true, true, true]);
  });

  it('with maxExited 0 forgets an exited process at once', () => {
    const { table } = makeTable({ maxExited: 0 });
    table.fork(forkOf(100, 100n, 1, 5n, 'w'));
    table.exit(exitOf(100, 100n, 1, 1_000n));
    expect(table.byProcessId('100:100')).toBeUndefined();
    expect(table.exitedCount).toBe(0);
  });
});

describe('pid reuse', () => {
  it('never mixes two processes of one pid', () => {
    const { table } = seeded();
    table.fork(forkOf(930, 9_300n, 900, 9_000n, 'bash'));
    table.exec(execOf(930, 9_300n, 900, 9_000n, 2n, ['/usr/bin/old']));
    // The old one's exit was lost; a new process got its pid.
    table.fork(forkOf(930, 9_999n, 1, 5n, 'systemd'));
    const fresh = table.get(930)!;
    expect(fresh).toMatchObject({ processId: '930:9999', ppid: 1, comm: 'systemd', argv: ['/sbin/init', 'splash'] });
    const old = table.byProcessId('930:9300')!;
    expect(old).toMatchObject({ exited: true, exitBootNs: undefined, comm: 'old', argv: ['/usr/bin/old'] });
    expect(old).not.toBe(fresh);

    // The old one's exit, late: the new one stays.
    table.exit(exitOf(930, 9_300n, 900, 50_000n));
    expect(table.get(930)).toBe(fresh);
    expect(fresh.exited).toBe(false);
    expect(table.size).toBe(5);
  });

  it('an exec of a new processId retires the stale process at that pid', () => {
    const { table } = seeded();
    table.fork(forkOf(940, 9_400n, 900, 9_000n, 'bash'));
    const stale = table.get(940)!;
    table.exec(execOf(940, 9_500n, 700, 7_000n, 2n, ['/usr/bin/new']));
    const fresh = table.get(940)!;
    expect(fresh).toMatchObject({ processId: '940:9500', parentProcessId: '700:7000', comm: 'new', exited: false });
    expect(stale).toMatchObject({ processId: '940:9400', exited: true, exitBootNs: undefined, comm: 'bash' });
    expect(table.byProcessId('940:9400')).toBe(stale);
    expect(table.byProcessId('940:9500')).toBe(fresh);
    expect(table.size).toBe(5);
  });

  it("resolves a child's parent by processId, not by the parent's pid", () => {
    const { table, advance } = seeded({ graceMs: 100 });
    table.fork(forkOf(950, 9_500n, 900, 9_000n, 'bash'));
    table.fork(forkOf(951, 9_510n, 950, 9_500n, 'bash'));
    table.exit(exitOf(950, 9_500n, 900, 60_000n));
    table.fork(forkOf(950, 9_600n, 1, 5n, 'systemd'));
    expect(table.get(951)!.parent).toMatchObject({ processId: '950:9500', exited: true });
    advance(100);
    expect(table.get(951)!.parent).toBeUndefined();
  });
});

describe('ancestors()', () => {
  it('ends at a repeated processId', () => {
    const { table } = makeTable();
    // Each record names the next as parent: 10 -> 11 -> 12 -> 10.
    table.exec(execOf(10, 100n, 11, 110n, 1n, ['/bin/a']));
    table.exec(execOf(11, 110n, 12, 120n, 1n, ['/bin/b']));
    table.exec(execOf(12, 120n, 10, 100n, 1n, ['/bin/c']));
    expect(pids(table.get(10)!.ancestors())).toEqual([11, 12]);
    expect(pids(table.get(12)!.ancestors())).toEqual([10, 11]);
    // Its own parent.
    table.exec(execOf(13, 130n, 13, 130n, 1n, ['/bin/d']));
    expect(table.get(13)!.parent).toBe(table.get(13));
    expect(table.get(13)!.ancestors()).toEqual([]);
  });

  it('stops at pid 0', () => {
    const { table } = makeTable();
    table.seed([task(0, 0n, 0, 0n, 'swapper/0', undefined, { kernelThread: true }), task(2, 10n, 0, 0n, 'kthreadd', undefined, { kernelThread: true })]);
    table.fork(forkOf(77, 770n, 2, 10n, 'kthreadd'));
    expect(table.get(77)).toMatchObject({ kernelThread: true, argv: [] });
    expect(pids(table.get(77)!.ancestors())).toEqual([2]);
  });
});

describe('the Map-like view', () => {
  it('has get, has, size, keys, values, entries, forEach and iteration', () => {
    const { table } = seeded();
    const view: ProcessTable = table;
    expect(view.size).toBe(4);
    expect(view.has(1)).toBe(true);
    expect(view.has(3)).toBe(false);
    expect(view.get(700)?.comm).toBe('sshd');
    expect([...view.keys()]).toEqual([2, 1, 700, 900]);
    expect([...view.values()].map((p) => p.comm)).toEqual(['kthreadd', 'systemd', 'sshd', 'bash']);
    expect([...view.entries()].map(([pid, p]) => [pid, p.pid])).toEqual([[2, 2], [1, 1], [700, 700], [900, 900]]);
    expect([...view].map(([pid]) => pid)).toEqual([2, 1, 700, 900]);
    expect(new Map(view).get(900)).toBe(view.get(900));
    const seen: [number, string, ProcessTable][] = [];
    view.forEach((info, pid, t) => seen.push([pid, info.comm, t]));
    expect(seen).toEqual([[2, 'kthreadd', view], [1, 'systemd', view], [700, 'sshd', view], [900, 'bash', view]]);
    expect(view.byProcessId('700:7000')).toBe(view.get(700));
    expect(view.byProcessId('700:1')).toBeUndefined();
  });

  it('serializes an entry to JSON', () => {
    const { table } = seeded();
    expect(JSON.parse(JSON.stringify(table.get(900)))).toMatchObject({ pid: 900, processId: '900:9000', startBootNs: '9000', argv: ['-bash'] });
  });
});

describe('churn', () => {
  it('returns to its baseline after 10,000 processes, within maxExited', () => {
    const maxExited = 256;
    const { table, advance } = seeded({ graceMs: 500, maxExited });
    const baseline = table.size;
    const inFlight: [number, bigint][] = [];
    let start = 100_000n;
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      // Pids cycle through a small range, so each is reused many times.
      const pid = 2_000 + (i % 3_000);
      start += 7n;
      table.fork(forkOf(pid, start, 900, 9_000n, 'bash'));
      table.exec(execOf(pid, start, 900, 9_000n, 2n, ['/bin/true', String(i)]));
      inFlight.push([pid, start]);
      if (inFlight.length > 20) {
        const [p, s] = inFlight.shift()!;
        table.exit(exitOf(p, s, 900, start));
      }
      advance(0.25);
      peak = Math.max(peak, table.exitedCount);
      expect(table.size).toBeLessThanOrEqual(baseline + 21);
    }
    for (const [p, s] of inFlight) table.exit(exitOf(p, s, 900, start));
    expect(table.size).toBe(baseline);
    expect(peak).toBe(maxExited);
    expect(table.exitedCount).toBeLessThanOrEqual(maxExited);
    advance(500);
    expect(table.byProcessId(id(2_000, 100_007n))).toBeUndefined();
    expect(table.exitedCount).toBe(0);
    expect([...table.keys()]).toEqual([2, 1, 700, 900]);
  });
});

describe('the inputs', () => {
  it("take the tracer's events as they are", () => {
    expectTypeOf<ExecEvent>().toMatchTypeOf<ExecLike>();
    expectTypeOf<ForkEvent>().toMatchTypeOf<ForkLike>();
    expectTypeOf<ExitEvent>().toMatchTypeOf<ExitLike>();
    expectTypeOf<Processes>().toMatchTypeOf<ProcessTable>();
  });
});

describe('startTime', () => {
  it("is the start on the wall clock, read with the clock's offset at the time", () => {
    const ownClock = { epochOffsetNs: 0n };
    const table = new Processes({ graceMs: 1_000, clock: ownClock });
    table.seed([task(900, 9_000_000_000n, 1, 5n, 'bash', ['-bash'])]);
    expect(table.get(900)!.startTime.getTime()).toBe(9_000);
    ownClock.epochOffsetNs = clock.epochOffsetNs;
    const t = table.get(900)!.startTime;
    expect(t.getTime()).toBe(Number((9_000_000_000n + clock.epochOffsetNs) / 1_000_000n));
    expect(table.get(900)!.startTime).not.toBe(t);
  });
});
