// SPDX-License-Identifier: MIT
//
// The Prometheus harness (test/helpers/prometheus.ts) proved against a real
// Prometheus (Debian 12's, deps/prometheus) scraping a tiny exporter served
// here: a counter in Prometheus's text format that the test increments,
// read back exactly through PromQL; a target that refuses connections
// reported as such; and nothing left running after stop().
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusSkipReason, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { freePort } from '../helpers/rsyslog.js';

const METRICS_PATH = '/exporter/metrics';
const COUNTER = 'et_harness_events_total';

/** A counter on 127.0.0.1 at METRICS_PATH that remembers every value it served. */
class CounterExporter {
  value = 0;
  /** Each scrape's answer, in order: the value and when (ms since the epoch). */
  readonly served: { value: number; at: number }[] = [];
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();

  constructor() {
    this.#server = createServer((req, res) => {
      if (req.url !== METRICS_PATH) {
        res.writeHead(404).end();
        return;
      }
      this.served.push({ value: this.value, at: Date.now() });
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(`# HELP ${COUNTER} Events the test counted.\n# TYPE ${COUNTER} counter\n${COUNTER} ${this.value}\n`);
      for (const wake of this.#waiters) wake();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once a scrape has been answered with `value`. */
  servedValue(value: number, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.served.some((s) => s.value === value)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no scrape was answered with ${value} in ${timeoutMs} ms (served: ${JSON.stringify(this.served)})`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Whether a process with this pid exists (a zombie counts). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

const skipReason = prometheusSkipReason();

describe.skipIf(skipReason !== undefined)('the Prometheus harness against a real Prometheus', () => {
  const exporter = new CounterExporter();
  let target: string;
  let prometheus: Prometheus | undefined;
  beforeAll(async () => {
    target = await exporter.listen();
  });
  afterAll(async () => {
    await prometheus?.stop();
    await exporter.close();
  });

  it('scrapes the served counter at metricsPath and reads back exactly what was served', async () => {
    const start = Date.now();
    prometheus = await startPrometheus({ targets: [target], metricsPath: METRICS_PATH });
    const ready = Date.now();
    await prometheus.waitForTargetUp(30_000);
    const up = Date.now();
    expect(exporter.served.length).toBeGreaterThan(0);
    console.log(
      `[prometheus] ready ${ready - start} ms after start; first scrape answered ${exporter.served[0]!.at - start} ms after start; ` +
        `waitForTargetUp resolved ${up - start} ms after start`,
    );
    expect(exporter.served[0]!.value).toBe(0);

    const zero = await prometheus.query(COUNTER);
    expect(zero).toEqual([{ metric: { __name__: COUNTER, job: 'exec-tracer', instance: target }, value: 0 }]);

    exporter.value = 3;
    await exporter.servedValue(3);
    exporter.value = 7;
    await exporter.servedValue(7);
    const seven = await prometheus.waitForQuery(COUNTER, (s) => s[0]?.value === 7, 10_000);
    expect(seven).toHaveLength(1);

    // Evaluated at the last sample's own time, with a series that began at 0,
    // increase() has nothing to extrapolate: it is exactly the served rise.
    const [stamp] = await prometheus.query(`timestamp(${COUNTER})`);
    expect(stamp!.value * 1000).toBeGreaterThanOrEqual(start);
    const at = async (promql: string) => (await prometheus!.query(promql, stamp!.value)).map((s) => s.value);
    expect(await at(`increase(${COUNTER}[1h])`)).toEqual([expect.closeTo(7, 9)]);
    expect(await at(`changes(${COUNTER}[1h])`)).toEqual([2]);
    expect(await at(`resets(${COUNTER}[1h])`)).toEqual([0]);
    expect(await at(`min_over_time(${COUNTER}[1h])`)).toEqual([0]);
    expect(await at(`max_over_time(${COUNTER}[1h])`)).toEqual([7]);
    expect(await prometheus.query(`scalar(${COUNTER}) * 2`)).toEqual([{ metric: {}, value: 14 }]);

    const pid = prometheus.pid;
    expect(alive(pid)).toBe(true);
    await prometheus.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('reports a target that refuses connections, and a query Prometheus rejects', async () => {
    const closed = await freePort();
    const refused = await startPrometheus({ targets: [`127.0.0.1:${closed}`] });
    try {
      // Scraped once (and failed): up is 0, and the targets page says why.
      expect(await refused.waitForQuery('up', (s) => s.length > 0, 30_000)).toEqual([
        { metric: { __name__: 'up', job: 'exec-tracer', instance: `127.0.0.1:${closed}` }, value: 0 },
      ]);
      await expect(refused.waitForTargetUp(1_000)).rejects.toThrow(/timed out after 1000 ms .*down \(.*connection refused/s);
      await expect(refused.query('sum(')).rejects.toThrow(/bad_data/);
    } finally {
      await refused.stop();
    }
    expect(alive(refused.pid)).toBe(false);
    await refused.stop();
  });

  it('refuses options it cannot turn into a configuration', async () => {
    await expect(startPrometheus({ targets: [] })).rejects.toThrow(TypeError);
    await expect(startPrometheus({ targets: ['http://127.0.0.1:9100'] })).rejects.toThrow(/host:port/);
    await expect(startPrometheus({ targets: ['127.0.0.1:9100'], scrapeIntervalSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(startPrometheus({ targets: ['127.0.0.1:9100'], metricsPath: 'metrics' })).rejects.toThrow(/metricsPath/);
  });
});
