// SPDX-License-Identifier: MIT
//
// The timeline of a real `make -j4`, traced from its very first exec. Its
// Makefile has jobs that succeed, fail in a tolerated way (-false), get
// killed by a signal, exec a program that does not exist, and nest shells.
// Twice: through the library (traceCommand() and the run recorder), whose
// run is checked process by process, and as a user runs it,
// `exec-tracer --timeline run.html --trace-json run.trace.json -- make -j4`,
// whose page is rendered in a real headless Chromium (Debian 12's,
// deps/chromium): the DOM after the page's script ran must count one bar per
// process and each outcome as the run has it, and a screenshot must hold
// pixels of each outcome's colour where the bars are.
// Not a *.kernel.test.ts: the kernel-matrix guests have no Chromium.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceCommand } from 'exec-tracer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_OUTCOMES, RunRecorder, type Run, type RunOutcome } from '../../cli/run.js';
import { OUTCOME_COLORS, timelineHtml } from '../../cli/timeline.js';
import { chromeTrace } from '../../cli/trace-json.js';
import { chromiumSkipReason, chromiumVersion, dumpDom, screenshot } from '../helpers/chromium.js';
import { countColors, decodePng } from '../helpers/png.js';
import { madeUpBuild, recordRun } from '../helpers/runs.js';
import { kernel, root, run as runProcess } from './kernel.js';

const HOSTILE = '</script><img src=x onerror=alert(1)>';

// Recipes: `-` tolerates a failure, so make itself exits 0. `$$$$` is `$$`
// for the shell: the sh kills itself. A line with quotes but nothing else
// for a shell to interpret, make runs itself; others through /bin/sh -c.
// make 4.3 stats a program named by a path before it spawns it, so
// `-./does-not-exist` would make no process at all: sh tries the exec.
const MAKEFILE = `
OBJS := a b c d e f
all: $(OBJS:%=%.o) tolerated killed missing nested deep hostile
\t@echo built
%.o:
\t@sleep 0.2
\t@printf '%s\\n' $@ > $@
tolerated:
\t-false
\t-sh -c 'exit 3'
killed:
\t-sh -c 'kill -TERM $$$$'
missing:
\t-sh -c ./does-not-exist
nested:
\t@sh -c 'sh -c "sleep 0.1; true"; (sleep 0.05 & wait); ls > /dev/null'
deep:
\t@sh -c 'sh -c "sh -c \\"sleep 0.05; :\\"; :"; :'
hostile:
\t@echo '${HOSTILE}' > /dev/null
`;

/**
 * Run after the page's script: moves the pointer over the row of the shell
 * that killed itself, as a mouse would, and keeps what the tooltip says.
 */
const HOVER_PROBE = `
(function () {
  var root = document.getElementById('timeline');
  var rows = document.getElementById('rows').getBoundingClientRect();
  var procs = JSON.parse(document.getElementById('run-data').textContent).processes;
  var i = procs.findIndex(function (p) { return p.a.indexOf('kill -TERM') >= 0; });
  var y = rows.top + Number(root.dataset.axisHeight) + (i + 0.5) * Number(root.dataset.rowHeight);
  document.getElementById('rows').dispatchEvent(new MouseEvent('mousemove', { clientX: rows.left + 500, clientY: y, bubbles: true }));
  var tooltip = document.getElementById('tooltip');
  root.setAttribute('data-probe-row', String(i));
  root.setAttribute('data-probe-tooltip', tooltip.hidden ? '(hidden)' : tooltip.textContent);
})();
`;

/** Window of every Chromium run here: the screenshot in the docs is this size too. */
const WINDOW = { width: 1200, height: 700 };

/** The data-* counts the page puts on its root element once drawn. */
function drawnCounts(dom: string): Record<string, number> {
  const main = /<main id="timeline"[^>]*>/.exec(dom)?.[0];
  if (main === undefined) throw new Error(`no timeline root in the DOM:\n${dom.slice(0, 500)}`);
  const attrs = Object.fromEntries([...main.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]));
  if (attrs.rendered !== 'true') throw new Error(`the page's script did not finish: ${main}`);
  return Object.fromEntries(Object.entries(attrs).filter(([k]) => k !== 'rendered').map(([k, v]) => [k, Number(v)]));
}

const attribute = (o: RunOutcome) => o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function outcomeCounts(run: Run): Record<RunOutcome, number> {
  const counts = Object.fromEntries(RUN_OUTCOMES.map((o) => [o, 0])) as Record<RunOutcome, number>;
  for (const p of run.processes) counts[p.outcome]++;
  return counts;
}

const chromium = chromiumSkipReason() === undefined;

