// SPDX-License-Identifier: MIT
//
// STAND-IN for the lead's lib/otel/attributes.ts (the OpenTelemetry form of
// an event), written against its announced contract so the syslog sink can
// be built before it lands on main; replaced by merging main.
import { hostname } from 'node:os';
import type { ExecEvent, ExecFailedEvent, ExitEvent, ForkEvent } from '../../types/index.js';

export type OtelValue = string | number | boolean | string[];
export type OtelAttributes = Record<string, OtelValue>;
export type TracerEvent = ExecEvent | ExitEvent | ForkEvent | ExecFailedEvent;

const NAMES = {
  exec: 'exec_tracer.process.exec',
  exit: 'exec_tracer.process.exit',
  execFailed: 'exec_tracer.process.exec_failed',
  fork: 'exec_tracer.process.fork',
} as const;

export function otelEventName(event: TracerEvent): string {
  return NAMES[event.kind];
}

export function toOtelAttributes(event: TracerEvent): OtelAttributes {
  const a: OtelAttributes = { 'process.pid': event.pid, 'process.parent_pid': event.ppid, 'host.name': hostname() };
  a['exec_tracer.process_id'] = event.processId;
  a['exec_tracer.exec_id'] = event.execId;
  if (event.kind === 'exec') {
    a['process.executable.path'] = event.exe || event.filename;
    a['process.command_args'] = event.argv;
    a['process.user.id'] = event.uid;
    a['exec_tracer.argv.truncated'] = event.argvTruncated;
    a['exec_tracer.cwd'] = event.cwd;
    for (const [name, value] of Object.entries(event.env)) a[`process.environment_variable.${name}`] = value;
    a['exec_tracer.env.truncated'] = event.envTruncated;
  } else if (event.kind === 'execFailed') {
    a['exec_tracer.filename'] = event.filename;
    a['exec_tracer.argv'] = event.argv;
    a['exec_tracer.argv.truncated'] = event.argvTruncated;
    a['exec_tracer.errno'] = event.errno;
  } else if (event.kind === 'exit') {
    if (event.exitCode !== undefined) a['process.exit.code'] = event.exitCode;
  }
  return a;
}

export function otelEpochNs(event: TracerEvent): bigint {
  return BigInt(event.time.getTime()) * 1_000_000n;
}

export function otelTimestamp(event: TracerEvent): string {
  const ns = otelEpochNs(event);
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

export interface OtelRecord {
  timestamp: string;
  eventName: string;
  attributes: OtelAttributes;
}

export function toOtelRecord(event: TracerEvent): OtelRecord {
  return { timestamp: otelTimestamp(event), eventName: otelEventName(event), attributes: toOtelAttributes(event) };
}
