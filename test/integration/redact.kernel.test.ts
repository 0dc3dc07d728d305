// SPDX-License-Identifier: MIT
//
// options.redact on real execs: secrets in argv and in a captured
// environment never reach a listener, nor the process table's seed (read
// from /proc/<pid>/cmdline for processes that were running before start()).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ExecEvent } from '../../lib/index.js';
import { ExecTracer } from '../../lib/index.js';
import { eventually, kernel, patience, run, uniqueTag } from './kernel.js';

describe.skipIf(!kernel)('options.redact, on the real kernel', () => {
  it('hides secrets in argv, the environment, the JSON and the seeded table', async () => {
    const tag = uniqueTag('redact');
    // Running before start(): the table learns its argv from /proc.
    const earlier = spawn('/bin/sh', ['-c', 'sleep 60', `--password=early-${tag}`], { stdio: 'ignore' });
    try {
      const tracer = new ExecTracer({ redact: true, env: ['DB_PASSWORD', 'PATH'], processTable: true });
      const events: ExecEvent[] = [];
      tracer.on('exec', (e) => {
        if (e.argv.includes(tag)) events.push(e);
      });
      await tracer.start();
      try {
        const seeded = tracer.processes!.get(earlier.pid!);
        expect(seeded?.argv).toEqual(['/bin/sh', '-c', 'sleep 60', '--password=***']);

        await run('/bin/echo', [tag, '--password=hunter2', '-phunter2', 'https://deploy:hunter2@example.com/x'], {
          env: { PATH: '/usr/bin:/bin', DB_PASSWORD: 'hunter2' },
        });
        expect(await eventually(() => events.length > 0, patience(5000))).toBe(true);
      } finally {
        await tracer.stop();
      }
      const [e] = events as [ExecEvent];
      expect(e.argv).toEqual(['/bin/echo', tag, '--password=***', '-p***', 'https://deploy:***@example.com/x']);
      expect(e.env).toEqual({ PATH: '/usr/bin:/bin', DB_PASSWORD: '***' });
      for (const text of [JSON.stringify(e), ...e.rawArgv.map(String), ...e.rawEnv.map(String)]) expect(text).not.toContain('hunter2');
      // What the process itself had was not touched: only what the tracer reports.
      expect(e.argvTotalBytes).toBeGreaterThan(Buffer.byteLength(e.argv.join('\0')));
    } finally {
      earlier.kill('SIGKILL');
      await once(earlier, 'close');
    }
  });
});
