// SPDX-License-Identifier: MIT
//
// examples/print-execs.ts as a user runs it: a child process, the real kernel.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { kernel, root, run, uniqueTag } from './kernel.js';

const example = join(root, 'examples', 'print-execs.ts');

describe.skipIf(!kernel)('examples/print-execs.ts', () => {
  it('prints a line for a command it sees, and a summary on Ctrl-C', async () => {
    const child = spawn(process.execPath, [...tsEntryArgs(example), '--args', '--duration', '30'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('Tracing execs')) resolve();
      });
      child.once('exit', () => reject(new Error(`example exited early: ${stderr}`)));
    });
    await ready;

    const tag = uniqueTag('example');
    const echo = await run('/bin/echo', [tag, 'esc\x1b[2Jape']);
    const line = `🚀 Process started: echo (PID ${echo.pid}) /bin/echo ${tag} esc\\x1b[2Jape`;
    const deadline = Date.now() + 5000;
    while (!stdout.includes(line) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stdout).toContain(line);
    expect(stdout).not.toContain('\x1b');

    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(stderr).toMatch(/\d+ execs traced, 0 lost/);
  });

  it('exits by itself after --duration', async () => {
    const started = Date.now();
    const result = await run(process.execPath, [...tsEntryArgs(example), '--duration', '1'], { cwd: root });
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.stderr).toMatch(/execs traced, 0 lost/);
  });
});
