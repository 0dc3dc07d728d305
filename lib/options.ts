// SPDX-License-Identifier: MIT
//
// Every option is checked and defaulted here, before the addon is touched.
import type { NativeFilter, NativeOpenOptions, PumpKind } from '../types/binding.js';
import type { ExecContextOptions, ExecTracerOptions, TracerEventKind } from '../types/index.js';
import { filterFollows, validateFilter, type ValidFilter } from './filter.js';
import { LAYOUT, type RecordLayout } from './records/layout.js';
import { DEFAULT_REDACTIONS, Redactor } from './redact.js';
import { show } from './show.js';

/** Validated options, in the user's terms. */
export interface ResolvedOptions {
  argvLimit: number;
  ringBufferSize: number;
  maxLatencyMs: number;
  attach: 'auto' | 'tp_btf' | 'tracepoint';
  context: Required<ExecContextOptions>;
  /** false, true (every variable) or the names an allow-list keeps. */
  env: boolean | readonly string[];
  envLimit: number;
  exits: boolean;
  forks: boolean;
  failedExecs: boolean;
  processTable: boolean;
  exitGraceMs: number;
  /** The filter start() applies (its shape checked; what it names is looked up then). */
  filter?: ValidFilter;
  /** options.redact, compiled; absent: nothing is redacted. */
  redactor?: Redactor;
  signal?: AbortSignal;
}

/** The default of every option of `new ExecTracer()`; TSDoc on ExecTracerOptions says why. */
export const DEFAULTS = {
  argvLimit: 8192,
  ringBufferSize: 2 * 1024 * 1024,
  maxLatencyMs: 10,
  attach: 'auto',
  env: false,
  // Environments run larger than command lines: a CI job's or a desktop
  // session's is often over 8 KiB.
  envLimit: 16384,
  exits: true,
  forks: false,
  failedExecs: false,
  processTable: false,
  // Long enough for a child's exec to reach JS after its parent's exit
  // (a drain or two), short enough that a storm's dead do not pile up.
  exitGraceMs: 5000,
} as const;

/** Bytes of records handed to JS at most per batch: bounds each callback's work. */
export const BATCH_BYTES = 256 * 1024;
/** When every record wakes the consumer, the timer is only a safety net. */
const SAFETY_DRAIN_MS = 100;
const MAX_RING = 1024 * 1024 * 1024;
const MAX_LATENCY_MS = 10_000;
const MAX_EXIT_GRACE_MS = 600_000;
const KNOWN = new Set([
  'argvLimit', 'ringBufferSize', 'maxLatencyMs', 'signal', 'attach', 'context', 'env', 'envLimit', 'exits', 'forks',
  'failedExecs', 'processTable', 'exitGraceMs', 'filter', 'redact',
]);
const CONTEXT_PARTS = ['exe', 'file', 'interpreter', 'cwd', 'cgroup'] as const satisfies readonly (keyof ExecContextOptions)[];
/** The parts whose path may take PATH_MAX - 1 bytes of a record. */
const PATH_PARTS = ['exe', 'interpreter', 'cwd', 'cgroup'] as const satisfies readonly (typeof CONTEXT_PARTS)[number][];

