// SPDX-License-Identifier: MIT
//
// One failed-exec record (struct et_exec_failed_record) as an
// ExecFailedEvent: the path and argv as the caller passed them, and the errno.
import type { ExecFailedEvent } from '../../types/index.js';
import type { Redactor } from '../redact.js';
import type { Clock } from './clock.js';
import { ProcessRecord, boundedBuffers, boundedStrings, errnoName, stringBounds } from './fields.js';
import { LAYOUT } from './layout.js';

const X = LAYOUT.execFailed;
const H = LAYOUT.header;

/** A failed-exec record at `at` in `buf`, decoded on access. */
export class ExecFailed extends ProcessRecord implements ExecFailedEvent {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly errno: number;
  #bounds?: number[];
  #argv?: string[];
  #rawArgv?: Buffer[];

  readonly #redactor: Redactor | undefined;

  constructor(buf: Buffer, at: number, clock: Clock, redactor?: Redactor) {
    super(buf, at, clock, X);
    this.#redactor = redactor;
    this.pid = buf.readUInt32LE(at + X.pid);
    this.tid = buf.readUInt32LE(at + X.tid);
    this.ppid = buf.readUInt32LE(at + X.ppid);
    this.uid = buf.readUInt32LE(at + X.uid);
    this.errno = buf.readInt32LE(at + X.error);
  }

  get kind(): 'execFailed' {
    return 'execFailed';
  }

  get code(): string {
    return errnoName(this.errno);
  }

  #flag(bit: number): boolean {
    return (this.buf.readUInt16LE(this.at + X.flags) & bit) !== 0;
  }

  #filenameStart(): number {
    return this.at + this.buf.readUInt16LE(this.at + H.fixedSize);
  }

  #filenameEnd(): number {
    return this.#filenameStart() + this.buf.readUInt16LE(this.at + X.filenameLen);
  }

  get rawFilename(): Buffer {
    return this.buf.subarray(this.#filenameStart(), this.#filenameEnd());
  }

  get filename(): string {
    return this.buf.toString('utf8', this.#filenameStart(), this.#filenameEnd());
  }

  get filenameFault(): boolean {
    return this.#flag(X.filenameFault);
  }

  get filenameTruncated(): boolean {
    return this.#flag(X.filenameTruncated);
  }

  get execveat(): boolean {
    return this.#flag(X.execveat);
  }

  #argBounds(): number[] {
    if (this.#bounds === undefined) {
      const start = this.#filenameEnd();
      this.#bounds = stringBounds(this.buf, start, start + this.buf.readUInt32LE(this.at + X.argvLen));
    }
    return this.#bounds;
  }

  // Decoded once, as ExecEvent's: every listener reads the same array.
  get argv(): string[] {
    if (this.#redactor) return (this.#argv ??= this.rawArgv.map((arg) => arg.toString('utf8')));
    return (this.#argv ??= boundedStrings(this.buf, this.#argBounds()));
  }

  get rawArgv(): Buffer[] {
    if (this.#rawArgv === undefined) {
      const raw = boundedBuffers(this.buf, this.#argBounds());
      this.#rawArgv = this.#redactor ? raw.map((arg) => this.#redactor!.bytes(arg)) : raw;
    }
    return this.#rawArgv;
  }

  get argvTruncated(): boolean {
    return this.#flag(X.argvTruncated);
  }

  get argvFault(): boolean {
    return this.#flag(X.argvFault);
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind, pid: this.pid, tid: this.tid, ppid: this.ppid, uid: this.uid, comm: this.comm,
      filename: this.filename, argv: this.argv, argvTruncated: this.argvTruncated, argvFault: this.argvFault,
      filenameFault: this.filenameFault, filenameTruncated: this.filenameTruncated, execveat: this.execveat,
      errno: this.errno, code: this.code,
      processId: this.processId, parentProcessId: this.parentProcessId, execId: this.execId,
      bootNs: String(this.bootNs), time: this.time.toISOString(), startBootNs: String(this.startBootNs),
    };
  }
}
