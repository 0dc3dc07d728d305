// SPDX-License-Identifier: MIT
//
// The public contract of exec-tracer: what a user's program sees.
import type { AttachMode, NamespaceName, NativeBinding } from './binding.js';

export type { AttachMode, NamespaceName, NativeBinding } from './binding.js';

/** One successful exec, as the kernel saw it. */
export interface ExecEvent {
  /** What this event is, for code that handles several kinds (`decodeBatch()`'s `records`). */
  readonly kind: 'exec';
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
  /** The task name's exact bytes (`comm` is them UTF-8 decoded; a name may hold any bytes). */
  readonly rawComm: Buffer;
  /** The fields as JSON values (64-bit numbers as decimal strings): what `JSON.stringify` writes. */
  toJSON(): Record<string, unknown>;
  /**
   * The path as passed to exec (`bprm->filename`), e.g. `/dev/fd/3` for
   * fexecve, and `/dev/fd/3/bin/x` for execveat(3, "bin/x"): the kernel puts
   * the dirfd before a relative path.
   */
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
  /**
   * `filename` is the start of a longer name, cut at 4,127 bytes. No path the
   * kernel accepts is that long: the limit holds PATH_MAX (4,095 bytes) plus
   * the `/dev/fd/<dirfd>/` the kernel puts before a path relative to a dirfd
   * (execveat), so this stays false unless a kernel names files otherwise.
   */
  readonly filenameTruncated: boolean;
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
   * The process, from fork to exit, unique when pids are reused:
   * `"<pid>:<startBootNs>"`. Successive execs of one process share it, and
   * its `'exit'` event carries the same.
   */
  readonly processId: string;
  /** The real parent process, in the same form as `processId`. */
  readonly parentProcessId: string;
  /**
   * This exec: the image the process runs from now on, unique per exec:
   * `"<processId>:<n>"`, where n is the kernel's count of the execs in this
   * line of processes (`task->self_exec_id`: raised by every successful exec
   * and inherited by fork). Two execs of one process (`sh -c 'exec sleep 1'`)
   * have one `processId` and two `execId`s; its `'exit'` event names the last.
   * A record of an older kernel object, which carried no count, gets
   * `"<processId>:@<bootNs>"` (the exec's time) instead.
   */
  readonly execId: string;
  /**
   * The `execId` of the image the real parent was running at this exec,
   * read from the parent in the kernel, so it is right also for a parent
   * that exec'd before the tracer started. A parent that forked the process
   * and then exec'd itself is named by its new image. `undefined` only for a
   * record of an older kernel object, which did not carry it.
   */
  readonly parentExecId: string | undefined;

  /**
   * The parent as the process table knows it (`options.processTable`),
   * resolved by `parentProcessId` (never by pid alone: pids are reused),
   * also for a parent that exited less than `exitGraceMs` ago. `undefined`
   * without the table (and for events from `decodeBatch()`), or when the
   * parent is unknown to it.
   */
  readonly parent: ProcessInfo | undefined;
  /**
   * The parent, its parent, and so on up to pid 1 (or the first unknown
   * one), through the process table: `[]` without it. Resolved when called:
   * call it in the listener to see the tree as it was at the exec.
   */
  ancestors(): ProcessInfo[];

  // What really ran, and where. Each part is collected in the kernel at the
  // exec (see `ExecTracerOptions.context`); a part turned off reads as empty:
  // '' and an empty Buffer, 0 / 0n, false, undefined.