/** `options` as a record (undefined counts as {}), with no key outside `known`. */
function optionsObject(options: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`options must be an object, got ${show(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new TypeError(`options.${key} is not an option (known: ${[...known].join(', ')})`);
  }
  return o;
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean, got ${show(value)}`);
  return value;
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`options.${name} must be an integer, got ${show(value)}`);
  if (value < min || value > max)
    throw new RangeError(`options.${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** The smallest page size of any Linux: the ring's floor before the addon says the real one. */
const MIN_PAGE = 4096;

/**
 * Checks and defaults the options, once, without the addon: the ring's size
 * is bounded below by the smallest page, and by the real one in
 * checkRingPageSize() once a binding is loaded.
 */
export function resolveOptions(options: unknown, layout: RecordLayout = LAYOUT): ResolvedOptions {
  const o = optionsObject(options, KNOWN);

  const argvLimit =
    o.argvLimit === undefined ? DEFAULTS.argvLimit : integer('argvLimit', o.argvLimit, 0, layout.argvLimitMax);

  let ringBufferSize: number = DEFAULTS.ringBufferSize;
  if (o.ringBufferSize !== undefined) {
    ringBufferSize = integer('ringBufferSize', o.ringBufferSize, MIN_PAGE, MAX_RING);
    if ((ringBufferSize & (ringBufferSize - 1)) !== 0)
      throw new RangeError(`options.ringBufferSize must be a power of two, got ${ringBufferSize}`);
  }
  const context = resolveContext(o.context);
  const env = resolveEnv(o.env);
  const envLimit =
    o.envLimit === undefined ? DEFAULTS.envLimit : integer('envLimit', o.envLimit, 0, layout.envLimitMax);
  // Each path the context stores may take PATH_MAX - 1 bytes.
  const paths = PATH_PARTS.filter((part) => context[part]).length;
  const largestRecord =
    layout.exec.length + layout.filenameMax + argvLimit + paths * (layout.pathMax - 1) + (env === false ? 0 : envLimit);
  if (ringBufferSize < 4 * largestRecord)
    throw new RangeError(
      `options.ringBufferSize (${ringBufferSize}) must hold at least 4 of the largest records ` +
        `argvLimit ${argvLimit}, the context paths and the environment allow (4 × ${largestRecord} bytes): ` +
        'raise it, or lower argvLimit or envLimit, or collect fewer paths (options.context)',
    );

  let maxLatencyMs: number = DEFAULTS.maxLatencyMs;
  if (o.maxLatencyMs !== undefined) {
    if (typeof o.maxLatencyMs !== 'number' || !Number.isFinite(o.maxLatencyMs))
      throw new TypeError(`options.maxLatencyMs must be a number, got ${show(o.maxLatencyMs)}`);
    if (o.maxLatencyMs < 0 || o.maxLatencyMs > MAX_LATENCY_MS)
      throw new RangeError(`options.maxLatencyMs must be between 0 and ${MAX_LATENCY_MS}, got ${o.maxLatencyMs}`);
    maxLatencyMs = o.maxLatencyMs;
  }

  let attach: ResolvedOptions['attach'] = DEFAULTS.attach;
  if (o.attach !== undefined) {
    if (o.attach !== 'auto' && o.attach !== 'tp_btf' && o.attach !== 'tracepoint')
      throw new TypeError(`options.attach must be 'auto', 'tp_btf' or 'tracepoint', got ${show(o.attach)}`);
    attach = o.attach;
  }

  const exits = boolean('exits', o.exits, DEFAULTS.exits);
  const forks = boolean('forks', o.forks, DEFAULTS.forks);
  if (forks && attach === 'tracepoint')
    throw new TypeError(
      "options.forks needs attach 'tp_btf' or 'auto': the classic tracepoint names a new process by pid alone",
    );

  const failedExecs = boolean('failedExecs', o.failedExecs, DEFAULTS.failedExecs);
  if (failedExecs && attach === 'tracepoint')
    throw new TypeError(
      "options.failedExecs needs attach 'tp_btf' or 'auto': only tp_btf/sys_exit sees an exec fail",
    );
  const processTable = boolean('processTable', o.processTable, DEFAULTS.processTable);
  if (processTable && attach === 'tracepoint')
    throw new TypeError(
      "options.processTable needs attach 'tp_btf' or 'auto': the table follows forks, which the classic tracepoint cannot name",
    );
  if (processTable && !exits)
    throw new TypeError('options.processTable needs exits: without exit records the table could only grow');
  let exitGraceMs: number = DEFAULTS.exitGraceMs;
  if (o.exitGraceMs !== undefined) {
    if (typeof o.exitGraceMs !== 'number' || !Number.isInteger(o.exitGraceMs))
      throw new TypeError(`options.exitGraceMs must be an integer, got ${show(o.exitGraceMs)}`);
    if (o.exitGraceMs < 0 || o.exitGraceMs > MAX_EXIT_GRACE_MS)
      throw new RangeError(`options.exitGraceMs must be between 0 and ${MAX_EXIT_GRACE_MS}, got ${o.exitGraceMs}`);
    exitGraceMs = o.exitGraceMs;
  }

  const filter = validateFilter(o.filter, 'options.filter', layout);
  if (filter && attach === 'tracepoint' && filterFollows(filter))
    throw new TypeError(
      "options.filter's descendantsOf, excludeSelf and path prefixes need attach 'tp_btf' or 'auto': " +
        'the kernel follows processes through forks, which the classic tracepoint cannot name',
    );

  const resolved: ResolvedOptions = {
    argvLimit, ringBufferSize, maxLatencyMs, attach, context, env, envLimit, exits, forks, failedExecs,
    processTable, exitGraceMs,
  };
  if (filter) resolved.filter = filter;
  const redactor = resolveRedact(o.redact);
  if (redactor) resolved.redactor = redactor;
  if (o.signal !== undefined) {
    if (!(o.signal instanceof AbortSignal))
      throw new TypeError(`options.signal must be an AbortSignal, got ${show(o.signal)}`);
    resolved.signal = o.signal;
  }
  return resolved;
}

/** Every part of the context set to `on`. */
function allParts(on: boolean): Required<ExecContextOptions> {
  return Object.fromEntries(CONTEXT_PARTS.map((part) => [part, on])) as Required<ExecContextOptions>;
}

/** `options.env`: a boolean, or an allow-list of variable names. */
function resolveEnv(value: unknown): boolean | readonly string[] {
  if (value === undefined) return DEFAULTS.env;
  if (typeof value === 'boolean') return value;
  if (!Array.isArray(value))
    throw new TypeError(`options.env must be a boolean or an array of variable names, got ${show(value)}`);
  return Object.freeze(
    value.map((name: unknown, i) => {
      if (typeof name !== 'string') throw new TypeError(`options.env[${i}] must be a string, got ${show(name)}`);
      if (name === '') throw new TypeError(`options.env[${i}] must not be empty`);
      if (name.includes('=')) throw new TypeError(`options.env[${i}] must be a name without '=', got ${show(name)}`);
      if (name.includes('\0')) throw new TypeError(`options.env[${i}] must not contain a NUL byte`);
      return name;
    }),
  );
}

/**
 * The kernel's ring is a whole number of pages: a size below the page size
 * of the loaded binding (16 or 64 KiB on some arm64 kernels) is refused,
 * with the RangeError resolveOptions gives for a size out of range.
 */
export function checkRingPageSize(options: ResolvedOptions, pageSize: number): void {
  if (options.ringBufferSize < pageSize)
    throw new RangeError(
      `options.ringBufferSize must be between ${pageSize} and ${MAX_RING}, got ${options.ringBufferSize}`,
    );
}

/** `options.context`: true (the default) or false for every part, or an object of parts (missing ones on). */
function resolveContext(value: unknown): Required<ExecContextOptions> {
  if (value === undefined || typeof value === 'boolean') return allParts(value ?? true);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`options.context must be a boolean or an object, got ${show(value)}`);
  const o = value as Record<string, unknown>;
  const parts = new Set<string>(CONTEXT_PARTS);
  for (const key of Object.keys(o)) {
    if (!parts.has(key)) throw new TypeError(`options.context.${key} is not a part (known: ${CONTEXT_PARTS.join(', ')})`);
  }
  const resolved = allParts(true);
  for (const part of CONTEXT_PARTS) {
    const on = o[part];
    if (on === undefined) continue;
    if (typeof on !== 'boolean') throw new TypeError(`options.context.${part} must be a boolean, got ${show(on)}`);
    resolved[part] = on;
  }
  return resolved;
}

/** Validated options of `tracer.events()`. */
export interface ResolvedEventsOptions {
  highWaterMark: number;
  signal?: AbortSignal;
  kinds: ReadonlySet<TracerEventKind>;
}

const EVENT_KINDS: readonly TracerEventKind[] = ['exec', 'exit', 'fork', 'execFailed'];

/** Default queue bound of `tracer.events()`, in events. */
export const DEFAULT_HIGH_WATER_MARK = 1024;
const EVENTS_KNOWN = new Set(['highWaterMark', 'signal', 'kinds']);

/** Checks and defaults the options of `tracer.events()`. */
export function resolveEventsOptions(options: unknown): ResolvedEventsOptions {
  const o = optionsObject(options, EVENTS_KNOWN);
  const highWaterMark =
    o.highWaterMark === undefined
      ? DEFAULT_HIGH_WATER_MARK
      : integer('highWaterMark', o.highWaterMark, 1, Number.MAX_SAFE_INTEGER);
  let kinds: ReadonlySet<TracerEventKind> = new Set(['exec']);
  if (o.kinds !== undefined) {
    if (!Array.isArray(o.kinds) || o.kinds.length === 0 || !o.kinds.every((k) => (EVENT_KINDS as readonly unknown[]).includes(k)))
      throw new TypeError(`options.kinds must be a non-empty array of ${EVENT_KINDS.map((k) => `'${k}'`).join(', ')}, got ${show(o.kinds)}`);
    kinds = new Set(o.kinds as TracerEventKind[]);
  }
  const resolved: ResolvedEventsOptions = { highWaterMark, kinds };
  if (o.signal !== undefined) {
    if (!(o.signal instanceof AbortSignal))
      throw new TypeError(`options.signal must be an AbortSignal, got ${show(o.signal)}`);
    resolved.signal = o.signal;
  }
  return resolved;
}

/**
 * Bun implements no libuv poll or timer (calling one aborts the process, and
 * it cannot be caught), so under Bun the pump waits on a thread of its own.
 * Node and Deno keep the loop's poll: no thread, and the fewest wakeups.
 */
export function pumpKind(versions: NodeJS.ProcessVersions = process.versions): PumpKind {
  return (versions as { bun?: string }).bun !== undefined ? 'thread' : 'loop';
}

/** What the addon is asked for: the policy behind each knob lives here. */
export function nativeOptions(
  o: ResolvedOptions,
  layout: RecordLayout = LAYOUT,
  filter?: NativeFilter,
): NativeOpenOptions {
  const lowLatency = o.maxLatencyMs === 0;
  const context = CONTEXT_PARTS.reduce((bits, part) => (o.context[part] ? bits | layout.context[part] : bits), 0);
  return {
    argvLimit: o.argvLimit,
    ringBufferSize: o.ringBufferSize,
    // Waking the consumer per record costs ~20 µs of kernel time per exec on
    // these machines (~24 µs -> ~2 µs per exec in BPF without it); past a
    // quarter full it is worth it, below it the timer drains.
    wakeupBytes: lowLatency ? 0 : o.ringBufferSize / 4,
    drainIntervalMs: lowLatency ? SAFETY_DRAIN_MS : Math.max(1, Math.round(o.maxLatencyMs)),
    batchBytes: BATCH_BYTES,
    pump: pumpKind(),
    attach: o.attach,
    context,
    env: o.env !== false,
    envLimit: o.env === false ? 0 : o.envLimit,
    exits: o.exits,
    // The table follows forks whether or not 'fork' events are asked for.
    forks: o.forks || o.processTable,
    failedExecs: o.failedExecs,
    seed: o.processTable,
    ...(filter && filter.entries.length + filter.flags > 0 ? { filter } : {}),
  };
}

/** options.redact: false (the default), true (DEFAULT_REDACTIONS) or a list of RegExps. */
function resolveRedact(value: unknown): Redactor | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return new Redactor(DEFAULT_REDACTIONS);
  if (!Array.isArray(value)) throw new TypeError(`options.redact must be a boolean or an array of RegExps, got ${show(value)}`);
  value.forEach((pattern: unknown, i) => {
    if (!(pattern instanceof RegExp)) throw new TypeError(`options.redact[${i}] must be a RegExp, got ${show(pattern)}`);
  });
  return value.length === 0 ? undefined : new Redactor(value as RegExp[]);
}
