// SPDX-License-Identifier: MIT
//
// The example run as a program (its format and parsing are tested in
// example.test.ts): it answers --help and bad options before any tracer
// starts, so these need no kernel.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, run } from '../helpers/process.js';

const example = join(root, 'examples', 'print-execs.ts');
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', example, ...args], { cwd: root });

describe('print-execs as a program', () => {
  it('explains itself with --help', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: print-execs \[--duration SECONDS\]/);
    expect(result.stderr).toBe('');
  });

  it('prints error: and the usage for a bad option, and exits 1', async () => {
    const result = await cli('--duration', 'soon');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --duration takes a positive number of seconds, got "soon"\n\nusage:/);
    expect(result.stdout).toBe('');
  });
});
