// SPDX-License-Identifier: MIT
//
// exec-tracer/metrics without a kernel: the families and their values
// against the tracer's own counters (a mock binding), prom-client's real
// Registry (registration, its rendering, OpenMetrics, collectDefaultMetrics
// beside ours), the bounded comm and container series, and the HTTP
// endpoint's answers. The real kernel and a real Prometheus are in
// test/integration/metrics.kernel.test.ts.
import fc from 'fast-check';
import { request } from 'node:http';
import { Registry, collectDefaultMetrics, type OpenMetricsContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { MetricsError, OTHER_LABEL, serveMetrics, tracerMetrics } from '../../lib/metrics/index.js';
import { TopLabels } from '../../lib/metrics/top-labels.js';
import { MockBinding, encodeExecRecord, encodeExecFailedRecord } from '../helpers/mock-binding.js';

function setup(options = {}) {
  const binding = new MockBinding();
  const tracer = new ExecTracer(options, { binding });
  return { binding, tracer };
}

/** The samples of `name` in Prometheus text, by their label text (`{kind="exec"}`, or '' for none). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

function get(url: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tracerMetrics', () => {
  it("counts what the tracer counts: events by kind, lost as the sum of 'lost', filtered, ready", async () => {
    const { binding, tracer } = setup({ failedExecs: true });
    let jsFiltered = 0;
    const metrics = tracerMetrics(tracer, { filtered: () => jsFiltered });
    let lostEvents = 0;
    tracer.on('lost', (n) => (lostEvents += n));
    expect(metrics.ready).toBe(false);
    expect(samples(metrics.metrics(), 'exec_tracer_ready').get('')).toBe(0);
    await tracer.start();
    expect(metrics.ready).toBe(true);
    const native = binding.current;
    native.push(encodeExecRecord({ pid: 10, comm: 'make' }), encodeExecRecord({ pid: 11, comm: 'cc' }), encodeExecFailedRecord({ pid: 12 }));
    native.droppedTotal = 7;
    native.push(encodeExecRecord({ pid: 13, comm: 'cc' }));
    native.filteredCounts = [5, 0, 0, 2, 0];
    jsFiltered = 3;
    const text = metrics.metrics();
    const events = samples(text, 'exec_tracer_events_total');
    expect(Object.fromEntries(events)).toEqual({ '{kind="exec"}': 3, '{kind="execFailed"}': 1, '{kind="exit"}': 0, '{kind="fork"}': 0 });
    expect(samples(text, 'exec_tracer_lost_total').get('')).toBe(7);
    expect(lostEvents).toBe(7);
    expect(samples(text, 'exec_tracer_filtered_total').get('')).toBe(5 + 2 + 3);
    expect(Object.fromEntries(samples(text, 'exec_tracer_execs_by_comm_total'))).toEqual({
      '{comm="make"}': 1,
      '{comm="cc"}': 2,
      [`{comm="${OTHER_LABEL}"}`]: 0,
    });
    expect(samples(text, 'exec_tracer_ready').get('')).toBe(1);
    expect(text).toMatch(/^# TYPE exec_tracer_events_total counter$/m);
    expect(text).toMatch(/^# TYPE exec_tracer_sink_queue gauge$/m);
    // Without processTable there is no table to measure.
    expect(text).not.toContain('exec_tracer_process_table_size');
    expect(samples(text, 'process_resident_memory_bytes').get('')).toBeGreaterThan(1 << 20);
    expect(samples(text, 'process_cpu_seconds_total').get('')).toBeGreaterThan(0);
    expect(samples(text, 'process_open_fds').get('')).toBeGreaterThan(2);
    const stopping = tracer.stop();
    expect(metrics.ready).toBe(false);
    await stopping;
    expect(metrics.ready).toBe(false);
    metrics.close();
  });

  it('shows each sink under its name, and the process table size with processTable', async () => {
    const { tracer } = setup({ processTable: true });
    const syslogLike = { stats: () => ({ written: 9, sent: 6, dropped: 2, queued: 1, reconnects: 0, replayed: 0 }) };
    const metrics = tracerMetrics(tracer, { sinks: { syslog: syslogLike } });
    metrics.addSink('file', () => ({ sent: 40, dropped: 1, queued: 0 }));
    expect(() => metrics.addSink('file', () => ({ sent: 0, dropped: 0, queued: 0 }))).toThrow(/already shown/);
    await tracer.start();
    const text = metrics.metrics();
    expect(Object.fromEntries(samples(text, 'exec_tracer_sink_sent_total'))).toEqual({ '{sink="syslog"}': 6, '{sink="file"}': 40 });
    expect(Object.fromEntries(samples(text, 'exec_tracer_sink_dropped_total'))).toEqual({ '{sink="syslog"}': 2, '{sink="file"}': 1 });
    expect(Object.fromEntries(samples(text, 'exec_tracer_sink_queue'))).toEqual({ '{sink="syslog"}': 1, '{sink="file"}': 0 });
    expect(samples(text, 'exec_tracer_process_table_size').get('')).toBe(tracer.processes!.size);
    await tracer.stop();
  });

  it('refuses bad options with a TypeError or RangeError naming them', () => {
    const { tracer } = setup();
    expect(() => tracerMetrics(tracer, { maxSeries: -1 })).toThrow(RangeError);
    expect(() => tracerMetrics(tracer, { maxSeries: 1.5 })).toThrow(/maxSeries/);
    expect(() => tracerMetrics(tracer, { nope: 1 } as never)).toThrow(/unknown option "nope"/);
    expect(() => tracerMetrics(tracer, { registry: {} as never })).toThrow(/registry must be a prom-client Registry/);
    expect(() => tracerMetrics(tracer, { sinks: { syslog: {} as never } })).toThrow(TypeError);
    expect(() => tracerMetrics(tracer, { processMetrics: 'yes' as never })).toThrow(/processMetrics/);
    expect(tracer.listenerCount('exec')).toBe(0);
  });

  it('leaves the comm and container series out with maxSeries: 0, and stops counting at close()', async () => {
    const { tracer } = setup();
    const none = tracerMetrics(tracer, { maxSeries: 0, processMetrics: false });
    expect(none.metrics()).not.toContain('execs_by_comm');
    expect(none.metrics()).not.toContain('process_');
    const some = tracerMetrics(tracer);
    expect(tracer.listenerCount('exec')).toBe(1);
    some.close();
    some.close();
    expect(tracer.listenerCount('exec')).toBe(0);
  });
});

describe('tracerMetrics on a prom-client Registry', () => {
  it('registers families prom-client renders as its own, beside collectDefaultMetrics(), and unregisters at close()', async () => {
    const { binding, tracer } = setup();
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const metrics = tracerMetrics(tracer, { registry });
    await tracer.start();
    binding.current.push(encodeExecRecord({ pid: 20, comm: 'we"ird\\na\nme' }));
    const text = await registry.metrics();
    expect(samples(text, 'exec_tracer_events_total').get('{kind="exec"}')).toBe(1);
    // prom-client's own escaping of the same label gives the same text as ours.
    const ours = metrics.metrics().split('\n').find((l) => l.startsWith('exec_tracer_execs_by_comm_total{comm="we'));
    expect(ours).toBe('exec_tracer_execs_by_comm_total{comm="we\\"ird\\\\na\\nme"} 1');
    expect(text.split('\n')).toContain(ours);
    // The process metrics are collectDefaultMetrics()'s, not registered twice.
    expect(text.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
    expect(text).toContain('nodejs_heap_size_total_bytes');
    // Another tracerMetrics on the same registry is refused, not merged.
    expect(() => tracerMetrics(tracer, { registry })).toThrow(/already has exec_tracer_events_total/);
    // OpenMetrics: prom-client renames the counter family (no _total) and suffixes its samples.
    const openRegistry = new Registry<OpenMetricsContentType>();
    openRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    using openMetrics = tracerMetrics(tracer, { registry: openRegistry, processMetrics: false });
    void openMetrics;
    const open = await openRegistry.metrics();
    expect(open).toMatch(/^# TYPE exec_tracer_events counter$/m);
    expect(open).toMatch(/^exec_tracer_events_total\{kind="exec"\} 1$/m);
    expect(open.endsWith('# EOF\n')).toBe(true);
    metrics.close();
    expect(await registry.metrics()).not.toContain('exec_tracer_');
    await tracer.stop();
  });

  it('registers the process metrics itself on a registry that lacks them', async () => {
    const { tracer } = setup();
    const registry = new Registry();
    using metrics = tracerMetrics(tracer, { registry });
    void metrics;
    expect(samples(await registry.metrics(), 'process_resident_memory_bytes').get('')).toBeGreaterThan(0);
  });
});

describe('TopLabels: bounded series', () => {
  it('never has more than maxSeries series besides other, each monotonic while it lasts, summing to every count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string({ minLength: 1, maxLength: 3 }), fc.constant('#scrape')), { maxLength: 400 }),
        (maxSeries, script) => {
          let t = 0;
          const top = new TopLabels({ maxSeries, halfLifeMs: 50, maxCandidates: 4, now: () => t });
          let total = 0;
          let last = new Map<string, number>();
          for (const step of script) {
            t += 7;
            if (step !== '#scrape') {
              top.count(step);
              total++;
              continue;
            }
            const series = top.collect();
            expect(series.length).toBeLessThanOrEqual(maxSeries + 1);
            expect(series.at(-1)![0]).toBe(OTHER_LABEL);
            expect(series.reduce((sum, [, v]) => sum + v, 0)).toBe(total);
            const now = new Map(series);
            for (const [label, value] of now) if (last.has(label) && label !== OTHER_LABEL) expect(value).toBeGreaterThanOrEqual(last.get(label)!);
            expect(now.get(OTHER_LABEL)!).toBeGreaterThanOrEqual(last.get(OTHER_LABEL) ?? 0);
            last = now;
          }
          expect(top.collect().reduce((sum, [, v]) => sum + v, 0)).toBe(total);
        },
      ),
    );
  });

  it('gives a series to a label that became clearly busier, at a collection, and keeps exact counts below the bound', () => {
    let t = 0;
    const top = new TopLabels({ maxSeries: 2, halfLifeMs: 1000, now: () => t });
    for (let i = 0; i < 10; i++) top.count('old1');
    for (let i = 0; i < 8; i++) top.count('old2');
    expect(top.collect()).toEqual([['old1', 10], ['old2', 8], [OTHER_LABEL, 0]]);
    t = 10_000; // ten half-lives later
    for (let i = 0; i < 5; i++) top.count('new');
    // Until the collection, 'new' counts under other.
    const series = new Map(top.collect());
    expect(series.get('new')).toBe(0);
    expect(series.has('old2')).toBe(false);
    expect(series.get('old1')).toBe(10);
    expect(series.get(OTHER_LABEL)).toBe(5 + 8);
    top.count('new');
    expect(new Map(top.collect()).get('new')).toBe(1);
  });

  it('stays bounded in memory under a storm of distinct labels', () => {
    const top = new TopLabels({ maxSeries: 3, maxCandidates: 16 });
    for (let i = 0; i < 100_000; i++) top.count(`p${i}`);
    const series = top.collect();
    expect(series).toHaveLength(4);
    expect(series.reduce((sum, [, v]) => sum + v, 0)).toBe(100_000);
  });
});

describe('serveMetrics', () => {
  it('serves /metrics, and /healthz 503 before start, 200 while running, 503 from stop()', async () => {
    const { tracer } = setup();
    const metrics = tracerMetrics(tracer);
    await using server = await serveMetrics(metrics, { port: 0 });
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const healthz = server.url.replace(/metrics$/, 'healthz');
    expect(await get(healthz)).toMatchObject({ status: 503, body: 'exec_tracer_ready 0\n' });
    await tracer.start();
    expect(await get(healthz)).toMatchObject({ status: 200, body: 'exec_tracer_ready 1\n' });
    const page = await get(server.url);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(page.body).toContain('exec_tracer_events_total{kind="exec"} 0');
    expect((await get(server.url, 'HEAD')).body).toBe('');
    expect((await get(server.url.replace(/metrics$/, 'nope'))).status).toBe(404);
    expect((await get(server.url, 'POST')).status).toBe(405);
    await tracer.stop();
    expect((await get(healthz)).status).toBe(503);
  });

  it('serves a registry instead when given one', async () => {
    const { tracer } = setup();
    const registry = new Registry();
    const metrics = tracerMetrics(tracer, { registry, processMetrics: false });
    await using server = await serveMetrics(metrics, { port: 0, registry });
    expect((await get(server.url)).body).toBe(await registry.metrics());
    metrics.close();
  });

  it('says why it cannot listen, with a typed error', async () => {
    const { tracer } = setup();
    const metrics = tracerMetrics(tracer);
    await using first = await serveMetrics(metrics, { port: 0 });
    const taken = serveMetrics(metrics, { port: first.port });
    await expect(taken).rejects.toBeInstanceOf(MetricsError);
    await expect(taken).rejects.toMatchObject({ code: 'ELISTEN', message: expect.stringContaining(`127.0.0.1:${first.port}: EADDRINUSE`) });
    await expect(serveMetrics(metrics, { port: 0, host: '192.0.2.1' })).rejects.toMatchObject({ code: 'ELISTEN' });
    await expect(serveMetrics(metrics, { port: 70_000 })).rejects.toMatchObject({ code: 'EOPTIONS' });
    await expect(serveMetrics(metrics, { port: 1, hots: 'x' } as never)).rejects.toMatchObject({ code: 'EOPTIONS', message: expect.stringContaining('"hots"') });
  });

  it('close() ends kept-alive connections, as Prometheus keeps one between scrapes', async () => {
    const { tracer } = setup();
    const server = await serveMetrics(tracerMetrics(tracer), { port: 0 });
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => request(server.url, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
    const started = Date.now();
    await server.close();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });
});
