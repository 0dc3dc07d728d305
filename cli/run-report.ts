// SPDX-License-Identifier: MIT
//
// What `exec-tracer -- CMD` prints when CMD has ended: the summary line
// (how CMD ended, how long it took, how many execs, failed execs and
// processes, the deepest chain) and, with --tree, the run's whole process
// tree once, each process with how it ended and how long it lived.
import { escapeArgForTerminal, escapeForTerminal, type CommandExit } from 'exec-tracer';
import { formatDuration } from './format.js';
import type { Run, RunProcess } from './run.js';

/** The run's counts. */
export interface RunCounts {
  execs: number;
  failedExecs: number;
  processes: number;
  /** Processes in the longest parent-to-child chain (the command alone: 1). */
  deepestChain: number;
}

export function runCounts(run: Run): RunCounts {
  let execs = 0;
  let failedExecs = 0;
  let deepest = 0;
  for (const p of run.processes) {
    execs += p.execs.length;
    failedExecs += p.failedExecs.length;
    deepest = Math.max(deepest, p.depth + 1);
  }
  return { execs, failedExecs, processes: run.processes.length, deepestChain: deepest };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How CMD ended, as the summary says it: `exited 0`, `killed by SIGTERM (status 143)`. */
export function commandEnding(exit: CommandExit): string {
  return exit.signal !== null ? `killed by ${exit.signal} (status ${exit.status})` : `exited ${exit.status}`;
}

/**
 * `exec-tracer: make -j4 exited 0 after 12.31s: 412 execs, 3 failed,
 * 530 processes, deepest chain 7, 0 lost`.
 */
export function runSummary(command: readonly string[], exit: CommandExit, wallNs: bigint, run: Run): string {
  const c = runCounts(run);
  const line = command.map((a) => escapeArgForTerminal(a)).join(' ');
  return (
    `exec-tracer: ${line} ${commandEnding(exit)} after ${formatDuration(wallNs)}: ` +
    `${plural(c.execs, 'exec')}, ${c.failedExecs} failed, ${plural(c.processes, 'process', 'processes')}, ` +
    `deepest chain ${c.deepestChain}, ${run.lost} lost`
  );
}

/** How one process ended, in words. */
function ending(p: RunProcess): string {
  const failed = p.failedExecs.at(-1);
  const failure = p.outcome === 'execFailed' && failed ? `exec ${escapeForTerminal(failed.filename)} failed: ${failed.code}, ` : '';
  if (p.exit === undefined) return `${failure}still running`;
  const { exitCode, signal, coreDumped } = p.exit;
  return failure + (signal !== undefined ? `killed by ${signal}${coreDumped ? ' (core dumped)' : ''}` : `exit ${exitCode}`);
}

/**
 * The run's process tree, one line per process, depth first:
 *
 * ```
 * make(4120) make -j4  [exit 0, 2.41s]
 * ├─ sh(4121) /bin/sh -c cc -c a.c  [exit 0, 310ms]
 * │  └─ cc(4122) cc -c a.c  [exit 0, 305ms]
 * └─ sh(4130) (fork of make)  [exit 2, 1.2ms]
 * ```
 *
 * `label` puts a prefix before a process's name (--npm: `[pkg@1.2.3 postinstall] `).
 */
export function runTreeLines(run: Run, maxArgs: number, label: (p: RunProcess) => string = () => ''): string[] {
  const lines: string[] = [];
  // Iterative, depth first: a chain thousands of processes deep must not overflow the stack.
  const stack: { p: RunProcess; prefix: string; branch: string }[] = run
    .childrenOf(undefined)
    .reverse()
    .map((p) => ({ p, prefix: '', branch: '' }));
  while (stack.length > 0) {
    const { p, prefix, branch } = stack.pop()!;
    const args =
      p.argvInherited || p.execs.length === 0
        ? `(fork of ${escapeForTerminal(p.comm)})`
        : p.argv.slice(0, maxArgs).map((a) => escapeArgForTerminal(a)).join(' ') + (p.argv.length > maxArgs ? ' ...' : '');
    const lived = p.endMs === undefined ? '' : `, ${formatDuration(BigInt(Math.round((p.endMs - p.startMs) * 1e6)))}`;
    lines.push(`${prefix}${branch}${label(p)}${escapeForTerminal(p.comm)}(${p.pid}) ${args}  [${ending(p)}${lived}]`);
    const below = prefix + (branch === '├─ ' ? '│  ' : branch === '└─ ' ? '   ' : '');
    const kids = run.childrenOf(p.id);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ p: kids[i]!, prefix: below, branch: i === kids.length - 1 ? '└─ ' : '├─ ' });
  }
  return lines;
}
