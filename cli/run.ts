// SPDX-License-Identifier: MIT
//
// The run of one command (`exec-tracer -- CMD`), as a tree of processes with
// their lifetimes: what --timeline draws and --trace-json writes. RunRecorder
// listens to a tracer built with forks, exits and failed execs (and a
// descendantsOf filter on the command) and keeps a few fields of each event,
// never the event itself, so memory grows with the processes, not the events.
import type { ExecEvent, ExecFailedEvent, ExecTracer, ExitEvent, ForkEvent } from 'exec-tracer';

/**
 * How a process ended, as the timeline colours it: exit status 0, a non-zero
 * exit status, a signal, an exec that failed and was not followed by a
 * successful one (the process ran nothing of what it meant to: make's child
 * for a missing program exits 127 after it), or no exit seen by the end of
 * the run.
 */
export type RunOutcome = 'success' | 'failure' | 'signal' | 'execFailed' | 'running';

/** Every outcome, in the order the legend lists them. */
export const RUN_OUTCOMES: readonly RunOutcome[] = ['success', 'failure', 'signal', 'execFailed', 'running'];

/** One successful exec of a process. */
export interface RunExec {
  /** When, ms since the run's start. */
  atMs: number;
  /** The path passed to exec. */
  filename: string;
  /** The new image's arguments (UTF-8 decoded, as `ExecEvent.argv`). */
  argv: readonly string[];
}

/** One exec that returned an error; the process went on with its old image. */
export interface RunFailedExec {
  /** When the call returned, ms since the run's start. */
  atMs: number;
  /** The path passed to exec. */
  filename: string;
  /** The error's name ('ENOENT', 'EACCES'…). */
  code: string;
  /** The error as a positive number. */
  errno: number;
}

/** How a process ended, as its `ExitEvent` says. */
export interface RunExit {
  /** The exit code (0–255); undefined when a signal ended it. */
  exitCode: number | undefined;
  /** The signal that ended it ('SIGTERM'); undefined when it exited. */
  signal: string | undefined;
  /** The signal's number; undefined when it exited. */
  signalNumber: number | undefined;
  /** The kernel wrote a core dump of it. */
  coreDumped: boolean;
}

/** One process of the run, from its fork (or first exec) to its exit. */
export interface RunProcess {
  /** `"<pid>:<startBootNs>"`, the tracer's `processId`. */
  id: string;
  /** The parent's `id`, when the parent is part of the run; undefined for a top-level process. */
  parentId: string | undefined;
  pid: number;
  /** The parent's pid when the process started. */
  ppid: number;
  /** The task name: its last exec's, or the forking parent's. */
  comm: string;
  /**
   * The arguments of its last exec; for a process that never exec'd, those of
   * the image it ran, its parent's (`argvInherited`), or [] when unknown.
   */
  argv: readonly string[];
  /** The process never exec'd: `argv` is its parent's image at the fork. */
  argvInherited: boolean;
  /** Its successful execs, oldest first (a shell's `exec` makes several). */
  execs: RunExec[];
  /** Its execs that failed, oldest first. */
  failedExecs: RunFailedExec[];
  /** When it started, ms since the run's start: its fork, or its first exec when the fork was not seen. */
  startMs: number;
  /** Its fork was seen (false for the command itself: it was forked before the tracer started). */
  forkSeen: boolean;
  /** When it exited, ms since the run's start; undefined when it was still running at the end. */
  endMs: number | undefined;
  /** How it exited; undefined when no exit was seen. */
  exit: RunExit | undefined;
  /** How it ended, in the timeline's terms. */
  outcome: RunOutcome;
  /** Its depth in the tree: 0 for a top-level process (the command), 1 for its children… */
  depth: number;
}

/** A traced command's run, taken by `RunRecorder.run()` or `finish()`. */
export interface Run {
  /** The command as run (argv). */
  command: string[];
  /** When the run started: its first event (wall clock, ms precision). */
  startTime: Date;
  /** From the start to the last exit (or to `finish()`, when a process was still running), ms. */
  durationMs: number;
  /** The command's exit status, as given to `finish()`. */
  exitStatus?: number;
  /** The command's own process (the one of `rootPid`), when seen. */
  rootId: string | undefined;
  /** Every process, depth first: a parent before its children, children by start time. */
  processes: RunProcess[];
  /** Records the kernel dropped during the run (the ring was full): the picture misses something. */
  lost: number;
  /** The children of process `id` by start time; with `undefined`, the top-level processes. */
  childrenOf(id: string | undefined): RunProcess[];
}

/** The tracer events a RunRecorder listens to. */
export type RunEventSource = Pick<ExecTracer, 'on' | 'off'>;

