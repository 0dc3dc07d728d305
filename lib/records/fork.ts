// SPDX-License-Identifier: MIT
//
// One fork record (struct et_fork_record) as a ForkEvent.
import type { ForkEvent } from '../../types/index.js';
import type { Clock } from './clock.js';
import { ProcessRecord } from './fields.js';
import { LAYOUT } from './layout.js';

const X = LAYOUT.fork;

/** A fork record at `at` in `buf`, decoded on access. */
export class Fork extends ProcessRecord implements ForkEvent {
  readonly pid: number;
  readonly ppid: number;

  constructor(buf: Buffer, at: number, clock: Clock) {
    super(buf, at, clock, X);
    this.pid = buf.readUInt32LE(at + X.pid);
    this.ppid = buf.readUInt32LE(at + X.ppid);
  }

  get kind(): 'fork' {
    return 'fork';
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind, pid: this.pid, ppid: this.ppid, comm: this.comm, processId: this.processId,
      parentProcessId: this.parentProcessId, execId: this.execId, bootNs: String(this.bootNs),
      time: this.time.toISOString(), startBootNs: String(this.startBootNs),
      parentStartBootNs: String(this.parentStartBootNs),
    };
  }
}
