// SPDX-License-Identifier: MIT
//
// An event in OpenTelemetry's vocabulary: flat attributes named by the
// semantic conventions wherever they have a name (process.*, thread.id,
// container.id, host.*, error.type), and under exec_tracer.* where they have
// none. The one mapping behind `--json --schema otel`, the syslog sink's
// messages and the OpenTelemetry logs bridge; docs/otel.md has it as a table.
//
// Rules the mapping keeps:
// - 64-bit values (inodes, capability masks, boot-clock ns, cgroup ids) are
//   strings, never numbers: a JS number would round them.
// - Times are ISO 8601 with all nine digits of nanoseconds, computed from the
//   boot clock in BigInt (`Date` keeps milliseconds only).
// - What the tracer did not collect (a context part turned off, an unset
//   audit id, no tty) is left out, not written as '' or 0: OpenTelemetry
//   reads a missing attribute as unknown.
// - No name is both an attribute and a namespace of others (OpenTelemetry's
//   naming rule): hence `exec_tracer.exec.args` beside `exec_tracer.argv.*`.
import { arch, hostname } from 'node:os';
import { basename } from 'node:path';
import type { ExecEvent, ExecFailedEvent, ExitEvent, ForkEvent, TracerEvent } from '../../types/index.js';
import { RECORD_CLOCK, type Clock } from '../records/clock.js';

/** An attribute's value, as OpenTelemetry allows it (arrays only of strings here). */
export type OtelValue = string | number | boolean | string[];
/** An event's attributes: names as the semantic conventions spell them. */
export type OtelAttributes = Record<string, OtelValue>;
export type { TracerEvent };

/** An event as one OpenTelemetry log record: what `--json --schema otel` prints per line. */
export interface OtelRecord {
  /** When it happened: ISO 8601, UTC, nine fractional digits. */
  timestamp: string;
  /** `exec_tracer.process.exec`, `.exit`, `.exec_failed` or `.fork`. */
  eventName: string;
  attributes: OtelAttributes;
}

const EVENT_NAMES = {
  exec: 'exec_tracer.process.exec',
  exit: 'exec_tracer.process.exit',
  execFailed: 'exec_tracer.process.exec_failed',
  fork: 'exec_tracer.process.fork',
} as const;

/** The event names, by event kind. */
export const OTEL_EVENT_NAMES: Readonly<Record<TracerEvent['kind'], string>> = EVENT_NAMES;

/** OpenTelemetry's `host.arch` values, by Node's `process.arch`. */
const HOST_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm32',
  ia32: 'x86',
  ppc: 'ppc32',
  ppc64: 'ppc64',
  s390x: 's390x',
};

/** The host's part, the same in every event of this process: read once. */
let host: { name: string; arch: string } | undefined;
function hostAttributes(): { name: string; arch: string } {
  return (host ??= { name: hostname(), arch: HOST_ARCH[arch()] ?? arch() });
}

/** The event's OpenTelemetry event name. */
export function otelEventName(event: TracerEvent): string {
  return EVENT_NAMES[event.kind];
}

/** A boot-clock time as exact epoch ns: through the clock the event was decoded with, else from its (ms) `time`. */
function epochNs(event: TracerEvent, bootNs: bigint): bigint {
  const clock = (event as unknown as { [RECORD_CLOCK]?: Clock })[RECORD_CLOCK];
  if (clock !== undefined) return bootNs + clock.epochOffsetNs;
  return BigInt(event.time.getTime()) * 1_000_000n + (bootNs - event.bootNs);
}

/** The event's wall-clock time in ns since the epoch, exact. */
export function otelEpochNs(event: TracerEvent): bigint {
  return epochNs(event, event.bootNs);
}

/** Epoch ns as ISO 8601 in UTC with nine fractional digits: `2026-12-07T00:12:03.123456789Z`. */
export function isoNs(ns: bigint): string {
  const seconds = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
  const fraction = ns - seconds * 1_000_000_000n;
  const whole = new Date(Number(seconds) * 1000).toISOString(); // ...T00:12:03.000Z
  return `${whole.slice(0, -5)}.${String(fraction).padStart(9, '0')}Z`;
}

