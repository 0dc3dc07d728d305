#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// The exec-tracer command. A consumer of the library like any other: it
// imports the public API by the package's name only, as examples/ do
// (Node finds 'exec-tracer' through package.json's "exports"), and nothing
// in the library imports it.
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import {
  escapeArgForTerminal,
  escapeForTerminal,
  ExecTracer,
  type ExecEvent,
  type ExecFailedEvent,
  type ExecFilter,
  type ExecTracerOptions,
  type ExitEvent,
  toOtelRecord,
  traceCommand,
  type CommandExit,
  type TracedCommand,
} from 'exec-tracer';
import { serveMetrics, tracerMetrics } from 'exec-tracer/metrics';
import { SyslogSink } from 'exec-tracer/syslog';
import { parseCliArgs, UsageError, type CliSettings } from './args.js';
import { cgroup2Mount, findContainers } from './container.js';
import {
  colorAllowed,
  execLine,
  exitLine,
  headerLine,
  jsonLine,
  treeExitLine,
  treeHeaderLine,
  treeLine,
  type LineStyle,
} from './format.js';
import { FileLineWriter, LineWriter, type LineOutput } from './output.js';
import { attributionFromEnv, NPM_ENV, NpmRecorder, attributionPrefix, npmReportLines } from './npm.js';
import { RunRecorder } from './run.js';
import { runSummary, runTreeLines } from './run-report.js';
import { timelineHtml } from './timeline.js';
import { chromeTrace } from './trace-json.js';
import { runTop } from './screen.js';
import { USAGE } from './usage.js';

/** Processes whose exec was shown, so that only their exits are (bounded: a process may never exit). */
const SHOWN_LIMIT = 65_536;