  /**
   * The absolute path of the file the new image was loaded from
   * (`mm->exe_file`), as the process sees it from its own root: a chrooted or
   * containerised process shows its own view, a symlink (`/bin/sh`) shows its
   * target, an `execveat` or `fexecve` shows the real file rather than
   * `/dev/fd/N`. Built in the kernel by walking the file's dentries and mounts
   * up to the process's root, like `d_path()`, with no `" (deleted)"` suffix
   * (see `exeDeleted`). A file outside the process's root shows its path from
   * the root of its mount namespace; a memfd shows `/memfd:<name>`.
   * The walk takes at most 64 steps (components plus mount crossings) and
   * 4095 bytes; a longer path is cut and flagged by `exeTruncated`.
   * UTF-8 decoded; `rawExe` has the exact bytes.
   */
  readonly exe: string;
  /** The exact bytes of `exe`. */
  readonly rawExe: Buffer;
  /**
   * `exe` is cut: the walk hit its bound (64 steps or 4095 bytes) before the
   * process's root. What is kept is the deepest part, a true suffix of the
   * real path, cut at a component boundary (it starts with `/`).
   */
  readonly exeTruncated: boolean;
  /** The executable file's inode number: `stat(2)`'s `st_ino`. */
  readonly exeInode: bigint;
  /**
   * The device of the executable file's filesystem, as `stat(2)`'s `st_dev`
   * (and `fs.statSync().dev`) encode it. It is the superblock's device: on
   * btrfs subvolumes and some overlayfs setups `stat(2)` reports another.
   */
  readonly exeDevice: number;
  /** The executable file's ctime (last status change), ns since the epoch. */
  readonly exeCtimeNs: bigint;
  /**
   * The executable file's mode: type and permission bits as in `st_mode`, so
   * `(exeMode & 0o4000) !== 0` is a setuid file and `0o2000` setgid.
   */
  readonly exeMode: number;
  /**
   * The executable file had no links at the exec (`nlink == 0`): it was
   * deleted, or never had a name (a memfd is also `exeDeleted`).
   */
  readonly exeDeleted: boolean;
  /** The executable is a memfd (`memfd_create`): fileless execution. */
  readonly exeMemfd: boolean;
  /**
   * The executable file is on overlayfs and lives in its upper layer: it was
   * created or copied up in the container (written, or its metadata changed)
   * rather than shipped in a lower image layer.
   */
  readonly exeUpperLayer: boolean;
  /**
   * When the kernel ran `filename` through an interpreter (a `#!` script, or
   * binfmt_misc), the interpreter path it opened (`bprm->interp`), as written
   * in the `#!` line or the binfmt_misc entry (not resolved: `exe` is the
   * interpreter's real file). For a script whose interpreter is itself a
   * script, the kernel runs the chain and this is the last interpreter, the
   * one `exe` is. `undefined` for a plain executable, and always with
   * `attach: 'tracepoint'` (the classic tracepoint does not expose bprm).
   */
  readonly interpreter: string | undefined;
  /** The exact bytes of `interpreter`. */
  readonly rawInterpreter: Buffer | undefined;
  /**
   * The process's working directory at the exec, from its own root, walked
   * as `exe` is (same bounds, `cwdTruncated` when cut).
   */
  readonly cwd: string;
  /** The exact bytes of `cwd`. */
  readonly rawCwd: Buffer;
  /** `cwd` is cut: a true suffix of the real path, as for `exeTruncated`. */
  readonly cwdTruncated: boolean;

  // Who ran it: the credentials after the exec (a setuid file changes the
  // effective ids here), the audit identity and the namespaces, all read in
  // the kernel at the exec.

