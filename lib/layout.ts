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
    length: 96,
  },
  flags: { argvTruncated: 1, argvFault: 2, filenameFault: 4, argcUnknown: 8 },
  argvLimitMax: 1 << 20,
};
