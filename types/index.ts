// SPDX-License-Identifier: MIT
//
// The public contract of exec-tracer: what a user's program sees.
import type { AttachMode, NativeBinding } from './binding.js';

export type { AttachMode, NativeBinding } from './binding.js';

/** One successful exec, as the kernel saw it. */
export interface ExecEvent {
  /** Process id (tgid) as the host's initial pid namespace sees it. */
  readonly pid: number;
  /** The thread that called exec: differs from `pid` when a non-leader thread execs. */
  readonly tid: number;
  /** The real parent's process id. */
  readonly ppid: number;
  /** Real user id after the exec. */
  readonly uid: number;
  /** Real group id after the exec. */
  readonly gid: number;
  /** The process id inside the process's own pid namespace (a container's view). */
  readonly nsPid: number;
  /** The task name after the exec (at most 15 bytes, set by the kernel). */
  readonly comm: string;
  /** The path as passed to exec (`bprm->filename`), e.g. `/dev/fd/3` for fexecve. */
  readonly filename: string;
  /** The arguments, UTF-8 decoded (invalid bytes become U+FFFD; see `rawArgv`). */
  readonly argv: string[];
  /** The arguments' exact bytes. */
  readonly rawArgv: Buffer[];
  /** The filename's exact bytes. */
  readonly rawFilename: Buffer;
  /**
   * Number of arguments passed to exec, from the kernel (it stays right when
   * argv is truncated). With the classic tracepoint it is the number of
   * arguments decoded.
   */
  readonly argc: number;
  /** argv held more than `argvLimit` bytes: the last argument kept is cut short. */
  readonly argvTruncated: boolean;
  /** The original size of argv in bytes (every argument with its NUL), truncated or not. */
  readonly argvTotalBytes: number;
  /** The argv range of the new process could not be read; argv is empty. */
  readonly argvFault: boolean;
  /** `bprm->filename` could not be read; filename is empty. */
  readonly filenameFault: boolean;
  /** cgroup v2 id of the process (the inode number of its cgroup directory). */
  readonly cgroupId: bigint;
  /** When the exec happened: the kernel's boot clock (CLOCK_BOOTTIME) in ns. */
  readonly bootNs: bigint;
  /** When the exec happened, as wall-clock time (from `bootNs`; ms precision). */
  readonly time: Date;
  /** When the process started (fork time, boot clock ns). */
  readonly startBootNs: bigint;
  /** When the real parent process started (boot clock ns). */
  readonly parentStartBootNs: bigint;
  /**
   * A process identity that stays unique when pids are reused: `"<pid>:<startBootNs>"`.
   * Successive execs of one process share it (the process is the same).
   */
  readonly execId: string;
  /** The parent's identity, in the same form as `execId`. */
  readonly parentExecId: string;
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
}

/** Extra wiring for `new ExecTracer(options, { binding })`. */
export interface ExecTracerDeps {
  /** The native binding; defaults to the addon shipped with the package. */
  binding?: NativeBinding;
}

/** Counters since `start()`. */
export interface ExecTracerStats {
  /** Exec events emitted. */
  events: number;
  /** Execs dropped in the kernel because the ring buffer was full. */
  lost: number;
  /** Batches received from the addon. */
  batches: number;
  /** Bytes of records received. */
  bytes: number;
  /**
   * Records of a type this version cannot decode (written by a newer kernel
   * object than this JavaScript layer knows), skipped.
   */
  unknownRecords: number;
}

/**
 * The `code` of an `ExecTracerError`:
 * - `'EPERM'`: not allowed to load BPF (needs root, or CAP_BPF + CAP_PERFMON).
 * - `'ENOBTF'`: the kernel has no BTF (/sys/kernel/btf/vmlinux).
 * - `'ENOTRACEFS'`: the classic tracepoint needs tracefs, which is not mounted.
 * - `'EVERIFIER'`: the kernel's BPF verifier rejected the program (its log in
 *   `log`, its verdict on the message's second line). On Linux >= 5.8 that is
 *   a bug in exec-tracer, and the message says so.
 * - `'EKERNEL'`: any other failure of the kernel or of libbpf.
 * - `'EBUSY'`: a kernel resource was busy.
 * - `'ECLOSED'`: the tracer was already stopped.
 * - `'EABORTED'`: `options.signal` aborted a start().
 * - `'ENOADDON'`: no native addon loads on this platform.
 * - `'EDECODE'`: a batch held a record that did not fit its own sizes.
 */
export type ExecTracerErrorCode =
  | 'EPERM'
  | 'ENOBTF'
  | 'ENOTRACEFS'
  | 'EVERIFIER'
  | 'EKERNEL'
  | 'EBUSY'
  | 'ECLOSED'
  | 'EABORTED'
  | 'ENOADDON'
  | 'EDECODE';

/** Options of `tracer.events()`. */
export interface ExecEventsOptions {
  /** Ends the iteration when aborted (the tracer keeps running). */
  signal?: AbortSignal;
  /**
   * Events queued before the tracer stops reading the kernel's ring (which
   * then fills, and drops what does not fit, counted in `'lost'`).
   * @default 1024
   */
  highWaterMark?: number;
}
