// SPDX-License-Identifier: MIT
//
// The exec-tracer command run as a user runs it: a child process whose
// output lines are watched as they come.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningCommand {
  proc: ChildProcess;
  /** Standard output, line by line, as it came. */
  lines: string[];
  /** Standard error so far. */
  stderr(): string;
  /** The first line (seen or to come) that `match` accepts; rejects after `timeoutMs`. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** How it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** With DETACHED, the command leads a process group of its own (signal it with process.kill(-pid)), as a terminal's job does. */
export function startCommand(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string, detached = false): RunningCommand {
  const proc = spawn(file, args, { env, cwd, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  let ended = false;
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => {
      ended = true;
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );
  const line = (match: (line: string) => boolean, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (ended) done(() => reject(new Error(`the command ended (stderr: ${stderr}) before the line came; it printed:\n${lines.join('\n')}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no such line in ${timeoutMs} ms; stderr: ${stderr}; stdout:\n${lines.slice(-20).join('\n')}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  return { proc, lines, stderr: () => stderr, line, exited };
}
