// SPDX-License-Identifier: MIT
//
// Batches of packed records (bpf/exec_tracer.h) into ExecEvent objects. Each
// batch is a fresh Buffer copied by the addon, so events keep views into it
// instead of copying; numbers are read at once (cheap), strings and argv on
// first access, so a listener that reads only `pid` never decodes argv.
//
// Records are in the host's byte order. They are read as little-endian: both
// architectures the addon is built for (x64, arm64) are, and choosing readers
// per event would cost more than the whole numeric decode.
import type { ExecEvent } from '../types/index.js';
import { LAYOUT } from './layout.js';

const H = LAYOUT.header;
const X = LAYOUT.exec;
const F = LAYOUT.flags;

/** Converts the kernel's boot clock to wall-clock time. */
export interface Clock {
  /** Epoch ns minus boot-clock ns, taken once when tracing starts. */
  epochOffsetNs: bigint;
}

/** A record the decoder could not trust. */
export class DecodeError extends Error {
  constructor(
    message: string,
    /** Where in the batch the record that did not fit begins, in bytes. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

class Exec implements ExecEvent {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly nsPid: number;
  readonly argvTruncated: boolean;
  readonly argvTotalBytes: number;
  readonly argvFault: boolean;
  readonly filenameFault: boolean;
  readonly bootNs: bigint;
  readonly startBootNs: bigint;
  readonly parentStartBootNs: bigint;
  readonly cgroupId: bigint;
  readonly #buf: Buffer;
  readonly #at: number;
  readonly #filenameLen: number;
  readonly #argvLen: number;
  readonly #argc: number;
  readonly #argcUnknown: boolean;
  readonly #clock: Clock;
  #comm?: string;
  #filename?: string;
  #bounds?: number[];
  #argv?: string[];
  #rawArgv?: Buffer[];

  constructor(buf: Buffer, at: number, clock: Clock) {
    this.#buf = buf;
    this.#at = at;
    this.#clock = clock;
    this.pid = buf.readUInt32LE(at + X.pid);
    this.tid = buf.readUInt32LE(at + X.tid);
    this.ppid = buf.readUInt32LE(at + X.ppid);
    this.uid = buf.readUInt32LE(at + X.uid);
    this.gid = buf.readUInt32LE(at + X.gid);
    this.nsPid = buf.readUInt32LE(at + X.nsPid);
    this.bootNs = buf.readBigUInt64LE(at + X.bootNs);
    this.startBootNs = buf.readBigUInt64LE(at + X.startBootNs);
    this.parentStartBootNs = buf.readBigUInt64LE(at + X.parentStartBootNs);
    this.cgroupId = buf.readBigUInt64LE(at + X.cgroupId);
    this.argvTotalBytes = buf.readUInt32LE(at + X.argvSize);
    this.#argc = buf.readUInt32LE(at + X.argc);
    this.#argvLen = buf.readUInt32LE(at + X.argvLen);
    this.#filenameLen = buf.readUInt16LE(at + X.filenameLen);
    const flags = buf.readUInt16LE(at + X.flags);
    this.argvTruncated = (flags & F.argvTruncated) !== 0;
    this.argvFault = (flags & F.argvFault) !== 0;
    this.filenameFault = (flags & F.filenameFault) !== 0;
    this.#argcUnknown = (flags & F.argcUnknown) !== 0;
  }

  get comm(): string {
    if (this.#comm === undefined) {
      const start = this.#at + X.comm;
      // The kernel NUL-terminates comm, so this finds it within 16 bytes; the
      // bound only matters for a record that broke that rule.
      let end = this.#buf.indexOf(0, start);
      if (end < 0 || end > start + X.commLength) end = start + X.commLength;
      this.#comm = this.#buf.toString('utf8', start, end);
    }
    return this.#comm;
  }

  get rawFilename(): Buffer {
    const start = this.#at + this.#fixedSize();
    return this.#buf.subarray(start, start + this.#filenameLen);
  }

  get filename(): string {
    if (this.#filename === undefined) {
      const start = this.#at + this.#fixedSize();
      this.#filename = this.#buf.toString('utf8', start, start + this.#filenameLen);
    }
    return this.#filename;
  }

  /** Start and end offsets in the batch of each argument, found once. */
  #argBounds(): number[] {
    if (this.#bounds === undefined) {
      const start = this.#at + this.#fixedSize() + this.#filenameLen;
      const end = start + this.#argvLen;
      const bounds: number[] = [];
      let from = start;
      while (from < end) {
        let nul = this.#buf.indexOf(0, from);
        // Truncation cuts the last argument before its NUL: keep what came.
        if (nul < 0 || nul >= end) nul = end;
        bounds.push(from, nul);
        from = nul + 1;
      }
      this.#bounds = bounds;
    }
    return this.#bounds;
  }

