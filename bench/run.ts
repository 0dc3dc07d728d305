// SPDX-License-Identifier: MIT
//
// exec-tracer side by side with libbpf-tools execsnoop and bpftrace's
// execsnoop.bt, all three attached during the same tagged exec storm; then
// exec-tracer with each part of its context alone, none and all, each beside
// execsnoop in a storm of its own; then exec-tracer with filters (what an
// exec the filter drops costs), likewise; then exec-tracer alone for latency,
// start-up, idle cost and decode ceiling.
// Not a test: it asserts nothing, it measures and says which targets were met.
//   npm run bench                         (as root)
//   BENCH_ONLY=filters npm run bench      the filter rows alone, beside the
//                                         default's row they compare with (a
//                                         minute or two); written to
//                                         bench/out/results-filters.{md,json}
//   BENCH_ONLY=syslog npm run bench       exec-tracer with and without the
//                                         syslog sink (to a real rsyslogd,
//                                         test/helpers/rsyslog.ts) beside
//                                         execsnoop: results-syslog.{md,json}
//                                         (BENCH_SYSLOG_RUNS=N storms, default 3)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCa } from '../test/helpers/certs.js';
import { startRsyslog } from '../test/helpers/rsyslog.js';
import { decodeCeiling } from './decode.js';
import { measurePath } from './path.js';
import { cpuNs } from './proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
const STORM = { spawners: 8, perSpawner: 1250 };
const GENERATED = STORM.spawners * STORM.perSpawner;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the machine's side -------------------------------------------------------

function sh(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ensureTools(): void {
  const missing = ['/usr/sbin/execsnoop', '/usr/sbin/execsnoop.bt', '/usr/bin/bpftrace'].filter((f) => !existsSync(f));
  if (missing.length === 0) return;
  console.log(`installing libbpf-tools and bpftrace (missing: ${missing.join(', ')})`);
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'libbpf-tools', 'bpftrace'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** A C helper (test/fixtures/NAME.c, or bench/NAME.c), built into bench/out. */
function buildFixture(name: string, dir = join('test', 'fixtures')): string {
  mkdirSync(out, { recursive: true });
  const binary = join(out, name);
  execFileSync('cc', ['-O2', '-Wall', '-o', binary, join(root, dir, `${name}.c`)]);
  return binary;
}

/** Peak resident set size of a process, in KiB. */
function peakRssKiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Resident set size of a process now, in KiB. */
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Run statistics of a tool's programs, apart by what they hook: exit
 * and fork are exec-tracer's programs of those names, exec all the rest. */
interface ProgStats {
  progs: number;
  runTimeNs: number;
  runCnt: number;
  exitNs: number;
  exitRuns: number;
  forkNs: number;
  forkRuns: number;
  /** The failed-exec program (tp_btf/sys_exit): runs at every syscall's return. */
  failedNs: number;
  failedRuns: number;
}

/** Ids of the BPF programs a process holds open (bpf-prog fds show `prog_id:`
 * in fdinfo; Debian's bpftool does not list owning pids). */
function progIdsOf(pid: number): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      // an fd closed between the listing and the read
    }
  }
  return ids;
}

/** The BPF programs a process holds, with their cumulative run statistics. */
function progsOf(pid: number): ProgStats {
  const ids = progIdsOf(pid);
  const all = JSON.parse(sh('bpftool', ['-j', 'prog', 'show']) || '[]') as {
    id: number;
    name?: string;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  const mine = all.filter((p) => ids.has(p.id));
  const hooking = (kind: string) => mine.filter((p) => p.name?.startsWith(`handle_${kind}_`));
  const exec = mine.filter((p) => !/^(handle_(exit|fork|failed)_|seed_)/.test(p.name ?? ''));
  const ns = (progs: typeof mine) => progs.reduce((s, p) => s + (p.run_time_ns ?? 0), 0);
  const runs = (progs: typeof mine) => progs.reduce((s, p) => s + (p.run_cnt ?? 0), 0);
  return {
    progs: mine.length,
    runTimeNs: ns(exec),
    runCnt: runs(exec),
    exitNs: ns(hooking('exit')),
    exitRuns: runs(hooking('exit')),
    forkNs: ns(hooking('fork')),
    forkRuns: runs(hooking('fork')),
    failedNs: ns(hooking('failed')),
    failedRuns: runs(hooking('failed')),
  };
}

// ---- the tracers ------------------------------------------------------------------

interface Tracer {
  name: string;
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  hooks: string;
}

/** One of exec-tracer's rows (bench/tracer-proc.mjs), whatever its options. */
const isExecTracer = (t: Tracer) => t.name.startsWith('exec-tracer');

function startTracer(name: string, file: string, args: string[], hooks: string): Tracer {
  const proc = spawn(file, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const t: Tracer = { name, proc, stdout: '', stderr: '', hooks };
  proc.stdout!.on('data', (d) => (t.stdout += d));
  proc.stderr!.on('data', (d) => (t.stderr += d));
  return t;
}

/** libbpf-tools and bpftrace attach to syscall tracepoints, which need tracefs:
 * mounted in a private mount namespace so the host's mounts stay untouched. */
function withTracefs(command: string[]): [string, string[]] {
  const quoted = command.map((c) => `'${c}'`).join(' ');
  return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
    `mount -t tracefs tracefs /sys/kernel/tracing && exec ${quoted}`]];
}

async function untilAttached(t: Tracer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (t.proc.exitCode !== null) throw new Error(`${t.name} exited: ${t.stderr}`);
    if (progsOf(t.proc.pid!).progs > 0 && (!isExecTracer(t) || t.stdout.includes('"ready"'))) return;
    await sleep(100);
  }
  throw new Error(`${t.name} did not attach within ${timeoutMs} ms: ${t.stderr}`);
}

async function stopTracer(t: Tracer): Promise<void> {
  if (isExecTracer(t)) t.proc.stdin!.write('stop\n');
  else t.proc.kill('SIGINT');
  await new Promise((r) => (t.proc.exitCode !== null ? r(null) : t.proc.once('exit', r)));
}

