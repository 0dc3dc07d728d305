// SPDX-License-Identifier: MIT
//
// Signal names as Node gives them: an exit event names the
// signal that ended a process as Node's own child_process 'exit' event
// does for a child killed by it, and as `kill -l` and strace do. No kernel
// tracing here: the children are killed by this test, and the names come
// from the decoder reading the same wait status.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../lib/index.js';
import { signalName } from '../../lib/records/fields.js';
import { encodeExitRecord } from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 0n };
const SIGNALS = Array.from({ length: 31 }, (_, i) => i + 1);

/**
 * Signals whose default action is to ignore (SIGCHLD, SIGURG, SIGWINCH),
 * continue (SIGCONT) or stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) the
 * process (signal(7)): none of them ends a child, so Node's 'exit' event
 * can never name them. `kill -l` is the reference for these.
 */
const NOT_FATAL = new Set([17, 18, 19, 20, 21, 22, 23, 28]);

/** `kill -l N` for every N, from bash, with the SIG prefix bash leaves off. */
const killList = execFileSync('bash', ['-c', 'for n in "$@"; do kill -l "$n"; done', 'bash', ...SIGNALS.map(String)], {
  encoding: 'utf8',
})
  .trim()
  .split('\n')
  .map((name) => `SIG${name}`);

/** The name an exit event gives the signal of this wait status. */
const exitSignal = (signal: number) => decodeBatch(encodeExitRecord({ status: signal }), clock).records[0]!;

// Killed children may dump a core (SIGQUIT, SIGABRT, SIGSEGV…): in a directory of their own.
const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signal names', () => {
  it('are what `kill -l` calls signals 1 to 31', () => {
    expect(killList).toHaveLength(31);
    expect(SIGNALS.map(signalName)).toEqual(killList);
    // The two that a later alias in os.constants.signals used to overwrite.
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(29)).toBe('SIGIO');
  });

  it.each(SIGNALS.filter((n) => !NOT_FATAL.has(n)))(
    "are what Node's 'exit' event reports for a child killed by signal %i",
    async (n) => {
      // spawn() returns once the child has exec'd sleep, and libuv has reset
      // every disposition to the default in it: the signal ends it.
      const child = spawn('sleep', ['60'], { stdio: 'ignore', cwd: dir });
      expect(child.kill(n)).toBe(true);
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      expect(code).toBeNull();
      expect(signal).toBe(signalName(n));
      expect(exitSignal(n)).toMatchObject({ signal, signalNumber: n, exitCode: undefined });
    },
  );

  it.each([...NOT_FATAL])('are what `kill -l` reports for signal %i, which cannot end a process by default', (n) => {
    expect(exitSignal(n)).toMatchObject({ signal: killList[n - 1], signalNumber: n });
  });
});