/** What RunRecorder is told about the command. */
export interface RunRecorderOptions {
  /** The command's pid: the process of that pid is the run's root (`Run.rootId`). */
  rootPid?: number;
  /** The command's argv (default: the root's first exec's). */
  command?: readonly string[];
}

/** What is kept of a process while recording: times as boot-clock ns. */
interface Recorded {
  id: string;
  parentId: string;
  pid: number;
  ppid: number;
  comm: string;
  argv: readonly string[];
  argvInherited: boolean;
  /** Its fork; its first exec when the fork was not seen; its own start time when first seen at an exit or a failed exec. */
  startNs: bigint;
  forkSeen: boolean;
  execs: { ns: bigint; filename: string; argv: readonly string[] }[];
  failedExecs: { ns: bigint; filename: string; code: string; errno: number }[];
  endNs?: bigint;
  exit?: RunExit;
}

/** The outcome of a process from its exit and its execs, failed and not. */
export function outcomeOf(p: Pick<RunProcess, 'exit' | 'execs' | 'failedExecs'>): RunOutcome {
  const lastFailed = p.failedExecs.at(-1);
  const lastExec = p.execs.at(-1);
  if (lastFailed !== undefined && (lastExec === undefined || lastExec.atMs < lastFailed.atMs)) return 'execFailed';
  if (p.exit === undefined) return 'running';
  if (p.exit.signal !== undefined) return 'signal';
  return p.exit.exitCode === 0 ? 'success' : 'failure';
}

/**
 * Records one run from a tracer's 'fork', 'exec', 'execFailed', 'exit' and
 * 'lost' events. Build the tracer with `forks: true, exits: true,
 * failedExecs: true` and a `descendantsOf` filter on the command, attach the
 * recorder before starting it, and take the run with `finish()` once the
 * command has ended and the tracer has stopped (stopping delivers what the
 * kernel still held).
 */
export class RunRecorder {
  readonly #tracer: RunEventSource;
  readonly #rootPid: number | undefined;
  readonly #command: readonly string[] | undefined;
  readonly #processes = new Map<string, Recorded>();
  #rootId: string | undefined;
  /** The earliest and latest event times seen (boot clock ns). */
  #firstNs: bigint | undefined;
  #lastNs: bigint | undefined;
  /** Wall-clock ms minus boot-clock ms, from the first event (to place `finish()`'s end). */
  #wallMinusBootMs = 0;
  #startTime: Date | undefined;
  #lost = 0;
  #attached = true;