  /** Effective user id after the exec (0 for a setuid-root file run by anyone). */
  readonly euid: number;
  /** Effective group id after the exec. */
  readonly egid: number;
  /** Saved set-user-id after the exec. */
  readonly suid: number;
  /** Saved set-group-id after the exec. */
  readonly sgid: number;
  /** Filesystem user id (what file access is checked against). */
  readonly fsuid: number;
  /** Filesystem group id. */
  readonly fsgid: number;
  /** Effective capabilities after the exec, as a mask (`1n << 21n` is CAP_SYS_ADMIN). */
  readonly capEffective: bigint;
  /** Permitted capabilities after the exec, as a mask. */
  readonly capPermitted: bigint;
  /** Inheritable capabilities after the exec, as a mask. */
  readonly capInheritable: bigint;
  /**
   * The kernel made this exec privilege-raising (`bprm->secureexec`, what
   * user space sees as AT_SECURE): a setuid or setgid file that changed an
   * id, file capabilities, or an LSM's decision. Read from the kernel, not
   * guessed from the ids. Always `false` with `attach: 'tracepoint'` (the
   * classic tracepoint does not expose bprm).
   */
  readonly secureExec: boolean;
  /**
   * The audit login uid (`/proc/<pid>/loginuid`: who logged in, kept across
   * su and sudo); `undefined` when unset (4294967295), as for processes
   * started outside a login session, or on a kernel without audit.
   */
  readonly loginUid: number | undefined;
  /** The audit session id (`/proc/<pid>/sessionid`); `undefined` when unset. */
  readonly sessionId: number | undefined;
  /**
   * The controlling terminal, named as under /dev: `'pts/3'` for a
   * pseudo-terminal (ssh, a terminal emulator, `script`), `'tty1'` for a
   * console, `'ttyS0'` for a serial line; `undefined` when the process has
   * none (a daemon, a cron job, a container without `-t`).
   */
  readonly tty: string | undefined;
  /**
   * The inode numbers of the process's namespaces, as the links in
   * `/proc/<pid>/ns/` show them (`pid` is the one the process is in, not
   * `pid_for_children`). `time` is 0 on kernels before 5.6, which have none.
   */
  readonly namespaces: Readonly<Record<NamespaceName, number>>;
  /**
   * The process's cgroup v2 path, from the root of the v2 hierarchy as the
   * host sees it (what `/proc/<pid>/cgroup` shows outside any cgroup
   * namespace), e.g. `/system.slice/docker-<id>.scope`; `/` for the root
   * cgroup. Built in the kernel from the cgroup's kernfs names at the exec,
   * so a container that exits a moment later is still attributed. At most
   * 32 levels and 4095 bytes; a longer path is cut and flagged by
   * `cgroupTruncated`. On a host with cgroup v1 only, the v2 root (`/`).
   * UTF-8 decoded; `rawCgroup` has the exact bytes. `cgroupId` names the
   * same cgroup.
   */
  readonly cgroup: string;
  /** The exact bytes of `cgroup`. */
  readonly rawCgroup: Buffer;
  /**
   * `cgroup` is cut: the walk hit its bound (32 levels or 4095 bytes). What
   * is kept is the deepest part (where a container's scope sits), a true
   * suffix starting with `/`.
   */
  readonly cgroupTruncated: boolean;
  /**
   * The id of the container the process runs in, parsed from `cgroup` (no
   * `/proc` or runtime API is asked): Docker (`docker-<id>.scope`,
   * `/docker/<id>`), containerd/CRI (`cri-containerd-<id>.scope`), CRI-O
   * (`crio-<id>.scope`), Podman (`libpod-<id>.scope`), nerdctl, and the
   * Kubernetes pod slices around them. The 64-hex id; when containers nest,
   * the innermost. `undefined` outside a container (see
   * `containerIdFromCgroup` for the shapes).
   */
  readonly containerId: string | undefined;

  // The environment, only when `ExecTracerOptions.env` asks for it; empty
  // (`{}`, `[]`, false, 0) otherwise.

  /**
   * The new process's environment (`NAME=value` strings split at the first
   * `=`), UTF-8 decoded; with an allow-list, only those names. A variable
   * given twice keeps its first value, as `getenv(3)` does; an entry without
   * `=` is only in `rawEnv`. The object has no prototype, so a variable
   * named `__proto__` is just a variable.
   */
  readonly env: Record<string, string>;
  /** The exact bytes of each kept entry (`NAME=value`), in the order of the environment. */
  readonly rawEnv: Buffer[];
  /**
   * The environment held more than `envLimit` bytes: what is past it is
   * missing (the last entry kept may be cut short).
   */
  readonly envTruncated: boolean;
  /** The original size of the whole environment in bytes (every entry with its NUL). */
  readonly envTotalBytes: number;
  /** The environment range of the new process could not be read; env is empty. */
  readonly envFault: boolean;
}

