// SPDX-License-Identifier: MIT
//
// The process table behind `tracer.processes`: a live `ps` kept from the
// seed taken at start() and the exec, fork and exit records, applied in the
// ring's order. Processes are told apart by processId, never by pid alone:
// a pid is reused as soon as its process is reaped.
import type { ExecEvent, ExitEvent, ForkEvent, ProcessInfo, ProcessTable } from '../types/index.js';
import { wallClock, type Clock } from './records/clock.js';
import { imageId, processId } from './records/fields.js';
import type { SeedTask } from './records/seed.js';

/** What the table reads of an exec event ('' for `exe`, the exec's context off, is stored as undefined). */
export type ExecLike = Pick<
  ExecEvent,
  'pid' | 'ppid' | 'processId' | 'parentProcessId' | 'execId' | 'comm' | 'filename' | 'exe' | 'argv' | 'uid' | 'startBootNs'
>;

/** What the table reads of a fork event. */
export type ForkLike = Pick<ForkEvent, 'pid' | 'ppid' | 'processId' | 'parentProcessId' | 'execId' | 'comm' | 'startBootNs'>;

/** What the table reads of an exit event. */
export type ExitLike = Pick<ExitEvent, 'pid' | 'processId' | 'bootNs' | 'ppid'>;

/** The uid of a process forked from a parent the table does not know. */
const UNKNOWN_UID = 0xffffffff;
const NO_ARGS: readonly string[] = Object.freeze([]);
/** Dead queue slots kept before the exited FIFO is compacted. */
const COMPACT_AT = 1024;

/**
 * One process. A plain object of fields (the table holds one per process on
 * the host): what it needs of its table is reached through one reference.
 */
class ProcessEntry implements ProcessInfo {
  pid: number;
  ppid: number;
  processId: string;
  parentProcessId: string;
  execId: string;
  comm: string;
  filename: string | undefined;
  exe: string | undefined;
  argv: readonly string[];
  uid: number;
  startBootNs: bigint;
  seeded: boolean;
  kernelThread: boolean;
  exited = false;
  exitBootNs: bigint | undefined = undefined;
  readonly #table: Processes;

  constructor(
    table: Processes,
    pid: number,
    ppid: number,
    id: string,
    parentId: string,
    execId: string,
    startBootNs: bigint,
  ) {
    this.#table = table;
    this.pid = pid;
    this.ppid = ppid;
    this.processId = id;
    this.parentProcessId = parentId;
    this.execId = execId;
    this.comm = '';
    this.filename = undefined;
    this.exe = undefined;
    this.argv = NO_ARGS;
    this.uid = UNKNOWN_UID;
    this.startBootNs = startBootNs;
    this.seeded = false;
    this.kernelThread = false;
  }

