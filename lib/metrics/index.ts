// SPDX-License-Identifier: MIT
//
// exec-tracer/metrics: a tracer's counters as Prometheus metrics, the ones
// an operator alerts on (what the kernel lost, what a sink dropped, whether
// the tracer is attached) and the ones that show what runs (execs by comm
// and by container, bounded). Registered on the user's prom-client Registry
// as objects of prom-client's own shape (no runtime import: prom-client is
// an optional peer, and two copies of it in one app still work), or
// rendered as text by `metrics()`, which serveMetrics() serves.
import type { ExecTracer } from '../tracer.js';
import { PROCESS_METRIC_NAMES, processFamilyInfo, processValues } from './process.js';
import { PROMETHEUS_CONTENT_TYPE, renderText, type MetricFamily, type MetricSample, type MetricType } from './text.js';
import { OTHER_LABEL, TopLabels } from './top-labels.js';

export { serveMetrics, type MetricsServer, type ServeMetricsOptions } from './server.js';
export { MetricsError, type MetricsErrorCode } from './errors.js';
export { OTHER_LABEL, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type MetricSample, type MetricType };

/** A sink's counters, as the `exec_tracer_sink_*{sink}` metrics show them. */
export interface MetricsSinkStats {
  /** Events (or lines) delivered: to the server, into the file. */
  sent: number;
  /** Events dropped: a full queue, a full disk, a deadline passed at close. */
  dropped: number;
  /** Events waiting to be delivered now. */
  queued: number;
}

/**
 * Where a sink's counters come from: an object with `stats()` (a SyslogSink
 * as it is), or a function (to adapt another: an OpenTelemetry
 * countingBatchProcessor's `{ exported, dropped, failed, queued }`).
 */
export type MetricsSink = { stats(): MetricsSinkStats } | (() => MetricsSinkStats);

/** What is needed of a prom-client Registry (v14 and v15 fit). */
export interface PromRegistryLike {
  registerMetric(metric: never): void;
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
}

/** `tracerMetrics(tracer, options)`. */
export interface TracerMetricsOptions {
  /**
   * A prom-client Registry to register the metrics on (served by the user's
   * own `/metrics`). Without one, `metrics()` renders them.
   */
  registry?: PromRegistryLike;
  /** Sinks whose counters to show, by the name their `sink` label gets (e.g. `{ syslog: sink }`). More with addSink(). */
  sinks?: Record<string, MetricsSink>;
  /**
   * Series of `exec_tracer_execs_by_comm_total` and of
   * `exec_tracer_execs_by_container_total`, each, besides `other`: the
   * busiest labels have their own. 0 leaves both metrics out. Default 50.
   */
  maxSeries?: number;
  /**
   * The usual `process_*` metrics (CPU, memory, file descriptors). Default
   * true; on a registry, those it already has (collectDefaultMetrics()) are
   * left to it.
   */
  processMetrics?: boolean;
  /** Events filtered outside the tracer (a test of the app's own), added to `exec_tracer_filtered_total`. */
  filtered?: () => number;
}

/** The tracer's metrics; close() when done with them. */
export interface TracerMetrics extends Disposable {
  /** The tracer is attached and recording (`tracer.state === 'running'`): what `/healthz` answers. */
  readonly ready: boolean;
  /** The Content-Type of `metrics()`. */
  readonly contentType: string;
  /** Every metric now, in Prometheus's text format. */
  metrics(): string;
  /** Every metric now, as families (prom-client's `get()` shape). */
  families(): MetricFamily[];
  /** Shows one more sink's counters under `sink="name"`. */
  addSink(name: string, sink: MetricsSink): void;
  /** Stops counting execs and unregisters from the registry. Idempotent. */
  close(): void;
  /** close(). */
  [Symbol.dispose](): void;
}

const OPTIONS = new Set(['registry', 'sinks', 'maxSeries', 'processMetrics', 'filtered']);
const MAX_SERIES_LIMIT = 10_000;
const DEFAULT_MAX_SERIES = 50;

type Family = { name: string; help: string; type: MetricType; read: () => MetricSample[] };

function invalid(message: string): never {
  throw new TypeError(`exec-tracer/metrics: ${message}`);
}

