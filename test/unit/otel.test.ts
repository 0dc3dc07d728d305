// SPDX-License-Identifier: MIT
//
// exec-tracer/otel against the real OpenTelemetry SDK (@opentelemetry/sdk-logs
// and its InMemoryLogRecordExporter), fed by a tracer on the mock binding:
// every kind of event as a LogRecord, the options and their errors, and the
// counting processor's drops, exact, with a queue that really fills.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
} from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { otelEpochNs, otelEventName, toOtelAttributes, type TracerEvent } from '../../lib/otel/attributes.js';
import { bridgeToOtelLogs, countingBatchProcessor, type OtelLogsBridgeOptions } from '../../lib/sinks/otel.js';
import {
  MockBinding, encodeExecFailedRecord, encodeExecRecord, encodeExitRecord, encodeForkRecord,
} from '../helpers/mock-binding.js';
import { StalledExporter } from '../helpers/otel.js';
import { root } from '../helpers/process.js';

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** A running tracer on the mock binding that emits all four kinds, and what it emitted. */
async function mockTracer() {
  const binding = new MockBinding();
  const tracer = new ExecTracer({ forks: true, failedExecs: true }, { binding });
  const events: TracerEvent[] = [];
  for (const name of ['exec', 'exit', 'fork', 'execFailed'] as const) tracer.on(name, (e: TracerEvent) => events.push(e));
  await tracer.start();
  return { binding, tracer, events };
}

/** The SDK's provider with a synchronous processor into memory. */
function memoryProvider() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  return { exporter, provider };
}

describe('bridgeToOtelLogs', () => {
  it('emits one LogRecord per event: its name, its exact ns time as an HrTime, its attributes, a severity', async () => {
    const { binding, tracer, events } = await mockTracer();
    const { exporter, provider } = memoryProvider();
    const bridge = bridgeToOtelLogs(tracer, provider);
    binding.current.push(
      encodeForkRecord({ pid: 100, ppid: 1, bootNs: 5_000_000_001n }),
      encodeExecRecord({ pid: 100, ppid: 1, bootNs: 5_000_000_123n }),
      encodeExecFailedRecord({ pid: 100, ppid: 1, bootNs: 5_000_000_456n }),
      encodeExitRecord({ pid: 100, ppid: 1, bootNs: 7_123_456_789n }),
    );
    await tracer.stop();
    expect(events.map(otelEventName)).toEqual([
      'exec_tracer.process.fork', 'exec_tracer.process.exec', 'exec_tracer.process.exec_failed', 'exec_tracer.process.exit',
    ]);
    const records = exporter.getFinishedLogRecords();
    expect(records).toHaveLength(4);
    records.forEach((record, i) => {
      const event = events[i]!;
      const ns = otelEpochNs(event);
      expect(record.eventName).toBe(otelEventName(event));
      expect(record.hrTime).toEqual([Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]);
      // Every nanosecond kept: the HrTime gives back the event's epoch ns.
      expect(BigInt(record.hrTime[0]) * 1_000_000_000n + BigInt(record.hrTime[1])).toBe(ns);
      expect(record.attributes).toEqual(toOtelAttributes(event));
      expect(record.attributes['process.pid']).toBe(100);
      expect(record.instrumentationScope).toMatchObject({ name: 'exec-tracer', version });
      expect(record.body).toBeUndefined();
    });
    expect(records.map((r) => [r.severityNumber, r.severityText])).toEqual([[9, 'INFO'], [9, 'INFO'], [13, 'WARN'], [9, 'INFO']]);
    expect(bridge.stats()).toEqual({ emitted: 4, dropped: undefined });
  });

  it('logs only options.events, and nothing once detached (detach() and Symbol.dispose, idempotent)', async () => {
    const { binding, tracer } = await mockTracer();
    const { exporter, provider } = memoryProvider();
    const bridge = bridgeToOtelLogs(tracer, provider, { events: ['exec', 'execFailed'] });
    binding.current.push(encodeForkRecord(), encodeExecRecord({ pid: 1 }), encodeExecFailedRecord(), encodeExitRecord());
    expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(['exec_tracer.process.exec', 'exec_tracer.process.exec_failed']);
    const listeners = tracer.listenerCount('exec');
    bridge.detach();
    bridge.detach();
    bridge[Symbol.dispose]();
    expect(tracer.listenerCount('exec')).toBe(listeners - 1);
    binding.current.push(encodeExecRecord({ pid: 2 }));
    expect(exporter.getFinishedLogRecords()).toHaveLength(2);
    expect(bridge.stats().emitted).toBe(2);
    await tracer.stop();
  });

  it('rejects bad arguments and options with a TypeError that names them', () => {
    const tracer = new ExecTracer({}, { binding: new MockBinding() });
    const { provider } = memoryProvider();
    const bridge = (options: unknown) => () => bridgeToOtelLogs(tracer, provider, options as OtelLogsBridgeOptions);
    expect(bridge({ events: ['exec', 'spawn'] })).toThrow(
      new TypeError('options.events[1] is not an event the bridge logs: "spawn" (known: exec, exit, execFailed, fork)'),
    );
    expect(bridge({ events: [] })).toThrow(
      new TypeError('options.events is empty: the bridge would log nothing (known: exec, exit, execFailed, fork)'),
    );
    expect(bridge({ events: ['exec', 'exec'] })).toThrow(new TypeError('options.events names "exec" twice'));
    expect(bridge({ events: 'exec' })).toThrow(new TypeError('options.events must be an array of event names, got "exec"'));
    expect(bridge({ event: ['exec'] })).toThrow(new TypeError('options.event is not an option (known: events, processor)'));
    expect(bridge(null)).toThrow(new TypeError('options must be an object, got null'));
    expect(bridge({ processor: new SimpleLogRecordProcessor({ exporter: new InMemoryLogRecordExporter() }) })).toThrow(
      new TypeError('options.processor must be a processor made by countingBatchProcessor(), got an object'),
    );
    expect(() => bridgeToOtelLogs(tracer, {} as LoggerProvider)).toThrow(
      new TypeError('loggerProvider must be an OpenTelemetry LoggerProvider (with getLogger()), got an object'),
    );
    expect(() => bridgeToOtelLogs(undefined as unknown as ExecTracer, provider)).toThrow(
      new TypeError('tracer must be an ExecTracer, got undefined'),
    );
    expect(tracer.listenerCount('exec')).toBe(0);
  });
});

