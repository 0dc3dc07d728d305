// SPDX-License-Identifier: MIT
import { release } from 'node:os';
import type { NativeError } from '../types/binding.js';
import type { ExecTracerErrorCode } from '../types/index.js';

/** Fields of an ExecTracerError besides its message. */
export interface ExecTracerErrorDetails {
  errno?: number;
  operation?: string;
  hint: string;
  log?: string;
  cause?: unknown;
}

/**
 * Every failure of exec-tracer: a stable `code` to branch on, the failing
 * `operation`, the `errno` when the kernel gave one, a `hint` that says what
 * to do, and the libbpf/verifier `log` when there is one.
 */
export class ExecTracerError extends Error {
  /** What went wrong, stable across versions: branch on this, not on the message. */
  readonly code: ExecTracerErrorCode;
  /** Positive errno from the kernel or libbpf, when there was one. */
  readonly errno?: number;
  /** The step that failed: 'btf', 'open', 'load', 'tracefs', 'attach', 'self', 'seed', 'filter', 'ringbuf', 'poll', 'addon', 'decode'. */
  readonly operation?: string;
  /** What to do about it. */
  readonly hint: string;
  /** What libbpf printed during the failing step (the verifier's log included). */
  readonly log?: string;

  constructor(code: ExecTracerErrorCode, message: string, details: ExecTracerErrorDetails) {
    super(`${message}\nhint: ${details.hint}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ExecTracerError';
    this.code = code;
    this.hint = details.hint;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.operation !== undefined) this.operation = details.operation;
    if (details.log) this.log = details.log;
  }
}

const PERMISSION_HINT =
  'run as root, or grant CAP_BPF and CAP_PERFMON (Linux >= 5.8); on kernels before 5.11 a low ' +
  'RLIMIT_MEMLOCK (ulimit -l) can also cause this';

function isNativeError(error: unknown): error is NativeError {
  return (
    error instanceof Error &&
    typeof (error as NativeError).code === 'string' &&
    typeof (error as NativeError).operation === 'string'
  );
}

/**
 * The oldest kernel exec-tracer's program is written for: the BPF ring buffer,
 * bpf_ktime_get_boot_ns() and CAP_BPF all arrived in Linux 5.8. The oldest
 * kernel it has been run on is 5.10 (the kernel matrix, test/kernels/).
 */
export const MINIMUM_KERNEL: readonly [number, number] = [5, 8];

/** The kernel a failure happened on, as `uname -r` and Node name it. */
export interface KernelIdentity {
  release: string;
  arch: string;
}

/** Whether RELEASE ("6.1.0-50-amd64") is older than MINIMUM_KERNEL; undefined if it does not parse. */
export function olderThanMinimum(kernelRelease: string): boolean | undefined {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < MINIMUM_KERNEL[0] || (major === MINIMUM_KERNEL[0] && minor < MINIMUM_KERNEL[1]);
}

/** The verifier's own verdict: the last line of its log before its statistics ("processed N insns"). */
export function verifierVerdict(log: string): string | undefined {
  const begin = log.lastIndexOf('-- BEGIN PROG LOAD LOG --');
  if (begin < 0) return undefined;
  const end = log.indexOf('-- END PROG LOAD LOG --', begin);
  const lines = log
    .slice(begin, end < 0 ? undefined : end)
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l));
  return lines.at(-1);
}

/**
 * Turns what the addon threw into an ExecTracerError with a code and a hint.
 * `kernel` is the running kernel (a parameter for tests).
 */
export function fromNative(error: unknown, kernel: KernelIdentity = { release: release(), arch: process.arch }): ExecTracerError {
  if (error instanceof ExecTracerError) return error;
  if (!isNativeError(error)) {
    return new ExecTracerError('EKERNEL', `exec-tracer: ${String((error as Error)?.message ?? error)}`, {
      hint: 'this is unexpected: please report it with the message above',
      cause: error,
    });
  }
  const { code, errno, operation, log } = error;
  const base = { errno, operation, log, cause: error };
  const errnoPart = `(${code}${errno ? `, errno ${errno}` : ''})`;
  // The verifier answers EACCES or EINVAL when it rejects a program, and
  // libbpf frames its log. The errno's text ("Permission denied") would send
  // the user looking for a permission problem, so it is left out of the words.
  const verdict = operation === 'load' ? verifierVerdict(log) : undefined;
  if (verdict !== undefined) {
    const tooOld = olderThanMinimum(kernel.release) === true;
    const minimum = `${MINIMUM_KERNEL[0]}.${MINIMUM_KERNEL[1]}`;
    const where = `Linux ${kernel.release} (${kernel.arch})`;
    const message = tooOld
      ? `exec-tracer: load: the kernel's BPF verifier rejected the program: ${where} is older than the Linux ${minimum} exec-tracer needs ${errnoPart}`
      : `exec-tracer: load: the kernel's BPF verifier rejected the program on ${where}, which meets exec-tracer's minimum (Linux ${minimum}): this is a bug in exec-tracer ${errnoPart}`;
    return new ExecTracerError('EVERIFIER', `${message}\nverifier: ${verdict}`, {
      ...base,
      hint: tooOld
        ? `run it on Linux >= ${minimum} with BTF; the verifier's log is in error.log`
        : "please report it to exec-tracer with this message and error.log (the verifier's log: its last lines say why)",
    });
  }
  // The addon's message names the step and carries libbpf's strerror text;
  // the errno name is added so the message alone says all three.
  const message = `exec-tracer: ${error.message} ${errnoPart}`;
  if (code === 'EPERM' || code === 'EACCES') {
    return new ExecTracerError('EPERM', message, { ...base, hint: PERMISSION_HINT });
  }
  if (operation === 'btf') {
    return new ExecTracerError('ENOBTF', message, {
      ...base,
      hint: 'the kernel has no BTF: /sys/kernel/btf/vmlinux is missing; it needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distributions since 2020)',
    });
  }
  if (operation === 'tracefs') {
    return new ExecTracerError('ENOTRACEFS', message, {
      ...base,
      hint: "the classic tracepoint needs tracefs: mount -t tracefs tracefs /sys/kernel/tracing (as root), or use attach: 'tp_btf'",
    });
  }
  if (code === 'EOPNOTSUPP' && operation === 'attach') {
    return new ExecTracerError('EUNSUPPORTED', message, {
      ...base,
      hint:
        'options.forks and options.processTable need the BTF tracepoint tp_btf/sched_process_fork, options.failedExecs ' +
        'tp_btf/sys_exit (Linux >= 5.5 with BTF): turn those options off here',
    });
  }
  if (operation === 'filter') {
    return new ExecTracerError(code === 'EOPNOTSUPP' ? 'EUNSUPPORTED' : 'EKERNEL', message, {
      ...base,
      hint:
        code === 'EOPNOTSUPP'
          ? "the filter's descendantsOf, excludeSelf and path prefixes need the BTF tracepoint tp_btf/sched_process_fork (Linux >= 5.5 with BTF): leave those keys out here"
          : 'the kernel refused the filter: the old one stays in force; see the message',
    });
  }
  if (operation === 'seed') {
    return new ExecTracerError('EKERNEL', message, {
      ...base,
      hint: 'options.processTable seeds its table with a BPF task iterator (iter/task, Linux >= 5.8): turn the option off here',
    });
  }
  if (code === 'EBUSY') {
    return new ExecTracerError('EBUSY', message, { ...base, hint: 'the tracepoint or a resource is busy: try again' });
  }
  if (code === 'ENOSYS') {
    return new ExecTracerError('EKERNEL', message, {
      ...base,
      hint: 'the bpf() system call is not implemented here: the kernel lacks CONFIG_BPF_SYSCALL, or this runs under an emulator (qemu-user) or sandbox (gVisor) that does not pass it through',
    });
  }
  if (operation === 'load') {
    return new ExecTracerError('EKERNEL', message, {
      ...base,
      hint: `the kernel refused the program: see error.log; exec-tracer needs Linux >= ${MINIMUM_KERNEL[0]}.${MINIMUM_KERNEL[1]} with BTF`,
    });
  }
  return new ExecTracerError('EKERNEL', message, {
    ...base,
    hint: `the kernel answered ${code} during ${operation}; see error.log if present`,
  });
}

/** The error for using a tracer after stop(). */
export function closedError(): ExecTracerError {
  return new ExecTracerError('ECLOSED', 'exec-tracer: the tracer is stopped', {
    hint: 'create a new ExecTracer to trace again',
  });
}

/** The error for a start() cut short by the abort signal. */
export function abortedError(reason: unknown): ExecTracerError {
  return new ExecTracerError('EABORTED', 'exec-tracer: aborted by the signal', {
    hint: 'the AbortSignal passed in options.signal was aborted',
    cause: reason,
  });
}