function countTags(text: string, tag: string): { seen: number; duplicates: number } {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`${tag}-(\\d+)-(\\d+)`, 'g'))) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  return { seen: counts.size, duplicates };
}

function lostReported(t: Tracer): number {
  // execsnoop: "Lost N events on CPU #c!"; bpftrace: "Lost N events"
  let lost = 0;
  for (const m of (t.stdout + t.stderr).matchAll(/Lost (\d+) events/gi)) lost += Number(m[1]);
  return lost;
}

function bareNodeRssKiB(): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
    setTimeout(() => {
      const kib = peakRssKiB(p.pid!);
      p.kill();
      resolve(kib);
    }, 1500);
  });
}

async function tracerProc(args: string[], whileRunning?: () => Promise<void>): Promise<Record<string, number | null>> {
  const t = startTracer('exec-tracer', process.execPath, [join(root, 'bench', 'tracer-proc.mjs'), ...args], '');
  if (whileRunning) {
    await untilAttached(t);
    await whileRunning();
    await stopTracer(t);
  } else {
    await new Promise((r) => t.proc.once('exit', r));
  }
  const lines = t.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!) as Record<string, number | null>;
}

// ---- the run ---------------------------------------------------------------------

interface ToolRow {
  tool: string;
  hooks: string;
  /** Execs of the storm(s) (the main storm's and a background one's) that the per-exec figures are over. */
  execs: number;
  /** How long the main storm took. */
  stormSeconds: number;
  /** The exec program(s) alone. */
  bpfNsPerExec: number;
  bpfNsPerRun: number;
  /** exec-tracer's exit program: per process of the storm, and per run (one per thread that ends). */
  exitNsPerProcess: number;
  exitNsPerRun: number;
  /** exec-tracer's fork program (forks: true): per process of the storm, and per run. */
  forkNsPerProcess: number;
  forkNsPerRun: number;
  /** exec-tracer's failed-exec program (failedExecs: true): per exec of the storm, and per run (per syscall). */
  failedNsPerExec: number;
  failedNsPerRun: number;
  cpuUsPerExec: number;
  /** The same, in the warm-up storm of a fresh process (V8 still compiling the hot path); null without one. */
  coldCpuUsPerExec: number | null;
  seen: number;
  duplicates: number;
  lost: number;
  /** exec-tracer's stats().filtered and .filteredExits across the storm alone (null for the other tools). */
  filtered: number | null;
  filteredExits: number | null;
  peakRssMiB: number;
  /** Resident set size 1.5 s after the storm. */
  steadyRssMiB: number;
}

/** A tool to attach for a storm: started with the storm's tag. */
interface ToolSpec {
  name: string;
  start: (tag: string) => Tracer;
}

const tracerProcFile = join(root, 'bench', 'tracer-proc.mjs');
const FULL = 'exec-tracer';
const execTracer = (name: string, options?: unknown, listener: 'tag' | 'full' | 'syslog' | 'otel' = 'tag'): ToolSpec => ({
  name,
  start: (tag) =>
    startTracer(name, process.execPath, [tracerProcFile, 'storm', tag, JSON.stringify(options ?? {}), listener],
      'tp_btf/sched_process_exec'),
});
const FULL_LISTENER = 'exec-tracer, listener reads pid, comm, argv';
const EXECSNOOP: ToolSpec = {
  name: 'execsnoop (libbpf-tools)',
  start: () => startTracer('execsnoop (libbpf-tools)', ...withTracefs(['/usr/sbin/execsnoop']),
    'tracepoint syscalls/sys_enter_execve + sys_exit_execve'),
};
const BPFTRACE: ToolSpec = {
  name: 'bpftrace execsnoop.bt',
  start: () => startTracer('bpftrace execsnoop.bt', ...withTracefs(['bpftrace', '/usr/sbin/execsnoop.bt']),
    'tracepoint syscalls/sys_enter_exec*'),
};

/**
 * exec-tracer with each part of options.context alone, with none and with
 * all, and with the environment on top, each in a storm of its own beside
 * execsnoop: programs on one tracepoint run one after the other, and the
 * first pays for bringing the task's mm, files and dentries into the cache
 * (attached together, the first exec-tracer measured 40 % above the sum of
 * its parts). A part's cost is its row minus the `context: false` row; the
 * environment's, its row minus the default's.
 */
const NONE = { exe: false, file: false, interpreter: false, cwd: false, cgroup: false };
const CONTEXT_VARIANTS = [
  ['context: false', { context: false }],
  ['exe path only', { context: { ...NONE, exe: true } }],
  ['cwd path only', { context: { ...NONE, cwd: true } }],
  ['file identity only', { context: { ...NONE, file: true } }],
  ['interpreter only', { context: { ...NONE, interpreter: true } }],
  ['cgroup path only', { context: { ...NONE, cgroup: true } }],
  ['context: true (the default)', {}],
  ['the default and env: true', { env: true }],
  ['the default and forks: true', { forks: true }],
  ['the default and exits: false', { exits: false }],
  ['the default and processTable: true', { processTable: true }],
  ['the default and failedExecs: true', { failedExecs: true }],
  // How often the tracer wakes is most of its CPU in a storm (RESULTS.md).
  ['the default and maxLatencyMs: 50', { maxLatencyMs: 50 }],
  ['the default and maxLatencyMs: 100', { maxLatencyMs: 100 }],
] as const;
const DEFAULT_VARIANT = 'context: true (the default)';
/** The row a variant's cost is measured over: the environment's over the default. */
const baselineOf = (variant: string) =>
  variant.startsWith('the default and') ? DEFAULT_VARIANT : 'context: false';
const perRun = (ns: number, runs: number) => (runs > 0 ? ns / runs : 0);

