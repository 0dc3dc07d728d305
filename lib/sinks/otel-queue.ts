// SPDX-License-Identifier: MIT
//
// A batch LogRecord processor that counts what a full queue refuses. The
// OpenTelemetry SDK's BatchLogRecordProcessor holds at most maxQueueSize
// records (2,048 by default) and drops the rest without a word or a public
// counter; an exec storm fills it in seconds when the exporter is slow.
//
// countingBatchProcessor() builds the SDK's own processor (the class is
// passed in: no runtime import of the SDK) with the user's exporter wrapped,
// and sits in front of it keeping the queue's bound itself: a record enters
// the SDK's queue only while fewer than maxQueueSize records are between
// onEmit and the exporter's export(). The SDK takes a batch out of its queue
// before it calls export(), so its queue never holds more than that count:
// it never drops, and every refused record is refused here, and counted.
// (A batch the SDK takes out and then fails to hand over, when a resource's
// async attributes reject, stays counted as queued: the bound errs towards
// refusing, and the SDK reports that failure to its global error handler.)
import { show } from '../show.js';

/** What the wrapped exporter reports back (the SDK's ExportResult; `code` 0 is SUCCESS). */
export interface OtelExportResult {
  code: number;
  error?: Error;
}

/** What is needed of an exporter (`@opentelemetry/sdk-logs`' LogRecordExporter fits). */
export interface OtelLogRecordExporter {
  export(logs: object[], resultCallback: (result: OtelExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** What is needed of a LogRecordProcessor (`@opentelemetry/sdk-logs`' fits). */
interface OtelLogRecordProcessor {
  onEmit(logRecord: object, context?: unknown): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The batch processor's options, as `new BatchLogRecordProcessor(options)`
 * takes them. The SDK's defaults apply to the sizes left out, and are passed
 * on explicitly so the bound counted here is the SDK's. Other options are
 * passed on untouched.
 */
export interface OtelBatchOptions<E extends OtelLogRecordExporter = OtelLogRecordExporter> {
  /** Where the batches go (the SDK's OTLPLogExporter, InMemoryLogRecordExporter, ...). */
  exporter: E;
  /** Records the queue holds; more are dropped (and counted). Default 2,048. */
  maxQueueSize?: number;
  /** Records per export; at most maxQueueSize. Default 512. */
  maxExportBatchSize?: number;
  /** ms between exports when no batch is full. Default 1,000. */
  scheduledDelayMillis?: number;
  /** ms an export may take before the SDK gives it up. Default 30,000. */
  exportTimeoutMillis?: number;
}

/** Counters of a counting processor, since it was built. */
export interface CountingProcessorStats {
  /** Records let into the SDK's queue. */
  accepted: number;
  /** Records refused: the queue was full (or the processor shut down). They never reach the exporter. */
  dropped: number;
  /** Records accepted and not yet handed to the exporter. */
  queued: number;
  /** Records the exporter reported exported. */
  exported: number;
  /** Records in exports the exporter reported failed (lost on the wire, not in the queue). */
  failed: number;
  /** The queue's bound (maxQueueSize). */
  maxQueueSize: number;
}

/** A LogRecordProcessor for a LoggerProvider that also says what it dropped. */
export interface CountingLogRecordProcessor {
  onEmit(logRecord: object, context?: unknown): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** The counters, as a fresh object. */
  stats(): CountingProcessorStats;
}

/**
 * The SDK's `BatchLogRecordProcessor` class. Since sdk-logs 0.2xx it takes
 * one options object (`{ exporter, maxQueueSize, ... }`); before, the
 * exporter and then the sizes: countingBatchProcessor() builds it so that
 * either reads the same exporter and sizes.
 */
export type OtelBatchProcessorClass = new (options: never, config?: never) => object;

const DEFAULTS = { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 30_000 };

/** What the bridge may do with a processor this module made. */
export interface CountedProcessor {
  stats(): CountingProcessorStats;
  /**
   * Once the processor is shut down, counts a record as dropped and answers
   * true: a LoggerProvider that was shut down hands its processors nothing.
   */
  droppedAfterShutdown(): boolean;
}

// The processors this module made.
const made = new WeakMap<object, CountedProcessor>();

function size(options: Record<string, unknown>, name: keyof typeof DEFAULTS, min: number): number {
  const value = options[name];
  if (value === undefined) return DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`options.${name} must be an integer, got ${show(value)}`);
  if (value < min) throw new RangeError(`options.${name} must be at least ${min}, got ${value}`);
  return value;
}

function isProcessor(value: unknown): value is OtelLogRecordProcessor {
  const p = value as OtelLogRecordProcessor | null;
  return typeof p === 'object' && p !== null && ['onEmit', 'forceFlush', 'shutdown'].every((m) => typeof p[m as keyof OtelLogRecordProcessor] === 'function');
}

/**
 * `new Batch(options)` (pass `BatchLogRecordProcessor` from
 * `@opentelemetry/sdk-logs`), with the queue's drops counted: give the
 * result to the LoggerProvider as its processor, and to bridgeToOtelLogs()
 * as `options.processor`. Its `stats()` says what was accepted, dropped,
 * exported and failed. Throws a TypeError or RangeError for a bad argument.
 */
export function countingBatchProcessor<E extends OtelLogRecordExporter>(
  Batch: OtelBatchProcessorClass,
  options: OtelBatchOptions<E>,
): CountingLogRecordProcessor {
  if (typeof Batch !== 'function') throw new TypeError(`Batch must be a class (BatchLogRecordProcessor), got ${show(Batch)}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`options must be an object, got ${show(options)}`);
  const { exporter } = options;
  if (exporter === null || typeof exporter !== 'object' || typeof exporter.export !== 'function' || typeof exporter.shutdown !== 'function')
    throw new TypeError(`options.exporter must be a LogRecordExporter (with export() and shutdown()), got ${show(exporter)}`);
  const c = options as unknown as Record<string, unknown>;
  const sizes = {
    maxQueueSize: size(c, 'maxQueueSize', 1),
    maxExportBatchSize: size(c, 'maxExportBatchSize', 1),
    scheduledDelayMillis: size(c, 'scheduledDelayMillis', 0),
    exportTimeoutMillis: size(c, 'exportTimeoutMillis', 0),
  };
  if (sizes.maxExportBatchSize > sizes.maxQueueSize)
    throw new RangeError(`options.maxExportBatchSize (${sizes.maxExportBatchSize}) must be at most options.maxQueueSize (${sizes.maxQueueSize})`);

  const counts = { accepted: 0, dropped: 0, handed: 0, exported: 0, failed: 0 };
  const counted: OtelLogRecordExporter = {
    export(logs, resultCallback) {
      counts.handed += logs.length;
      exporter.export(logs, (result) => {
        if (result.code === 0) counts.exported += logs.length;
        else counts.failed += logs.length;
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  // sdk-logs 0.2xx reads options.exporter and the sizes from its one
  // argument; older ones take the exporter, then the sizes: this argument is
  // both (an options object that is itself the exporter).
  const both = { ...options, ...sizes, ...counted, exporter: counted };
  const inner: unknown = new Batch(both as never, sizes as never);
  if (!isProcessor(inner)) throw new TypeError('Batch did not build a LogRecordProcessor (with onEmit(), forceFlush() and shutdown())');

  let shut = false;
  const stats = (): CountingProcessorStats => ({
    accepted: counts.accepted,
    dropped: counts.dropped,
    queued: counts.accepted - counts.handed,
    exported: counts.exported,
    failed: counts.failed,
    maxQueueSize: sizes.maxQueueSize,
  });
  const processor: CountingLogRecordProcessor = {
    onEmit(logRecord, context) {
      // After shutdown the SDK's processor ignores records without a word.
      if (shut || counts.accepted - counts.handed >= sizes.maxQueueSize) {
        counts.dropped++;
        return;
      }
      counts.accepted++;
      inner.onEmit(logRecord, context);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => {
      shut = true;
      return inner.shutdown();
    },
    stats,
  };
  made.set(processor, {
    stats,
    droppedAfterShutdown: () => {
      if (shut) counts.dropped++;
      return shut;
    },
  });
  return processor;
}

/** A processor countingBatchProcessor() made, or a TypeError naming `where`. */
export function countedProcessor(value: unknown, where: string): CountedProcessor {
  const counted = typeof value === 'object' && value !== null ? made.get(value) : undefined;
  if (counted === undefined) throw new TypeError(`${where} must be a processor made by countingBatchProcessor(), got ${show(value)}`);
  return counted;
}
