// SPDX-License-Identifier: MIT
//
// exec-tracer's metrics scraped by a real Prometheus (Debian 12's, unpacked
// into deps/prometheus by scripts/fetch-prometheus.sh, started by each test
// on 127.0.0.1 with a 1 s scrape and stopped after), asked in PromQL:
// - the command's --metrics over a storm of tagged execs: increase() of
//   exec_tracer_events_total{kind="exec"} sees every one, the storm's comm
//   has exactly that many, and the --output file's sink counts its lines;
// - an overflow forced with a small ring and a blocked event loop raises
//   exec_tracer_lost_total by exactly what 'lost' reported;
// - /healthz, scraped as a job of its own, goes 503 → 200 → 503 over a run.
// Not a *.kernel.test.ts: the kernel matrix's guests have no Prometheus.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecTracer } from 'exec-tracer';
import { serveMetrics, tracerMetrics } from 'exec-tracer/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { startCommand } from '../helpers/command.js';
import { prometheusSkipReason, startPrometheus, type Prometheus, type PromSample } from '../helpers/prometheus.js';
import { eventually, fixture, kernel, root, uniqueTag } from './kernel.js';

const value = (samples: PromSample[]): number | undefined => (samples.length === 1 ? samples[0]!.value : undefined);

/** The health and last error of each target, as Prometheus reports them. */
async function targets(prometheus: Prometheus): Promise<{ health: string; lastError: string }[]> {
  const response = await fetch(`${prometheus.url}/api/v1/targets?state=active`);
  const body = (await response.json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
  return body.data.activeTargets;
}

const work = mkdtempSync(join(tmpdir(), 'exec-tracer-metrics-'));
let prometheus: Prometheus | undefined;
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
});

