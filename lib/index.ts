// SPDX-License-Identifier: MIT
/**
 * exec-tracer: every exec on a Linux host as a Node.js event.
 * @packageDocumentation
 */
export { ExecTracer, type ExecTracerEvents, type ExecTracerState } from './tracer.js';
export { traceCommand, type CommandExit, type TraceCommandOptions, type TracedCommand } from './command.js';
export { ExecTracerError } from './errors.js';
export { escapeArgForTerminal, escapeForTerminal, escapeBytesForTerminal } from './terminal.js';
export { decodeBatch, DecodeError, type DecodedBatch, type DecodeOptions } from './records/decode.js';
export type { Clock } from './records/clock.js';
export { containerIdFromCgroup } from './container.js';
export { DEFAULT_REDACTIONS } from './redact.js';
export { LAYOUT } from './records/layout.js';
export {
  toOtelAttributes,
  toOtelRecord,
  otelEventName,
  otelTimestamp,
  otelEpochNs,
  type OtelAttributes,
  type OtelValue,
  type OtelRecord,
} from './otel/attributes.js';
export type {
  ExecEvent,
  ExitEvent,
  ForkEvent,
  ExecFailedEvent,
  TracerEvent,
  TracerEventOf,
  TracerEventKind,
  ProcessInfo,
  ProcessTable,
  ExecContextOptions,
  ExecEventsOptions,
  ExecFilter,
  ExecFilterKeys,
  ExecTracerDeps,
  ExecTracerErrorCode,
  ExecTracerOptions,
  ExecTracerStats,
  AttachMode,
  NamespaceName,
} from '../types/index.js';
export type {
  NativeBinding,
  NativeTracer,
  NativeOpenOptions,
  NativeError,
  NativeFilter,
  BatchCallback,
} from '../types/binding.js';
export type { RecordLayout } from './records/layout.js';
