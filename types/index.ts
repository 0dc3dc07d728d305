// SPDX-License-Identifier: MIT
//
// The public contract of exec-tracer: what a user's program sees, by topic.
// lib/index.ts exports these under the package's name.
export type { AttachMode, NamespaceName, NativeBinding } from './binding.js';
export type { ExecEvent, ExitEvent, ForkEvent, ExecFailedEvent, ExecTracerStats, TracerEvent, TracerEventOf } from './events.js';
export type { ExecContextOptions, ExecTracerOptions, ExecTracerDeps, ExecEventsOptions, TracerEventKind } from './options.js';
export type { ExecFilterKeys, ExecFilter } from './filter.js';
export type { ProcessInfo, ProcessTable } from './process-table.js';
export type { ExecTracerErrorCode } from './errors.js';