/** A process ended (options.exits): one event per process, not per thread. */
export interface ExitEvent {
  readonly kind: 'exit';
  /** The process id (tgid). */
  readonly pid: number;
  /** The thread that ended it (the last of its threads to exit). */
  readonly tid: number;
  /** The real parent at the exit (after any reparenting to a subreaper or init). */
  readonly ppid: number;
  /** The task name at the exit. */
  readonly comm: string;
  /** The task name's exact bytes (`comm` is them UTF-8 decoded; a name may hold any bytes). */
  readonly rawComm: Buffer;
  /** The fields as JSON values (64-bit numbers as decimal strings): what `JSON.stringify` writes. */
  toJSON(): Record<string, unknown>;
  /** The process that ended, as its exec events name it (`"<pid>:<startBootNs>"`). */
  readonly processId: string;
  /** The image it last ran, as the exec event that started it names it (`ExecEvent.execId`). */
  readonly execId: string;
  /** The exit code, when it exited (0–255); `undefined` when a signal ended it. */
  readonly exitCode: number | undefined;
  /** The signal that ended it, by name (`'SIGKILL'`), as Node's `'exit'` events name it; `undefined` when it exited. */
  readonly signal: string | undefined;
  /** The signal's number; `undefined` when it exited. */
  readonly signalNumber: number | undefined;
  /** The kernel wrote a core dump of it. */
  readonly coreDumped: boolean;
  /** The status as `wait(2)` reports it (`WEXITSTATUS` etc. apply). */
  readonly status: number;
  /** When it ended: the boot clock in ns. */
  readonly bootNs: bigint;
  /** When it ended, as wall-clock time (ms precision). */
  readonly time: Date;
  /** When it started (fork time, boot clock ns). */
  readonly startBootNs: bigint;
  /** How long it lived, in ns (from its fork to this exit). */
  readonly durationNs: bigint;
}

/** A new process (options.forks): fork, vfork or clone without CLONE_THREAD. */
export interface ForkEvent {
  readonly kind: 'fork';
  /** The new process's id. */
  readonly pid: number;
  /** Its real parent's id. */
  readonly ppid: number;
  /** Its task name: its parent's, until it execs. */
  readonly comm: string;
  /** The task name's exact bytes (`comm` is them UTF-8 decoded; a name may hold any bytes). */
  readonly rawComm: Buffer;
  /** The fields as JSON values (64-bit numbers as decimal strings): what `JSON.stringify` writes. */
  toJSON(): Record<string, unknown>;
  /** The new process (`"<pid>:<startBootNs>"`, as its exec and exit events name it). */
  readonly processId: string;
  /** Its real parent. */
  readonly parentProcessId: string;
  /** The image it runs: its parent's, until it execs (`"<processId>:<n>"`, see `ExecEvent.execId`). */
  readonly execId: string;
  /** When it was forked (its start): the boot clock in ns. */
  readonly bootNs: bigint;
  /** When it was forked, as wall-clock time. */
  readonly time: Date;
  /** Its start time (boot clock ns), the one its `processId` carries. */
  readonly startBootNs: bigint;
  /** Its parent's start time. */
  readonly parentStartBootNs: bigint;
}

/**
 * An exec(2) or execveat(2) that returned an error (options.failedExecs):
 * the caller goes on with its old image. One event per failed call, none
 * for a successful exec.
 */
