// SPDX-License-Identifier: MIT
//
// Runs for the timeline's unit tests, recorded the way the command records
// them: kernel records (byte for byte, test/helpers/mock-binding.ts) go
// through a real ExecTracer on the mock binding into a RunRecorder. One
// builder makes a build of any size: make, its jobs' shells, compilers and
// assemblers, with failures, a crash, a missing program and a daemon left
// running, reproducibly (a seeded generator, no Math.random).
import { ExecTracer } from 'exec-tracer';
import { RunRecorder, type Run } from '../../cli/run.js';
import {
  MockBinding,
  encodeExecFailedRecord,
  encodeExecRecord,
  encodeExitRecord,
  encodeForkRecord,
} from './mock-binding.js';

/** A record and when it happened (boot clock ns), to deliver in time order. */
export interface TimedRecord {
  ns: bigint;
  record: Buffer;
}

/** One process of a made-up run. */
export interface MadeProcess {
  pid: number;
  /** Its start (fork) time, boot clock ns. */
  start: bigint;
}

/** Writes the records of processes into a list: the kernel's side of a run. */
export class RunScript {
  readonly records: TimedRecord[] = [];
  #nextPid: number;

  constructor(firstPid = 1000) {
    this.#nextPid = firstPid;
  }

  /** A process forked by `parent` at `ns` (no fork record for the first, `parent` undefined: the held command). */
  fork(parent: MadeProcess | undefined, ns: bigint, comm = 'sh'): MadeProcess {
    const p = { pid: this.#nextPid++, start: ns };
    if (parent !== undefined) {
      this.records.push({
        ns,
        record: encodeForkRecord({ pid: p.pid, ppid: parent.pid, comm, bootNs: ns, startBootNs: ns, parentStartBootNs: parent.start }),
      });
    }
    return p;
  }

  exec(p: MadeProcess, parent: MadeProcess | undefined, ns: bigint, argv: string[]): void {
    const comm = (argv[0] ?? '').split('/').at(-1)!.slice(0, 15);
    this.records.push({
      ns,
      record: encodeExecRecord({
        pid: p.pid,
        ppid: parent?.pid ?? 1,
        comm,
        filename: argv[0] ?? '',
        argv,
        bootNs: ns,
        startBootNs: p.start,
        parentStartBootNs: parent?.start ?? 1n,
      }),
    });
  }

  execFailed(p: MadeProcess, parent: MadeProcess, ns: bigint, filename: string, errno = 2): void {
    this.records.push({
      ns,
      record: encodeExecFailedRecord({
        pid: p.pid,
        ppid: parent.pid,
        filename,
        argv: [filename],
        errno,
        bootNs: ns,
        startBootNs: p.start,
        parentStartBootNs: parent.start,
      }),
    });
  }

  /** Ends `p` at `ns` with wait(2)'s `status` (code << 8, or the signal number | 0x80 for a core). */
  exit(p: MadeProcess, parent: MadeProcess | undefined, ns: bigint, status: number, comm = 'sh'): void {
    this.records.push({ ns, record: encodeExitRecord({ pid: p.pid, ppid: parent?.pid ?? 1, status, comm, bootNs: ns, startBootNs: p.start }) });
  }

  /** The records in time order (a stable sort: same-time records keep their order). */
  ordered(): Buffer[] {
    return [...this.records].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0)).map((r) => r.record);
  }
}

/** Feeds RECORDS through a tracer on the mock binding into a RunRecorder, and finishes the run. */
export async function recordRun(
  records: Buffer[],
  options: { rootPid?: number; command?: string[]; exitStatus?: number; dropped?: number; batch?: number } = {},
): Promise<Run> {
  const binding = new MockBinding();
  const tracer = new ExecTracer({ forks: true, exits: true, failedExecs: true }, { binding });
  const recorder = new RunRecorder(tracer, { rootPid: options.rootPid, command: options.command });
  await tracer.start();
  const batch = options.batch ?? 256;
  for (let i = 0; i < records.length; i += batch) binding.current.push(...records.slice(i, i + batch));
  if (options.dropped !== undefined) {
    binding.current.droppedTotal = options.dropped;
    binding.current.flush();
  }
  await tracer.stop();
  return recorder.finish(options.exitStatus);
}

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MS = 1_000_000n;
const ms = (v: number) => BigInt(Math.round(v * 1e6));

/** What a made-up build holds, by outcome. */
export interface BuildCounts {
  processes: number;
  success: number;
  failure: number;
  signal: number;
  execFailed: number;
  running: number;
}

