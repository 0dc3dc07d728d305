// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { commandLine, escapeHtml, exitText, formatDuration, jsonForScript, OUTCOME_COLORS, timelineHtml } from '../../cli/timeline.js';
import { RUN_OUTCOMES, type Run } from '../../cli/run.js';
import { madeUpBuild, recordRun, RunScript } from '../helpers/runs.js';

const HOSTILE = '</script><img src=x onerror=alert(1)>';
const MS = 1_000_000n;

/** The JSON the page's script reads, taken back out of the page. */
function pageData(html: string) {
  const m = /<script type="application\/json" id="run-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no run data in the page');
  return JSON.parse(m[1]!) as { command: string; processes: { a: string; n: string; o: number; x: string; m: string[] }[] };
}

/** A run whose argv, comm and file names hold markup, quotes and control characters. */
async function hostileRun(): Promise<Run> {
  const s = new RunScript(1000);
  const root = s.fork(undefined, 10n * MS);
  s.exec(root, undefined, 10n * MS, ['sh', '-c', HOSTILE, '"quoted" & \'single\'', '<!-- <script>', 'line\u2028sep', '\x1b[31mred']);
  const child = s.fork(root, 11n * MS, '<b>comm</b>');
  s.execFailed(child, root, 12n * MS, HOSTILE);
  s.exit(child, root, 13n * MS, 127 << 8, '<b>comm</b>');
  s.exit(root, undefined, 14n * MS, 0);
  return recordRun(s.ordered(), { rootPid: root.pid, exitStatus: 0 });
}

describe('timelineHtml', () => {
  it('keeps what the run holds inert: no markup, no end of script, no comment comes of it', async () => {
    const run = await hostileRun();
    const html = timelineHtml(run);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>comm');
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('\u2028');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    // The title is escaped text.
    expect(/<title>([^<]*)<\/title>/.exec(html)![1]).toContain('&#60;/script&#62;&#60;img src=x onerror=alert(1)&#62;');
    // The data reads back whole, escaped as a terminal shows it (the escape shows, not the colour).
    const data = pageData(html);
    expect(data.command).toBe(commandLine(run.command));
    expect(data.processes[0]!.a).toContain(HOSTILE);
    expect(data.processes[0]!.a).toContain('\\x1b[31mred');
    expect(data.processes[0]!.a).toContain('\\u{2028}');
    expect(data.processes[1]!.n).toBe('<b>comm</b>');
    expect(data.processes[1]!.x).toBe('exec failed (ENOENT), then exit 127');
    expect(data.processes[1]!.m.join('\n')).toContain(`failed exec at 2.00 ms: '${HOSTILE}' (ENOENT)`);
  });

  it('needs no network: nothing in the page names a URL or loads a resource', async () => {
    const build = madeUpBuild(200);
    const html = timelineHtml(await recordRun(build.records, { rootPid: build.rootPid, exitStatus: 0 }));
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|fetch\(|XMLHttpRequest|WebSocket|import\(/);
  });

  it('holds 2,000 processes, each with its outcome, in well under a megabyte', async () => {
    const build = madeUpBuild(2000);
    const run = await recordRun(build.records, { rootPid: build.rootPid, exitStatus: 0 });
    const started = performance.now();
    const html = timelineHtml(run);
    const elapsed = performance.now() - started;
    const data = pageData(html);
    expect(data.processes).toHaveLength(run.processes.length);
    for (const o of RUN_OUTCOMES) {
      expect(data.processes.filter((p) => p.o === RUN_OUTCOMES.indexOf(o)).length, o).toBe(build.counts[o]);
    }
    expect(html.length).toBeLessThan(1 << 20);
    console.log(`[exec-tracer] ${run.processes.length} processes: ${html.length} bytes of HTML, made in ${elapsed.toFixed(0)} ms`);
  });

  it('gives each outcome its own colour', () => {
    expect(new Set(Object.values(OUTCOME_COLORS)).size).toBe(RUN_OUTCOMES.length);
    for (const o of RUN_OUTCOMES) expect(OUTCOME_COLORS[o]).toMatch(/^#[0-9a-f]{6}$/);
  });
});

describe('the words of the page', () => {
  it('formats durations from microseconds to minutes', () => {
    expect(formatDuration(0.25)).toBe('250 µs');
    expect(formatDuration(3.456)).toBe('3.46 ms');
    expect(formatDuration(45.67)).toBe('45.7 ms');
    expect(formatDuration(456.7)).toBe('457 ms');
    expect(formatDuration(4567)).toBe('4.57 s');
    expect(formatDuration(45_670)).toBe('45.7 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
  });

  it('writes a command line as a terminal would show it, cut when long', () => {
    expect(commandLine(['cc', '-o', 'a b', ''])).toBe("cc -o 'a b' ''");
    const long = commandLine(['x'.repeat(3000)], 100);
    expect(long).toBe(`${'x'.repeat(100)}… (2900 more characters)`);
  });

  it('says how a process ended', () => {
    const base = { execs: [], failedExecs: [] };
    const exit = (e: object) => ({ exitCode: undefined, signal: undefined, signalNumber: undefined, coreDumped: false, ...e });
    const p = (o: object) => ({ ...base, outcome: 'success', exit: undefined, ...o }) as unknown as Parameters<typeof exitText>[0];
    expect(exitText(p({ exit: exit({ exitCode: 0 }) }))).toBe('exit 0');
    expect(exitText(p({ exit: exit({ signal: 'SIGSEGV', signalNumber: 11, coreDumped: true }) }))).toBe('killed by SIGSEGV (11), core dumped');
    expect(exitText(p({}))).toBe('still running at the end of the run');
  });

  it('escapes for a script element and for HTML text', () => {
    expect(jsonForScript({ a: '</script><!--\u2028&' })).toBe('{"a":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}');
    expect(JSON.parse(jsonForScript({ a: '</script><!--\u2028&' }))).toEqual({ a: '</script><!--\u2028&' });
    expect(escapeHtml(`<a href="x">'&`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
  });
});
