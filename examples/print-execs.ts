// SPDX-License-Identifier: MIT
//
// Prints every exec on this host as it happens:
//   🚀 Process started: ls (PID 377673)
// Run it (as root) with: npm run demo -- [--duration 30] [--args]
import { parseArgs } from 'node:util';
import { ExecTracer, ExecTracerError, escapeBytesForTerminal, escapeForTerminal } from 'exec-tracer';

const usage = `usage: print-execs [--duration SECONDS] [--args] [--help]

Prints a line for every process that calls exec on this host.

  --duration SECONDS  stop after SECONDS (default: run until Ctrl-C)
  --args              also print each process's arguments
  --help              show this help

Needs root (or CAP_BPF and CAP_PERFMON) and Linux >= 5.8 with BTF.
Names and arguments are escaped: control characters and bytes that are not
UTF-8 are shown as \\xNN, never written raw to the terminal.`;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

let values: { duration?: string; args?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      duration: { type: 'string' },
      args: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(`${(error as Error).message}\n\n${usage}`);
}

if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

let durationMs: number | undefined;
if (values.duration !== undefined) {
  const seconds = Number(values.duration);
  if (!Number.isFinite(seconds) || seconds <= 0) fail(`--duration takes a positive number of seconds, got "${values.duration}"`);
  durationMs = seconds * 1000;
}

const tracer = new ExecTracer();
tracer.on('exec', (e) => {
  let line = `🚀 Process started: ${escapeForTerminal(e.comm)} (PID ${e.pid})`;
  if (values.args) {
    line += ` ${e.rawArgv.map((a) => escapeBytesForTerminal(a)).join(' ')}`;
    if (e.argvTruncated) line += ' …';
  }
  process.stdout.write(`${line}\n`);
});
tracer.on('lost', (n) => process.stderr.write(`warning: ${n} execs lost (the kernel's ring buffer was full)\n`));
tracer.on('error', (error) => fail(error.message));

async function stop(): Promise<void> {
  await tracer.stop();
  const { events, lost } = tracer.stats();
  process.stderr.write(`\n${events} execs traced, ${lost} lost\n`);
  process.exit(0);
}

try {
  await tracer.start();
} catch (error) {
  fail(error instanceof ExecTracerError ? error.message : String(error));
}
process.stderr.write(`Tracing execs${durationMs ? ` for ${durationMs / 1000} s` : ''} (Ctrl-C to stop)\n`);
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
if (durationMs !== undefined) setTimeout(() => void stop(), durationMs);
