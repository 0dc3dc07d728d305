// SPDX-License-Identifier: MIT
//
// The example's command line, which answers before any tracer starts (so
// these need no kernel).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, run } from '../helpers/process.js';

const example = join(root, 'examples', 'print-execs.ts');
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', example, ...args], { cwd: root });

describe('print-execs command line', () => {
  it('explains itself with --help', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/usage: print-execs \[--duration SECONDS\]/);
  });

  it.each([
    [['--duration', 'soon'], /--duration takes a positive number of seconds, got "soon"/],
    [['--duration', '0'], /--duration takes a positive number/],
    [['--verbose'], /Unknown option '--verbose'/],
  ])('rejects %j', async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
