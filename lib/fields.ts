// SPDX-License-Identifier: MIT
//
// Fields every record type carries the same way: the task name, the clock,
// and the identities that tie exec, exit and fork events together.
import { constants } from 'node:os';
import type { Clock } from './decode.js';

/** Bytes of a task name (TASK_COMM_LEN). */
export const COMM_LENGTH = 16;

/** The NUL-terminated task name at `start` (at most 16 bytes). */
export function readComm(buf: Buffer, start: number): string {
  // The kernel NUL-terminates comm, so this finds it within 16 bytes; the
  // bound only matters for a record that broke that rule.
  let end = buf.indexOf(0, start);
  if (end < 0 || end > start + COMM_LENGTH) end = start + COMM_LENGTH;
  return buf.toString('utf8', start, end);
}

/** A boot-clock time as wall-clock time (a new Date each call: Dates are mutable). */
export function wallClock(bootNs: bigint, clock: Clock): Date {
  return new Date(Number((bootNs + clock.epochOffsetNs) / 1_000_000n));
}

/** A process: `"<pid>:<startBootNs>"`, from fork to exit. */
export function processId(pid: number, startBootNs: bigint): string {
  return `${pid}:${startBootNs}`;
}

/** One image of a process: `"<processId>:<exec count>"`. */
export function imageId(pid: number, startBootNs: bigint, execSeq: bigint): string {
  return `${pid}:${startBootNs}:${execSeq}`;
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);
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

  get bootNs(): bigint {
    return this.u64(this.offsets.bootNs);
  }

  get time(): Date {
    return wallClock(this.bootNs, this.clock);
  }

  get startBootNs(): bigint {
    return this.u64(this.offsets.startBootNs);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }

  abstract toJSON(): Record<string, unknown>;
}
