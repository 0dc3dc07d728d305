// SPDX-License-Identifier: MIT
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunResult {
  pid: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The children run() started that have not ended yet. */
const running = new Set<ChildProcess>();

/**
 * Kills what run() started and is still running: after a test that timed
 * out, its storm must not go on loading the machine under the next tests.
 * (test/helpers/setup.ts calls it after each test.)
 */
export function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Runs a command to completion, keeping its pid and output. */
export function run(file: string, args: string[], options: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ pid: child.pid!, code, stdout, stderr }));
  });
}