/**
 * exec-tracer with a filter (options.filter, decided in the kernel before
 * argv, environment or paths are read), each in a storm of its own beside
 * execsnoop as the context variants are. Two reject every exec of the storm,
 * one at the first and cheapest check (uid), one by task name; the third
 * keeps 1 %: a copy of /bin/true named `etkeep`, run GENERATED / 100 times
 * by a second, paced storm over the same period.
 */
const KEEP_COMM = 'etkeep';
const KEEP_EXECS = GENERATED / 100;
const FILTER_VARIANTS = [
  { variant: 'uids: [4242] (no exec has it: rejected at the first check)', options: { filter: { uids: [4242] } }, keep: false },
  { variant: "exclude: { comms: ['true'] } (rejected by task name)", options: { filter: { exclude: { comms: ['true'] } } }, keep: false },
  { variant: `comms: ['${KEEP_COMM}'] (keeps the 1 % storm beside it)`, options: { filter: { comms: [KEEP_COMM] } }, keep: true },
] as const;

interface FilterRow {
  variant: string;
  tracer: ToolRow;
  execsnoop: ToolRow;
  /** Records the filter must drop across the storm's window, and the tagged execs it must keep. */
  expectedFiltered: number;
  expectedSeen: number;
}

async function measureFilters(storm: string, stormSeconds: number): Promise<FilterRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-bench-'));
  const keep = join(dir, KEEP_COMM);
  copyFileSync('/bin/true', keep);
  chmodSync(keep, 0o755);
  // Paced to last about as long as the main storm (its last one, beside the
  // default), the time of each exec itself taken off its interval.
  const intervalUs = Math.max(0, Math.round((stormSeconds * 1e6) / KEEP_EXECS) - 1000);
  const rows: FilterRow[] = [];
  try {
    for (const { variant, options, keep: keeps } of FILTER_VARIANTS) {
      const extra: ExtraStorm | undefined = keeps
        ? { execs: KEEP_EXECS, args: (tag) => ['1', String(KEEP_EXECS), `${tag}-keep`, keep, String(intervalUs)] }
        : undefined;
      const [tracer, execsnoop] = await measureStorm(storm, [execTracer(`${FULL}, filter ${variant}`, options), EXECSNOOP], extra);
      // In the window: the storm's execs of /bin/true, and the launcher's own
      // exec (comm "storm", uid 0), once per storm run, unless the filter
      // drops by the name "true" only. The 1 % storm's execs are tagged
      // TAG-keep-…, which the tracer counts and execsnoop's column does not.
      const launchers = keeps ? 2 : 1;
      const expectedFiltered = 'exclude' in options.filter ? GENERATED : GENERATED + launchers;
      rows.push({ variant, tracer: tracer!, execsnoop: execsnoop!, expectedFiltered, expectedSeen: keeps ? KEEP_EXECS : 0 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The filter's counters of each exec-tracer now (asked on its stdin, answered once read); null for other tools. */
async function marks(tracers: Tracer[]): Promise<({ filtered: number; filteredExits: number } | null)[]> {
  const answers = [];
  for (const t of tracers) {
    if (!isExecTracer(t)) {
      answers.push(null);
      continue;
    }
    const n = (t.stdout.match(/"mark":/g) ?? []).length + 1;
    t.proc.stdin!.write('mark\n');
    const deadline = Date.now() + 10_000;
    let line: string | undefined;
    while ((line = t.stdout.split('\n').find((l) => l.startsWith(`{"mark":${n},`))) === undefined) {
      if (Date.now() > deadline || t.proc.exitCode !== null) throw new Error(`${t.name} did not answer mark ${n}: ${t.stderr}`);
      await sleep(10);
    }
    answers.push(JSON.parse(line) as { filtered: number; filteredExits: number });
  }
  return answers;
}

/** A second storm run beside the main one, in the background over the same period. */
interface ExtraStorm {
  /** Its arguments to the storm fixture, given the tag of the main storm. */
  args: (tag: string) => string[];
  /** How many execs it makes. */
  execs: number;
}

/**
 * One tagged storm with `tools` attached; a row per tool. Per-exec figures
 * are over the storm's execs, and `extra`'s when given. The filter's
 * counters are read just inside the window, so the storm's launcher is in
 * them but none of the bench's own bpftool runs.
 */
async function measureStorm(storm: string, tools: ToolSpec[], extra?: ExtraStorm, warmUp = false): Promise<ToolRow[]> {
  const tag = `bench${Date.now().toString(36)}`;
  const tracers = tools.map((t) => t.start(tag));
  const execs = GENERATED + (extra?.execs ?? 0);
  try {
    for (const t of tracers) await untilAttached(t);
    await sleep(500);
    // A first storm of the same size, tagged apart: its CPU is the cold
    // figure, and the measured storm finds V8's compiled code in place.
    let cold: number[] | undefined;
    if (warmUp) {
      const c0 = tracers.map((t) => cpuNs(t.proc.pid!));
      sh(storm, [String(STORM.spawners), String(STORM.perSpawner), `${tag}warm`]);
      await sleep(1500);
      cold = tracers.map((t, i) => (cpuNs(t.proc.pid!) - c0[i]!) / GENERATED / 1000);
    }
    const bpfBefore = tracers.map((t) => progsOf(t.proc.pid!));
    const marksBefore = await marks(tracers);
    const before = tracers.map((t, i) => ({ bpf: bpfBefore[i]!, cpu: cpuNs(t.proc.pid!) }));
    let background: Promise<string> | undefined;
    if (extra) {
      const p = spawn(storm, extra.args(tag), { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      p.stdout.on('data', (d) => (said += d));
      background = new Promise((resolve) => p.once('close', () => resolve(said)));
    }
    const result = sh(storm, [String(STORM.spawners), String(STORM.perSpawner), tag]);
    console.log(`storm (${tools.map((t) => t.name).join(', ')}): ${result.trim()}`);
    if (background) console.log(`  beside it: ${(await background).trim()}`);
    await sleep(1500); // every tool drains at its own pace
    const cpuAfter = tracers.map((t) => cpuNs(t.proc.pid!));
    const marksAfter = await marks(tracers);
    const after = tracers.map((t, i) => ({
      bpf: progsOf(t.proc.pid!), cpu: cpuAfter[i]!, rss: peakRssKiB(t.proc.pid!), rssNow: rssKiB(t.proc.pid!),
    }));
    for (const t of tracers) await stopTracer(t);
    const stormSeconds = Number(/seconds=([\d.]+)/.exec(result)?.[1]);

    return tracers.map((t, i) => {
      writeFileSync(join(out, `${t.name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}.out`), t.stdout);
      const b = before[i]!;
      const a = after[i]!;
      let counted: { seen: number; duplicates: number; lost: number };
      if (isExecTracer(t)) {
        const r = JSON.parse(t.stdout.trim().split('\n').at(-1)!) as { seen: number; duplicates: number; lost: number };
        counted = r;
      } else {
        counted = { ...countTags(t.stdout, tag), lost: lostReported(t) };
      }
      const runs = a.bpf.runCnt - b.bpf.runCnt;
      const m0 = marksBefore[i];
      const m1 = marksAfter[i];
      return {
        tool: t.name,
        hooks: t.hooks,
        execs,
        stormSeconds,
        bpfNsPerExec: (a.bpf.runTimeNs - b.bpf.runTimeNs) / execs,
        bpfNsPerRun: runs > 0 ? (a.bpf.runTimeNs - b.bpf.runTimeNs) / runs : 0,
        exitNsPerProcess: (a.bpf.exitNs - b.bpf.exitNs) / execs,
        exitNsPerRun: perRun(a.bpf.exitNs - b.bpf.exitNs, a.bpf.exitRuns - b.bpf.exitRuns),
        forkNsPerProcess: (a.bpf.forkNs - b.bpf.forkNs) / execs,
        forkNsPerRun: perRun(a.bpf.forkNs - b.bpf.forkNs, a.bpf.forkRuns - b.bpf.forkRuns),
        failedNsPerExec: (a.bpf.failedNs - b.bpf.failedNs) / execs,
        failedNsPerRun: perRun(a.bpf.failedNs - b.bpf.failedNs, a.bpf.failedRuns - b.bpf.failedRuns),
        cpuUsPerExec: (a.cpu - b.cpu) / execs / 1000,
        coldCpuUsPerExec: cold ? cold[i]! : null,
        seen: counted.seen,
        duplicates: counted.duplicates,
        lost: counted.lost,
        filtered: m0 && m1 ? m1.filtered - m0.filtered : null,
        filteredExits: m0 && m1 ? m1.filteredExits - m0.filteredExits : null,
        peakRssMiB: a.rss / 1024,
        steadyRssMiB: a.rssNow / 1024,
      };
    });
  } finally {
    for (const t of tracers) if (t.proc.exitCode === null) t.proc.kill('SIGKILL');
  }
}

/** One `seed` run of bench/tracer-proc.mjs: start() with processTable, 5 times. */
interface SeedResult {
  medianMs: number;
  minMs: number;
  maxMs: number;
  size: number;
  heapBytes: number;
  rssBytes: number;
}

async function seedRun(): Promise<SeedResult> {
  const t = startTracer('exec-tracer, processTable', process.execPath, ['--expose-gc', tracerProcFile, 'seed', '5'], '');
  await new Promise((r) => t.proc.once('exit', r));
  return JSON.parse(t.stdout.trim().split('\n').at(-1)!) as SeedResult;
}

/**
 * The process table's seed: on this host as it is, and with 10,000 more
 * processes held asleep (a busy node's count), each start a task
 * iterator's walk plus /proc reads for argv and exe.
 */
async function seeding(forks: string): Promise<{ host: SeedResult; synthetic: SeedResult; held: number }> {
  const host = await seedRun();
  const holder = spawn(forks, ['--hold', '10000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('\n')) resolve();
    });
    holder.once('exit', () => reject(new Error(`forks --hold exited: ${said}`)));
  });
  try {
    const synthetic = await seedRun();
    return { host, synthetic, held: Number(/held=(\d+)/.exec(said)?.[1]) };
  } finally {
    holder.stdin!.end();
    await new Promise((r) => (holder.exitCode !== null ? r(null) : holder.once('exit', r)));
  }
}

/** What failedExecs costs every other syscall: tp_btf/sys_exit runs at each one's return. */
interface SyscallCost {
  /** ns per getppid(2) (bench/syscalls.c, best of 7 rounds), median over the alternated rounds. */
  withoutNs: number;
  /** With exec-tracer attached with failedExecs, and with its defaults. */
  withNs: number;
  defaultNs: number;
  /** With execsnoop attached instead (its syscalls/sys_{enter,exit}_execve tracepoints). */
  execsnoopNs: number;
  /** The failed-exec program's own run time per run (bpf_stats, on for this alone), i.e. per syscall. */
  bpfNsPerRun: number;
  rounds: number;
}

/**
 * Wall time with bpf_stats off (stats add two clock reads to every run of
 * every program, which at one run per syscall is most of what is measured).
 */
async function syscallCost(syscalls: string, setStats: (on: boolean) => void): Promise<SyscallCost> {
  const perSyscall = () => Number(sh(syscalls, []).trim());
  const attached = async (t: Tracer, body: () => void) => {
    try {
      await untilAttached(t);
      await sleep(2000); // past the tracer's start-up work (JIT, GC) on a 2-core machine
      body();
    } finally {
      await stopTracer(t);
    }
  };
  const failedExecs = () => startTracer('exec-tracer, failedExecs', process.execPath,
    [tracerProcFile, 'storm', 'syscalls', JSON.stringify({ failedExecs: true })], 'tp_btf/sys_exit');
  const sides = { without: [] as number[], with: [] as number[], default: [] as number[], execsnoop: [] as number[] };
  const ROUNDS = 5;
  setStats(false);
  // Alternated, so drift of the machine falls on every side alike.
  for (let i = 0; i < ROUNDS; i++) {
    sides.without.push(perSyscall());
    await attached(failedExecs(), () => sides.with.push(perSyscall()));
    await attached(execTracer('exec-tracer, defaults').start('syscalls'), () => sides.default.push(perSyscall()));
    // execsnoop's per-syscall tracepoints are not free for other syscalls
    // either: the kernel routes them through the same sys_enter/sys_exit
    // hooks and filters by number in its probe.
    await attached(EXECSNOOP.start('syscalls'), () => sides.execsnoop.push(perSyscall()));
  }
  setStats(true);
  let bpfNsPerRun = 0;
  const t = failedExecs();
  await attached(t, () => {
    const before = progsOf(t.proc.pid!);
    perSyscall();
    const after = progsOf(t.proc.pid!);
    bpfNsPerRun = perRun(after.failedNs - before.failedNs, after.failedRuns - before.failedRuns);
  });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    withoutNs: median(sides.without), withNs: median(sides.with), defaultNs: median(sides.default),
    execsnoopNs: median(sides.execsnoop), bpfNsPerRun, rounds: ROUNDS,
  };
}

interface ContextRow {
  variant: string;
  tracer: ToolRow;
  execsnoop: ToolRow;
}

async function latency(storm: string, maxLatencyMs: number) {
  const tag = `lat${maxLatencyMs}x${Date.now().toString(36)}`;
  // A paced 200 execs/s: latency of a working system, not of a saturated one.
  return tracerProc(['latency', tag, String(maxLatencyMs)], async () => {
    sh(storm, ['1', '1000', tag, '/bin/true', '5000']);
    await sleep(300);
  });
}

const fmt = (n: number | null | undefined, digits = 1) => (n === null || n === undefined ? 'n/a' : n.toFixed(digits));

/** A target: name, measured, limit (met when measured ≤ it; null: reported, not targeted), unit. */
type Target = readonly [string, number, number | null, string];

function targetsTable(targets: readonly Target[]): string[] {
  const md = ['### Targets', '', '| target | measured | met |', '| --- | ---: | :---: |'];
  for (const [name, value, limit, unit] of targets) {
    const shown = unit === 'events/s' ? (-value).toLocaleString('en-US') : `${fmt(value, unit === 'ratio' ? 3 : 2)}`;
    const met = limit === null ? 'reported' : value <= limit ? 'yes' : `**no** (limit ${unit === 'events/s' ? (-limit).toLocaleString('en-US') : limit})`;
    md.push(`| ${name} | ${shown} ${unit === 'ratio' ? '×' : unit} | ${met} |`);
  }
  return md;
}

function report(md: string[], name: string, json: object): void {
  const markdown = md.join('\n');
  writeFileSync(join(out, `${name}.md`), `${markdown}\n`);
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\n${markdown}\n\n(written to bench/out/${name}.md and bench/out/${name}.json)`);
}

/** The filters' section and targets, against the default's row (no filter, its own storm). */
function filtersPart(filterRows: FilterRow[], def: ContextRow): { markdown: string[]; targets: Target[] } {
  const ratio = (c: { tracer: ToolRow; execsnoop: ToolRow }) => c.tracer.bpfNsPerExec / c.execsnoop.bpfNsPerExec;
  const [uids, comms, keep] = filterRows as [FilterRow, FilterRow, FilterRow];
  const md = ['### Filters: what an exec the filter drops costs', ''];
  md.push(
    `Each filter in a storm of its own (${GENERATED} execs of /bin/true from ${STORM.spawners} spawners) beside execsnoop, ` +
      `bpf_stats on, as the options.context rows are; "no filter" is the \`${DEFAULT_VARIANT}\` row, measured so. The 1 % row\'s storm has a second one ` +
      `beside it: ${KEEP_EXECS} execs of a copy of /bin/true named \`${KEEP_COMM}\`, from one spawner paced over the same period; its ` +
      `figures are per exec of both (${keep.tracer.execs}). Filtered: \`stats().filtered\` across the storm's window (read from the ` +
      'tracer just inside it), which the filter must drop: the storm\'s execs and, unless it drops by the name `true` alone, each ' +
      'storm launcher\'s own exec; more is other execs on the host meanwhile.',
    '',
  );
  md.push('| exec-tracer with | exec program BPF ns / exec | execsnoop BPF ns / exec | × execsnoop | exit program ns / process | tracer CPU µs / exec | seen (tagged) | filtered: execs (expected) | filtered exits | lost |');
  md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  md.push(`| no filter (${def.variant}) | ${fmt(def.tracer.bpfNsPerExec, 0)} | ${fmt(def.execsnoop.bpfNsPerExec, 0)} | ${fmt(ratio(def), 3)} | ${fmt(def.tracer.exitNsPerProcess, 0)} | ${fmt(def.tracer.cpuUsPerExec, 2)} | ${def.tracer.seen} / ${GENERATED} | ${def.tracer.filtered ?? 'n/a'} (0) | ${def.tracer.filteredExits ?? 'n/a'} | ${def.tracer.lost} |`);
  for (const f of filterRows) {
    const got = f.tracer.filtered ?? NaN;
    const off = got - f.expectedFiltered;
    const note = off === 0 ? '' : off > 0 ? ` **+${off}: other execs on the host**` : ` **${off}: the filter let storm execs through**`;
    const seenNote = f.tracer.seen === f.expectedSeen ? '' : ' **≠**';
    md.push(`| filter ${f.variant} | ${fmt(f.tracer.bpfNsPerExec, 0)} | ${fmt(f.execsnoop.bpfNsPerExec, 0)} | ${fmt(ratio(f), 3)} | ${fmt(f.tracer.exitNsPerProcess, 0)} | ${fmt(f.tracer.cpuUsPerExec, 2)} | ${f.tracer.seen} / ${f.expectedSeen}${seenNote} | ${got} (${f.expectedFiltered})${note} | ${f.tracer.filteredExits ?? 'n/a'} | ${f.tracer.lost} |`);
  }
  const cpuFraction = keep.tracer.cpuUsPerExec / def.tracer.cpuUsPerExec;
  md.push(
    '',
    `With the filter keeping 1 % the tracer process used ${fmt(keep.tracer.cpuUsPerExec, 2)} µs of CPU per exec, against ` +
      `${fmt(def.tracer.cpuUsPerExec, 2)} µs with no filter: ${fmt(cpuFraction, 3)} × (it kept ${keep.tracer.seen} of ` +
      `${keep.tracer.execs} execs). An exec rejected at the uid check cost ${fmt(uids.tracer.bpfNsPerExec, 0)} ns of BPF time ` +
      `(${fmt(ratio(uids), 3)} × execsnoop's), one rejected by task name ${fmt(comms.tracer.bpfNsPerExec, 0)} ns (${fmt(ratio(comms), 3)} ×).`,
    '',
  );
  const targets: Target[] = [
    ['BPF time per exec the filter rejects ≤ 0.05 × execsnoop (uids: the first check)', ratio(uids), 0.05, 'ratio'],
    ['BPF time per exec the filter rejects, by task name (exclude comms)', ratio(comms), null, 'ratio'],
    ['tracer CPU per exec, a filter keeping 1 % of a storm, × no filter\'s', cpuFraction, null, 'ratio'],
  ];
  return { markdown: md, targets };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
  const only = process.env.BENCH_ONLY ?? '';
  if (only !== '' && only !== 'filters' && only !== 'syslog')
    throw new Error(`BENCH_ONLY=${only}: the parts that run alone are 'filters' and 'syslog'`);
  if (only === 'syslog') return syslogBench();
  const filtersOnly = only === 'filters';
  ensureTools();
  const storm = buildFixture('storm');
  const statsWas = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  const restore = () => writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
  // Stats cost a little on every BPF run host-wide: never leave them on.
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  let rows: ToolRow[] = [];
  let syscalls: SyscallCost | undefined;
  const contextRows: ContextRow[] = [];
  let filterRows: FilterRow[];
  try {
    if (!filtersOnly)
      rows = await measureStorm(storm, [execTracer(FULL), execTracer(FULL_LISTENER, {}, 'full'), EXECSNOOP, BPFTRACE], undefined, true);
    for (const [variant, context] of CONTEXT_VARIANTS) {
      if (filtersOnly && variant !== DEFAULT_VARIANT) continue; // the filters' baseline alone
      const [tracer, execsnoop] = await measureStorm(storm, [execTracer(`${FULL}, ${variant}`, context), EXECSNOOP], undefined, true);
      contextRows.push({ variant, tracer: tracer!, execsnoop: execsnoop! });
    }
    const defaultRow = contextRows.find((c) => c.variant === DEFAULT_VARIANT)!;
    filterRows = await measureFilters(storm, defaultRow.tracer.stormSeconds);
    if (!filtersOnly)
      syscalls = await syscallCost(buildFixture('syscalls', 'bench'), (on) =>
        writeFileSync('/proc/sys/kernel/bpf_stats_enabled', on ? '1' : '0'));
  } finally {
    restore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const machine = `${sh('uname', ['-r']).trim()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`;
  const defaultRow = contextRows.find((c) => c.variant === DEFAULT_VARIANT)!;
  const filters = filtersPart(filterRows, defaultRow);
  if (filtersOnly) {
    const md = [`Run ${new Date().toISOString()} on ${machine}; command: \`BENCH_ONLY=filters npm run bench\` (as root).`, ''];
    md.push(...filters.markdown, ...targetsTable(filters.targets));
    report(md, 'results-filters', { date: new Date().toISOString(), machine, generated: GENERATED, contextRows, filterRows });
    return;
  }
  const bareRss = (await bareNodeRssKiB()) / 1024;
  const latDefault = await latency(storm, 10);
  const latLow = await latency(storm, 0);
  const startup = await tracerProc(['startup', '10']);
  const idle = await tracerProc(['idle', '10']);
  const decode = await decodeCeiling(2);
  const path = await measurePath(root, [10_000, 50_000, 100_000, 200_000]);
  const seed = await seeding(buildFixture('forks'));

  const et = rows.find((r) => r.tool === FULL)!;
  const etFull = rows.find((r) => r.tool === FULL_LISTENER)!;
  const es = rows.find((r) => r.tool.startsWith('execsnoop'))!;
  const ratio = (c: ContextRow) => c.tracer.bpfNsPerExec / c.execsnoop.bpfNsPerExec;
  const bare = contextRows[0]!;
  const allExecTracers = [et, ...contextRows.map((c) => c.tracer)];
  const targets: Target[] = [
    ['BPF time per exec, full context (default) ≤ 0.25 × execsnoop', et.bpfNsPerExec / es.bpfNsPerExec, 0.25, 'ratio'],
    ['BPF time per exec, context: false ≤ 0.15 × execsnoop (its own storm)', ratio(bare), 0.15, 'ratio'],
    ...filters.targets,
    ['tracer CPU per exec ≤ 1.0 × execsnoop (listener reads pid, comm, argv; warm)', etFull.cpuUsPerExec / es.cpuUsPerExec, 1, 'ratio'],
    ['tracer CPU per exec ≤ 1.0 × execsnoop (listener reads a tag; warm)', et.cpuUsPerExec / es.cpuUsPerExec, 1, 'ratio'],
    ['tracer CPU per exec ≤ 0.5 × execsnoop (stretch; pid, comm, argv; warm)', etFull.cpuUsPerExec / es.cpuUsPerExec, 0.5, 'ratio'],
    ['high-rate path: sustained with 0 lost ≥ 100,000 records/s', -path.sustained, -100_000, 'records/s'],
    [`lost in a ${GENERATED}-exec storm, 8 spawners = 0 (every exec-tracer)`,
      Math.max(...allExecTracers.map((r) => r.lost + (GENERATED - r.seen))), 0, 'execs'],
    ['duplicates = 0 (every exec-tracer)', Math.max(...allExecTracers.map((r) => r.duplicates)), 0, 'execs'],
    ['latency p99 ≤ 20 ms (default)', latDefault.p99Ms ?? Infinity, 20, 'ms'],
    ['latency p99 ≤ 2 ms (maxLatencyMs: 0)', latLow.p99Ms ?? Infinity, 2, 'ms'],
    ['start → attached ≤ 150 ms (median)', startup.medianMs ?? Infinity, 150, 'ms'],
    ['decode-and-emit ≥ 1,000,000 events/s', -decode[0]!.eventsPerSecond, -1_000_000, 'events/s'],
    ['idle CPU ≤ 0.5 % of a core', idle.cpuPercentOfCore ?? Infinity, 0.5, '%'],
    ['peak RSS ≤ 20 MiB above bare node', et.peakRssMiB - bareRss, 20, 'MiB'],
    ['steady RSS after the storm ≤ 16 MiB above bare node', et.steadyRssMiB - bareRss, 16, 'MiB'],
  ];

  const md: string[] = [];
  md.push(`Run ${new Date().toISOString()} on ${machine}; command: \`npm run bench\` (as root).`, '');
  md.push(`### The same storm, all three attached: ${GENERATED} execs from ${STORM.spawners} spawners`, '');
  md.push('| tool | hooks | BPF ns / exec | BPF ns / run | tracer CPU µs / exec (warm) | × execsnoop | the first storm (cold) | seen | duplicates | lost (reported) | peak RSS MiB | RSS after MiB |');
  md.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    md.push(`| ${r.tool} | ${r.hooks} | ${fmt(r.bpfNsPerExec, 0)} | ${fmt(r.bpfNsPerRun, 0)} | ${fmt(r.cpuUsPerExec, 2)} | ${fmt(r.cpuUsPerExec / es.cpuUsPerExec, 2)} | ${fmt(r.coldCpuUsPerExec, 2)} | ${r.seen} / ${GENERATED} | ${r.duplicates} | ${r.lost} | ${fmt(r.peakRssMiB)} | ${fmt(r.steadyRssMiB)} |`);
  md.push('', `Bare \`node\` peak RSS: ${fmt(bareRss)} MiB. Each tool saw a first storm of ${GENERATED} execs (tagged apart; its CPU is the "cold" column) before the measured one. CPU is every thread's, from schedstat.`, '');
  md.push(
    `exec-tracer's BPF time above is its exec program's. Its exit program (on by default) took ${fmt(et.exitNsPerProcess, 0)} ns ` +
      `per process of the storm (${fmt(et.exitNsPerRun, 0)} ns per run: one run per thread that ends, on the whole host).`,
    '',
  );
  md.push('### options.context: each part alone, and the environment, each in its own storm beside execsnoop', '');
  md.push('| exec-tracer with | exec program BPF ns / exec | execsnoop BPF ns / exec | × execsnoop | the part: ns over `context: false` (the rest: over the default) | exit program ns / process | fork program ns / process (per run) | failed-exec program ns / exec (per run) | tracer CPU µs / exec (warm) | execsnoop CPU µs / exec | × | seen | lost |');
  md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of contextRows) {
    const base = contextRows.find((b) => b.variant === baselineOf(c.variant))!;
    const part = c === base ? '' : fmt(c.tracer.bpfNsPerExec - base.tracer.bpfNsPerExec, 0);
    const fork = c.tracer.forkNsPerRun > 0 ? `${fmt(c.tracer.forkNsPerProcess, 0)} (${fmt(c.tracer.forkNsPerRun, 0)})` : '';
    const failed = c.tracer.failedNsPerRun > 0 ? `${fmt(c.tracer.failedNsPerExec, 0)} (${fmt(c.tracer.failedNsPerRun, 0)})` : '';
    md.push(`| ${c.variant} | ${fmt(c.tracer.bpfNsPerExec, 0)} | ${fmt(c.execsnoop.bpfNsPerExec, 0)} | ${fmt(ratio(c), 3)} | ${part} | ${fmt(c.tracer.exitNsPerProcess, 0)} | ${fork} | ${failed} | ${fmt(c.tracer.cpuUsPerExec, 2)} | ${fmt(c.execsnoop.cpuUsPerExec, 2)} | ${fmt(c.tracer.cpuUsPerExec / c.execsnoop.cpuUsPerExec, 2)} | ${c.tracer.seen} / ${GENERATED} | ${c.tracer.lost} |`);
  }
  md.push('');
  const sc = syscalls!;
  const over = (ns: number) => `${fmt(ns, 1)} ns (+${fmt(ns - sc.withoutNs, 1)})`;
  md.push(
    `failedExecs: tp_btf/sys_exit runs at the return of every syscall on the host. A getppid(2) loop (bench/syscalls.c, best of 7 ` +
      `rounds; ${sc.rounds} alternated rounds, median; bpf_stats off) took ${fmt(sc.withoutNs, 1)} ns per call alone, ` +
      `${over(sc.defaultNs)} with exec-tracer's defaults, ${over(sc.withNs)} with failedExecs, and ${over(sc.execsnoopNs)} ` +
      `with execsnoop (its syscalls/sys_{enter,exit}_execve tracepoints) instead. The program's own run time: ` +
      `${fmt(sc.bpfNsPerRun, 1)} ns per syscall (bpf_stats on, which adds two clock reads per run).`,
    '',
  );
  md.push(...filters.markdown);
  md.push('### processTable: the seed at start()', '');
  md.push('| host | processes in the table | start() → attached and seeded: median (min–max of 5) | heap held by the table | RSS growth |');
  md.push('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, r] of [['this host', seed.host], [`this host + ${seed.held} sleeping processes`, seed.synthetic]] as const)
    md.push(`| ${name} | ${r.size} | ${fmt(r.medianMs)} ms (${fmt(r.minMs)}–${fmt(r.maxMs)}) | ${fmt(r.heapBytes / 2 ** 20, 2)} MiB | ${fmt(r.rssBytes / 2 ** 20, 2)} MiB |`);
  md.push('');
  md.push(`### The high-rate path: synthetic records into the tracer's ring (bench/synth), ${path.seconds} s per rate`, '');
  md.push('| records/s asked | reached | written | seen by the listener | lost | tracer CPU µs / record | % of a core |');
  md.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of path.rows)
    md.push(`| ${r.rate.toLocaleString('en-US')} | ${Math.round(r.achieved).toLocaleString('en-US')} | ${r.written} | ${r.seen} | ${r.lost} | ${fmt(r.cpuUsPerRecord, 2)} | ${fmt(r.cpuPercentOfCore, 0)} |`);
  md.push('', `Highest rate sustained with nothing lost (the default 2 MiB ring): ${path.sustained.toLocaleString('en-US')} records/s.`, '');
  md.push('### exec-tracer alone', '');
  md.push('| measure | value |', '| --- | ---: |');
  md.push(`| latency, default (maxLatencyMs 10), 200 execs/s: p50 / p99 / max | ${fmt(latDefault.p50Ms, 2)} / ${fmt(latDefault.p99Ms, 2)} / ${fmt(latDefault.maxMs, 2)} ms (${latDefault.count} execs) |`);
  md.push(`| latency, maxLatencyMs 0, 200 execs/s: p50 / p99 / max | ${fmt(latLow.p50Ms, 3)} / ${fmt(latLow.p99Ms, 3)} / ${fmt(latLow.maxMs, 3)} ms (${latLow.count} execs) |`);
  md.push(`| start() → attached: median (min–max of 10) | ${fmt(startup.medianMs)} ms (${fmt(startup.minMs)}–${fmt(startup.maxMs)}) |`);
  md.push(`| idle CPU over ${fmt(idle.seconds, 0)} s | ${fmt(idle.cpuPercentOfCore, 3)} % of a core |`);
  for (const d of decode) md.push(`| decode-and-emit, listener ${d.listener} (${d.recordBytes}-byte records) | ${d.eventsPerSecond.toLocaleString('en-US')} events/s |`);
  md.push('');
  md.push(...targetsTable(targets));
  report(md, 'results', {
    date: new Date().toISOString(), machine, generated: GENERATED, rows, contextRows, filterRows,
    bareRssMiB: bareRss, latDefault, latLow, startup, idle, decode, syscalls, seed, path,
  });
}

/**
 * The syslog sink's cost: two exec-tracers in the same storms beside
 * execsnoop, both with the defaults and a listener reading the tag, one of
 * them also writing every exec to a SyslogSink (the defaults: TCP to a real
 * rsyslogd on this host). The difference of their CPU per exec is the sink's
 * (the OpenTelemetry record, the JSON, the frame, the socket writes).
 */
async function syslogBench(): Promise<void> {
  ensureTools();
  const storm = buildFixture('storm');
  const dir = mkdtempSync(join(tmpdir(), 'et-bench-syslog-'));
  const rsyslog = await startRsyslog(dir, makeCa(dir, 'bench'));
  process.env.EXEC_TRACER_BENCH_SYSLOG = `tcp://127.0.0.1:${rsyslog.tcpPort}`;
  const PLAIN = 'exec-tracer, listener reads a tag';
  const OTEL = 'exec-tracer, same + JSON.stringify(toOtelRecord())';
  const SINK = 'exec-tracer, same + SyslogSink.write()';
  const runs: ToolRow[][] = [];
  const tools = [execTracer(PLAIN), execTracer(OTEL, {}, 'otel'), execTracer(SINK, {}, 'syslog'), EXECSNOOP];
  try {
    for (let i = 0; i < Number(process.env.BENCH_SYSLOG_RUNS ?? 3); i++) runs.push(await measureStorm(storm, tools, undefined, true));
  } finally {
    await rsyslog.stop();
  }
  const delivered = rsyslog.lines().length;
  rmSync(dir, { recursive: true, force: true });
  const machine = `${sh('uname', ['-r']).trim()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`;
  const md = [`Run ${new Date().toISOString()} on ${machine}; command: \`BENCH_ONLY=syslog npm run bench\` (as root).`, ''];
  md.push('| storm | tool | tracer CPU µs / exec, warm | cold (first storm) | × execsnoop | seen | lost |');
  md.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  const added: number[] = [];
  const record: number[] = [];
  runs.forEach((rows, i) => {
    const es = rows.find((r) => r.tool.startsWith('execsnoop'))!;
    for (const r of rows)
      md.push(`| ${i + 1} | ${r.tool} | ${fmt(r.cpuUsPerExec, 2)} | ${fmt(r.coldCpuUsPerExec, 2)} | ${fmt(r.cpuUsPerExec / es.cpuUsPerExec, 2)} | ${r.seen} / ${GENERATED} | ${r.lost} |`);
    const plain = rows.find((r) => r.tool === PLAIN)!.cpuUsPerExec;
    added.push(rows.find((r) => r.tool === SINK)!.cpuUsPerExec - plain);
    record.push(rows.find((r) => r.tool === OTEL)!.cpuUsPerExec - plain);
  });
  const sorted = [...added].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const recordMedian = [...record].sort((a, b) => a - b)[Math.floor(record.length / 2)]!;
  md.push(
    '',
    `The sink adds ${added.map((a) => fmt(a, 2)).join(', ')} µs per exec (median ${fmt(median, 2)}), of which making the record and its JSON ` +
      `alone ${record.map((a) => fmt(a, 2)).join(', ')} (median ${fmt(recordMedian, 2)}); rsyslogd filed ${delivered} messages ` +
      `(${runs.length} × 2 storms of ${GENERATED}, and the other execs of the host while the sink ran).`,
    '',
  );
  md.push(...targetsTable([['CPU the syslog sink adds per exec ≤ 5 µs (defaults, maxLatencyMs 10)', median, 5, 'µs']]));
  report(md, 'results-syslog', { date: new Date().toISOString(), machine, generated: GENERATED, runs, added, record, delivered });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
