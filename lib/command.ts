// SPDX-License-Identifier: MIT
//
// traceCommand(): one command and everything it starts, from its own exec
// on. The child is created held before it execs (a shell waiting on a pipe),
// the tracer attaches with `descendantsOf` that child, and only then is the
// child let go to exec the command: nothing the command does can come
// before the tracer, not even its first exec, or a grandchild's in its
// first microsecond. `exec-tracer -- CMD` is built on it.
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { ExecTracerDeps, ExecTracerOptions, TracerEvent, TracerEventKind } from '../types/index.js';
import { show } from './show.js';
import { ExecTracer } from './tracer.js';

/**
 * The held child: a shell that waits for a line on fd 3, closes it, and
 * execs the command (PATH searched as a shell does). A parent that goes
 * away before releasing it closes the pipe: the shell then exits 125
 * without running anything.
 */
const GATE = 'read -r _ <&3 || exit 125; exec 3<&-; exec "$0" "$@"';
/**
 * bash finds the command on PATH by stat() and execs it once; dash (Debian's
 * /bin/sh) tries each PATH directory with exec, and each miss would be a
 * failed exec of the command's pid. bash in POSIX mode reads no BASH_ENV.
 */
const SHELL: readonly string[] = existsSync('/bin/bash') ? ['/bin/bash', '--posix'] : ['/bin/sh'];

/** `traceCommand(command, args, options)`: the tracer's options, and how to run the command. */
export interface TraceCommandOptions extends ExecTracerOptions {
  /** The command's working directory (default: this process's). */
  cwd?: string;
  /**
   * The command's environment (default: this process's). (`env` is the
   * tracer's option, as for ExecTracer: which variables events carry.)
   */
  commandEnv?: NodeJS.ProcessEnv;
  /**
   * The command's stdin, stdout and stderr, as spawn() takes them:
   * `'inherit'` (the default: the terminal), `'pipe'`, `'ignore'`, or one
   * of those for each.
   */
  stdio?: IOType | readonly [IOType, IOType, IOType];
  /** Events the iteration queues before the tracer stops reading the kernel's ring (see `tracer.events()`). Default 1024. */
  highWaterMark?: number;
}

/** How the command ended. */
export interface CommandExit {
  /** Its exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** As a shell reports it: the code, or 128 + the signal's number. */
  status: number;
}

/** A command being traced. */
export interface TracedCommand extends AsyncIterable<TracerEvent> {
  /** The command's process (its pid is the pid of the command's exec). */
  readonly child: ChildProcess;
  /** The tracer, following the child's tree (`descendantsOf: [child.pid]`); listen to it before start(). */
  readonly tracer: ExecTracer;
  /**
   * Attaches the tracer, then lets the command run; the iteration calls it.
   * Idempotent. Rejects with the tracer's ExecTracerError (the command is
   * then killed before it ran).
   */
  start(): Promise<void>;
  /**
   * Resolves once the command has exited and every event the kernel
   * recorded until then has been delivered (the tracer has stopped).
   * Descendants still running after the command exits are not followed.
   */
  readonly exited: Promise<CommandExit>;
}

const OWN_OPTIONS = new Set(['cwd', 'commandEnv', 'stdio', 'highWaterMark']);

/**
 * Runs `command` with `args` and traces it and every process below it,
 * from the command's own exec on, and nothing else. Iterate it for the
 * events (exec, and exit, fork, execFailed as the options turn them on):
 *
 * ```ts
 * const run = traceCommand('make', ['-j4'], { forks: true });
 * for await (const event of run) console.log(event.kind, event.pid, event.kind === 'exec' ? event.argv : '');
 * const { status } = await run.exited;
 * ```
 *
 * Or listen to `run.tracer` and call `run.start()`. Until then the child
 * waits, held before its exec.
 * @throws TypeError for a bad command, args or option; `filter.descendantsOf`
 *   is the child, not an option.
 */
export function traceCommand(
  command: string,
  args: readonly string[] = [],
  options: TraceCommandOptions = {},
  deps: ExecTracerDeps = {},
): TracedCommand {
  if (typeof command !== 'string' || command === '') throw new TypeError(`traceCommand: command must be a non-empty string, got ${show(command)}`);
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
    throw new TypeError(`traceCommand: args must be an array of strings, got ${show(args)}`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`traceCommand: options must be an object, got ${show(options)}`);
  const tracerOptions: ExecTracerOptions = {};
  for (const [key, value] of Object.entries(options))
    if (!OWN_OPTIONS.has(key)) (tracerOptions as Record<string, unknown>)[key] = value;
  if (options.filter?.descendantsOf !== undefined)
    throw new TypeError('traceCommand: filter.descendantsOf is the command itself: leave it out');
  const { cwd, commandEnv, stdio = 'inherit', highWaterMark } = options;
  const streams = typeof stdio === 'string' ? [stdio, stdio, stdio] : [...stdio];
  if (streams.length !== 3) throw new TypeError(`traceCommand: stdio must be one of 'inherit', 'pipe', 'ignore' or three of them, got ${show(stdio)}`);

  const child = spawn(SHELL[0]!, [...SHELL.slice(1), '-c', GATE, command, ...args], {
    cwd,
    env: commandEnv,
    stdio: [...(streams as IOType[]), 'pipe'],
  });
  // Without a child (spawn failed: 'error' says why, and start() rejects
  // with it) the tracer is never started.
  const tracer = new ExecTracer(
    child.pid === undefined ? tracerOptions : { ...tracerOptions, filter: { ...tracerOptions.filter, descendantsOf: [child.pid] } },
    deps,
  );
  const gate = child.stdio[3] as NodeJS.WritableStream | null;
  // A child killed while held (a signal passed on before start()) closes
  // its end: the release then has no one to reach, which is no error.
  gate?.on('error', () => {});

  const ended = new Promise<CommandExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      resolve({ code, signal, status: code ?? 128 + (signal ? constants.signals[signal] : 0) }),
    );
  });
  ended.catch(() => {});
  const exited = ended.then(
    async (exit) => {
      // The command's exit is in the ring before its parent hears of it:
      // stop() delivers it, and everything before it.
      await tracer.stop();
      return exit;
    },
    async (error: unknown) => {
      await tracer.stop();
      throw error;
    },
  );
  exited.catch(() => {});

  let starting: Promise<void> | undefined;
  const start = () =>
    (starting ??= (async () => {
      if (child.pid === undefined) throw await ended.then(() => new Error('traceCommand: the command could not be started'), (e: unknown) => e);
      try {
        await tracer.start();
      } catch (error) {
        // The command never ran: it is still held.
        child.kill('SIGKILL');
        throw error;
      }
      gate?.end('\n');
    })());

  const kinds: TracerEventKind[] = ['exec'];
  if (tracerOptions.exits !== false) kinds.push('exit');
  if (tracerOptions.forks === true) kinds.push('fork');
  if (tracerOptions.failedExecs === true) kinds.push('execFailed');
  return {
    child,
    tracer,
    start,
    exited,
    [Symbol.asyncIterator]() {
      const events = tracer.events({ kinds, ...(highWaterMark !== undefined && { highWaterMark }) });
      start().catch(() => {}); // its rejection ends the iteration with the same error
      return events;
    },
  };
}