  get rawArgv(): Buffer[] {
    if (this.#rawArgv === undefined) {
      const b = this.#argBounds();
      const args: Buffer[] = [];
      for (let i = 0; i < b.length; i += 2) args.push(this.#buf.subarray(b[i], b[i + 1]));
      this.#rawArgv = args;
    }
    return this.#rawArgv;
  }

  get argv(): string[] {
    if (this.#argv === undefined) {
      // Buffer#toString decodes straight from the batch (invalid UTF-8 becomes
      // U+FFFD, as with TextDecoder) without a view object per argument.
      const b = this.#argBounds();
      const args: string[] = [];
      for (let i = 0; i < b.length; i += 2) args.push(this.#buf.toString('utf8', b[i], b[i + 1]));
      this.#argv = args;
    }
    return this.#argv;
  }

  get argc(): number {
    return this.#argcUnknown ? this.#argBounds().length / 2 : this.#argc;
  }

  // A new Date per read: Dates are mutable, and a listener that changes one
  // must not change what the next listener sees.
  get time(): Date {
    return new Date(Number((this.bootNs + this.#clock.epochOffsetNs) / 1_000_000n));
  }

  get execId(): string {
    return `${this.pid}:${this.startBootNs}`;
  }

  get parentExecId(): string {
    return `${this.ppid}:${this.parentStartBootNs}`;
  }

  #fixedSize(): number {
    return this.#buf.readUInt16LE(this.#at + H.fixedSize);
  }

  /** What console.log and JSON.stringify show: the fields, not the buffer. */
  toJSON(): Record<string, unknown> {
    return {
      pid: this.pid, tid: this.tid, ppid: this.ppid, uid: this.uid, gid: this.gid, nsPid: this.nsPid,
      comm: this.comm, filename: this.filename, argv: this.argv, argc: this.argc,
      argvTruncated: this.argvTruncated, argvTotalBytes: this.argvTotalBytes, argvFault: this.argvFault,
      filenameFault: this.filenameFault, cgroupId: String(this.cgroupId), bootNs: String(this.bootNs),
      time: this.time.toISOString(), startBootNs: String(this.startBootNs),
      parentStartBootNs: String(this.parentStartBootNs), execId: this.execId, parentExecId: this.parentExecId,
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}

/** What one batch held. */
export interface DecodedBatch {
  events: ExecEvent[];
  /** Records of a type this version does not know (from a newer kernel object). */
  unknown: number;
  /** Set when a record did not fit its own sizes: the rest of the batch was not read. */
  error?: DecodeError;
}

/**
 * Decodes a batch of records. Never throws: a malformed record ends the
 * batch and comes back as `error`, with every record before it decoded.
 */
export function decodeBatch(batch: Buffer, clock: Clock): DecodedBatch {
  const events: ExecEvent[] = [];
  let unknown = 0;
  let at = 0;
  while (at < batch.length) {
    if (batch.length - at < H.length) return { events, unknown, error: malformed('a truncated header', at) };
    const size = batch.readUInt32LE(at + H.size);
    const fixed = batch.readUInt16LE(at + H.fixedSize);
    if (size < H.length || at + size > batch.length || fixed > size)
      return { events, unknown, error: malformed(`sizes that do not fit (size ${size}, fixed ${fixed})`, at) };
    const type = batch.readUInt16LE(at + H.type);
    if (type === X.type) {
      if (fixed < X.length) return { events, unknown, error: malformed(`a short exec record (${fixed})`, at) };
      const variable = batch.readUInt16LE(at + X.filenameLen) + batch.readUInt32LE(at + X.argvLen);
      if (fixed + variable > size)
        return { events, unknown, error: malformed(`lengths past the record's end (${variable})`, at) };
      events.push(new Exec(batch, at, clock));
    } else {
      unknown++;
    }
    at += size;
  }
  return { events, unknown };
}

function malformed(what: string, offset: number): DecodeError {
  return new DecodeError(`malformed record at byte ${offset} of a batch: ${what}`, offset);
}
