// SPDX-License-Identifier: MIT
//
// Shared by the real-kernel tests: whether they can run here (and the rule
// that under CI=true they must), the fixtures they compile, and ways to watch
// what the kernel holds.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeBinding } from '../../types/binding.js';
import {
  ExecTracer,
  type ExecEvent,
  type ExecTracerDeps,
  type ExecTracerOptions,
  type ExitEvent,
  type ForkEvent,
} from '../../lib/index.js';
import { pumpDeps } from '../helpers/pump.js';

import { root } from '../helpers/process.js';
import { tsEntryArgs } from '../helpers/ts-entry.js';

export { root, run, type RunResult } from '../helpers/process.js';

/** Why the real-kernel tests cannot run here, or undefined if they can. */
function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `platform is ${process.platform}, not linux`;
  if (process.getuid?.() !== 0) return 'not running as root (the tests load BPF programs)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  return undefined;
}

export const skipReason = unavailableReason();
if (skipReason !== undefined) {
  if (process.env.CI === 'true') {
    // CI runs on a kernel that loads BPF: a skip there would hide a broken tracer.
    throw new Error(`real-kernel tests cannot run under CI=true: ${skipReason}`);
  }
  console.warn(`[exec-tracer] skipping real-kernel tests: ${skipReason}`);
}
/** Use as `describe.skipIf(!kernel)`. */
export const kernel = skipReason === undefined;

/**
 * The share of each storm and cycle count to run: 1 on a real machine. The
 * kernel matrix (test/kernels/) runs these suites under qemu's software CPU,
 * where one exec costs ~50 ms instead of ~0.5 ms, and sets
 * EXEC_TRACER_TEST_SCALE (0.02) so a suite takes minutes, not an hour. The
 * properties tested do not change with the count: none lost, none twice,
 * every drop counted, nothing left behind.
 */
export const testScale = (() => {
  const raw = process.env.EXEC_TRACER_TEST_SCALE;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!(value > 0 && value <= 1)) throw new Error(`EXEC_TRACER_TEST_SCALE must be in (0, 1], got '${raw}'`);
  return value;
})();

/** `n` scaled by testScale, at least `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * testScale));
}

/**
 * A wait of `ms` on a real machine, stretched where the counts are scaled
 * down: under emulation a process starts ~10x slower (an exec, more; but the
 * waits are for processes to start and answer).
 */
export function patience(ms: number): number {
  return Math.round(ms * Math.min(10, 1 / testScale));
}

let cachedBinding: NativeBinding | undefined;
/** The addon built by `npm run build:native`, loaded the way lib/ loads it. */
export function realBinding(): NativeBinding {
  const require = createRequire(import.meta.url);
  cachedBinding ??= require('node-gyp-build')(root) as NativeBinding;
  return cachedBinding;
}