export interface ExecFailedEvent {
  readonly kind: 'execFailed';
  /** The caller's process id (tgid). */
  readonly pid: number;
  /** The thread that called exec. */
  readonly tid: number;
  /** Its real parent's id. */
  readonly ppid: number;
  /** Its real uid. */
  readonly uid: number;
  /** Its task name (the image it still runs). */
  readonly comm: string;
  /** The task name's exact bytes (`comm` is them UTF-8 decoded; a name may hold any bytes). */
  readonly rawComm: Buffer;
  /** The fields as JSON values (64-bit numbers as decimal strings): what `JSON.stringify` writes. */
  toJSON(): Record<string, unknown>;
  /** The path exactly as passed (relative paths stay relative; with execveat, relative to its dirfd). */
  readonly filename: string;
  readonly rawFilename: Buffer;
  /** The path could not be read from the caller's memory (`filename` is ''). */
  readonly filenameFault: boolean;
  /**
   * `filename` is the start of a longer path, cut at 4,127 bytes: the caller
   * passed more than PATH_MAX (4,095 bytes), which the kernel refuses with
   * ENAMETOOLONG.
   */
  readonly filenameTruncated: boolean;
  /** The call was execveat(2). */
  readonly execveat: boolean;
  /**
   * The arguments as passed, read from the caller's memory: at most
   * `argvLimit` bytes and 128 arguments (then `argvTruncated`).
   */
  readonly argv: string[];
  readonly rawArgv: Buffer[];
  readonly argvTruncated: boolean;
  /** An argument could not be read: `argv` stops before it. */
  readonly argvFault: boolean;
  /** The error exec returned, as a positive number (2 for ENOENT). */
  readonly errno: number;
  /** Its name: 'ENOENT', 'EACCES', 'ENOEXEC', 'E2BIG', ... */
  readonly code: string;
  /** The caller (`"<pid>:<startBootNs>"`). */
  readonly processId: string;
  readonly parentProcessId: string;
  /** The image that tried to exec, and still runs. */
  readonly execId: string;
  /** When the call returned: the boot clock in ns. */
  readonly bootNs: bigint;
  readonly time: Date;
  /** The caller's start time (boot clock ns). */
  readonly startBootNs: bigint;
  readonly parentStartBootNs: bigint;
}

/**
 * `options.context` as an object: which parts of the context the kernel
 * collects per exec. A part left out is `true`.
 */
