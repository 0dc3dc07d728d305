// SPDX-License-Identifier: MIT
//
// exec-tracer/otel: the tracer's events as OpenTelemetry LogRecords, emitted
// through the user's own LoggerProvider, and a batch processor that counts
// what the SDK's queue would otherwise drop without a word.
//
// No runtime import of any @opentelemetry package: the user hands the
// provider (and the processor class) in, so this entry point loads where
// they are not installed. Its types are structural copies of the few
// members it uses, not imports from @opentelemetry/api-logs: a public .d.ts
// naming an optional peer breaks the type check of every user without that
// peer (skipLibCheck: false), and the logs API has moved between packages
// (@opentelemetry/api-logs for SDK 0.x, @opentelemetry/api >= 1.10 for SDK
// 3.x); both providers fit these shapes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecTracer } from '../tracer.js';
import { otelEpochNs, otelEventName, toOtelAttributes, type OtelAttributes, type TracerEvent } from '../otel/attributes.js';
import { packageRoot } from '../binding.js';
import { show } from '../show.js';
import { countedProcessor, type CountingLogRecordProcessor } from './otel-queue.js';

export {
  countingBatchProcessor,
  type CountingLogRecordProcessor,
  type CountingProcessorStats,
  type OtelBatchOptions,
  type OtelBatchProcessorClass,
  type OtelExportResult,
  type OtelLogRecordExporter,
} from './otel-queue.js';

/** An OpenTelemetry HrTime: `[seconds, nanoseconds]` since the epoch. */
export type OtelHrTime = [seconds: number, nanoseconds: number];

/** The LogRecord the bridge emits: the members of the logs API's LogRecord it sets. */
export interface OtelLogRecord {
  /** `otelEventName(event)`, e.g. `'exec_tracer.process.exec'`. */
  eventName: string;
  /** When the event happened, to the nanosecond (`otelEpochNs(event)`). */
  timestamp: OtelHrTime;
  /** SeverityNumber: INFO (9), or WARN (13) for a failed exec. */
  severityNumber: number;
  /** `'INFO'` or `'WARN'`. */
  severityText: string;
  /** `toOtelAttributes(event)`. */
  attributes: OtelAttributes;
}

/** What the bridge needs of an OpenTelemetry Logger (`@opentelemetry/api-logs`' Logger fits). */
export interface OtelLogger {
  emit(logRecord: OtelLogRecord): void;
}

/** What the bridge needs of an OpenTelemetry LoggerProvider (`@opentelemetry/sdk-logs`' LoggerProvider fits). */
export interface OtelLoggerProvider {
  getLogger(name: string, version?: string): OtelLogger;
}

/** The tracer events the bridge can log. */
export type OtelBridgeEvent = 'exec' | 'exit' | 'execFailed' | 'fork';

/** Options of bridgeToOtelLogs(). */
export interface OtelLogsBridgeOptions {
  /**
   * The events that become LogRecords. Default: all four, `['exec', 'exit',
   * 'execFailed', 'fork']`, so what the tracer traces is what is logged: a
   * tracer emits `'exit'` unless `exits: false`, and `'fork'` and
   * `'execFailed'` only with `forks: true` and `failedExecs: true`.
   */
  events?: readonly OtelBridgeEvent[];
  /**
   * The provider's batch processor, made by countingBatchProcessor(): then
   * `stats().dropped` counts what its full queue refused. Without it the
   * SDK's queue drops silently and `stats().dropped` is `undefined`.
   */
  processor?: CountingLogRecordProcessor;
}

/** Counters of a bridge since it was attached. */
export interface OtelLogsBridgeStats {
  /** Events logged: LogRecords handed to the logger (and, after the provider shut down, counted as dropped instead). */
  emitted: number;
  /**
   * LogRecords the processor's full queue refused (`options.processor`'s
   * `stats().dropped`: every record through that processor, not only the
   * bridge's); `undefined` when no counting processor was given.
   */
  dropped: number | undefined;
}

/** A running bridge: detach it to stop logging (`using bridge = ...` does it at the end of the scope). */
export interface OtelLogsBridge extends Disposable {
  /** Stops logging the tracer's events. Idempotent; the tracer keeps running. */
  detach(): void;
  /** The counters, as a fresh object. */
  stats(): OtelLogsBridgeStats;
  /** detach(). */
  [Symbol.dispose](): void;
}