/** The event's time as ISO 8601 with nanoseconds. */
export function otelTimestamp(event: TracerEvent): string {
  return isoNs(otelEpochNs(event));
}

/** A 64-bit capability mask as /proc/<pid>/status prints it: 16 hex digits. */
function capabilityMask(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

/** What every event carries: who, which image, where. */
function common(event: TracerEvent): OtelAttributes {
  const { name, arch: hostArch } = hostAttributes();
  const attributes: OtelAttributes = {
    'process.pid': event.pid,
    'process.parent_pid': event.ppid,
  };
  if (event.kind !== 'fork') attributes['thread.id'] = event.tid;
  attributes['process.creation.time'] = isoNs(epochNs(event, event.startBootNs));
  attributes['exec_tracer.comm'] = event.comm;
  attributes['exec_tracer.process_id'] = event.processId;
  if (event.kind !== 'exit') attributes['exec_tracer.parent_process_id'] = event.parentProcessId;
  attributes['exec_tracer.exec_id'] = event.execId;
  attributes['exec_tracer.boot_ns'] = String(event.bootNs);
  attributes['host.name'] = name;
  attributes['host.arch'] = hostArch;
  return attributes;
}

function execAttributes(event: ExecEvent, a: OtelAttributes): void {
  a['process.vpid'] = event.nsPid;
  if (event.exe !== '') a['process.executable.path'] = event.exe;
  a['process.executable.name'] = event.exe !== '' ? basename(event.exe) : event.comm;
  if (event.argv.length > 0) a['process.command'] = event.argv[0]!;
  a['process.command_args'] = event.argv;
  a['process.args_count'] = event.argc;
  a['process.user.id'] = event.euid;
  a['process.real_user.id'] = event.uid;
  a['process.saved_user.id'] = event.suid;
  if (event.cwd !== '') a['process.working_directory'] = event.cwd;
  a['process.interactive'] = event.tty !== undefined;
  if (event.sid !== 0) a['process.session_leader.pid'] = event.sid;
  if (event.pgid !== 0) a['process.group_leader.pid'] = event.pgid;
  if (event.cgroup !== '') a['process.linux.cgroup'] = `0::${event.cgroup}`;
  if (event.containerId !== undefined) a['container.id'] = event.containerId;
  for (const [name, value] of Object.entries(event.env)) a[`process.environment_variable.${name}`] = value;

  if (event.parentExecId !== undefined) a['exec_tracer.parent_exec_id'] = event.parentExecId;
  a['exec_tracer.exec.filename'] = event.filename;
  if (event.filenameFault) a['exec_tracer.exec.filename_fault'] = true;
  if (event.filenameTruncated) a['exec_tracer.exec.filename_truncated'] = true;
  a['exec_tracer.argv.truncated'] = event.argvTruncated;
  a['exec_tracer.argv.total_bytes'] = event.argvTotalBytes;
  if (event.argvFault) a['exec_tracer.argv.fault'] = true;
  if (event.interpreter !== undefined) a['exec_tracer.interpreter'] = event.interpreter;
  if (event.exe !== '') {
    a['exec_tracer.exe.inode'] = String(event.exeInode);
    a['exec_tracer.exe.device'] = event.exeDevice;
    a['exec_tracer.exe.ctime'] = isoNs(event.exeCtimeNs);
    a['exec_tracer.exe.mode'] = event.exeMode;
    a['exec_tracer.exe.nlink'] = event.exeNlink;
    a['exec_tracer.exe.deleted'] = event.exeDeleted;
    a['exec_tracer.exe.memfd'] = event.exeMemfd;
    a['exec_tracer.exe.upper_layer'] = event.exeUpperLayer;
    if (event.exeTruncated) a['exec_tracer.exe.truncated'] = true;
  }
  if (event.cwdTruncated) a['exec_tracer.cwd.truncated'] = true;
  a['exec_tracer.group.id'] = event.egid;
  a['exec_tracer.real_group.id'] = event.gid;
  a['exec_tracer.saved_group.id'] = event.sgid;
  a['exec_tracer.fs_user.id'] = event.fsuid;
  a['exec_tracer.fs_group.id'] = event.fsgid;
  a['exec_tracer.capabilities.effective'] = capabilityMask(event.capEffective);
  a['exec_tracer.capabilities.permitted'] = capabilityMask(event.capPermitted);
  a['exec_tracer.capabilities.inheritable'] = capabilityMask(event.capInheritable);
  a['exec_tracer.secure_exec'] = event.secureExec;
  if (event.loginUid !== undefined) a['exec_tracer.audit.login_uid'] = event.loginUid;
  if (event.sessionId !== undefined) a['exec_tracer.audit.session_id'] = event.sessionId;
  if (event.tty !== undefined) a['exec_tracer.tty'] = event.tty;
  for (const [name, inode] of Object.entries(event.namespaces)) if (inode !== 0) a[`exec_tracer.namespace.${name}`] = inode;
  if (event.cgroupId !== 0n) a['exec_tracer.cgroup.id'] = String(event.cgroupId);
  if (event.cgroupTruncated) a['exec_tracer.cgroup.truncated'] = true;
  if (event.envTotalBytes > 0 || event.envTruncated) {
    a['exec_tracer.env.truncated'] = event.envTruncated;
    a['exec_tracer.env.total_bytes'] = event.envTotalBytes;
  }
  if (event.envFault) a['exec_tracer.env.fault'] = true;
}

function exitAttributes(event: ExitEvent, a: OtelAttributes): void {
  if (event.exitCode !== undefined) a['process.exit.code'] = event.exitCode;
  a['process.exit.time'] = isoNs(epochNs(event, event.bootNs));
  if (event.signal !== undefined) {
    a['exec_tracer.signal'] = event.signal;
    a['exec_tracer.signal_number'] = event.signalNumber!;
  }
  a['exec_tracer.core_dumped'] = event.coreDumped;
  a['exec_tracer.exit_status'] = event.status;
  a['exec_tracer.duration_ns'] = String(event.durationNs);
}

function execFailedAttributes(event: ExecFailedEvent, a: OtelAttributes): void {
  a['process.real_user.id'] = event.uid;
  a['error.type'] = event.code;
  a['exec_tracer.errno'] = event.errno;
  a['exec_tracer.exec.filename'] = event.filename;
  if (event.filenameFault) a['exec_tracer.exec.filename_fault'] = true;
  if (event.filenameTruncated) a['exec_tracer.exec.filename_truncated'] = true;
  a['exec_tracer.exec.execveat'] = event.execveat;
  a['exec_tracer.exec.args'] = event.argv;
  a['exec_tracer.argv.truncated'] = event.argvTruncated;
  if (event.argvFault) a['exec_tracer.argv.fault'] = true;
}

/**
 * The event's attributes in OpenTelemetry's names: `process.pid`,
 * `process.command_args`, `process.environment_variable.<NAME>`,
 * `host.name`, ... and `exec_tracer.*` for what the semantic conventions
 * have no name for. docs/otel.md lists every one.
 */
export function toOtelAttributes(event: TracerEvent): OtelAttributes {
  const attributes = common(event);
  if (event.kind === 'exec') execAttributes(event, attributes);
  else if (event.kind === 'exit') exitAttributes(event, attributes);
  else if (event.kind === 'execFailed') execFailedAttributes(event, attributes);
  return attributes;
}

/** The event as one OpenTelemetry log record: its time with nanoseconds, event name and attributes. */
export function toOtelRecord(event: TracerEvent): OtelRecord {
  return { timestamp: otelTimestamp(event), eventName: otelEventName(event), attributes: toOtelAttributes(event) };
}
