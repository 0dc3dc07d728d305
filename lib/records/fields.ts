// SPDX-License-Identifier: MIT
//
// Fields every record type carries the same way: the task name, the clock,
// and the identities that tie exec, exit and fork events together.
import { constants } from 'node:os';
import { RECORD_CLOCK, wallClock, type Clock } from './clock.js';

/** Bytes of a task name (TASK_COMM_LEN). */
export const COMM_LENGTH = 16;

/** Where the NUL-terminated task name at `start` ends (at most 16 bytes on). */
function commEnd(buf: Buffer, start: number): number {
  // The kernel NUL-terminates comm, so this finds it within 16 bytes; the
  // bound only matters for a record that broke that rule.
  const end = buf.indexOf(0, start);
  return end < 0 || end > start + COMM_LENGTH ? start + COMM_LENGTH : end;
}

/** The NUL-terminated task name at `start`, UTF-8 decoded. */
export function readComm(buf: Buffer, start: number): string {
  return buf.toString('utf8', start, commEnd(buf, start));
}

/** The task name's bytes at `start` (a view of the batch, not a copy). */
export function readRawComm(buf: Buffer, start: number): Buffer {
  return buf.subarray(start, commEnd(buf, start));
}

/**
 * A u64 field as decimal text, without a BigInt while the value fits a
 * double exactly (below 2^53: 104 days of boot-clock nanoseconds). Ids are
 * built from these for every record, and BigInt-to-string was most of it.
 */
export function u64Text(buf: Buffer, at: number): string {
  const hi = buf.readUInt32LE(at + 4);
  if (hi < 0x200000) return String(hi * 0x1_0000_0000 + buf.readUInt32LE(at));
  return buf.readBigUInt64LE(at).toString();
}

/** A process: `"<pid>:<startBootNs>"`, from fork to exit. */
export function processId(pid: number, startBootNs: bigint): string {
  return `${pid}:${startBootNs}`;
}

/** One image of a process: `"<processId>:<exec count>"`. */
export function imageId(pid: number, startBootNs: bigint, execSeq: bigint): string {
  return `${pid}:${startBootNs}:${execSeq}`;
}

/**
 * Start and end offsets, pair after pair, of the NUL-terminated strings in
 * buf[start, end) (argv as the kernel lays it out). A string cut by a limit
 * before its NUL ends at `end`.
 */
export function stringBounds(buf: Buffer, start: number, end: number): number[] {
  const bounds: number[] = [];
  let from = start;
  while (from < end) {
    let nul = buf.indexOf(0, from);
    if (nul < 0 || nul >= end) nul = end;
    bounds.push(from, nul);
    from = nul + 1;
  }
  return bounds;
}

/** The strings at `bounds` (stringBounds()) as UTF-8 text (invalid bytes become U+FFFD). */
export function boundedStrings(buf: Buffer, bounds: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < bounds.length; i += 2) out.push(buf.toString('utf8', bounds[i], bounds[i + 1]));
  return out;
}

/** The strings at `bounds` as views into `buf` (no copy). */
export function boundedBuffers(buf: Buffer, bounds: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bounds.length; i += 2) out.push(buf.subarray(bounds[i], bounds[i + 1]));
  return out;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, number]) => [number, name]),
);

/** An errno's name as Node names them ('ENOENT'); `E<n>` for one Node does not know. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/**
 * Second names of a number, which never win over its first (glibc's
 * SIGIOT for SIGABRT, SIGPOLL for SIGIO, the old SIGUNUSED for SIGSYS,
 * SIGCLD for SIGCHLD). Node lists each after its first name today; this
 * keeps the name right should an alias ever come first.
 */
const SIGNAL_ALIASES = new Set(['SIGIOT', 'SIGPOLL', 'SIGUNUSED', 'SIGCLD']);

/** Each number's first name, as Node's 'exit' event, strace and `kill -l` give it. */
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) {
  const known = SIGNAL_NAMES.get(number);
  // A later entry replaces an earlier one only when the earlier is an alias.
  if (known === undefined || (SIGNAL_ALIASES.has(known) && !SIGNAL_ALIASES.has(name))) SIGNAL_NAMES.set(number, name);
}
/** SIGRTMIN as glibc and `kill -l` number it (the kernel's 32 and 33 are glibc's own). */
const SIGRTMIN = 34;

/** A signal's name as Node names signals ('SIGKILL'); real-time ones as `kill -l` does ('SIGRTMIN+2'). */
export function signalName(signal: number): string {
  const name = SIGNAL_NAMES.get(signal);
  if (name !== undefined) return name;
  if (signal === SIGRTMIN) return 'SIGRTMIN';
  return signal > SIGRTMIN ? `SIGRTMIN+${signal - SIGRTMIN}` : `SIG${signal}`;
}

/**
 * A fixed-size record at `at` in a batch, read on access: what exit and fork
 * events share (the fields every record type names the same way).
 */
export abstract class FixedRecord {
  protected constructor(
    protected readonly buf: Buffer,
    protected readonly at: number,
    private readonly clock: Clock,
    private readonly offsets: { bootNs: number; startBootNs: number; comm: number },
  ) {}

  protected u64(offset: number): bigint {
    return this.buf.readBigUInt64LE(this.at + offset);
  }

  get comm(): string {
    return readComm(this.buf, this.at + this.offsets.comm);
  }

  get rawComm(): Buffer {
    return readRawComm(this.buf, this.at + this.offsets.comm);
  }

  get bootNs(): bigint {
    return this.u64(this.offsets.bootNs);
  }

  get time(): Date {
    return wallClock(this.bootNs, this.clock);
  }

  get [RECORD_CLOCK](): Clock {
    return this.clock;
  }

  get startBootNs(): bigint {
    return this.u64(this.offsets.startBootNs);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }

  abstract toJSON(): Record<string, unknown>;
}

/**
 * A fixed record that names a process, its real parent and the image it
 * runs (fork and failed-exec records): the identities they derive alike.
 */
export abstract class ProcessRecord extends FixedRecord {
  abstract readonly pid: number;
  abstract readonly ppid: number;
  #processId?: string;
  #parentProcessId?: string;

  protected constructor(
    buf: Buffer,
    at: number,
    clock: Clock,
    private readonly ids: { bootNs: number; startBootNs: number; comm: number; parentStartBootNs: number; execSeq: number },
  ) {
    super(buf, at, clock, ids);
  }

  get parentStartBootNs(): bigint {
    return this.u64(this.ids.parentStartBootNs);
  }

  // Made once: the process table and listeners may each ask.
  get processId(): string {
    return (this.#processId ??= `${this.pid}:${u64Text(this.buf, this.at + this.ids.startBootNs)}`);
  }

  get parentProcessId(): string {
    return (this.#parentProcessId ??= `${this.ppid}:${u64Text(this.buf, this.at + this.ids.parentStartBootNs)}`);
  }

  get execId(): string {
    return `${this.processId}:${u64Text(this.buf, this.at + this.ids.execSeq)}`;
  }
}
