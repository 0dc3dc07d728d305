// SPDX-License-Identifier: MIT
//
// The public events: what a listener receives (exec, exit, fork, failed
// exec), and the counters of what the tracer reported and dropped.
import type { NamespaceName } from './binding.js';
import type { ProcessInfo } from './process-table.js';

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
   * The executable file's link count at the exec, `stat(2)`'s `st_nlink`:
   * 0 when it was deleted or never had a name (`exeDeleted`), more than 1
   * when the same file is also reachable under another name (a hard link).
   */
  readonly exeNlink: number;
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
   * The session the process is in, by its leader's pid as the host sees it
   * (`ps -o sid`; OpenTelemetry's `process.session_leader.pid`): equal to
   * `pid` for a process that called `setsid(2)`. Not the audit `sessionId`.
   * 0 in a record of an older kernel object.
   */
  readonly sid: number;
  /**
   * The process group, by its leader's pid as the host sees it
   * (`ps -o pgid`; OpenTelemetry's `process.group_leader.pid`): a shell's
   * job, e.g. the processes of one pipeline. 0 in a record of an older
   * kernel object.
   */
  readonly pgid: number;
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

/** Any event of a process: what `events({ kinds })` yields, and what has an OpenTelemetry form. */
export type TracerEvent = ExecEvent | ExitEvent | ForkEvent | ExecFailedEvent;
/** The event of one kind (`'exec'` → ExecEvent…). */
export type TracerEventOf<K extends TracerEvent['kind']> = Extract<TracerEvent, { kind: K }>;