describe('countingBatchProcessor', () => {
  it('counts exactly what a full queue refuses: a tiny queue, a stalled exporter', async () => {
    const { binding, tracer } = await mockTracer();
    const exporter = new StalledExporter();
    const processor = countingBatchProcessor(BatchLogRecordProcessor, {
      exporter, maxQueueSize: 8, maxExportBatchSize: 4, scheduledDelayMillis: 1,
    });
    const provider = new LoggerProvider({ processors: [processor] });
    const bridge = bridgeToOtelLogs(tracer, provider, { processor });
    // Two bursts, each delivered in one synchronous run as a ring batch is.
    // A record counts against the queue until the exporter has it: the 8
    // of the first burst fill it, the SDK hands 4 to the (stalled) export.
    const burst = async (from: number) => {
      for (let i = from; i < from + 50; i++) binding.current.push(encodeExecRecord({ pid: 1000 + i }));
      await new Promise((r) => setTimeout(r, 50));
    };
    await burst(0);
    expect(bridge.stats()).toEqual({ emitted: 50, dropped: 42 });
    expect(processor.stats()).toEqual({ accepted: 8, dropped: 42, queued: 4, exported: 0, failed: 0, maxQueueSize: 8 });
    await burst(50);
    expect(processor.stats()).toEqual({ accepted: 12, dropped: 88, queued: 8, exported: 0, failed: 0, maxQueueSize: 8 });
    exporter.release();
    await provider.shutdown();
    // What the exporter never received is what was counted, record for record.
    const received = exporter.received.map((r) => r.attributes['process.pid']);
    expect(received).toEqual([...[0, 1, 2, 3, 4, 5, 6, 7], ...[50, 51, 52, 53]].map((i) => 1000 + i));
    expect(bridge.stats().dropped).toBe(100 - received.length);
    expect(processor.stats()).toMatchObject({ accepted: 12, queued: 0, exported: 12, dropped: 88 });
    // After shutdown the SDK ignores records: counted too.
    binding.current.push(encodeExecRecord());
    expect(bridge.stats()).toEqual({ emitted: 101, dropped: 89 });
    await tracer.stop();
  });

  it('passes the SDK’s defaults on (a 2,048-record queue) and counts failed exports apart from drops', async () => {
    const { binding, tracer } = await mockTracer();
    let calls = 0;
    const failing: LogRecordExporter = {
      export: (logs, done) => done(++calls === 1 ? { code: 1, error: new Error('collector down') } : { code: 0 }),
      shutdown: () => Promise.resolve(),
      forceFlush: () => Promise.resolve(),
    };
    const processor = countingBatchProcessor(BatchLogRecordProcessor, { exporter: failing });
    const provider = new LoggerProvider({ processors: [processor] });
    bridgeToOtelLogs(tracer, provider, { processor });
    binding.current.pause();
    for (let i = 0; i < 3000; i++) binding.current.push(encodeExecRecord({ pid: i + 1 }));
    binding.current.resume();
    // Delivered in one synchronous run: the queue fills at 2,048 before any export.
    expect(processor.stats()).toMatchObject({ maxQueueSize: 2048, accepted: 2048, dropped: 952 });
    await provider.shutdown();
    // The first batch (512, the default batch size) failed; the rest exported.
    expect(processor.stats()).toEqual({ accepted: 2048, dropped: 952, queued: 0, exported: 1536, failed: 512, maxQueueSize: 2048 });
    await tracer.stop();
  });

  it('rejects bad arguments with a TypeError or RangeError that names them', () => {
    const exporter = new InMemoryLogRecordExporter();
    expect(() => countingBatchProcessor(BatchLogRecordProcessor, { exporter, maxQueueSize: 0 })).toThrow(
      new RangeError('options.maxQueueSize must be at least 1, got 0'),
    );
    expect(() => countingBatchProcessor(BatchLogRecordProcessor, { exporter, maxQueueSize: 1.5 })).toThrow(
      new TypeError('options.maxQueueSize must be an integer, got 1.5'),
    );
    expect(() => countingBatchProcessor(BatchLogRecordProcessor, { exporter, maxQueueSize: 100, maxExportBatchSize: 512 })).toThrow(
      new RangeError('options.maxExportBatchSize (512) must be at most options.maxQueueSize (100)'),
    );
    expect(() => countingBatchProcessor(BatchLogRecordProcessor, { exporter: {} as LogRecordExporter })).toThrow(
      new TypeError('options.exporter must be a LogRecordExporter (with export() and shutdown()), got an object'),
    );
  });
});