function usageError(message: string): never {
  process.stderr.write(`exec-tracer: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function fatal(error: unknown): never {
  // An ExecTracerError's message ends with its hint (no privileges, no BTF…).
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`exec-tracer: ${message}\n`);
  process.exit(1);
}

/** The kernel filter and the command's own tests for what the command line asked. */
interface Selection {
  filter: ExecFilter;
  /** What the kernel cannot judge: regexes, a container not found among cgroups. */
  accept?: (event: ExecEvent | ExecFailedEvent) => boolean;
}

function select(s: CliSettings): Selection {
  const filter: ExecFilter = {};
  if (s.uids) filter.uids = s.uids;
  if (s.cgroups) filter.cgroups = s.cgroups;
  if (s.descendants) filter.descendantsOf = s.descendants;
  let containerTest: ((event: ExecEvent | ExecFailedEvent) => boolean) | undefined;
  if (s.container !== undefined) {
    const prefix = s.container;
    const mount = cgroup2Mount();
    const running = mount === undefined ? [] : findContainers(prefix, mount);
    if (running.length > 1)
      usageError(`--container ${prefix} names ${running.length} containers: ${running.map((c) => c.id.slice(0, 12)).join(', ')}`);
    if (running.length === 1 && s.cgroups === undefined) {
      filter.cgroups = [running[0]!.cgroup];
    } else {
      // Not running yet (or -c already filters by cgroup): any container in
      // the kernel, this one by its id here. A failed exec has no cgroup.
      filter.containersOnly = true;
      containerTest = (event) => event.kind === 'exec' && event.containerId?.startsWith(prefix) === true;
    }
  }
  const { name, line } = s;
  const tests = [
    containerTest,
    name && ((event: ExecEvent | ExecFailedEvent) => name.test(event.comm)),
    line && ((event: ExecEvent | ExecFailedEvent) => line.test(event.argv.join(' '))),
  ].filter((test) => typeof test === 'function');
  return { filter, accept: tests.length === 0 ? undefined : (event) => tests.every((test) => test(event)) };
}

function tracerOptions(s: CliSettings, filter: ExecFilter): ExecTracerOptions {
  const table = s.tree || s.top;
  const cgroup = s.container !== undefined || s.metrics !== undefined;
  return {
    // Lines need no paths; JSON is every field; --container needs the
    // cgroup, and so do --metrics' execs by container; --npm's flags the
    // executable's path and kind.
    context: s.json ? true : cgroup || s.npm ? { exe: s.npm === true, file: s.npm === true, interpreter: false, cwd: false, cgroup } : false,
    // --npm's variables join --env's; only --env's are printed on the lines.
    env: s.npm ? [...new Set([...(s.env ?? []), ...NPM_ENV])] : (s.env ?? false),
    exits: s.exits || table,
    processTable: table,
    failedExecs: s.fails,
    redact: s.redact,
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
  };
}

/**
 * The sink of --syslog, its files read. Its problems (the server away, a
 * certificate refused, drops) are printed and the command goes on; the
 * summary counts what was sent and dropped.
 */
function syslogSink(s: CliSettings): SyslogSink | undefined {
  if (!s.syslog) return undefined;
  const { url, caFile, certFile, keyFile, facility } = s.syslog;
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      usageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const [ca, cert, key] = [read('--syslog-ca', caFile), read('--syslog-cert', certFile), read('--syslog-key', keyFile)];
  const sink = new SyslogSink({ url, ...(ca && { ca }), ...(cert && key && { cert, key }), ...(facility && { facility }) });
  sink.on('error', (error) => process.stderr.write(`exec-tracer: ${error.message}\n`));
  return sink;
}

async function main(): Promise<void> {
  let settings: CliSettings;
  try {
    settings = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) usageError(error.message);
    throw error;
  }
  if (settings.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { filter, accept } = select(settings);
  // -- CMD: the command's tree, from its own exec; forks and exits for the
  // run's processes, failed execs for the summary.
  const run: TracedCommand | undefined =
    settings.command &&
    traceCommand(settings.command[0]!, settings.command.slice(1), {
      ...tracerOptions(settings, filter),
      forks: true,
      exits: true,
      failedExecs: true,
    });
  const tracer = run?.tracer ?? new ExecTracer(tracerOptions(settings, filter));
  // The run's processes, for the end: the tree, the summary, the timeline.
  const recorder = run && new RunRecorder(tracer, { rootPid: run.child.pid, command: settings.command });
  // Before the listeners that print: they read its attribution of each exec.
  // CMD inherits this process's environment: a script that ran the tracer
  // (`npm run audit-install`) is above CMD, not in it.
  const npm = run && settings.npm ? new NpmRecorder(tracer, { outer: attributionFromEnv(process.env as Record<string, string>), project: process.cwd() }) : undefined;
  let jsFiltered = 0;
  // --metrics listens before the tracer attaches: /healthz says 503 until it has.
  const metrics = settings.metrics && tracerMetrics(tracer, { filtered: () => jsFiltered });
  if (metrics && settings.metrics) {
    try {
      const server = await serveMetrics(metrics, settings.metrics);
      process.stderr.write(`exec-tracer: metrics at ${server.url}, readiness at /healthz\n`);
    } catch (error) {
      fatal(error);
    }
  }
  if (settings.top) return runTop(tracer, settings, accept);
  // --syslog sends what is shown, and the lines are still printed (as tee(1)
  // does): `> /dev/null` for the server alone.
  const sink = syslogSink(settings);

  let stopping = false;
  let outputError: string | undefined;
  // With -- CMD the lines go to stderr, as strace's do: CMD's own output
  // keeps stdout (`exec-tracer -- make > build.log`); --output for a file.
  const outputFd = run ? 2 : 1;
  const output: LineOutput =
    settings.output !== undefined
      ? fileOutput(settings.output, (error) => (outputError = error))
      : LineWriter.forFd(outputFd, (error) => {
        if (error.code === 'EPIPE' || error.code === 'ECONNRESET') {
          // The reader is gone (`| head -1`): nothing to say, nothing to wait for.
          stopping = true;
          void tracer
            .stop()
            .then(() => sink?.close())
            .finally(() => process.exit(0));
          setTimeout(() => process.exit(0), sink ? 5500 : 500).unref();
        } else fatal(new Error(`writing the output: ${error.message}`));
      });
  const style: LineStyle = {
    time: settings.time,
    timestamp: settings.timestamp,
    startMs: Date.now(),
    printUid: settings.printUid,
    quote: settings.quote,
    maxArgs: settings.maxArgs,
    env: settings.env,
    color: colorAllowed(Boolean((run ? process.stderr : process.stdout).isTTY), process.env),
  };
  if (sink) metrics?.addSink('syslog', sink);
  metrics?.addSink(settings.output !== undefined ? 'file' : 'stdout', () => ({
    sent: output.written - output.queued,
    dropped: output.dropped,
    queued: output.queued,
  }));
  const toJson = settings.schema === 'otel' ? (event: ExecEvent | ExecFailedEvent | ExitEvent) => JSON.stringify(toOtelRecord(event)) : jsonLine;
  // With a test the kernel cannot run, an exit is shown only if its exec was.
  const shown = accept ? new Set<string>() : undefined;
  const show = (event: ExecEvent | ExecFailedEvent) => {
    if (accept && !accept(event)) {
      jsFiltered++;
      return;
    }
    sink?.write(event);
    const attribution = npm && event.kind === 'exec' ? npm.attributionOf(event.execId) : undefined;
    if (settings.json) {
      const line = toJson(event);
      // The object's last brace, then the field: the line stays one JSON object.
      output.line(attribution ? `${line.slice(0, -1)},"npm":${JSON.stringify(attribution)}}` : line);
    } else if (settings.tree && run) {
      // -- CMD --tree: the whole tree once, at the end.
    } else if (settings.tree)
      output.line(treeLine(event, style, event.kind === 'execFailed' ? tracer.processes?.byProcessId(event.processId) : undefined));
    else output.line(`${escapeForTerminal(attributionPrefix(attribution))}${execLine(event, style)}`);
    if (shown && event.kind === 'exec') {
      if (shown.size >= SHOWN_LIMIT) shown.delete(shown.values().next().value!);
      shown.add(event.processId);
    }
  };
  tracer.on('exec', show);
  if (settings.fails) tracer.on('execFailed', show);
  if (settings.exits)
    tracer.on('exit', (event: ExitEvent) => {
      if (shown && !shown.delete(event.processId)) return;
      sink?.write(event);
      if (settings.json) output.line(toJson(event));
      else if (settings.tree && run) {
        // In the tree at the end.
      } else if (settings.tree) output.line(treeExitLine(event, style, tracer.processes?.byProcessId(event.processId)));
      else output.line(exitLine(event, style));
    });
  // execsnoop warns of lost events as they happen; so does this, at most once a second.
  let lostUnreported = 0;
  let lostTimer: NodeJS.Timeout | undefined;
  tracer.on('lost', (n) => {
    lostUnreported += n;
    lostTimer ??= setTimeout(() => {
      lostTimer = undefined;
      process.stderr.write(`exec-tracer: ${lostUnreported} events lost (the kernel's ring buffer was full)\n`);
      lostUnreported = 0;
    }, 1000);
  });
  tracer.on('error', fatal);

  const stop = async (exit?: CommandExit) => {
    if (stopping) return;
    stopping = true;
    // One deadline for every flush (--shutdown-timeout): what has not
    // reached the server or the file by then is counted as dropped.
    const deadline = Date.now() + settings.shutdownTimeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    // stop() delivers what the kernel recorded before it resolves, so the
    // summary counts every exec up to the signal.
    await tracer.stop();
    const recorded = exit && recorder?.finish(exit.status);
    if (recorded && settings.tree && !settings.json) {
      const label = npm && ((p: { id: string }) => escapeForTerminal(attributionPrefix(npm.attributionOfProcess(p.id))));
      for (const line of runTreeLines(recorded, settings.maxArgs, label)) output.line(line);
    }
    if (recorded) writeRunFiles(settings, recorded);
    const npmReport = npm?.report(settings.command!, process.cwd(), exit?.status);
    if (npmReport && settings.report !== undefined) {
      try {
        writeFileSync(settings.report, `${JSON.stringify(npmReport, null, 2)}\n`, { mode: 0o600 });
      } catch (error) {
        process.stderr.write(`exec-tracer: writing ${settings.report}: ${(error as Error).message}\n`);
      }
    }
    const sent = await sink?.close({ timeoutMs: left() });
    await output.end(left());
    // The report after the lines, before the summary (which stays last).
    if (npmReport) process.stderr.write(`${npmReportLines(npmReport, settings.maxArgs, escapeArgForTerminal, escapeForTerminal).join('\n')}\n`);
    const stats = tracer.stats();
    let summary: string;
    if (recorded && exit) summary = runSummary(settings.command!, exit, process.hrtime.bigint() - runStarted, recorded);
    else {
      summary = `exec-tracer: ${stats.events} execs`;
      if (settings.fails) summary += `, ${stats.failedExecs} failed`;
      summary += `, ${stats.lost} lost, ${stats.filtered + stats.filteredFailedExecs + jsFiltered} filtered`;
    }
    if (sent) summary += `, ${sent.sent} sent, ${sent.dropped} dropped`;
    if (output.dropped > 0)
      summary += `, ${output.dropped} lines dropped (${outputError === undefined ? 'the output was too slow' : `writing ${settings.output}: ${outputError}`})`;
    process.stderr.write(`${summary}\n`);
    process.exit(exit?.status ?? 0);
  };

  if (run) {
    // Before CMD is let go, so that no signal meant for it can find the
    // tracer without its handlers. Ctrl-C reaches CMD from the terminal,
    // as it would without the tracer (the whole foreground group gets it):
    // the tracer waits for CMD to end. SIGTERM and SIGHUP, which a service
    // manager or a closed session sends the tracer, are passed on.
    process.on('SIGINT', () => {});
    process.on('SIGQUIT', () => {});
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => run.child.kill(signal));
  }
  let runStarted = process.hrtime.bigint();
  try {
    await (run ? run.start() : tracer.start());
    runStarted = process.hrtime.bigint();
  } catch (error) {
    fatal(error);
  }
  // -- CMD --tree prints its tree at the end, with no header.
  if (!settings.json && !(run && settings.tree)) output.line(settings.tree ? treeHeaderLine(style) : headerLine(style));
  // The first SIGINT or SIGTERM stops and flushes; a second one while that
  // runs exits at once, as a second Ctrl-C does, with the shell's code for
  // death by that signal (130, 143): what was not flushed is lost.
  if (run) {
    // The run ends when CMD does; CMD's exit status is the command's.
    run.exited.then((exit) => stop(exit), fatal);
    return;
  }
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!stopping) return void stop().catch(fatal);
    process.stderr.write(`exec-tracer: ${signal} again: exiting without waiting for the output\n`);
    process.exit(128 + constants.signals[signal]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (settings.durationMs !== undefined) setTimeout(() => void stop().catch(fatal), settings.durationMs);
}

