// SPDX-License-Identifier: MIT
//
// A real Prometheus for the metrics tests: Debian 12's prometheus (2.42)
// unpacked into deps/prometheus (scripts/fetch-prometheus.sh, run here when
// it is missing), started on 127.0.0.1 with its TSDB and configuration in a
// temporary directory, scraping the targets a test names, asked through its
// HTTP API (/api/v1/query, /api/v1/targets) and stopped (or killed) after.
//
// The first scrape is slow to come, whatever the interval: /-/ready answers
// 0.1-0.3 s after spawn, but the first scrape lands 5.4-6.0 s after it
// (measured on the 2-core test VM; test/integration/prometheus.test.ts logs
// it each run). Prometheus hands discovered targets (static ones too) to
// the scrape manager at most every 5 s, a floor its hidden
// --scrape.discovery-reload-interval cannot lower; each target then waits
// an offset within the scrape interval hashed from its labels. Start it
// once per suite, not per test, and wait with waitForTargetUp().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './process.js';
import { freePort } from './rsyslog.js';

/** Where the prometheus binary is. */
export interface PrometheusInstall {
  prometheus: string;
}

const installDir = join(root, 'deps', 'prometheus');

/** deps/prometheus, fetched first if missing (needs root and Debian's archive). */
export function prometheusInstall(): PrometheusInstall {
  if (!existsSync(join(installDir, '.exec-tracer-root'))) {
    execFileSync('bash', [join(root, 'scripts', 'fetch-prometheus.sh'), installDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const prometheus = join(installDir, 'usr', 'bin', 'prometheus');
  if (!existsSync(prometheus)) throw new Error(`no ${prometheus}: remove ${installDir} and fetch again`);
  return { prometheus };
}

let skipReason: string | undefined | null = null;
/**
 * Why the tests that need Prometheus cannot run here, or undefined if they
 * can (fetching it first when missing). Under CI=true it throws instead: a
 * skip there would hide a broken exporter. Use as
 * `describe.skipIf(prometheusSkipReason() !== undefined)`.
 */
export function prometheusSkipReason(): string | undefined {
  if (skipReason !== null) return skipReason;
  skipReason = unavailableReason();
  if (skipReason !== undefined) {
    if (process.env.CI === 'true') throw new Error(`the Prometheus tests cannot run under CI=true: ${skipReason}`);
    console.warn(`[exec-tracer] skipping the Prometheus tests: ${skipReason}`);
  }
  return skipReason;
}

function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `platform is ${process.platform}, not linux`;
  if (!existsSync(join(installDir, '.exec-tracer-root')) && process.getuid?.() !== 0)
    return `${installDir} is missing and only root can fetch it (scripts/fetch-prometheus.sh runs apt-get)`;
  try {
    prometheusInstall();
    return undefined;
  } catch (e) {
    return `fetching Prometheus into ${installDir} failed: ${(e as Error).message}`;
  }
}

/** What Prometheus scrapes, and how often. */
export interface PrometheusOptions {
  /** The targets to scrape, each `host:port`, all in one job. */
  targets: string[];
  /** The global scrape and evaluation interval, seconds (default 1). */
  scrapeIntervalSeconds?: number;
  /** The path scraped on each target (default Prometheus's: /metrics). */
  metricsPath?: string;
}

/** One sample of an instant vector (or a scalar, with no labels). */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** One target as /api/v1/targets reports it. */
interface ActiveTarget {
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  labels: Record<string, string>;
}

/** A running Prometheus. */
export interface Prometheus {
  /** Its base URL, http://127.0.0.1:PORT. */
  url: string;
  /** Its process id (gone once stop() resolves). */
  pid: number;
  /**
   * An instant query (/api/v1/query), evaluated now or at `time` (Unix
   * seconds, ms precision). Throws on an error status or a result that is
   * neither a vector nor a scalar.
   */
  query(promql: string, time?: number): Promise<PromSample[]>;
  /** Polls `promql` until `predicate` accepts its result, which it returns; rejects after `timeoutMs` (default 30,000). */
  waitForQuery(promql: string, predicate: (samples: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  /** Resolves once every target has been scraped and is up (its `up` sample queryable); rejects after `timeoutMs` (default 30,000). */
  waitForTargetUp(timeoutMs?: number): Promise<void>;
  /** SIGTERM, SIGKILL if it has not ended in 10 s; then removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Its standard error so far (the last 64 KB). */
  stderr(): string;
}

const STDERR_KEPT = 64 * 1024;
const POLL_MS = 100;

/** Prometheus's number format: Go's, with +Inf, -Inf and NaN spelled its way. */
function promNumber(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a Prometheus number: '${text}'`);
  return value;
}

/** Starts Prometheus scraping `options.targets`; resolves when /-/ready answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const { targets, scrapeIntervalSeconds = 1, metricsPath } = options;
  if (!Array.isArray(targets) || targets.length === 0) throw new TypeError('targets must be a non-empty array of host:port');
  for (const target of targets) {
    if (typeof target !== 'string' || !/^[^\s/:]+:\d+$/.test(target)) throw new TypeError(`a target must be host:port, got '${String(target)}'`);
  }
  if (!(Number.isFinite(scrapeIntervalSeconds) && scrapeIntervalSeconds >= 0.001))
    throw new RangeError(`scrapeIntervalSeconds must be at least 0.001, got ${scrapeIntervalSeconds}`);
  if (metricsPath !== undefined && !metricsPath.startsWith('/')) throw new TypeError(`metricsPath must start with /, got '${metricsPath}'`);

  const install = prometheusInstall();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'et-prometheus-'));
  // Prometheus reads its configuration as YAML, of which JSON is a subset: no quoting to get wrong.
  const interval = `${Math.round(scrapeIntervalSeconds * 1000)}ms`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'exec-tracer', ...(metricsPath === undefined ? {} : { metrics_path: metricsPath }), static_configs: [{ targets }] }],
  };
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const proc: ChildProcess = spawn(
    install.prometheus,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { cwd: dir, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > STDERR_KEPT) stderr = stderr.slice(-STDERR_KEPT);
  });
  // A spawn that fails (no binary, not executable) says so here, then closes.
  proc.once('error', (e) => (stderr += `spawning ${install.prometheus}: ${e.message}\n`));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  // A test that dies before stop() must not leave a Prometheus behind.
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);

  const tail = () => {
    const lines = stderr.trimEnd().split('\n').slice(-15).join('\n');
    const state = running() ? 'running' : `ended (${proc.exitCode ?? proc.signalCode})`;
    return `\nprometheus (pid ${proc.pid}, ${state}), last lines of its stderr:\n${lines}`;
  };

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (running()) {
        proc.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000))),
        ]);
        clearTimeout(timer);
        if (timedOut && running()) proc.kill('SIGKILL');
      }
      await exited;
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })());

  const api = async (path: string): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new Error(`GET ${path}: ${(e as Error).message}${tail()}`);
    }
    const body = (await response.json().catch(() => undefined)) as
      | { status?: string; data?: unknown; errorType?: string; error?: string }
      | undefined;
    if (body?.status !== 'success') {
      const why = body === undefined ? `HTTP ${response.status}, no JSON` : `${body.errorType ?? `HTTP ${response.status}`}: ${body.error ?? 'no error given'}`;
      throw new Error(`GET ${path}: ${why}`);
    }
    return body.data;
  };

  const query = async (promql: string, time?: number): Promise<PromSample[]> => {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', String(time));
    let data: { resultType: string; result: unknown };
    try {
      data = (await api(`/api/v1/query?${params}`)) as typeof data;
    } catch (e) {
      throw new Error(`query ${promql}: ${(e as Error).message}`);
    }
    if (data.resultType === 'scalar') return [{ metric: {}, value: promNumber((data.result as [number, string])[1]) }];
    if (data.resultType !== 'vector') throw new Error(`query ${promql}: a ${data.resultType}, not an instant vector`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: promNumber(s.value[1]) }));
  };

  /** Polls `attempt` until it returns a value; on timeout, rejects with `describe()` of the last state. */
  const poll = async <T>(attempt: () => Promise<T | undefined>, timeoutMs: number, describe: () => string): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!running()) throw new Error(`prometheus ended while waiting for ${describe()}${tail()}`);
      const value = await attempt();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}${tail()}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  try {
    let lastReady = 'no answer yet';
    await poll(
      async () => {
        try {
          const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
          lastReady = `HTTP ${response.status}`;
          await response.arrayBuffer();
          return response.status === 200 ? true : undefined;
        } catch (e) {
          lastReady = (e as Error).message;
          return undefined;
        }
      },
      30_000,
      () => `${url}/-/ready (last answer: ${lastReady})`,
    );
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    url,
    pid: proc.pid!,
    query,
    async waitForQuery(promql, predicate, timeoutMs = 30_000) {
      let last: PromSample[] = [];
      return poll(
        async () => {
          last = await query(promql);
          return predicate(last) ? last : undefined;
        },
        timeoutMs,
        () => `${promql} to satisfy the predicate (last result: ${JSON.stringify(last)})`,
      );
    },
    async waitForTargetUp(timeoutMs = 30_000) {
      let last: ActiveTarget[] = [];
      await poll(
        async () => {
          last = ((await api('/api/v1/targets?state=active')) as { activeTargets: ActiveTarget[] }).activeTargets;
          // Until the configuration is applied the list is empty: "all up" must mean every target named.
          if (last.length !== targets.length || !last.every((t) => t.health === 'up')) return undefined;
          // The targets page is updated after the scrape is written; make sure the sample can be read too.
          const up = await query('up == 1');
          return up.length === targets.length ? true : undefined;
        },
        timeoutMs,
        () =>
          `${targets.length} target(s) up (targets: ${
            last.length === 0 ? 'none listed yet' : last.map((t) => `${t.scrapeUrl} ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`).join('; ')
          })`,
      );
    },
    stop,
    stderr: () => stderr,
  };
}
