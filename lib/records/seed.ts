// SPDX-License-Identifier: MIT
//
// The seed the addon reads once at start(): struct et_task_record after
// et_task_record (bpf/exec_tracer.h), each followed by the argv and exe the
// addon read from /proc for it. Identities come from the kernel, so they
// equal what later exec, exit and fork events carry.
import type { Redactor } from '../redact.js';
import { boundedBuffers, boundedStrings, readComm, stringBounds } from './fields.js';
import { LAYOUT } from './layout.js';

const T = LAYOUT.task;
const H = LAYOUT.header;

/** One task of the seed: a process that was alive when the tracer started. */
export interface SeedTask {
  pid: number;
  ppid: number;
  startBootNs: bigint;
  parentStartBootNs: bigint;
  execSeq: bigint;
  comm: string;
  uid: number;
  kernelThread: boolean;
  /** undefined when /proc could not be read (stored as []). */
  argv: string[] | undefined;
  exe: string | undefined;
}

/** The live processes in a seed; stops at the first record that does not fit (the rest is lost, never misread). */
export function decodeSeed(seed: Buffer, redactor?: Redactor): SeedTask[] {
  const tasks: SeedTask[] = [];
  let at = 0;
  while (seed.length - at >= T.length) {
    const size = seed.readUInt32LE(at + H.size);
    const fixed = seed.readUInt16LE(at + H.fixedSize);
    if (seed.readUInt16LE(at + H.type) !== T.type || fixed < T.length || size < fixed || at + size > seed.length) break;
    const flags = seed.readUInt16LE(at + T.flags);
    const argvLen = seed.readUInt32LE(at + T.argvLen);
    const exeLen = seed.readUInt16LE(at + T.exeLen);
    if (fixed + argvLen + exeLen > size) break;
    const fromProc = (flags & T.fromProc) !== 0;
    const argvStart = at + fixed;
    tasks.push({
      pid: seed.readUInt32LE(at + T.pid),
      ppid: seed.readUInt32LE(at + T.ppid),
      startBootNs: seed.readBigUInt64LE(at + T.startBootNs),
      parentStartBootNs: seed.readBigUInt64LE(at + T.parentStartBootNs),
      execSeq: seed.readBigUInt64LE(at + T.execSeq),
      comm: readComm(seed, at + T.comm),
      uid: seed.readUInt32LE(at + T.uid),
      kernelThread: (flags & T.kernelThread) !== 0,
      argv: fromProc ? seedArgv(seed, argvStart, argvLen, redactor) : undefined,
      exe: fromProc && exeLen > 0 ? seed.toString('utf8', argvStart + argvLen, argvStart + argvLen + exeLen) : undefined,
    });
    at += size;
  }
  return tasks;
}

/** A seeded process's argv, from /proc/<pid>/cmdline, redacted as events are. */
function seedArgv(seed: Buffer, start: number, length: number, redactor: Redactor | undefined): string[] {
  const bounds = stringBounds(seed, start, start + length);
  if (!redactor) return boundedStrings(seed, bounds);
  return boundedBuffers(seed, bounds).map((arg) => redactor.bytes(arg).toString('utf8'));
}