/** --timeline and --trace-json: the run's picture, written once CMD has ended; a failure to write is said, not fatal. */
function writeRunFiles(settings: CliSettings, recorded: Parameters<typeof timelineHtml>[0]): void {
  const files: [string | undefined, () => string][] = [
    [settings.timeline, () => timelineHtml(recorded)],
    [settings.traceJson, () => JSON.stringify(chromeTrace(recorded))],
  ];
  for (const [file, render] of files) {
    if (file === undefined) continue;
    try {
      writeFileSync(file, render(), { mode: 0o600 });
    } catch (error) {
      process.stderr.write(`exec-tracer: writing ${file}: ${(error as Error).message}\n`);
    }
  }
}

/**
 * --output FILE: lines appended to FILE, created 0600, reopened on SIGHUP
 * (logrotate's postrotate). A write that fails (a full disk) drops its
 * lines, counted in the summary and said on stderr at most once a second;
 * tracing goes on.
 */
function fileOutput(path: string, failed: (error: string) => void): FileLineWriter {
  let unreported = 0;
  let timer: NodeJS.Timeout | undefined;
  let writer: FileLineWriter;
  try {
    writer = new FileLineWriter(path, (lines, error) => {
      failed(error.code ?? error.message);
      if (lines === 0) {
        process.stderr.write(`exec-tracer: reopening ${path}: ${error.message}; still writing to the file open before\n`);
        return;
      }
      unreported += lines;
      timer ??= setTimeout(() => {
        timer = undefined;
        process.stderr.write(`exec-tracer: writing ${path}: ${error.code ?? error.message}: ${unreported} lines dropped\n`);
        unreported = 0;
      }, 1000);
    });
  } catch (error) {
    fatal(new Error(`--output ${path}: ${(error as Error).message}`));
  }
  process.on('SIGHUP', () => writer.reopen());
  return writer;
}

main().catch(fatal);
