// SPDX-License-Identifier: MIT
//
// `exec-tracer --trace-json FILE`: a run (cli/run.ts) in the Trace Event
// Format (its JSON Object form), which ui.perfetto.dev and chrome://tracing
// open. Each process of the run is a process of the trace: its own track,
// named by its command line, holding one complete event ('X') from its start
// to its exit. The tree shows in two ways: tracks are sorted depth first
// (process_sort_index), and a flow arrow ('s' then 'f') goes from the
// parent's bar at the fork to the child's. Execs after the first and failed
// execs are instant events ('i') on the process's track.
import { escapeForTerminal } from 'exec-tracer';
import type { Run, RunProcess } from './run.js';
import { commandLine, exitText } from './timeline.js';

/** Pids are below 2^22 (the kernel's PID_MAX_LIMIT): a pid reused within the run is shown as pid + k·2^22. */
export const PID_REUSE_STRIDE = 1 << 22;

/** A track's name is cut after this many characters (the event's args keep the whole argv). */
const TRACK_NAME_LIMIT = 160;

/** One event of the Trace Event Format, as written here. */
export interface TraceEvent {
  /** The phase: X complete, i instant, M metadata, s/f flow start and end. */
  ph: 'X' | 'i' | 'M' | 's' | 'f';
  name: string;
  /** Comma-separated categories. */
  cat?: string;
  /** When, µs since the run's start (metadata events have none). */
  ts?: number;
  /** How long, µs ('X' only). */
  dur?: number;
  pid: number;
  tid: number;
  /** An instant event's scope: t for its thread's track. */
  s?: 't';
  /** A flow's id, shared by its 's' and 'f' events. */
  id?: number;
  /** A flow end's binding point: e, the slice enclosing it. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

/** The Trace Event Format's JSON Object form. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  /** What the format leaves to the writer: the command and how the run went. */
  otherData: Record<string, unknown>;
}

/** µs from ms, to the ns (the precision of the kernel's clock). */
const us = (ms: number) => Math.round(ms * 1e6) / 1e3;

/** The run in the Trace Event Format (serialise it with JSON.stringify). */
export function chromeTrace(run: Run): ChromeTrace {
  const events: TraceEvent[] = [];
  const endUs = us(run.durationMs);
  const pidOf = new Map<string, number>();
  const seen = new Map<number, number>();
  for (const p of run.processes) {
    const k = seen.get(p.pid) ?? 0;
    seen.set(p.pid, k + 1);
    pidOf.set(p.id, p.pid + k * PID_REUSE_STRIDE);
  }

  run.processes.forEach((p, order) => {
    const pid = pidOf.get(p.id)!;
    const name = trackName(p);
    events.push(
      { ph: 'M', name: 'process_name', pid, tid: pid, args: { name } },
      { ph: 'M', name: 'process_sort_index', pid, tid: pid, args: { sort_index: order } },
      { ph: 'M', name: 'thread_name', pid, tid: pid, args: { name } },
      { ph: 'M', name: 'process_labels', pid, tid: pid, args: { labels: exitText(p) } },
    );
    const startUs = us(p.startMs);
    const stopUs = p.endMs === undefined ? endUs : us(p.endMs);
    events.push({
      ph: 'X',
      name: escapeForTerminal(p.comm) || String(p.pid),
      cat: `process,${p.outcome}`,
      ts: startUs,
      dur: Math.max(0, Math.round((stopUs - startUs) * 1e3) / 1e3),
      pid,
      tid: pid,
      args: processArgs(p),
    });
    for (const x of p.execs.slice(1)) {
      events.push({ ph: 'i', s: 't', name: 'exec', cat: 'exec', ts: us(x.atMs), pid, tid: pid, args: { filename: x.filename, argv: x.argv } });
    }
    for (const f of p.failedExecs) {
      events.push({ ph: 'i', s: 't', name: `exec failed: ${f.code}`, cat: 'execFailed', ts: us(f.atMs), pid, tid: pid, args: { filename: f.filename, errno: f.errno, code: f.code } });
    }
    const parentPid = p.parentId === undefined ? undefined : pidOf.get(p.parentId);
    if (parentPid !== undefined) {
      // The arrow leaves the parent's bar and lands on the child's, both at the fork.
      const id = order + 1;
      events.push(
        { ph: 's', name: 'fork', cat: 'fork', id, ts: startUs, pid: parentPid, tid: parentPid },
        { ph: 'f', bp: 'e', name: 'fork', cat: 'fork', id, ts: startUs, pid, tid: pid },
      );
    }
  });

  const otherData: Record<string, unknown> = {
    command: run.command,
    startTime: run.startTime.toISOString(),
    durationMs: run.durationMs,
    processes: run.processes.length,
    lostRecords: run.lost,
  };
  if (run.exitStatus !== undefined) otherData.exitStatus = run.exitStatus;
  return { traceEvents: events, displayTimeUnit: 'ms', otherData };
}

/** A track's name: the command line, indented by depth so the tree reads down the track list. */
function trackName(p: RunProcess): string {
  const line = p.argv.length > 0 ? commandLine(p.argv, TRACK_NAME_LIMIT) : escapeForTerminal(p.comm);
  return `${'· '.repeat(Math.min(p.depth, 32))}${line}`;
}

/** What Perfetto shows when the bar is selected. */
function processArgs(p: RunProcess): Record<string, unknown> {
  const args: Record<string, unknown> = {
    pid: p.pid,
    ppid: p.ppid,
    processId: p.id,
    argv: p.argv,
    outcome: p.outcome,
    exit: exitText(p),
    depth: p.depth,
  };
  if (p.exit?.exitCode !== undefined) args.exitCode = p.exit.exitCode;
  if (p.exit?.signal !== undefined) args.signal = p.exit.signal;
  if (p.exit?.coreDumped) args.coreDumped = true;
  if (p.argvInherited) args.argvInherited = true;
  if (!p.forkSeen) args.forkSeen = false;
  if (p.endMs === undefined) args.running = true;
  if (p.failedExecs.length > 0) args.failedExecs = p.failedExecs.map((f) => `${f.filename} (${f.code})`);
  return args;
}
