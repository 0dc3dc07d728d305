// SPDX-License-Identifier: MIT
//
// One exit record (struct et_exit_record) as an ExitEvent.
import type { ExitEvent } from '../../types/index.js';
import type { Clock } from './clock.js';
import { FixedRecord, signalName, u64Text } from './fields.js';
import { LAYOUT } from './layout.js';

const X = LAYOUT.exit;

/** An exit record at `at` in `buf`, decoded on access. */
export class Exit extends FixedRecord implements ExitEvent {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly status: number;
  #processId?: string;

  constructor(buf: Buffer, at: number, clock: Clock) {
    super(buf, at, clock, X);
    this.pid = buf.readUInt32LE(at + X.pid);
    this.tid = buf.readUInt32LE(at + X.tid);
    this.ppid = buf.readUInt32LE(at + X.ppid);
    this.status = buf.readUInt32LE(at + X.status);
  }

  get kind(): 'exit' {
    return 'exit';
  }

  get durationNs(): bigint {
    return this.bootNs - this.startBootNs;
  }

  get processId(): string {
    return (this.#processId ??= `${this.pid}:${u64Text(this.buf, this.at + X.startBootNs)}`);
  }

  get execId(): string {
    return `${this.processId}:${u64Text(this.buf, this.at + X.execSeq)}`;
  }

  // wait(2)'s encoding: the low 7 bits are the signal (0: it exited), 0x80
  // says a core was dumped, the next byte is the exit code.
  get signalNumber(): number | undefined {
    return (this.status & 0x7f) === 0 ? undefined : this.status & 0x7f;
  }

  get signal(): string | undefined {
    const n = this.signalNumber;
    return n === undefined ? undefined : signalName(n);
  }

  get exitCode(): number | undefined {
    return (this.status & 0x7f) === 0 ? (this.status >> 8) & 0xff : undefined;
  }

  get coreDumped(): boolean {
    return (this.status & 0x80) !== 0;
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind, pid: this.pid, tid: this.tid, ppid: this.ppid, comm: this.comm,
      processId: this.processId, execId: this.execId, exitCode: this.exitCode, signal: this.signal,
      signalNumber: this.signalNumber, coreDumped: this.coreDumped, status: this.status,
      bootNs: String(this.bootNs), time: this.time.toISOString(), startBootNs: String(this.startBootNs),
      durationNs: String(this.durationNs),
    };
  }
}