/** OpenTelemetry SeverityNumber values (plain numbers: no runtime import of the API). */
const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

const EVENTS: readonly OtelBridgeEvent[] = ['exec', 'exit', 'execFailed', 'fork'];
const OPTIONS = new Set(['events', 'processor']);

/** The name of the Logger the bridge takes from the provider (its instrumentation scope; the version is this package's). */
export const OTEL_LOGGER_NAME = 'exec-tracer';

let version: string | undefined;
/** This package's version, read once (the scope's version). */
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

function validEvents(value: unknown): readonly OtelBridgeEvent[] {
  if (value === undefined) return EVENTS;
  if (!Array.isArray(value)) throw new TypeError(`options.events must be an array of event names, got ${show(value)}`);
  if (value.length === 0) throw new TypeError(`options.events is empty: the bridge would log nothing (known: ${EVENTS.join(', ')})`);
  const seen = new Set<OtelBridgeEvent>();
  value.forEach((name: unknown, i) => {
    if (!EVENTS.includes(name as OtelBridgeEvent))
      throw new TypeError(`options.events[${i}] is not an event the bridge logs: ${show(name)} (known: ${EVENTS.join(', ')})`);
    if (seen.has(name as OtelBridgeEvent)) throw new TypeError(`options.events names ${show(name)} twice`);
    seen.add(name as OtelBridgeEvent);
  });
  return [...seen];
}

/**
 * Emits one OpenTelemetry LogRecord per tracer event through `loggerProvider`
 * (the logger `'exec-tracer'`, this package's version): its `eventName`
 * (otelEventName), its exact time as an HrTime (otelEpochNs: nanoseconds
 * kept), its attributes (toOtelAttributes), severity INFO, or WARN for a
 * failed exec. No body: the attributes carry the event.
 *
 * ```ts
 * const processor = countingBatchProcessor(BatchLogRecordProcessor, { exporter, maxQueueSize: 65_536 });
 * const provider = new LoggerProvider({ processors: [processor] });
 * const bridge = bridgeToOtelLogs(tracer, provider, { processor });
 * // ...
 * bridge.detach();
 * ```
 *
 * Throws a TypeError naming a bad argument or option (an unknown event name,
 * a processor not made by countingBatchProcessor()).
 */
export function bridgeToOtelLogs(
  tracer: ExecTracer,
  loggerProvider: OtelLoggerProvider,
  options: OtelLogsBridgeOptions = {},
): OtelLogsBridge {
  if (tracer === null || typeof tracer !== 'object' || typeof tracer.on !== 'function' || typeof tracer.off !== 'function')
    throw new TypeError(`tracer must be an ExecTracer, got ${show(tracer)}`);
  if (loggerProvider === null || typeof loggerProvider !== 'object' || typeof loggerProvider.getLogger !== 'function')
    throw new TypeError(`loggerProvider must be an OpenTelemetry LoggerProvider (with getLogger()), got ${show(loggerProvider)}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`options must be an object, got ${show(options)}`);
  for (const key of Object.keys(options))
    if (!OPTIONS.has(key)) throw new TypeError(`options.${key} is not an option (known: ${[...OPTIONS].join(', ')})`);
  const events = validEvents(options.events);
  const processor = options.processor === undefined ? undefined : countedProcessor(options.processor, 'options.processor');

  const logger = loggerProvider.getLogger(OTEL_LOGGER_NAME, packageVersion());
  let emitted = 0;
  const log = (event: TracerEvent, severityNumber: number, severityText: string) => {
    emitted++;
    if (processor?.droppedAfterShutdown()) return;
    const ns = otelEpochNs(event);
    logger.emit({
      eventName: otelEventName(event),
      timestamp: [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)],
      severityNumber,
      severityText,
      attributes: toOtelAttributes(event),
    });
  };
  const info = (event: TracerEvent) => log(event, SEVERITY_INFO, 'INFO');
  const warn = (event: TracerEvent) => log(event, SEVERITY_WARN, 'WARN');
  const listeners = events.map((name) => [name, name === 'execFailed' ? warn : info] as const);
  for (const [name, listener] of listeners) tracer.on(name, listener);

  let attached = true;
  const detach = () => {
    if (!attached) return;
    attached = false;
    for (const [name, listener] of listeners) tracer.off(name, listener);
  };
  return {
    detach,
    stats: () => ({ emitted, dropped: processor?.stats().dropped }),
    [Symbol.dispose]: detach,
  };
}
