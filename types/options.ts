// SPDX-License-Identifier: MIT
//
// The options of `new ExecTracer(options, deps)` and of `tracer.events()`.
import type { AttachMode, NativeBinding } from './binding.js';
import type { ExecFilter } from './filter.js';
import type { TracerEvent } from './events.js';

/**
 * `options.context` as an object: which parts of the context the kernel
 * collects per exec. A part left out is `true`.
 */
export interface ExecContextOptions {
  /** `exe`, `rawExe`, `exeTruncated` (a path walk). */
  exe?: boolean;
  /** The executable file's identity and kind: every other `exe*` field of ExecEvent (`exeInode`, `exeDevice`, `exeMode`…). */
  file?: boolean;
  /** `interpreter`, `rawInterpreter`. */
  interpreter?: boolean;
  /** `cwd`, `rawCwd`, `cwdTruncated` (a path walk). */
  cwd?: boolean;
  /** `cgroup`, `rawCgroup`, `cgroupTruncated`, `containerId` (a walk of the cgroup tree). */
  cgroup?: boolean;
}

/** Options of `new ExecTracer(options)`. Every one is optional. */
export interface ExecTracerOptions {
  /**
   * argv bytes copied per exec, in bytes; more is counted (`argvTotalBytes`)
   * and flagged (`argvTruncated`), not copied. Integer, 0 to 1 MiB.
   * @default 8192
   */
  argvLimit?: number;
  /**
   * Size of the kernel's ring buffer in bytes: a power of two, at least one
   * page and at least 4 records of the largest size `argvLimit` allows. Execs
   * that find it full are dropped and reported through `'lost'`.
   * @default 2097152 (2 MiB)
   */
  ringBufferSize?: number;
  /**
   * Longest time in ms an event may wait in the kernel before it is read.
   * The kernel wakes the tracer early when the ring passes a quarter full.
   * `0` asks for a wakeup per exec: lowest latency, more CPU per exec.
   * @default 10
   */
  maxLatencyMs?: number;
  /**
   * Aborting it stops the tracer, as stop() does. If it is already aborted,
   * start() rejects with an ExecTracerError of code `'EABORTED'` (and so does
   * a start() still loading when it aborts); the abort reason is its `cause`.
   */
  signal?: AbortSignal;
  /**
   * Which kernel hook to use: `'tp_btf'` (BTF-enabled tracepoint, needs no
   * tracefs), `'tracepoint'` (classic tracepoint, needs tracefs mounted), or
   * `'auto'`: tp_btf, falling back to the classic tracepoint.
   * @default 'auto'
   */
  attach?: AttachMode;
  /**
   * What the kernel collects beyond pid, ids, comm, filename and argv:
   * `true` for everything, `false` for none of it (a program that needs only
   * those saves the path walks), or an object naming the parts
   * (`{ cwd: false }`). Each path collected may add up to 4095 bytes to the
   * largest record, which `ringBufferSize` must hold four of.
   * @default true
   */
  context?: boolean | ExecContextOptions;
  /**
   * Whether to collect each new process's environment. Off by default:
   * secrets live there, and when it is off the kernel program does not read
   * the environment at all. `true` keeps every variable; a list of names
   * (`['PATH', 'LD_PRELOAD']`) keeps only those. The kernel copies up to
   * `envLimit` bytes into the ring buffer either way; the names not listed
   * are dropped in this process before any event is made.
   * @default false
   */
  env?: boolean | readonly string[];
  /**
   * Whether to report the end of each process as an `'exit'` event.
   * @default true
   */
  exits?: boolean;
  /**
   * Whether to report each new process as a `'fork'` event (frequent: every
   * shell pipeline forks). Needs the BTF tracepoint: with
   * `attach: 'tracepoint'` the constructor throws a TypeError, and where
   * `'auto'` had to fall back to the classic tracepoint, start() rejects with
   * code `'EUNSUPPORTED'` (the classic tracepoint names a new process by pid
   * alone, which is no identity).
   * @default false
   */
  forks?: boolean;
  /**
   * Whether to report execs that fail (ENOENT, EACCES, ENOEXEC, E2BIG...) as
   * `'execFailed'` events. No tracepoint fires for a failed exec, so this
   * attaches a program to `tp_btf/sys_exit`, which runs at the return of
   * every syscall and stops at once unless it returned an error and was an
   * exec (its cost per syscall is in `npm run bench`). Needs the BTF
   * tracepoint, like `forks`.
   * @default false
   */
  failedExecs?: boolean;
  /**
   * Secrets to hide in argv (and in the environment, when `env` captures it),
   * before any listener sees an event: `true` uses `DEFAULT_REDACTIONS`
   * (`--password=…`, `-p<secret>`, `Authorization:` headers, `user:pass@`
   * in URLs, `*_TOKEN=`/`*_SECRET=`/`*PASSWORD=` variables, AWS access key
   * ids), or give your own RegExps (spread the defaults in to keep them).
   * Each pattern runs over each argument and each `NAME=value` on its own;
   * what its first capturing group matched becomes `***` (without a group,
   * the whole match), every match, in `argv`, `rawArgv`, `env`, `rawEnv`,
   * failed execs' argv, the process table's argv and `toJSON()` alike.
   * Bytes that are not UTF-8 are matched as latin1, so none is lost.
   * @default false
   */
  redact?: boolean | readonly RegExp[];
  /**
   * Whether to keep `tracer.processes`, a live table of every process on the
   * host, and resolve `event.parent` / `event.ancestors()` through it. At
   * start() a task iterator seeds it from the kernel (ids and start times
   * exact to the nanosecond, argv and exe from /proc); exec, fork and exit
   * records keep it current. Needs `exits` (else it would only grow) and the
   * BTF tracepoint (fork records). Fork records then flow whether or not
   * `forks` asks for `'fork'` events.
   * @default false
   */
  processTable?: boolean;
  /**
   * How long a process that exited stays resolvable (as `parent` and in
   * `ancestors()`, by `processes.byProcessId()`), in ms: an exec whose parent
   * just exited still gets its ancestry. Integer, 0 to 600000.
   * @default 5000
   */
  exitGraceMs?: number;
  /**
   * Environment bytes copied per exec when `env` is on; more is counted
   * (`envTotalBytes`) and flagged (`envTruncated`), not copied. Integer,
   * 0 to 1 MiB. Adds as much to the largest record.
   * @default 16384
   */
  envLimit?: number;
  /**
   * Report only what this filter keeps, judged in the kernel (see
   * `ExecFilter`). Default: everything. Change it while running with
   * `tracer.setFilter()`.
   */
  filter?: ExecFilter;
}

/** Extra wiring for `new ExecTracer(options, { binding })`. */
export interface ExecTracerDeps {
  /** The native binding; defaults to the addon shipped with the package. */
  binding?: NativeBinding;
}

/** Options of `tracer.events()`. */
export interface ExecEventsOptions<K extends TracerEventKind = 'exec'> {
  /**
   * The kinds of event to yield, in the kernel's order: `'exec'`, `'exit'`,
   * `'fork'`, `'execFailed'` (each needs its option: exits, forks,
   * failedExecs). Default `['exec']`.
   */
  kinds?: readonly K[];
  /** Ends the iteration when aborted (the tracer keeps running). */
  signal?: AbortSignal;
  /**
   * Events queued before the tracer stops reading the kernel's ring (which
   * then fills, and drops what does not fit, counted in `'lost'`).
   * @default 1024
   */
  highWaterMark?: number;
}

/** The kinds of event a tracer emits for processes (what `events({ kinds })` takes). */
export type TracerEventKind = TracerEvent['kind'];