/**
 * The records of a made-up `make -j4` of about `size` processes: make
 * (pid 1000, held before its exec), then jobs of 4 processes each (a
 * shell, cc, cc1, as) four at a time; every 40th job's compiler fails
 * (exit 1), every 45th job's cc1 crashes (SIGSEGV, core dumped), every 60th
 * job runs a missing program (a failed exec, then exit 127), every 30th
 * job's shell forks a subshell that never execs, and one daemon outlives
 * the run.
 */
export function madeUpBuild(size: number, seed = 1): { records: Buffer[]; counts: BuildCounts; rootPid: number } {
  const random = seeded(seed);
  const s = new RunScript(1000);
  const counts: BuildCounts = { processes: 0, success: 0, failure: 0, signal: 0, execFailed: 0, running: 0 };
  const t0 = 5_000n * MS;
  const make = s.fork(undefined, t0);
  s.exec(make, undefined, t0, ['make', '-j4']);
  counts.processes++;
  const lanes = [t0 + MS, t0 + MS, t0 + MS, t0 + MS];
  let job = 0;
  let daemon = false;
  let end = t0;
  while (counts.processes < size - 1) {
    job++;
    const lane = job % 4;
    const at = lanes[lane]! + ms(random() * 2);
    const file = `src/module${job}.c`;
    const shell = s.fork(make, at, 'make');
    s.exec(shell, make, at + ms(0.2), ['/bin/sh', '-c', `cc -O2 -c ${file} -o obj/module${job}.o`]);
    counts.processes++;
    let t = at + ms(0.5);
    let status = 0;
    if (job % 60 === 0) {
      const missing = s.fork(shell, t);
      s.execFailed(missing, shell, t + ms(0.1), './does-not-exist');
      s.exit(missing, shell, t + ms(0.2), 127 << 8);
      counts.processes++;
      counts.execFailed++;
      t += ms(0.3);
      status = 127 << 8;
    } else {
      if (job % 30 === 0) {
        const sub = s.fork(shell, t);
        s.exit(sub, shell, t + ms(0.4), 0);
        counts.processes++;
        counts.success++;
        t += ms(0.5);
      }
      const cc = s.fork(shell, t);
      s.exec(cc, shell, t + ms(0.1), ['/usr/bin/cc', '-O2', '-c', file, '-o', `obj/module${job}.o`]);
      const cc1 = s.fork(cc, t + ms(0.5), 'cc');
      s.exec(cc1, cc, t + ms(0.6), ['/usr/lib/gcc/x86_64-linux-gnu/12/cc1', '-quiet', file, '-O2', '-o', `/tmp/cc${job}.s`]);
      const compile = 10 + random() * 60;
      const crashed = job % 45 === 0;
      const failed = !crashed && job % 40 === 0;
      s.exit(cc1, cc, t + ms(compile), crashed ? 11 | 0x80 : failed ? 1 << 8 : 0, 'cc1');
      counts.processes += 2;
      let ccStatus = crashed || failed ? 1 << 8 : 0;
      if (crashed) counts.signal++;
      else if (failed) counts.failure++;
      else counts.success++;
      if (!crashed && !failed) {
        const as = s.fork(cc, t + ms(compile + 0.2), 'cc');
        s.exec(as, cc, t + ms(compile + 0.3), ['/usr/bin/as', '--64', '-o', `obj/module${job}.o`, `/tmp/cc${job}.s`]);
        s.exit(as, cc, t + ms(compile + 4), 0, 'as');
        counts.processes++;
        counts.success++;
        ccStatus = 0;
      }
      s.exit(cc, shell, t + ms(compile + 5), ccStatus, 'cc');
      if (ccStatus === 0) counts.success++;
      else counts.failure++;
      t += ms(compile + 5.2);
      status = ccStatus;
    }
    s.exit(shell, make, t + ms(0.2), status);
    if (status === 0) counts.success++;
    else counts.failure++;
    lanes[lane] = t + ms(0.5);
    if (t > end) end = t;
    if (!daemon && job === 10) {
      daemon = true;
      const d = s.fork(make, t, 'make');
      s.exec(d, make, t + ms(0.1), ['/usr/bin/sccache', '--start-server']);
      counts.processes++;
      counts.running++;
    }
  }
  s.exit(make, undefined, end + ms(1), 0, 'make');
  counts.success++;
  return { records: s.ordered(), counts, rootPid: make.pid };
}
