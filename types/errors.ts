// SPDX-License-Identifier: MIT
//
// The codes of an ExecTracerError, each with what it means.

/**
 * The `code` of an `ExecTracerError`:
 * - `'EPERM'`: not allowed to load BPF (needs root, or CAP_BPF + CAP_PERFMON).
 * - `'ENOBTF'`: the kernel has no BTF (/sys/kernel/btf/vmlinux).
 * - `'ENOTRACEFS'`: the classic tracepoint needs tracefs, which is not mounted.
 * - `'EVERIFIER'`: the kernel's BPF verifier rejected the program (its log in
 *   `log`, its verdict on the message's second line). On Linux >= 5.8 that is
 *   a bug in exec-tracer, and the message says so.
 * - `'EKERNEL'`: any other failure of the kernel or of libbpf.
 * - `'EUNSUPPORTED'`: an option needs a hook this kernel does not offer
 *   (`forks` without BTF-enabled tracepoints).
 * - `'EBUSY'`: a kernel resource was busy.
 * - `'ECLOSED'`: the tracer was already stopped.
 * - `'EABORTED'`: `options.signal` aborted a start().
 * - `'ENOADDON'`: no native addon loads here: the message names the platform,
 *   CPU and C library (the glibc the prebuilds need against the one found), the
 *   hint the ways on (`EXEC_TRACER_PREBUILD=/dir`, or a source build), or under
 *   Deno the permissions it has not granted.
 * - `'EDECODE'`: a batch held a record that did not fit its own sizes.
 * - `'EFILTER'`: a filter names something that does not exist (a cgroup path, a
 *   process): the message names the key; nothing was applied.
 * - `'EPIDNAMESPACE'`: the tracer runs outside the host's pid namespace (a
 *   container without `hostPID`), and what was asked needs it:
 *   `processTable` (the kernel shows such a process only the processes of
 *   its own namespace) or `filter.descendantsOf` (its pids are not the
 *   kernel's). Nothing was loaded or applied; see docs/agent.md.
 */
export type ExecTracerErrorCode =
  | 'EPERM'
  | 'ENOBTF'
  | 'ENOTRACEFS'
  | 'EVERIFIER'
  | 'EKERNEL'
  | 'EBUSY'
  | 'EUNSUPPORTED'
  | 'ECLOSED'
  | 'EABORTED'
  | 'ENOADDON'
  | 'EDECODE'
  | 'EFILTER'
  | 'EPIDNAMESPACE';
