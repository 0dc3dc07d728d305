// SPDX-License-Identifier: MIT
import { spawn, type SpawnOptions } from 'node:child_process';
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

/** Runs a command to completion, keeping its pid and output. */
export function run(file: string, args: string[], options: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ pid: child.pid!, code, stdout, stderr }));
  });
}

