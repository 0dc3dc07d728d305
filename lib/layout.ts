// SPDX-License-Identifier: MIT
//
// The TypeScript mirror of bpf/exec_tracer.h. A real-kernel test checks it
// against the offsets the addon takes with offsetof() from that header.
import type { RecordLayout } from '../types/binding.js';

/** Byte offsets of the ring-buffer records, as laid out by bpf/exec_tracer.h. */
export const LAYOUT: RecordLayout = {
  header: { type: 0, fixedSize: 2, size: 4, length: 8 },
  exec: {
    type: 1,
    bootNs: 8,
    startBootNs: 16,
    parentStartBootNs: 24,
    cgroupId: 32,
    pid: 40,
    tid: 44,
    ppid: 48,
    uid: 52,
    gid: 56,
    nsPid: 60,
    argc: 64,
    argvSize: 68,
    argvLen: 72,
    filenameLen: 76,
    flags: 78,
    comm: 80,
    commLength: 16,
    exeIno: 96,
    exeCtimeNs: 104,
    exeDev: 112,
    exeMode: 116,
    exeLen: 118,
    interpLen: 120,
    cwdLen: 122,
    context: 124,
    contextFlags: 126,
    length: 128,
  },
  flags: { argvTruncated: 1, argvFault: 2, filenameFault: 4, argcUnknown: 8 },
  context: { exe: 1, file: 2, interpreter: 4, cwd: 8 },
  contextFlags: {
    exeTruncated: 1,
    cwdTruncated: 2,
    exeDeleted: 4,
    exeMemfd: 8,
    exeUpperLayer: 16,
    interpreter: 32,
    interpreterUnknown: 64,
  },
  pathMax: 4096,
  pathDepth: 64,
  argvLimitMax: 1 << 20,
};