describe.skipIf(!kernel || prometheusSkipReason() !== undefined)('metrics scraped by a real Prometheus', () => {
  it('exec-tracer --metrics: PromQL over a storm of tagged execs sees every one', { timeout: 180_000 }, async () => {
    const total = 1000;
    // The storm runs /bin/true under a name of its own: its comm series.
    const comm = `etm${Math.random().toString(36).slice(2, 10)}`;
    const target = join(work, comm);
    copyFileSync('/bin/true', target);
    const output = join(work, 'storm.json');
    const tag = uniqueTag('metrics');
    const command = startCommand(process.execPath, [
      join(root, 'dist', 'cli', 'main.js'), '--metrics', '127.0.0.1:0', '--json', '--output', output,
      // This test's processes only: the comm series then hold every exec.
      '--descendants', String(process.pid),
    ], { ...process.env });
    try {
      expect(await eventually(() => /metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/.test(command.stderr()), 20_000), command.stderr()).toBe(true);
      const url = /metrics at (http:\/\/127\.0\.0\.1:(\d+)\/metrics)/.exec(command.stderr())!;
      prometheus = await startPrometheus({ targets: [`127.0.0.1:${url[2]}`] });
      await prometheus.waitForTargetUp();
      await prometheus.waitForQuery('exec_tracer_ready', (s) => value(s) === 1);
      expect((await fetch(url[1]!.replace(/metrics$/, 'healthz'))).status).toBe(200);

      const cpuBefore = value(await prometheus.query('process_cpu_seconds_total'))!;
      const started = Date.now();
      const storm = spawnSync(fixture('storm'), ['2', String(total / 2), tag, target], { encoding: 'utf8' });
      expect(storm.stdout).toContain(`spawned=${total} failed=0`);
      const stormSeconds = (Date.now() - started) / 1000;

      // The comm series counts the storm's execs exactly (a handful of
      // comms: each has its own series from its first exec).
      await prometheus.waitForQuery(`exec_tracer_execs_by_comm_total{comm="${comm}"}`, (s) => value(s) === total, 30_000);
      const seenAfter = (Date.now() - started) / 1000 - stormSeconds;
      const increase = value(await prometheus.query('increase(exec_tracer_events_total{kind="exec"}[5m])'))!;
      expect(increase).toBeGreaterThanOrEqual(total);
      // Every exec counted is in exactly one comm series.
      expect(value(await prometheus.query('sum(exec_tracer_execs_by_comm_total) - sum(exec_tracer_events_total{kind="exec"})'))).toBe(0);
      expect(value(await prometheus.query('exec_tracer_lost_total'))).toBe(0);
      expect(value(await prometheus.query('exec_tracer_sink_dropped_total{sink="file"}'))).toBe(0);
      const sent = await prometheus.waitForQuery('exec_tracer_sink_sent_total{sink="file"}', (s) => (value(s) ?? 0) >= total);
      const cpu = value(await prometheus.query('process_cpu_seconds_total'))! - cpuBefore;
      const scrape = value(await prometheus.query('max_over_time(scrape_duration_seconds[5m])'))!;
      const series = value(await prometheus.query('scrape_samples_scraped'))!;

      command.proc.kill('SIGTERM');
      const { code } = await command.exited;
      expect(code, command.stderr()).toBe(0);
      const lines = readFileSync(output, 'utf8').split('\n').filter((l) => l.includes(`"${tag}-`));
      expect(lines).toHaveLength(total);
      expect(value(sent)).toBeLessThanOrEqual(readFileSync(output, 'utf8').split('\n').length - 1);
      console.log(
        `[metrics] storm: ${total} execs in ${stormSeconds.toFixed(1)} s (${(total / stormSeconds).toFixed(0)}/s); ` +
          `Prometheus had all ${seenAfter.toFixed(1)} s after; increase() ${increase.toFixed(0)}; ` +
          `the command's CPU ${cpu.toFixed(2)} s (${((cpu / total) * 1e6).toFixed(0)} µs/exec); ` +
          `slowest scrape ${(scrape * 1000).toFixed(1)} ms, ${series} samples per scrape`,
      );
    } finally {
      command.proc.kill('SIGKILL');
    }
  });

  it("raises exec_tracer_lost_total by exactly what 'lost' reported when a small ring overflows", { timeout: 120_000 }, async () => {
    // spawnSync blocks the event loop, so nothing drains the 32 KiB ring
    // while ~1 KiB records arrive: the kernel drops, and counts each drop.
    const tracer = new ExecTracer({ argvLimit: 1024, ringBufferSize: 32768, context: false, exits: false });
    let lost = 0;
    let lostEvents = 0;
    tracer.on('lost', (n) => {
      lost += n;
      lostEvents++;
    });
    const metrics = tracerMetrics(tracer);
    const server = await serveMetrics(metrics, { port: 0 });
    try {
      await tracer.start();
      prometheus = await startPrometheus({ targets: [`127.0.0.1:${server.port}`] });
      await prometheus.waitForTargetUp();
      const before = value(await prometheus.query('exec_tracer_lost_total'));
      expect(before).toBe(lost);
      const tag = `${uniqueTag('metrics-lost')}-${'o'.repeat(800)}`;
      const storm = spawnSync(fixture('storm'), ['2', '500', tag], { encoding: 'utf8' });
      expect(storm.stdout).toContain('spawned=1000 failed=0');
      // The loop runs again: the ring drains, 'lost' reports, Prometheus scrapes.
      expect(await eventually(() => lost > before!, 10_000)).toBe(true);
      const scraped = await prometheus.waitForQuery('exec_tracer_lost_total', (s) => value(s) === lost, 30_000);
      expect(value(scraped)).toBeGreaterThan(before!);
      expect(value(await prometheus.query('increase(exec_tracer_lost_total[5m]) > 0'))).toBeGreaterThan(0);
      console.log(`[metrics] overflow: ${lost} records lost in ${lostEvents} 'lost' events; Prometheus: ${before} → ${value(scraped)}`);
    } finally {
      await tracer.stop();
      metrics.close();
      await server.close();
    }
  });

  it('sees /healthz go 503 → 200 → 503 over a run, scraped as a job of its own', { timeout: 120_000 }, async () => {
    const tracer = new ExecTracer();
    const metrics = tracerMetrics(tracer);
    const server = await serveMetrics(metrics, { port: 0 });
    try {
      prometheus = await startPrometheus({ targets: [`127.0.0.1:${server.port}`], metricsPath: '/healthz' });
      const is = async (up: number, status: string) => {
        await prometheus!.waitForQuery('up', (s) => value(s) === up, 30_000);
        const [t] = await targets(prometheus!);
        if (up === 0) expect(t!.lastError).toContain(status);
        else expect(t!.lastError).toBe('');
      };
      // Listening, not attached: 503 (not a refused connection).
      await is(0, '503');
      await tracer.start();
      await is(1, '');
      expect(value(await prometheus.query('exec_tracer_ready'))).toBe(1);
      await tracer.stop();
      await is(0, '503');
      expect((await fetch(server.url.replace(/metrics$/, 'healthz'))).status).toBe(503);
    } finally {
      await tracer.stop();
      metrics.close();
      await server.close();
    }
  });
});

process.on('exit', () => rmSync(work, { recursive: true, force: true }));