describe.skipIf(!kernel || !chromium)('the timeline of a real make -j4, in a real Chromium', () => {
  let dir: string;
  let run: Run;
  let html: string;
  /** The command's run: its summary line, and its trace JSON. */
  let summary: string;
  let commandTrace: ReturnType<typeof chromeTrace>;
  /** The page's DOM once its script ran, in a window of WINDOW's size. */
  let dom: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'et-timeline-'));
    // Two builds of the same Makefile, each in a directory of its own: the
    // first's .o files would leave the second nothing to do.
    const [libDir, cmdDir] = [join(dir, 'library'), join(dir, 'command')];
    for (const d of [libDir, cmdDir]) {
      mkdirSync(d);
      writeFileSync(join(d, 'Makefile'), MAKEFILE);
    }
    // Through the library: the run recorder on traceCommand's tracer.
    const traced = traceCommand('make', ['-j4'], { cwd: libDir, forks: true, failedExecs: true, stdio: 'ignore' });
    const recorder = new RunRecorder(traced.tracer, { rootPid: traced.child.pid!, command: ['make', '-j4'] });
    await traced.start();
    const { status } = await traced.exited;
    run = recorder.finish(status);
    if (status !== 0) throw new Error(`make exited ${status}`);

    // As a user runs it: the command writes the page and the trace.
    const made = await runProcess(process.execPath, [
      join(root, 'dist', 'cli', 'main.js'), '--timeline', 'run.html', '--trace-json', 'run.trace.json', '--', 'make', '-j4',
    ], { cwd: cmdDir, timeout: 60_000 });
    if (made.code !== 0) throw new Error(`exec-tracer -- make -j4 exited ${made.code}:\n${made.stderr}`);
    summary = made.stderr.trimEnd().split('\n').at(-1)!;
    html = readFileSync(join(cmdDir, 'run.html'), 'utf8');
    writeFileSync(join(dir, 'run.html'), html);
    commandTrace = JSON.parse(readFileSync(join(cmdDir, 'run.trace.json'), 'utf8')) as ReturnType<typeof chromeTrace>;
    // The page as written, and a probe after its script: the pointer over the killed shell's row.
    writeFileSync(join(dir, 'probe.html'), html.replace('</body>', `<script>${HOVER_PROBE}</script>\n</body>`));
    dom = await dumpDom(join(dir, 'probe.html'), WINDOW);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records every process of the run, from make itself on, with the outcome each had', () => {
    const rootProcess = run.processes[0]!;
    expect(run.rootId).toBe(rootProcess.id);
    expect(rootProcess.argv).toEqual(['make', '-j4']);
    expect(rootProcess).toMatchObject({ depth: 0, startMs: 0, forkSeen: false, outcome: 'success' });
    expect(run.command).toEqual(['make', '-j4']);
    expect(run.exitStatus).toBe(0);
    expect(run.lost).toBe(0);
    expect(run.processes.length).toBeGreaterThanOrEqual(25);
    expect(run.processes.filter((p) => p.parentId === undefined)).toEqual([rootProcess]);

    const byArgv = (...argv: string[]) => run.processes.filter((p) => argv.every((a, i) => p.argv[i] === a));
    const [killed] = byArgv('sh', '-c', 'kill -TERM $$');
    expect(killed).toMatchObject({ outcome: 'signal', exit: { signal: 'SIGTERM', signalNumber: 15, coreDumped: false } });

    const missing = run.processes.filter((p) => p.failedExecs.some((f) => f.filename === './does-not-exist'));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ outcome: 'execFailed', argv: ['sh', '-c', './does-not-exist'], exit: { exitCode: 127 } });
    expect(missing[0]!.failedExecs.at(-1)!.code).toBe('ENOENT');

    // make was found on PATH by stat(), then exec'd once: no failed exec of its own.
    expect(rootProcess.failedExecs).toEqual([]);
    const [falsy] = run.processes.filter((p) => p.comm === 'false');
    expect(falsy).toMatchObject({ outcome: 'failure', exit: { exitCode: 1 } });
    expect(byArgv('sh', '-c', 'exit 3')[0]).toMatchObject({ outcome: 'failure', exit: { exitCode: 3 } });

    // The objects' jobs are make's children, each with its sleep below it.
    const sleeps = byArgv('sleep', '0.2');
    expect(sleeps).toHaveLength(6);
    for (const s of sleeps) expect(s).toMatchObject({ parentId: rootProcess.id, depth: 1, outcome: 'success' });
    // Nested shells: sleep 0.05 three shells below make's.
    const deepest = byArgv('sleep', '0.05').map((p) => p.depth);
    expect(Math.max(...deepest)).toBeGreaterThanOrEqual(3);
    // A subshell that never execs runs its parent's image.
    expect(run.processes.some((p) => p.argvInherited && p.execs.length === 0 && p.outcome === 'success')).toBe(true);

    // Depth first: every parent before its children, and children by start.
    const at = new Map(run.processes.map((p, i) => [p.id, i]));
    for (const p of run.processes) {
      if (p.parentId === undefined) continue;
      expect(at.get(p.parentId)!).toBeLessThan(at.get(p.id)!);
      expect(p.startMs).toBeGreaterThanOrEqual(run.processes[at.get(p.parentId)!]!.startMs);
      expect(p.endMs).toBeLessThanOrEqual(run.durationMs);
    }
    const counts = outcomeCounts(run);
    expect(counts).toMatchObject({ signal: 1, execFailed: 1, running: 0 });
    expect(counts.failure).toBeGreaterThanOrEqual(2);
  });

  it('exec-tracer --timeline: one bar per process of the run, each outcome counted (the DOM after the script ran)', () => {
    const drawn = drawnCounts(dom);
    const processes = Number(/, (\d+) processes, /.exec(summary)?.[1]);
    expect(summary).toMatch(/^exec-tracer: make -j4 exited 0 after .*, 0 lost$/);
    expect(drawn.bars).toBe(processes);
    expect(commandTrace.traceEvents.filter((e) => e.ph === 'X')).toHaveLength(processes);
    // The same Makefile as the library's run: the same shape of outcomes.
    const counts = outcomeCounts(run);
    expect(drawn.bars).toBe(run.processes.length);
    for (const o of RUN_OUTCOMES) expect(drawn[attribute(o)], o).toBe(counts[o]);
    // The hostile argument stayed text: no element came of it.
    expect(html).not.toContain(HOSTILE);
    expect(dom).not.toMatch(/<img/i);
    expect(dom.match(/<script/g)).toHaveLength(3); // the page's two, and the probe

    // Hovering a row shows its command line, how it ended and how long it lasted.
    const tooltip = /data-probe-tooltip="([^"]*)"/.exec(dom)?.[1]?.replace(/&amp;/g, '&');
    expect(Number(/data-probe-row="(\d+)"/.exec(dom)?.[1])).toBeLessThan(25); // in view without scrolling
    expect(tooltip).toMatch(/^sh \(pid \d+\)\nsh -c 'kill -TERM \$\$'\nkilled by a signal: killed by SIGTERM \(15\)\nfrom [\d.]+ m?s to [\d.]+ m?s, lasted [\d.]+ (µs|ms|s)$/);
    console.log(`[exec-tracer] make -j4: ${run.processes.length} processes, ${html.length} bytes of HTML, drawn in ${drawn['render-ms']} ms (${chromiumVersion()})`);
  });

  it('shows pixels of each outcome colour where the bars are (a screenshot)', async () => {
    const plotTop = drawnCounts(dom)['plot-top']!;
    expect(plotTop).toBeGreaterThan(40);
    const png = join(dir, 'run.png');
    await screenshot(join(dir, 'run.html'), png, WINDOW);
    const image = decodePng(png);
    expect(image).toMatchObject(WINDOW);
    const pixels = countColors(image, OUTCOME_COLORS, plotTop);
    for (const o of ['success', 'failure', 'signal', 'execFailed'] as const) expect(pixels[o], o).toBeGreaterThan(0);
    // Nothing was running at the end: its colour is only in the legend, above the bars.
    expect(pixels.running).toBe(0);
    expect(countColors(image, { running: OUTCOME_COLORS.running }, 0).running).toBeGreaterThan(0);
    console.log(`[exec-tracer] screenshot pixels by outcome: ${JSON.stringify(pixels)}`);
    if (process.env.EXEC_TRACER_UPDATE_DOCS === '1') {
      copyFileSync(png, join(root, 'docs', 'timeline.png'));
      console.log(`[exec-tracer] docs/timeline.png updated (${statSync(png).size} bytes)`);
    }
  });

  it('writes the same run as trace events: one complete event per process, a fork arrow per child', () => {
    const trace = JSON.parse(JSON.stringify(chromeTrace(run))) as ReturnType<typeof chromeTrace>;
    const complete = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(complete).toHaveLength(run.processes.length);
    expect(new Set(complete.map((e) => e.pid)).size).toBe(run.processes.length);
    expect(trace.traceEvents.filter((e) => e.ph === 's')).toHaveLength(run.processes.length - 1);
    const failed = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'execFailed');
    expect(failed.some((e) => e.args?.filename === './does-not-exist')).toBe(true);
    expect(trace.otherData).toMatchObject({ command: ['make', '-j4'], exitStatus: 0 });
  });
});

describe.skipIf(!chromium)('the timeline of 2,000 processes, in a real Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'et-timeline-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws them all, counted by outcome', async () => {
    const build = madeUpBuild(2000);
    const run = await recordRun(build.records, { rootPid: build.rootPid, exitStatus: 0 });
    const html = timelineHtml(run);
    const file = join(dir, 'big.html');
    writeFileSync(file, html);
    const dom = await dumpDom(file, WINDOW);
    const drawn = drawnCounts(dom);
    expect(drawn.bars).toBe(build.counts.processes);
    for (const o of RUN_OUTCOMES) expect(drawn[attribute(o)], o).toBe(build.counts[o]);
    console.log(`[exec-tracer] ${build.counts.processes} processes: ${html.length} bytes of HTML, drawn in ${drawn['render-ms']} ms`);
  });
});