  readonly #onFork = (e: ForkEvent) => {
    this.#saw(e);
    const parent = this.#processes.get(e.parentProcessId);
    const p = this.#process(e.processId, e.parentProcessId, e.pid, e.ppid, e.bootNs);
    p.forkSeen = true;
    p.startNs = e.bootNs;
    p.comm = e.comm;
    if (p.execs.length === 0 && parent !== undefined) p.argv = parent.argv;
  };

  readonly #onExec = (e: ExecEvent) => {
    this.#saw(e);
    const p = this.#process(e.processId, e.parentProcessId, e.pid, e.ppid, e.bootNs);
    p.execs.push({ ns: e.bootNs, filename: e.filename, argv: e.argv });
    p.argv = e.argv;
    p.argvInherited = false;
    p.comm = e.comm;
  };

  readonly #onExecFailed = (e: ExecFailedEvent) => {
    this.#saw(e);
    const p = this.#process(e.processId, e.parentProcessId, e.pid, e.ppid, e.startBootNs);
    p.failedExecs.push({ ns: e.bootNs, filename: e.filename, code: e.code, errno: e.errno });
  };

  readonly #onExit = (e: ExitEvent) => {
    this.#saw(e);
    // An exit names no parent; a process first seen here keeps its own.
    const p = this.#process(e.processId, '', e.pid, e.ppid, e.startBootNs);
    p.endNs = e.bootNs;
    p.exit = { exitCode: e.exitCode, signal: e.signal, signalNumber: e.signalNumber, coreDumped: e.coreDumped };
    if (p.execs.length === 0) p.comm = e.comm;
  };

  readonly #onLost = (count: number) => {
    this.#lost += count;
  };

  /**
   * @param tracer The tracer to listen to (not started yet, or the command's
   *   start is missed).
   * @param options Which pid is the command's, and its argv.
   */
  constructor(tracer: RunEventSource, options: RunRecorderOptions = {}) {
    this.#tracer = tracer;
    this.#rootPid = options.rootPid;
    this.#command = options.command === undefined ? undefined : [...options.command];
    tracer.on('fork', this.#onFork);
    tracer.on('exec', this.#onExec);
    tracer.on('execFailed', this.#onExecFailed);
    tracer.on('exit', this.#onExit);
    tracer.on('lost', this.#onLost);
  }

  /** Processes recorded so far. */
  get size(): number {
    return this.#processes.size;
  }

  /** Stops listening (idempotent); the run recorded so far stays. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#tracer.off('fork', this.#onFork);
    this.#tracer.off('exec', this.#onExec);
    this.#tracer.off('execFailed', this.#onExecFailed);
    this.#tracer.off('exit', this.#onExit);
    this.#tracer.off('lost', this.#onLost);
  }

  /**
   * Stops listening and takes the run: the command ended with `exitStatus`
   * (as the shell reports it: 128+n for signal n) at `end`. A process with
   * no exit by then is drawn up to `end`.
   */
  finish(exitStatus?: number, end: Date = new Date()): Run {
    this.detach();
    return this.run(exitStatus, end);
  }

  /**
   * The run so far, without stopping. `end` stretches the run to that time
   * when a process is still running (default: the last event).
   */
  run(exitStatus?: number, end?: Date): Run {
    const first = this.#firstNs ?? 0n;
    const ms = (ns: bigint) => Number(ns - first) / 1e6;
    const atLeast0 = (v: number) => (v < 0 ? 0 : v);
    const processes: RunProcess[] = [];
    for (const r of this.#processes.values()) {
      const execs = r.execs.map((x) => ({ atMs: ms(x.ns), filename: x.filename, argv: x.argv }));
      const failedExecs = r.failedExecs.map((f) => ({ atMs: ms(f.ns), filename: f.filename, code: f.code, errno: f.errno }));
      const p: RunProcess = {
        id: r.id,
        parentId: r.parentId !== r.id && this.#processes.has(r.parentId) ? r.parentId : undefined,
        pid: r.pid,
        ppid: r.ppid,
        comm: r.comm,
        argv: r.argv,
        argvInherited: r.argvInherited,
        execs,
        failedExecs,
        startMs: atLeast0(ms(r.startNs)),
        forkSeen: r.forkSeen,
        endMs: r.endNs === undefined ? undefined : atLeast0(ms(r.endNs)),
        exit: r.exit,
        outcome: 'running',
        depth: 0,
      };
      p.outcome = outcomeOf(p);
      processes.push(p);
    }

    const children = new Map<string | undefined, RunProcess[]>();
    for (const p of processes) {
      const list = children.get(p.parentId);
      if (list === undefined) children.set(p.parentId, [p]);
      else list.push(p);
    }
    for (const list of children.values()) list.sort((a, b) => a.startMs - b.startMs || a.pid - b.pid);
    const ordered: RunProcess[] = [];
    // Iterative: a chain of processes thousands deep must not overflow the stack.
    const stack = [...(children.get(undefined) ?? [])].reverse();
    while (stack.length > 0) {
      const p = stack.pop()!;
      ordered.push(p);
      const kids = children.get(p.id) ?? [];
      for (const k of kids) k.depth = p.depth + 1;
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    }

    let durationMs = this.#lastNs === undefined ? 0 : ms(this.#lastNs);
    if (end !== undefined && this.#startTime !== undefined && processes.some((p) => p.endMs === undefined)) {
      const endBootMs = end.getTime() - this.#wallMinusBootMs;
      durationMs = Math.max(durationMs, endBootMs - Number(first) / 1e6);
    }
    const root = this.#rootId === undefined ? undefined : this.#processes.get(this.#rootId);
    const run: Run = {
      command: [...(this.#command ?? root?.execs[0]?.argv ?? [])],
      startTime: this.#startTime ?? end ?? new Date(),
      durationMs,
      rootId: this.#rootId,
      processes: ordered,
      lost: this.#lost,
      childrenOf: (id) => [...(children.get(id) ?? [])],
    };
    if (exitStatus !== undefined) run.exitStatus = exitStatus;
    return run;
  }

  #saw(e: { bootNs: bigint; time: Date }): void {
    if (this.#firstNs === undefined || e.bootNs < this.#firstNs) {
      this.#firstNs = e.bootNs;
      this.#startTime = e.time;
      this.#wallMinusBootMs = e.time.getTime() - Number(e.bootNs) / 1e6;
    }
    if (this.#lastNs === undefined || e.bootNs > this.#lastNs) this.#lastNs = e.bootNs;
  }

  /** The process of `id`, created when first seen. */
  #process(id: string, parentId: string, pid: number, ppid: number, startNs: bigint): Recorded {
    let p = this.#processes.get(id);
    if (p === undefined) {
      p = {
        id,
        parentId,
        pid,
        ppid,
        comm: '',
        argv: [],
        argvInherited: true,
        startNs,
        forkSeen: false,
        execs: [],
        failedExecs: [],
      };
      this.#processes.set(id, p);
      if (this.#rootId === undefined && pid === this.#rootPid) this.#rootId = id;
    } else if (p.parentId === '' && parentId !== '') {
      p.parentId = parentId;
    }
    return p;
  }
}