  // Computed on access: the clock's offset is set when tracing starts, and a
  // Date is mutable, so each read gets its own.
  get startTime(): Date {
    return wallClock(this.startBootNs, this.#table.clock);
  }

  get parent(): ProcessInfo | undefined {
    return this.#table.byProcessId(this.parentProcessId);
  }

  ancestors(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    const seen = new Set<string>([this.processId]);
    for (let p = this.parent; p !== undefined && p.pid !== 0 && !seen.has(p.processId); p = p.parent) {
      seen.add(p.processId);
      out.push(p);
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    return {
      pid: this.pid, ppid: this.ppid, processId: this.processId, parentProcessId: this.parentProcessId,
      execId: this.execId, comm: this.comm, filename: this.filename, exe: this.exe, argv: this.argv,
      uid: this.uid, startBootNs: String(this.startBootNs), startTime: this.startTime.toISOString(),
      seeded: this.seeded, kernelThread: this.kernelThread, exited: this.exited,
      exitBootNs: this.exitBootNs === undefined ? undefined : String(this.exitBootNs),
    };
  }
}

/** Options of `new Processes()`. */
export interface ProcessesOptions {
  /** How long an exited process stays resolvable by processId, in ms. */
  graceMs: number;
  /** At most this many exited processes are kept (the oldest go first). @default 16384 */
  maxExited?: number;
  /** The tracer's clock; its offset may be set after the table is made. */
  clock: Readonly<Clock>;
  /** Time in ms. @default Date.now */
  now?: () => number;
}

/** The process table: every live process by pid, and recently exited ones by processId. */
export class Processes implements ProcessTable {
  /** The clock start times are read with. */
  readonly clock: Readonly<Clock>;
  readonly #graceMs: number;
  readonly #maxExited: number;
  readonly #now: () => number;
  readonly #live = new Map<number, ProcessEntry>();
  /** Live and exited-within-grace processes. */
  readonly #byId = new Map<string, ProcessEntry>();
  // The exited, in exit order, with when each is forgotten: a FIFO whose
  // head is the next to expire (slots before #head are spent).
  #exited: (ProcessEntry | undefined)[] = [];
  #deadlines: number[] = [];
  #head = 0;
  /** The clock at the last prune(): exits are stamped with it. */
  #time: number;

  constructor(options: ProcessesOptions) {
    this.clock = options.clock;
    this.#graceMs = options.graceMs;
    this.#maxExited = options.maxExited ?? 16384;
    this.#now = options.now ?? Date.now;
    this.#time = this.#now();
  }

  /** Adds the processes alive at start(); a process a record already told of keeps what the record said. */
  seed(tasks: Iterable<SeedTask>): void {
    for (const t of tasks) {
      const id = processId(t.pid, t.startBootNs);
      let entry = this.#live.get(t.pid);
      // An exec record knows the filename, which the seed cannot.
      if (entry?.processId === id && !entry.seeded) continue;
      if (entry === undefined || entry.processId !== id) entry = this.#create(t.pid, t.ppid, id, '', '', t.startBootNs);
      entry.ppid = t.ppid;
      entry.parentProcessId = processId(t.ppid, t.parentStartBootNs);
      entry.execId = imageId(t.pid, t.startBootNs, t.execSeq);
      entry.comm = t.comm;
      entry.filename = undefined;
      entry.exe = t.exe;
      entry.argv = t.argv ?? NO_ARGS;
      entry.uid = t.uid;
      entry.seeded = true;
      entry.kernelThread = t.kernelThread;
    }
  }

  /** Applies an exec record: the process now runs a new image. */
  exec(e: ExecLike): void {
    const id = e.processId;
    let entry = this.#live.get(e.pid);
    if (entry === undefined || entry.processId !== id) {
      entry = this.#create(e.pid, e.ppid, id, e.parentProcessId, e.execId, e.startBootNs);
    }
    entry.ppid = e.ppid;
    entry.parentProcessId = e.parentProcessId;
    entry.execId = e.execId;
    entry.comm = e.comm;
    entry.filename = e.filename;
    entry.exe = e.exe === '' ? undefined : e.exe;
    // A copy: the event's array is the one its listeners see, and may change.
    entry.argv = e.argv.slice();
    entry.uid = e.uid;
    entry.seeded = false;
    entry.kernelThread = false;
  }

  /** Applies a fork record: a new process, running its parent's image. */
  fork(e: ForkLike): void {
    const id = e.processId;
    const known = this.#live.get(e.pid);
    if (known?.processId === id) {
      // The seed already saw it: only its parent may be news.
      known.ppid = e.ppid;
      known.parentProcessId = e.parentProcessId;
      return;
    }
    const entry = this.#create(e.pid, e.ppid, id, e.parentProcessId, e.execId, e.startBootNs);
    entry.comm = e.comm;
    const parent = this.#byId.get(e.parentProcessId);
    if (parent !== undefined) {
      entry.filename = parent.filename;
      entry.exe = parent.exe;
      entry.argv = parent.argv;
      entry.uid = parent.uid;
      entry.seeded = parent.seeded;
      entry.kernelThread = parent.kernelThread;
    }
  }

  /** Applies an exit record: the process is gone, but resolvable by processId for graceMs. */
  exit(e: ExitLike): void {
    const entry = this.#live.get(e.pid);
    // Another process's exit (a pid reused, or one the table never knew): not this one's.
    if (entry === undefined || entry.processId !== e.processId) return;
    if (entry.ppid !== e.ppid) {
      // Re-parented: the new parent is alive now, so the live entry at its
      // pid is the one (if the table knows it at all).
      entry.ppid = e.ppid;
      entry.parentProcessId = this.#live.get(e.ppid)?.processId ?? processId(e.ppid, 0n);
    }
    this.#live.delete(e.pid);
    this.#retire(entry, e.bootNs);
  }

  get size(): number {
    return this.#live.size;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.#live.get(pid);
  }

  has(pid: number): boolean {
    return this.#live.has(pid);
  }

  keys(): IterableIterator<number> {
    return this.#live.keys();
  }

  values(): IterableIterator<ProcessInfo> {
    return this.#live.values();
  }

  entries(): IterableIterator<[number, ProcessInfo]> {
    return this.#live.entries();
  }

  [Symbol.iterator](): IterableIterator<[number, ProcessInfo]> {
    return this.#live.entries();
  }

  forEach(callback: (info: ProcessInfo, pid: number, table: ProcessTable) => void): void {
    for (const [pid, info] of this.#live) callback(info, pid, this);
  }

  byProcessId(id: string): ProcessInfo | undefined {
    // Also between batches (a listener's later lookup, a quiet host).
    this.prune();
    return this.#byId.get(id);
  }

  /** How many exited processes are kept (for tests and diagnostics). */
  get exitedCount(): number {
    return this.#exited.length - this.#head;
  }

  /** A new live entry at `pid`; one already there must have exited unseen (its exit record was lost). */
  #create(pid: number, ppid: number, id: string, parentId: string, execId: string, startBootNs: bigint): ProcessEntry {
    const stale = this.#live.get(pid);
    if (stale !== undefined) this.#retire(stale, undefined);
    const entry = new ProcessEntry(this, pid, ppid, id, parentId, execId, startBootNs);
    this.#live.set(pid, entry);
    this.#byId.set(id, entry);
    return entry;
  }

  /** Marks `entry` exited and queues it to be forgotten after graceMs. */
  #retire(entry: ProcessEntry, exitBootNs: bigint | undefined): void {
    entry.exited = true;
    entry.exitBootNs = exitBootNs;
    this.#exited.push(entry);
    this.#deadlines.push(this.#time + this.#graceMs);
    while (this.exitedCount > this.#maxExited) this.#forgetHead();
  }

  /**
   * Forgets the exited whose grace is over: only the FIFO's head need be
   * looked at. The tracer calls it once per batch (reading a clock per
   * record is work for nothing), and byProcessId() before each lookup.
   */
  prune(): void {
    const now = this.#now();
    this.#time = now;
    if (this.#head === this.#exited.length) return;
    while (this.#head < this.#exited.length && (this.#deadlines[this.#head]! <= now || this.exitedCount > this.#maxExited)) {
      this.#forgetHead();
    }
  }

  #forgetHead(): void {
    const entry = this.#exited[this.#head]!;
    this.#exited[this.#head++] = undefined;
    // Only if no newer entry took its processId (a record after its exit).
    if (this.#byId.get(entry.processId) === entry) this.#byId.delete(entry.processId);
    if (this.#head === this.#exited.length) {
      this.#exited = [];
      this.#deadlines = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#exited.length) {
      this.#exited.splice(0, this.#head);
      this.#deadlines.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
