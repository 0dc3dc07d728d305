// SPDX-License-Identifier: MIT
//
// Prints every exec on this host as it happens:
//   🚀 Process started: ls (PID 377673)
// Run it (as root) with: npm run demo -- [--duration 30] [--args]
//
// The command-line parsing and the line format are exported (and unit-tested);
// the tracing runs only when this file is the program.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ExecTracer, escapeArgForTerminal, escapeForTerminal, type ExecEvent } from 'exec-tracer';

export const usage = `usage: print-execs [--duration SECONDS] [--args] [--help]

Prints a line for every process that calls exec on this host.

  --duration SECONDS  stop after SECONDS (default: run until Ctrl-C)
  --args              also print each process's arguments
  --help              show this help

Needs root (or CAP_BPF and CAP_PERFMON) and Linux >= 5.8 with BTF.
Names and arguments are escaped: control characters and bytes that are not
UTF-8 are shown as \\xNN, never written raw to the terminal.`;

/** What the command line asked for. */
export interface Settings {
  help: boolean;
  /** Stop after this many ms; undefined: run until a signal. */
  durationMs?: number;
  /** Print each exec's arguments too. */
  args: boolean;
}

/** Parses the command line; throws an Error with a message for the user. */
export function parseCommandLine(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      args: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const settings: Settings = { help: values.help === true, args: values.args === true };
  if (values.duration !== undefined) {
    const seconds = Number(values.duration);
    if (values.duration.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
      throw new Error(`--duration takes a positive number of seconds, got "${escapeForTerminal(values.duration)}"`);
    settings.durationMs = seconds * 1000;
  }
  return settings;
}

/** The line printed for one exec (without the newline). */
export function formatExec(event: ExecEvent, withArgs: boolean): string {
  let line = `🚀 Process started: ${escapeForTerminal(event.comm)} (PID ${event.pid})`;
  if (withArgs) {
    line += ` ${event.rawArgv.map(escapeArgForTerminal).join(' ')}`;
    if (event.argvTruncated) line += ' …';
  }
  return line;
}

async function main(): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`error: ${message}\n`);
    process.exit(1);
  };

  let settings: Settings;
  try {
    settings = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${usage}`);
  }
  if (settings.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }

  // Only exec lines are printed: the exit program would run for nothing.
  const tracer = new ExecTracer({ exits: false });
  tracer.on('exec', (e) => process.stdout.write(`${formatExec(e, settings.args)}\n`));
  tracer.on('lost', (n) => process.stderr.write(`warning: ${n} execs lost (the kernel's ring buffer was full)\n`));
  // The message of an ExecTracerError ends with its hint.
  tracer.on('error', (error) => fail(error.message));

  // stop() delivers what the kernel already recorded before it resolves, so
  // the summary counts every exec that happened before the signal.
  const stop = () =>
    tracer.stop().then(() => {
      const { events, lost } = tracer.stats();
      process.stderr.write(`\n${events} execs traced, ${lost} lost\n`);
      process.exit(0);
    }, (error: unknown) => fail((error as Error).message));

  try {
    await tracer.start();
  } catch (error) {
    fail((error as Error).message);
  }
  const { durationMs } = settings;
  process.stderr.write(`Tracing execs${durationMs ? ` for ${durationMs / 1000} s` : ''} (Ctrl-C to stop)\n`);
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (durationMs !== undefined) setTimeout(() => void stop(), durationMs);
}

/** Whether this module is the program being run (Node 20 has no import.meta.main). */
function isProgram(): boolean {
  const program = process.argv[1];
  try {
    return program !== undefined && import.meta.url === pathToFileURL(realpathSync(program)).href;
  } catch {
    return false; // argv[1] is not a file: this module was imported by something else
  }
}

if (isProgram()) {
  main().catch((error: unknown) => {
    process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  });
}
