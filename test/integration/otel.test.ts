// SPDX-License-Identifier: MIT
//
// exec-tracer/otel on the real kernel, into the real OpenTelemetry SDK
// (@opentelemetry/sdk-logs' LoggerProvider, BatchLogRecordProcessor and
// InMemoryLogRecordExporter): tagged execs as LogRecords, a storm through a
// queue sized as docs/otel.md says (none dropped), and one through the
// SDK's default queue into a stalled exporter (every drop counted).
//
// Not a *.kernel.test.ts: what it adds to the kernel suites is the SDK's
// side, the same on every kernel; the host suite runs it (npm test).
import {
  BatchLogRecordProcessor, InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { ExecTracer, type ExecEvent, type ExitEvent } from 'exec-tracer';
import { otelEpochNs, otelEventName, toOtelAttributes } from '../../lib/otel/attributes.js';
import { bridgeToOtelLogs, countingBatchProcessor } from '../../lib/sinks/otel.js';
import { StalledExporter } from '../helpers/otel.js';
import { fixture, kernel, run, scaled, uniqueTag } from './kernel.js';

/** The docs' storm sizing (docs/otel.md). */
const STORM_QUEUE = { maxQueueSize: 32_768, maxExportBatchSize: 2_048, scheduledDelayMillis: 200 };

/** The tagged execs' arguments among `records` (the storm's `TAG-<spawner>-<index>`), counted. */
function taggedArgs(records: ReadableLogRecord[], tag: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of records) {
    if (r.eventName !== 'exec_tracer.process.exec') continue;
    const arg = (r.attributes['process.command_args'] as string[] | undefined)?.[1];
    if (arg?.startsWith(`${tag}-`)) seen.set(arg, (seen.get(arg) ?? 0) + 1);
  }
  return seen;
}

describe.skipIf(!kernel)('bridgeToOtelLogs on the real kernel, into the OpenTelemetry SDK', () => {
  it('logs a tagged exec and its exit: event name, the exact ns time as an HrTime, the attributes', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const tracer = new ExecTracer({ argvLimit: 4096 });
    const bridge = bridgeToOtelLogs(tracer, provider);
    const execs: ExecEvent[] = [];
    const exits: ExitEvent[] = [];
    tracer.on('exec', (e) => execs.push(e));
    tracer.on('exit', (e) => exits.push(e));
    const tag = uniqueTag('otel');
    await tracer.start();
    let pid: number | undefined;
    try {
      const result = await run('/bin/true', [tag]);
      pid = result.pid;
    } finally {
      await tracer.stop();
    }
    const exec = execs.find((e) => e.argv[1] === tag);
    expect(exec, `no exec of /bin/true ${tag}`).toBeDefined();
    expect(exec!.pid).toBe(pid);
    const exit = exits.find((e) => e.pid === exec!.pid);
    expect(exit, `no exit of pid ${exec!.pid}`).toBeDefined();

    const records = exporter.getFinishedLogRecords();
    for (const event of [exec!, exit!]) {
      const matching = records.filter((r) => r.eventName === otelEventName(event) && r.attributes['process.pid'] === event.pid);
      expect(matching, otelEventName(event)).toHaveLength(1);
      const record = matching[0]!;
      const ns = otelEpochNs(event);
      expect(BigInt(record.hrTime[0]) * 1_000_000_000n + BigInt(record.hrTime[1])).toBe(ns);
      expect(record.attributes).toEqual(toOtelAttributes(event));
      expect(record.severityText).toBe('INFO');
    }
    const execRecord = records.find((r) => r.eventName === 'exec_tracer.process.exec' && r.attributes['process.pid'] === pid)!;
    expect(execRecord.attributes['process.command_args']).toEqual(['/bin/true', tag]);
    // The time is the kernel's, not the moment the SDK saw the record.
    expect(execRecord.hrTime).not.toEqual(execRecord.hrTimeObserved);
    expect(bridge.stats()).toEqual({ emitted: records.length, dropped: undefined });
    await provider.shutdown();
  });

  const perSpawner = scaled(750, 10);
  it(`delivers a ${4 * perSpawner}-exec storm through a queue sized as the docs say: every exec once, none dropped`, async () => {
    const exporter = new InMemoryLogRecordExporter();
    const processor = countingBatchProcessor(BatchLogRecordProcessor, { exporter, ...STORM_QUEUE });
    const provider = new LoggerProvider({ processors: [processor] });
    const tracer = new ExecTracer();
    const bridge = bridgeToOtelLogs(tracer, provider, { processor });
    const tag = uniqueTag('otel-storm');
    await tracer.start();
    let out!: Awaited<ReturnType<typeof run>>;
    try {
      out = await run(fixture('storm'), ['4', String(perSpawner), tag]);
    } finally {
      await tracer.stop();
    }
    await provider.forceFlush();
    expect(out.stdout).toContain(`spawned=${4 * perSpawner} failed=0`);
    const seen = taggedArgs(exporter.getFinishedLogRecords(), tag);
    expect(seen.size).toBe(4 * perSpawner);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(tracer.stats().lost).toBe(0);
    const stats = bridge.stats();
    expect(stats.dropped).toBe(0);
    expect(stats.emitted).toBe(exporter.getFinishedLogRecords().length);
    expect(processor.stats()).toMatchObject({ accepted: stats.emitted, exported: stats.emitted, failed: 0, queued: 0 });
    await provider.shutdown();
  }, 120_000);

  it('counts every record the SDK’s default 2,048-record queue cannot take while the exporter is stalled', async () => {
    const exporter = new StalledExporter();
    const processor = countingBatchProcessor(BatchLogRecordProcessor, { exporter });
    const provider = new LoggerProvider({ processors: [processor] });
    const tracer = new ExecTracer();
    const bridge = bridgeToOtelLogs(tracer, provider, { processor });
    const tag = uniqueTag('otel-stall');
    await tracer.start();
    try {
      await run(fixture('storm'), ['4', String(perSpawner), tag]);
    } finally {
      await tracer.stop();
    }
    const { emitted, dropped } = bridge.stats();
    expect(processor.stats().maxQueueSize).toBe(2048);
    // Execs and exits: twice the storm at least, far more than the queue and
    // the one export the SDK has in flight can hold.
    expect(emitted).toBeGreaterThanOrEqual(2 * 4 * perSpawner);
    // The SDK exports one batch at a time: the first (up to 512 records)
    // hangs in the stalled export, 2,048 fill the queue, the rest is refused.
    const inExport = exporter.received.length;
    expect(inExport).toBeGreaterThan(0);
    expect(inExport).toBeLessThanOrEqual(512);
    expect(processor.stats()).toMatchObject({ queued: 2048, accepted: 2048 + inExport });
    expect(dropped).toBe(emitted - 2048 - inExport);
    exporter.release();
    await provider.shutdown();
    // What was counted is exactly what the exporter never received.
    expect(exporter.received).toHaveLength(emitted - dropped!);
    const seen = taggedArgs(exporter.received, tag);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(seen.size).toBeLessThan(4 * perSpawner);
  }, 120_000);
});