export interface ExecContextOptions {
  /** `exe`, `rawExe`, `exeTruncated` (a path walk). */
  exe?: boolean;
  /** `exeInode`, `exeDevice`, `exeCtimeNs`, `exeMode`, `exeDeleted`, `exeMemfd`, `exeUpperLayer`. */
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
/**
 * The keys a filter can list. Each key is optional; a listed key is a list
 * of values, any of which matches (OR). Lists may not be empty: omit the key.
 */
export interface ExecFilterKeys {
  /** Real user ids (`uid`). At most 256. */
  uids?: readonly number[];
  /** Real group ids (`gid`). At most 256. */
  gids?: readonly number[];
  /** Effective user ids (`euid`: setuid programs run as their owner). At most 256. */
  euids?: readonly number[];
  /** Exact task names (`comm`: at most 15 bytes, as the kernel keeps them). At most 256. */
  comms?: readonly string[];
  /**
   * Prefixes of the path of the binary that runs (`exe`, symlinks resolved),
   * compared byte by byte: end one with `/` to mean a directory. Absolute,
   * at most 252 bytes each, at most 64.
   */
  exePrefixes?: readonly string[];
  /**
   * Prefixes of the path exactly as passed to exec (`filename`: may be
   * relative, or a symlink). At most 252 bytes each, at most 64.
   */
  filenamePrefixes?: readonly string[];
  /**
   * Cgroup v2 cgroups, and everything below them (a process in a child
   * cgroup matches): a path as `event.cgroup` shows it
   * (`'/system.slice/docker-<id>.scope'`), a path under the cgroup2 mount
   * (`'/sys/fs/cgroup/kubepods.slice/…'`), or an id (`event.cgroupId`). A
   * path must exist when the filter is applied. At most 256.
   */
  cgroups?: readonly (string | number | bigint)[];
  /** Pid namespaces, by inode number (`event.namespaces.pid`). At most 256. */
  pidNamespaces?: readonly number[];
  /**
   * Processes whose whole subtree matches: each listed process, every
   * process below it when the filter is applied, and every process forked
   * below it later, followed in the kernel (a grandchild stays in the
   * subtree when its parent exits and it re-parents). A pid, or a
   * `processId` (which must still name a live process). At most 64.
   */
  descendantsOf?: readonly (number | string)[];
}

/**
 * What the tracer reports, decided in the kernel before any argv,
 * environment or path is read: records the filter drops cost almost
 * nothing and are counted in `stats().filtered` (and its siblings), never
 * as lost. Listed keys combine with AND; `exclude` drops what any of its
 * keys matches. Every record type is judged (exec, exit, fork, failed
 * exec), so a filtered-out process's exit is not reported either.
 *
 * ```ts
 * // One container, by its cgroup, except its shells:
 * { cgroups: ['/system.slice/docker-3f2a….scope'], exclude: { comms: ['sh', 'bash'] } }
 * // One subtree, as it grows:
 * { descendantsOf: [buildPid] }
 * ```
 */
export interface ExecFilter extends ExecFilterKeys {
  /** Only processes in a pid namespace other than the host's (containers, sandboxes). */
  containersOnly?: boolean;
  /** Only processes in the host's (the initial) pid namespace. */
  hostOnly?: boolean;
  /**
   * Leave out this Node process and every process it starts, and their
   * descendants (default `false`: a program sees the processes it spawns).
   * "Self" is the process that owns the tracer (all its threads, worker
   * threads included) and its subtree as `descendantsOf` follows one:
   * children it had when the filter was applied and every process forked
   * below it since, wherever they re-parent. Not covered: processes it
   * merely asks another process to start (a systemd unit, `docker run`,
   * an ssh command on this host), which are not its descendants.
   */
  excludeSelf?: boolean;
  /** Records matching any of these keys are dropped, e.g. `{ comms: ['sh'] }` for everything but sh. */
  exclude?: ExecFilterKeys;
}

export interface ExecTracerDeps {
  /** The native binding; defaults to the addon shipped with the package. */
  binding?: NativeBinding;
}

/** Counters since `start()`. */
export interface ExecTracerStats {
  /** Exec events emitted. */
  events: number;
  /** Exit events emitted. */
  exits: number;
  /** Fork events emitted. */
  forks: number;
  /** Failed-exec events emitted. */
  failedExecs: number;
  /** Records (execs, exits, forks) dropped in the kernel because the ring buffer was full. */
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
  /** Exec records the filter dropped in the kernel (not lost: they were not asked for). */
  filtered: number;
  /** Exit records the filter dropped. */
  filteredExits: number;
  /** Fork records the filter dropped (counted only with `forks: true`). */
  filteredForks: number;
  /** Failed-exec records the filter dropped (counted only with `failedExecs: true`). */
  filteredFailedExecs: number;
  /**
   * Processes the filter could not follow because its kernel map was full
   * (65,536 processes at once): their descent and path-prefix verdicts are
   * unknown, so they may be judged wrongly. 0 unless the host runs that many.
   */
  filterMisses: number;
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
 * - `'EUNSUPPORTED'`: an option needs a hook this kernel does not offer
 *   (`forks` without BTF-enabled tracepoints).
 * - `'EBUSY'`: a kernel resource was busy.
 * - `'ECLOSED'`: the tracer was already stopped.
 * - `'EABORTED'`: `options.signal` aborted a start().
 * - `'ENOADDON'`: no native addon loads here: the message names the platform,
 *   CPU and C library (the glibc the prebuilds need against the one found), the
 *   hint the ways on (`EXEC_TRACER_PREBUILD=/dir`, or a source build), or under
 *   Deno the permissions it has not granted.
 * - `'EDECODE'`: a batch held a record that did not fit its own sizes.
 * - `'EFILTER'`: a filter names something that does not exist (a cgroup path, a
 *   process): the message names the key; nothing was applied.
 */
export type ExecTracerErrorCode =
  | 'EPERM'
  | 'ENOBTF'
  | 'ENOTRACEFS'
  | 'EVERIFIER'
  | 'EKERNEL'
  | 'EBUSY'
  | 'EUNSUPPORTED'
  | 'ECLOSED'
  | 'EABORTED'
  | 'ENOADDON'
  | 'EDECODE'
  | 'EFILTER';

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

/**
 * One process in `tracer.processes` (a live process, or one that exited less
 * than `exitGraceMs` ago). The table updates it in place as records arrive:
 * read a field when it is needed rather than copying the object.
 */
export interface ProcessInfo {
  /** The process id (tgid) as the host's initial pid namespace sees it. */
  readonly pid: number;
  /**
   * Real parent's pid, as the last record about this process said (a parent
   * that exits re-parents its children in the kernel; the table learns the
   * new parent only from the child's next exec/exit/fork record).
   */
  readonly ppid: number;
  /** The process, from fork to exit: `"<pid>:<startBootNs>"`, as its events name it. */
  readonly processId: string;
  /** Its real parent: `"<ppid>:<parent startBootNs>"`. */
  readonly parentProcessId: string;
  /** The image it runs: `"<pid>:<startBootNs>:<execSeq>"` (`ExecEvent.execId`). */
  readonly execId: string;
  /** The task name, as its last exec or fork record (or the seed) said; a later rename (`prctl(PR_SET_NAME)`) is not seen. */
  readonly comm: string;
  /**
   * The path given to exec; undefined when the image was seeded (it predates
   * the tracer) or inherited by fork from a parent the table does not know.
   */
  readonly filename: string | undefined;
  /**
   * The executable's path (`ExecEvent.exe`, or `/proc/<pid>/exe` for a seeded
   * image); undefined when it is not known (the exec's context was off,
   * /proc could not be read, or a fork from a parent the table does not know).
   */
  readonly exe: string | undefined;
  /** The arguments of the image it runs; empty when they could not be read. */
  readonly argv: readonly string[];
  /**
   * Real user id; 4294967295 (`(uid_t)-1`) when it is not known (a fork from
   * a parent the table does not know).
   */
  readonly uid: number;
  /** When the process started (fork time, boot clock ns). */
  readonly startBootNs: bigint;
  /** Wall-clock start. */
  readonly startTime: Date;
  /**
   * true when this image is known from the seed at start() (comm/ids from the
   * kernel, argv and exe read from /proc), not from an exec record.
   */
  readonly seeded: boolean;
  /** A kernel thread (no user image: argv is empty, exe undefined). */
  readonly kernelThread: boolean;
  /** true once its exit was seen (it stays resolvable for exitGraceMs). */
  readonly exited: boolean;
  /**
   * When it ended (boot clock ns); undefined while it lives, and for a process
   * whose exit record was lost (its pid was seen reused by another process).
   */
  readonly exitBootNs: bigint | undefined;
  /** The parent, resolved by parentProcessId (never by pid alone: pids are reused). */
  readonly parent: ProcessInfo | undefined;
  /**
   * Parent first, then its parent..., up to pid 1 or the first unknown
   * ancestor; cycle-safe (a repeated processId ends the walk).
   */
  ancestors(): ProcessInfo[];
}

/** The read-only, Map-like view `tracer.processes`: every live process on the host, by pid. */
export interface ProcessTable extends Iterable<[number, ProcessInfo]> {
  /** How many live processes there are. */
  readonly size: number;
  /** The live process with this pid. */
  get(pid: number): ProcessInfo | undefined;
  /** Whether a live process has this pid. */
  has(pid: number): boolean;
  /** The pids of the live processes. */
  keys(): IterableIterator<number>;
  /** The live processes. */
  values(): IterableIterator<ProcessInfo>;
  /** `[pid, process]` of each live process. */
  entries(): IterableIterator<[number, ProcessInfo]>;
  /** Calls `callback` for each live process, as `Map#forEach` does. */
  forEach(callback: (info: ProcessInfo, pid: number, table: ProcessTable) => void): void;
  /** A live process, or one that exited less than exitGraceMs ago, by processId. */
  byProcessId(processId: string): ProcessInfo | undefined;
}
