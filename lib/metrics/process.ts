// SPDX-License-Identifier: MIT
//
// The usual process metrics, under the names every Prometheus exporter and
// prom-client's collectDefaultMetrics() use, so that existing dashboards
// and alerts apply to the tracer's process as they are: CPU time, resident
// and virtual memory, open file descriptors, start time.
import { readdirSync, readFileSync } from 'node:fs';

/** The names of the process families (skipped on a Registry that already has them). */
export const PROCESS_METRIC_NAMES = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_open_fds',
  'process_max_fds',
  'process_start_time_seconds',
] as const;

export type ProcessMetricName = (typeof PROCESS_METRIC_NAMES)[number];

const HELP: Record<ProcessMetricName, [help: string, type: 'counter' | 'gauge']> = {
  process_cpu_user_seconds_total: ['Total user CPU time spent in seconds.', 'counter'],
  process_cpu_system_seconds_total: ['Total system CPU time spent in seconds.', 'counter'],
  process_cpu_seconds_total: ['Total user and system CPU time spent in seconds.', 'counter'],
  process_resident_memory_bytes: ['Resident memory size in bytes.', 'gauge'],
  process_virtual_memory_bytes: ['Virtual memory size in bytes.', 'gauge'],
  process_open_fds: ['Number of open file descriptors.', 'gauge'],
  process_max_fds: ['Maximum number of open file descriptors.', 'gauge'],
  process_start_time_seconds: ['Start time of the process since unix epoch in seconds.', 'gauge'],
};

const START_TIME_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

function maxFds(): number {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : NaN;
  } catch {
    return NaN;
  }
}

function virtualBytes(): number {
  try {
    // /proc/self/status's VmSize, in kB.
    const line = /^VmSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return line ? Number(line[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function openFds(): number {
  try {
    // Less one: the directory's own descriptor, open while it is read.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return NaN;
  }
}

/** The value of each process family now (NaN where /proc cannot say). */
export function processValues(): Record<ProcessMetricName, number> {
  const cpu = process.cpuUsage();
  return {
    process_cpu_user_seconds_total: cpu.user / 1e6,
    process_cpu_system_seconds_total: cpu.system / 1e6,
    process_cpu_seconds_total: (cpu.user + cpu.system) / 1e6,
    process_resident_memory_bytes: process.memoryUsage.rss(),
    process_virtual_memory_bytes: virtualBytes(),
    process_open_fds: openFds(),
    process_max_fds: maxFds(),
    process_start_time_seconds: START_TIME_SECONDS,
  };
}

/** The HELP text and type of a process family. */
export function processFamilyInfo(name: ProcessMetricName): { help: string; type: 'counter' | 'gauge' } {
  const [help, type] = HELP[name];
  return { help, type };
}
