// SPDX-License-Identifier: MIT
//
// Which pid namespace the tracer runs in. Records and the kernel's maps use
// host pids (the initial pid namespace's); a tracer in another one (a
// container without hostPID) sees other numbers for the same processes,
// so what names processes by the tracer's pids, or needs every process to
// be visible, is refused there rather than done wrong.
import { readlinkSync } from 'node:fs';
import { ExecTracerError } from './errors.js';

/** The initial pid namespace's inode number (PROC_PID_INIT_INO, bpf/exec_tracer.h ET_INIT_PIDNS_INUM). */
export const INITIAL_PID_NAMESPACE = 0xeffffffc;

/**
 * The inode number of this process's pid namespace, from /proc/self/ns/pid,
 * or undefined where /proc does not show this process (not mounted, or the
 * /proc of a namespace this process is not in).
 */
export function ownPidNamespace(): number | undefined {
  try {
    const m = /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const HINT =
  "run the tracer in the host's pid namespace: hostPID: true in a Kubernetes pod spec, --pid=host for docker or podman (see docs/agent.md)";

/**
 * The EPIDNAMESPACE error for `what` (an option or a filter key) when the
 * tracer is in pid namespace `ns` (undefined: unknown), `why` it needs the
 * host's, and `operation` the failing step.
 */
export function pidNamespaceError(what: string, why: string, ns: number | undefined, operation: string): ExecTracerError {
  const where = ns === undefined ? 'in a pid namespace it cannot name (/proc/self/ns/pid is unreadable)' : `in pid namespace ${ns}, not the host's (${INITIAL_PID_NAMESPACE})`;
  return new ExecTracerError('EPIDNAMESPACE', `exec-tracer: ${what} needs the host's pid namespace, and this process runs ${where}: ${why}`, {
    operation,
    hint: HINT,
  });
}
