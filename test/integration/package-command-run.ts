// SPDX-License-Identifier: MIT
//
// `exec-tracer -- CMD` as a user gets it: the bin of the packed and
// installed package (package.test.ts installs it), run against the real
// kernel. CMD keeps stdout; the tracer's lines, the summary and the tree go
// to stderr. CMD's exit status is the command's; Ctrl-C reaches CMD once,
// as without the tracer; SIGTERM to the tracer is passed on.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCommand, type RunningCommand } from '../helpers/command.js';
import { kernel, uniqueTag } from './kernel.js';
import type { Installed } from './package-command.js';

export function describeCommandRun(installed: () => Installed): void {
  describe.skipIf(!kernel)('exec-tracer -- CMD, from the packed install', () => {
    const bin = () => join(installed().project, 'node_modules', '.bin', 'exec-tracer');
    const running: RunningCommand[] = [];
    const start = (args: string[], detached = false) => {
      const command = startCommand(bin(), args, installed().env, installed().project, detached);
      running.push(command);
      return command;
    };
    afterEach(() => {
      for (const command of running.splice(0)) command.proc.kill('SIGKILL');
    });

    it("traces CMD's tree only, leaves CMD its stdout, and exits with CMD's status", async () => {
      const tag = uniqueTag('run');
      const outside = uniqueTag('outside');
      const command = start(['--', 'sh', '-c', `echo out; /bin/true ${tag}; sh -c '/bin/echo ${tag}-nested >/dev/null'; exit 3`]);
      // A process outside CMD's tree, during the run.
      const other = startCommand('/bin/sh', ['-c', `for i in 1 2 3 4 5; do /bin/true ${outside}; /bin/sleep 0.05; done`], {});
      const { code } = await command.exited;
      await other.exited;
      expect(code, command.stderr()).toBe(3);
      expect(command.lines).toEqual(['out']);
      const stderr = command.stderr();
      expect(stderr).toMatch(/^PCOMM +PID +PPID +RET ARGS$/m);
      expect(stderr).toMatch(new RegExp(`^sh +\\d+ +\\d+ +0 sh -c 'echo out; /bin/true ${tag};`, 'm'));
      expect(stderr).toMatch(new RegExp(`^true +\\d+ +\\d+ +0 /bin/true ${tag}$`, 'm'));
      expect(stderr).toMatch(new RegExp(`^echo +\\d+ +\\d+ +0 /bin/echo ${tag}-nested$`, 'm'));
      expect(stderr).not.toContain(outside);
    });

    it('--json --output FILE: the run as NDJSON, stdout still CMD’s', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-run-'));
      try {
        const tag = uniqueTag('run-json');
        const file = join(dir, 'run.json');
        const command = start(['--json', '--exits', '--output', file, '--', 'sh', '-c', `/bin/true ${tag}; echo done`]);
        expect(await command.exited).toMatchObject({ code: 0 });
        expect(command.lines).toEqual(['done']);
        const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; argv?: string[]; pid: number });
        expect(events.filter((e) => e.kind === 'exec').map((e) => e.argv![0])).toEqual(['sh', '/bin/true']);
        expect(events.filter((e) => e.kind === 'exit')).toHaveLength(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('--tree prints the whole tree once at the end; --timeline and --trace-json write the run', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-run-'));
      try {
        const tag = uniqueTag('run-tree');
        const [html, trace] = [join(dir, 'run.html'), join(dir, 'run.trace.json')];
        const script = `sh -c '/bin/true ${tag}'; ./missing-${tag} 2>/dev/null; sh -c 'kill -TERM $$'; exit 0`;
        const command = start(['--tree', '--timeline', html, '--trace-json', trace, '--', 'sh', '-c', script]);
        expect(await command.exited).toMatchObject({ code: 0 });
        // CMD's own stderr comes first (sh's "Terminated"), then the tree and
        // the summary: no live lines, no header.
        const lines = command.stderr().trimEnd().split('\n').slice(-6);
        expect(command.stderr()).not.toContain('PCOMM');
        expect(lines.at(-1)).toMatch(/^exec-tracer: sh -c .* exited 0 after [\d.]+(µs|ms|s): 4 execs, 1 failed, 5 processes, deepest chain 3, 0 lost$/);
        const tree = lines.slice(0, -1);
        expect(tree[0]).toMatch(/^sh\(\d+\) sh -c .*\[exit 0, [\d.]+(µs|ms|s)\]$/);
        expect(tree).toContainEqual(expect.stringMatching(new RegExp(`^│  └─ true\\(\\d+\\) /bin/true ${tag}  \\[exit 0, `)));
        expect(tree).toContainEqual(expect.stringMatching(new RegExp(`^├─ sh\\(\\d+\\) \\(fork of sh\\)  \\[exec ./missing-${tag} failed: ENOENT, exit 127, `)));
        expect(tree).toContainEqual(expect.stringMatching(/^└─ sh\(\d+\) sh -c 'kill -TERM \$\$'  \[killed by SIGTERM, /));
        expect(tree).toHaveLength(5);
        expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
        const events = (JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: { ph: string }[] }).traceEvents;
        expect(events.filter((e) => e.ph === 'X')).toHaveLength(5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('Ctrl-C reaches CMD once, as without the tracer, and the run ends with its status', async () => {
      // CMD counts its SIGINTs, and exits with the count once it has one.
      const script = 'n=0; trap "n=\\$((n+1))" INT; echo ready; while [ $n -eq 0 ]; do /bin/sleep 0.05; done; /bin/sleep 0.3; exit $((40+n))';
      const command = start(['--', 'sh', '-c', script], true);
      await command.line((l) => l === 'ready', 20_000);
      // What a terminal does: SIGINT to the whole foreground process group.
      process.kill(-command.proc.pid!, 'SIGINT');
      const { code } = await command.exited;
      expect(code, command.stderr()).toBe(41);
      expect(command.stderr()).toMatch(/^exec-tracer: sh -c .* exited 41 after [\d.]+(µs|ms|s): /m);
    });

    it('passes SIGTERM on to CMD, and gives 128 + 15 when it dies of it', async () => {
      const command = start(['--', 'sh', '-c', 'echo ready; while :; do /bin/sleep 0.05; done']);
      await command.line((l) => l === 'ready', 20_000);
      command.proc.kill('SIGTERM');
      const { code } = await command.exited;
      expect(code, command.stderr()).toBe(143);
      expect(command.stderr()).toMatch(/killed by SIGTERM/);
    });

    it('runs nothing when tracing cannot start, and says why (exit 1)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-run-'));
      try {
        const marker = join(dir, 'ran');
        const command = start(['-c', `/no-such-cgroup-${process.pid}`, '--', 'touch', marker]);
        const { code } = await command.exited;
        expect(code).toBe(1);
        expect(command.stderr()).toMatch(/no-such-cgroup/);
        expect(existsSync(marker)).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses -- without a command, and with --top, --descendants or --duration (exit 2)', async () => {
      for (const args of [['--'], ['--top', '--', 'ls'], ['--descendants', '1', '--', 'ls'], ['--duration', '1', '--', 'ls']]) {
        const command = start(args);
        expect((await command.exited).code, args.join(' ')).toBe(2);
      }
    });
  });
}