function checkSink(name: string, sink: unknown): () => MetricsSinkStats {
  if (typeof name !== 'string' || name === '') invalid(`a sink's name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (typeof sink === 'function') return sink as () => MetricsSinkStats;
  if (typeof sink === 'object' && sink !== null && typeof (sink as { stats?: unknown }).stats === 'function') {
    const source = sink as { stats(): MetricsSinkStats };
    return () => source.stats();
  }
  return invalid(`sinks.${name} must have a stats() method or be a function returning { sent, dropped, queued }`);
}

/**
 * The metrics of `tracer`, from now on (execs by comm and container are
 * counted from this call; the other counters are the tracer's own, since
 * its start):
 *
 * - `exec_tracer_events_total{kind}`: events emitted, by kind (`exec`,
 *   `execFailed`, `exit`, `fork`);
 * - `exec_tracer_lost_total`: records the kernel's ring had no room for,
 *   the sum of every `'lost'` event;
 * - `exec_tracer_filtered_total`: execs and failed execs the filter
 *   dropped (in the kernel, plus `options.filtered`);
 * - `exec_tracer_sink_sent_total{sink}`, `exec_tracer_sink_dropped_total{sink}`,
 *   `exec_tracer_sink_queue{sink}`: each sink's counters;
 * - `exec_tracer_process_table_size`: processes in the table (with
 *   `processTable` only);
 * - `exec_tracer_execs_by_comm_total{comm}`,
 *   `exec_tracer_execs_by_container_total{container_id}`: execs by comm, and
 *   by container (execs in a container, with the `cgroup` context), each at
 *   most `maxSeries` series plus `other`;
 * - `exec_tracer_ready`: 1 while attached, else 0;
 * - the usual `process_*` metrics.
 *
 * ```ts
 * import { ExecTracer } from 'exec-tracer';
 * import { serveMetrics, tracerMetrics } from 'exec-tracer/metrics';
 *
 * const tracer = new ExecTracer();
 * const metrics = tracerMetrics(tracer);
 * const server = await serveMetrics(metrics, { port: 9464 }); // /metrics and /healthz on 127.0.0.1
 * await tracer.start();
 * ```
 *
 * @throws TypeError for a bad option (naming it), or a registry that
 *   already has an `exec_tracer_*` metric (another tracer's: close() it first).
 */
export function tracerMetrics(tracer: ExecTracer, options: TracerMetricsOptions = {}): TracerMetrics {
  if (typeof options !== 'object' || options === null) invalid('options must be an object');
  for (const key of Object.keys(options)) if (!OPTIONS.has(key)) invalid(`unknown option ${JSON.stringify(key)}`);
  const { registry, filtered } = options;
  const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  if (!Number.isInteger(maxSeries) || maxSeries < 0 || maxSeries > MAX_SERIES_LIMIT)
    throw new RangeError(`exec-tracer/metrics: maxSeries must be an integer from 0 to ${MAX_SERIES_LIMIT}, got ${String(maxSeries)}`);
  if (options.processMetrics !== undefined && typeof options.processMetrics !== 'boolean') invalid('processMetrics must be a boolean');
  if (filtered !== undefined && typeof filtered !== 'function') invalid('filtered must be a function returning a number');
  if (registry !== undefined) {
    const r = registry as Partial<PromRegistryLike> | null;
    if (typeof r !== 'object' || r === null || typeof r.registerMetric !== 'function' || typeof r.removeSingleMetric !== 'function' || typeof r.getSingleMetric !== 'function')
      invalid('registry must be a prom-client Registry (registerMetric, removeSingleMetric, getSingleMetric)');
  }
  const sinks = new Map<string, () => MetricsSinkStats>();
  const addSink = (name: string, sink: MetricsSink) => {
    const read = checkSink(name, sink);
    if (sinks.has(name)) invalid(`a sink named ${JSON.stringify(name)} is already shown`);
    sinks.set(name, read);
  };
  if (options.sinks !== undefined) {
    if (typeof options.sinks !== 'object' || options.sinks === null) invalid('sinks must be an object of sinks by name');
    for (const [name, sink] of Object.entries(options.sinks)) addSink(name, sink);
  }

  const comms = maxSeries > 0 ? new TopLabels({ maxSeries }) : undefined;
  const containers = maxSeries > 0 ? new TopLabels({ maxSeries }) : undefined;
  const onExec = (event: { comm: string; containerId?: string }) => {
    comms!.count(event.comm);
    if (event.containerId !== undefined) containers!.count(event.containerId);
  };
  if (comms) tracer.on('exec', onExec);

  const sinkValues = (pick: (s: MetricsSinkStats) => number): MetricSample[] =>
    [...sinks].map(([sink, read]) => ({ labels: { sink }, value: pick(read()) }));
  const families: Family[] = [
    {
      name: 'exec_tracer_events_total',
      help: 'Events the tracer emitted, by kind (exec, execFailed, exit, fork).',
      type: 'counter',
      read: () => {
        const s = tracer.stats();
        return [
          { labels: { kind: 'exec' }, value: s.events },
          { labels: { kind: 'execFailed' }, value: s.failedExecs },
          { labels: { kind: 'exit' }, value: s.exits },
          { labels: { kind: 'fork' }, value: s.forks },
        ];
      },
    },
    {
      name: 'exec_tracer_lost_total',
      help: "Records (execs, exits, forks) dropped in the kernel because the tracer's ring buffer was full: the sum of the 'lost' events.",
      type: 'counter',
      read: () => [{ value: tracer.stats().lost }],
    },
    {
      name: 'exec_tracer_filtered_total',
      help: 'Execs and failed execs the filter dropped (asked not to be traced, not lost).',
      type: 'counter',
      read: () => {
        const s = tracer.stats();
        return [{ value: s.filtered + s.filteredFailedExecs + (filtered?.() ?? 0) }];
      },
    },
    {
      name: 'exec_tracer_sink_sent_total',
      help: 'Events a sink delivered (to its server, into its file), by sink.',
      type: 'counter',
      read: () => sinkValues((s) => s.sent),
    },
    {
      name: 'exec_tracer_sink_dropped_total',
      help: 'Events a sink dropped (a full queue, a full disk, the shutdown deadline), by sink.',
      type: 'counter',
      read: () => sinkValues((s) => s.dropped),
    },
    {
      name: 'exec_tracer_sink_queue',
      help: 'Events waiting in a sink, by sink.',
      type: 'gauge',
      read: () => sinkValues((s) => s.queued),
    },
  ];
  if (tracer.processes !== undefined)
    families.push({
      name: 'exec_tracer_process_table_size',
      help: "Processes in the tracer's process table.",
      type: 'gauge',
      read: () => [{ value: tracer.processes?.size ?? 0 }],
    });
  if (comms && containers)
    families.push(
      {
        name: 'exec_tracer_execs_by_comm_total',
        help: `Execs by the comm they set; at most ${maxSeries} comms (the busiest), the rest under comm="${OTHER_LABEL}".`,
        type: 'counter',
        read: () => comms.collect().map(([comm, value]) => ({ labels: { comm }, value })),
      },
      {
        name: 'exec_tracer_execs_by_container_total',
        help: `Execs in containers by container id; at most ${maxSeries} containers (the busiest), the rest under container_id="${OTHER_LABEL}".`,
        type: 'counter',
        read: () => containers.collect().map(([container_id, value]) => ({ labels: { container_id }, value })),
      },
    );
  families.push({
    name: 'exec_tracer_ready',
    help: 'Whether the tracer is attached and recording execs (1) or not (0).',
    type: 'gauge',
    read: () => [{ value: tracer.state === 'running' ? 1 : 0 }],
  });
  if (options.processMetrics ?? true) {
    // One read of /proc per collection, shared by the families of one scrape.
    let cached: { at: number; values: ReturnType<typeof processValues> } | undefined;
    const values = () => {
      const now = Date.now();
      if (cached === undefined || now - cached.at > 100) cached = { at: now, values: processValues() };
      return cached.values;
    };
    for (const name of PROCESS_METRIC_NAMES) {
      if (registry?.getSingleMetric(name) !== undefined) continue;
      const { help, type } = processFamilyInfo(name);
      families.push({ name, help, type, read: () => [{ value: values()[name] }] });
    }
  }

  const collect = (family: Family): MetricFamily => ({
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    values: family.read(),
  });
  const registered: string[] = [];
  if (registry) {
    for (const family of families)
      if (family.name.startsWith('exec_tracer_') && registry.getSingleMetric(family.name) !== undefined)
        invalid(`the registry already has ${family.name}: one tracerMetrics() per registry (close() the other first)`);
    for (const family of families) {
      // prom-client's shape: it calls get() when scraped, and may rename a
      // counter (dropping _total) when it renders OpenMetrics.
      const metric = {
        name: family.name,
        help: family.help,
        type: family.type,
        aggregator: 'sum' as const,
        get: async () => ({ ...collect(family), name: metric.name }),
        // The counts are the tracer's own: registry.resetMetrics() leaves them.
        reset: () => {},
      };
      registry.registerMetric(metric as never);
      registered.push(family.name);
    }
  }

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (comms) tracer.off('exec', onExec);
    for (const name of registered) registry?.removeSingleMetric(name);
  };
  return {
    get ready() {
      return tracer.state === 'running';
    },
    contentType: PROMETHEUS_CONTENT_TYPE,
    families: () => families.map(collect),
    metrics: () => renderText(families.map(collect)),
    addSink,
    close,
    [Symbol.dispose]: close,
  };
}
