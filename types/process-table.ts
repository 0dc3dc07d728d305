// SPDX-License-Identifier: MIT
//
// `tracer.processes` (options.processTable): the live process table and
// its entries.

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
