// SPDX-License-Identifier: MIT
//
// `exec-tracer --timeline FILE.html`: one self-contained HTML page drawing a
// run (cli/run.ts), every process a bar from its start to its exit, in
// depth-first order under its parent, coloured by outcome. The page needs no
// network: its style, its script and the run (as JSON) are inline. It draws
// on a canvas, only the rows in view, so 2,000 processes scroll as fast as
// 20; an overview strip above shows all of them at once.
//
// Everything from the run (argv, comm, file names) is chosen by whoever ran
// the processes: it reaches the page only as JSON inside a script element
// with every `<`, `>` and `&` escaped (so `</script>` cannot end it), and the
// page's script puts it in the DOM as text (textContent), never as markup.
import { escapeArgForTerminal, escapeForTerminal } from 'exec-tracer';
import { RUN_OUTCOMES, type Run, type RunOutcome, type RunProcess } from './run.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './timeline-page.js';

/** The bar colour of each outcome (distinct from everything else the page draws: the tests count these pixels). */
export const OUTCOME_COLORS: Readonly<Record<RunOutcome, string>> = {
  success: '#2ca02c',
  failure: '#ff7f0e',
  signal: '#d62728',
  execFailed: '#9467bd',
  running: '#17becf',
};

/** What the legend calls each outcome. */
export const OUTCOME_LABELS: Readonly<Record<RunOutcome, string>> = {
  success: 'exit 0',
  failure: 'exit ≠ 0',
  signal: 'killed by a signal',
  execFailed: 'exec failed',
  running: 'still running',
};

/** A command line in the page is cut after this many characters (the trace JSON keeps it whole). */
export const COMMAND_LINE_LIMIT = 2048;

/** One process as the page's script reads it (short keys: 2,000 of them ride in the page). */
interface PageProcess {
  /** Index of the parent in the list, -1 for a top-level process. */
  p: number;
  /** Depth in the tree. */
  d: number;
  pid: number;
  /** Start and end, ms since the run's start (end null: still running). */
  s: number;
  e: number | null;
  /** Index of the outcome in RUN_OUTCOMES. */
  o: number;
  /** comm, escaped for display. */
  n: string;
  /** The command line, escaped for display and cut at COMMAND_LINE_LIMIT. */
  a: string;
  /** How it ended, in words. */
  x: string;
  /** More lines for the tooltip: earlier execs, failed execs, an inherited argv. */
  m: string[];
  /** Times (ms) of re-execs and of failed execs, drawn as ticks. */
  rx: number[];
  fx: number[];
}

/** A command line for display: each argument escaped as a terminal shows it, cut at `limit` characters. */
export function commandLine(argv: readonly string[], limit = COMMAND_LINE_LIMIT): string {
  const text = argv.map((a) => escapeArgForTerminal(a)).join(' ');
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

/** A duration in words: "850 µs", "12.3 ms", "4.56 s", "3 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** How a process ended, in words: "exit 0", "SIGTERM (15), core dumped", "exec failed (ENOENT), then exit 127". */
export function exitText(p: RunProcess): string {
  const exit = p.exit;
  let text: string;
  if (exit === undefined) text = 'still running at the end of the run';
  else if (exit.signal !== undefined) text = `killed by ${exit.signal} (${exit.signalNumber})${exit.coreDumped ? ', core dumped' : ''}`;
  else text = `exit ${exit.exitCode}`;
  if (p.outcome === 'execFailed') {
    const failed = p.failedExecs.at(-1)!;
    text = `exec failed (${failed.code}), then ${text}`;
  }
  return text;
}

function pageProcess(p: RunProcess, index: ReadonlyMap<string, number>): PageProcess {
  const more: string[] = [];
  if (p.argvInherited) more.push(p.argv.length > 0 ? 'never exec’d: runs its parent’s image' : 'never exec’d');
  if (!p.forkSeen) more.push('its fork was not seen: the bar starts at its first exec');
  if (p.execs.length > 1) {
    for (const x of p.execs.slice(0, -1)) more.push(`exec at ${formatDuration(x.atMs)}: ${commandLine(x.argv, 256)}`);
  }
  for (const f of p.failedExecs) more.push(`failed exec at ${formatDuration(f.atMs)}: ${escapeArgForTerminal(f.filename)} (${f.code})`);
  return {
    p: p.parentId === undefined ? -1 : (index.get(p.parentId) ?? -1),
    d: p.depth,
    pid: p.pid,
    s: round3(p.startMs),
    e: p.endMs === undefined ? null : round3(p.endMs),
    o: RUN_OUTCOMES.indexOf(p.outcome),
    n: escapeForTerminal(p.comm),
    a: commandLine(p.argv),
    x: exitText(p),
    m: more,
    rx: p.execs.slice(1).map((x) => round3(x.atMs)),
    fx: p.failedExecs.map((f) => round3(f.atMs)),
  };
}

/** µs precision is all a bar can show; fewer digits keep a 2,000-process page small. */
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** JSON that cannot end the script element it sits in, nor open a comment in it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The run as one self-contained HTML page: a header (the command, its exit
 * status and duration, a legend with each outcome's count), an overview of
 * every process, and a scrollable tree of bars on a time axis (ctrl + wheel
 * zooms, shift + wheel pans, a double click fits the run), with a tooltip
 * giving each process's command line, exit status and duration. Once drawn,
 * the page's root element carries what it drew: `data-bars` (one bar per
 * process), `data-success`, `data-failure`, `data-signal`,
 * `data-exec-failed`, `data-running` (bars of each outcome), `data-plot-top`
 * (where the bars begin, CSS px), `data-row-height` and `data-axis-height`
 * (where row i of the tree is: axis + i × row below the overview, CSS px)
 * and `data-render-ms`.
 */
export function timelineHtml(run: Run): string {
  const index = new Map(run.processes.map((p, i) => [p.id, i]));
  const command = commandLine(run.command);
  const data = {
    version: 1,
    command,
    startTime: run.startTime.toISOString(),
    durationMs: round3(run.durationMs),
    exitStatus: run.exitStatus ?? null,
    lost: run.lost,
    outcomes: RUN_OUTCOMES.map((o) => ({ name: o, label: OUTCOME_LABELS[o], color: OUTCOME_COLORS[o] })),
    processes: run.processes.map((p) => pageProcess(p, index)),
  };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`exec-tracer timeline: ${command}`)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main id="timeline" data-rendered="false">
<header>
<h1 id="command"></h1>
<p id="summary"></p>
<ul id="legend"></ul>
<p id="hint">Hover a bar for its command line; click an outcome above to go to its next process. Ctrl + wheel zooms, shift + wheel pans, a double click fits the whole run.</p>
</header>
<canvas id="overview"></canvas>
<div id="scroller"><canvas id="rows"></canvas><div id="sizer"></div></div>
<div id="tooltip" hidden></div>
</main>
<script type="application/json" id="run-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
