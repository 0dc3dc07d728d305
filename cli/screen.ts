// SPDX-License-Identifier: MIT
//
// --top: the terminal side of the "who is spawning?" screen. The counting
// and the lines are in top.ts (pure, unit-tested); this owns the terminal:
// the alternate screen, raw keys, the refresh, and putting it all back on
// every way out.
import { performance } from 'node:perf_hooks';
import type { ExecEvent, ExecFailedEvent, ExecTracer } from 'exec-tracer';
import type { CliSettings } from './args.js';
import { renderTop, SpawnerTop } from './top.js';

const ENTER = '\x1b[?1049h\x1b[?25l'; // alternate screen, cursor hidden
const LEAVE = '\x1b[?25h\x1b[?1049l'; // cursor shown, main screen back
const REFRESH_MS = 1000;

/** Runs the screen until q, Ctrl-C, SIGTERM or --duration; exits the process. */
export async function runTop(
  tracer: ExecTracer,
  settings: CliSettings,
  accept: ((event: ExecEvent | ExecFailedEvent) => boolean) | undefined,
): Promise<void> {
  const out = process.stdout;
  if (!out.isTTY) {
    process.stderr.write('exec-tracer: --top needs a terminal (try --json or the default lines in a pipe)\n');
    process.exit(2);
  }
  const top = new SpawnerTop();
  let filtered = 0;
  let lost = 0;
  tracer.on('exec', (event) => {
    if (accept && !accept(event)) {
      filtered++;
      return;
    }
    const parent = event.parent;
    top.record(
      parent
        ? { key: parent.processId, pid: parent.pid, comm: parent.comm, argv: parent.argv }
        : { key: event.parentProcessId, pid: event.ppid, comm: '?', argv: [] },
      event.comm,
      performance.now(),
    );
  });
  tracer.on('lost', (n) => (lost += n));
  tracer.on('error', (error) => {
    restore();
    process.stderr.write(`exec-tracer: ${error.message}\n`);
    process.exit(1);
  });

  await tracer.start(); // rejects before the screen is taken: the error prints on the normal one
  const started = performance.now();
  const stdin = process.stdin;
  let restored = true; // until the screen is taken

  const restore = () => {
    if (restored) return;
    restored = true;
    out.write(LEAVE);
    if (stdin.isTTY) stdin.setRawMode(false);
  };
  // Whatever ends the process (an uncaught error included), the terminal comes back.
  process.on('exit', restore);

  const draw = () => {
    const now = performance.now();
    const lines = renderTop(top.rows(now), {
      columns: out.columns ?? 80,
      rows: out.rows ?? 24,
      elapsedMs: now - started,
      totalRate: top.rate(now),
      total: top.total,
      lost,
      filtered: filtered + tracer.stats().filtered,
    });
    // Home, each line cleared to its end, the rest of the screen cleared.
    out.write(`\x1b[H${lines.join('\x1b[K\r\n')}\x1b[K\x1b[J`);
  };

  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    clearInterval(timer);
    restore();
    await tracer.stop();
    const stats = tracer.stats();
    process.stderr.write(`exec-tracer: ${stats.events} execs, ${stats.lost} lost, ${stats.filtered + filtered} filtered\n`);
    process.exit(0);
  };

  out.write(ENTER);
  restored = false;
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    stdin.on('data', (key: Buffer) => {
      // q, Q, Ctrl-C (raw mode delivers it as a byte, not SIGINT), Ctrl-D.
      if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03) || key.includes(0x04)) void quit();
    });
  }
  out.on('resize', draw);
  const timer = setInterval(draw, REFRESH_MS);
  draw();
  process.once('SIGINT', () => void quit());
  process.once('SIGTERM', () => void quit());
  if (settings.durationMs !== undefined) setTimeout(() => void quit(), settings.durationMs).unref();
}