const fixtureDir = join(root, 'build', 'test-fixtures');
/** Compiles test/fixtures/NAME.c once (again when the source changes). */
export function fixture(name: string): string {
  const source = join(root, 'test', 'fixtures', `${name}.c`);
  const binary = join(fixtureDir, name);
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(fixtureDir, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

/** The initial cgroup namespace's inode number (PROC_CGROUP_INIT_INO). */
const INITIAL_CGROUP_NS = 'cgroup:[4026531835]';

/**
 * This process's cgroup v2 path, as an exec here reports it in `cgroup`.
 * /proc shows it from the reader's cgroup namespace root and the kernel
 * program from the hierarchy's: the same only in the initial namespace,
 * where these tests run (anything else is said, not guessed around).
 */
export function ownCgroup(): string {
  if (readlinkSync('/proc/self/ns/cgroup') !== INITIAL_CGROUP_NS)
    throw new Error('the tests run in a cgroup namespace: /proc/self/cgroup is not the host-wide path');
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error('no cgroup v2 line in /proc/self/cgroup');
  return line.slice(3);
}

/** A tag no other process on the host will pass to exec. */
export function uniqueTag(label: string): string {
  return `et-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface KernelObjects {
  progs: number;
  maps: number;
  links: number;
}

/**
 * bpftool as a plain program, even where the sanitizer check (npm run
 * test:check) preloads ASan into everything: slowed down by it, one
 * bpftool's own iterator program and maps are still being freed when the
 * next one counts.
 */
function bpftool(args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: undefined } });
}

interface Listed {
  id: number;
  name?: string;
}

/** The kernel's programs, maps and links, as bpftool lists them, read once. */
function listed(): { prog: Listed[]; map: Listed[]; link: Listed[] } {
  const list = (kind: string) => JSON.parse(bpftool(['-j', kind, 'show']) || '[]') as Listed[];
  return { prog: list('prog'), map: list('map'), link: list('link') };
}

/** How many programs, maps and links a listing holds. */
function counted(now: ReturnType<typeof listed>): KernelObjects {
  return { progs: now.prog.length, maps: now.map.length, links: now.link.length };
}

/** Every BPF program, map and link the kernel holds right now. */
export function kernelObjects(): KernelObjects {
  return counted(listed());
}

/** Each BPF program, map and link the kernel holds right now, as 'KIND ID NAME', sorted. */
export function kernelObjectIds(): string[] {
  const now = listed();
  return (['prog', 'map', 'link'] as const)
    .flatMap((kind) => now[kind].map((o) => `${kind} ${o.id}${o.name ? ` ${o.name}` : ''}`))
    .sort();
}

/** Our programs a tracer with default options loads: exec and exit. */
export const PROGRAMS_PER_TRACER = 2;
/** The links a tracer with default options holds: exec and exit. */
export const LINKS_PER_TRACER = 2;

/** Whether a program is one of ours (the kernel keeps 15 bytes of a name: handle_failed_btf is handle_failed_b). */
function isOurs(p: Listed): boolean {
  return /^(handle_(exec|exit|fork)_(btf|tp)|handle_failed_b\w*|seed_tasks|seed_filter)$/.test(p.name ?? '');
}

/** How many of the kernel's BPF programs are ours (exec, exit, fork, failed exec, seeds; either hook). */
export function ourPrograms(): number {
  return listed().prog.filter(isOurs).length;
}

/**
 * Kernel objects once none of ours is left and two reads agree: the kernel
 * frees a closed program's maps after an RCU grace period, so a count taken
 * right after a stop can still include them. Each read is one listing, so
 * "none of ours" and the counts describe the same moment.
 */
export async function settledKernelObjects(): Promise<KernelObjects> {
  let previous = kernelObjects();
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const read = listed();
    const now = counted(read);
    if (!read.prog.some(isOurs) && now.progs === previous.progs && now.maps === previous.maps && now.links === previous.links)
      return now;
    previous = now;
  }
  throw new Error('kernel BPF objects did not settle within 10 s');
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Where the cgroup v2 hierarchy is mounted here, from mountinfo (never
 * assumed). Read here, not with lib/filter.ts's reader, so that a test that
 * makes cgroups does not lean on the code it tests.
 */
export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mount, fs] = line.split(' - ');
    if (fs?.split(' ')[0] === 'cgroup2') return mount!.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount in /proc/self/mountinfo');
}

/** Polls `check` until it returns true; the kernel frees BPF objects after RCU grace periods. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What traceDuring() kept, each kind in ring order, and its stopped tracer. */
export interface Traced {
  /** The exec events. */
  events: ExecEvent[];
  /** The exit events, if `keep` asked for them (else empty). */
  exits: ExitEvent[];
  /** The fork events, if `keep` asked for them (else empty). */
  forks: ForkEvent[];
  tracer: ExecTracer;
}

/**
 * Traces while `body` runs, keeping the exec events and the kinds `keep`
 * names; stop() delivers everything already written before this returns.
 * Exits and forks are listened to only when asked: with an 'exit' listener
 * the tracer builds an event of every exit instead of counting it, which a
 * storm would feel.
 */
export async function traceDuring(
  body: (tracer: ExecTracer) => Promise<unknown>,
  options: ExecTracerOptions = {},
  { deps = pumpDeps(), keep = [] }: { deps?: ExecTracerDeps; keep?: readonly ('exit' | 'fork')[] } = {},
): Promise<Traced> {
  const tracer = new ExecTracer(options, deps);
  const traced: Traced = { events: [], exits: [], forks: [], tracer };
  tracer.on('exec', (event) => traced.events.push(event));
  if (keep.includes('exit')) tracer.on('exit', (event) => traced.exits.push(event));
  if (keep.includes('fork')) tracer.on('fork', (event) => traced.forks.push(event));
  await tracer.start();
  try {
    await body(tracer);
  } finally {
    await tracer.stop();
  }
  return traced;
}

/** The tracing child process the lifecycle and filter suites drive (test/fixtures/trace-child.ts). */
export const child = join(root, 'test', 'fixtures', 'trace-child.ts');

/** Runs trace-child with `args`; `next()` resolves with each line it prints. */
export function startChild(args: string[]): { proc: ChildProcess; lines: string[]; next: () => Promise<string> } {
  const proc = spawn(process.execPath, [...tsEntryArgs(child), ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const seen: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffered = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      seen.push(line);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) return resolve(line);
      const timer = setTimeout(
        () => reject(new Error(`no line from trace-child ${args.join(' ')} within ${patience(20)} s (so far: ${JSON.stringify(seen)})`)),
        patience(20_000),
      );
      waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  return { proc, lines, next };
}
