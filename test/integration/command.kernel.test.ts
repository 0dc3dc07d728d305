// SPDX-License-Identifier: MIT
//
// traceCommand() on the real kernel: the command's own exec and a
// grandchild's in its first microsecond are seen (the child is held before
// its exec until the tracer is attached), nothing outside the command's
// tree is, the command's exit status comes back as a shell reports it, and
// a tracer that cannot start leaves the command unrun and nothing attached.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceCommand, type ExecEvent, type TracerEvent } from 'exec-tracer';
import { describe, expect, it } from 'vitest';
import { fixture, kernel, ourPrograms, run, scaled, settledKernelObjects, uniqueTag } from './kernel.js';

async function collect(events: AsyncIterable<TracerEvent>): Promise<TracerEvent[]> {
  const out: TracerEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe.skipIf(!kernel)('traceCommand', () => {
  it("sees the command's own exec first, and a grandchild's exec in its first microsecond", async () => {
    const tag = uniqueTag('cmd');
    // storm vforks and execs at once: its child's exec comes microseconds
    // after the command's own.
    const cmd = traceCommand(fixture('storm'), ['1', '3', tag, '/bin/true'], { forks: true, stdio: 'ignore' });
    const outside = uniqueTag('outside');
    const [events] = await Promise.all([
      collect(cmd),
      cmd.start().then(() => run('/bin/true', [outside])),
    ]);
    const { status } = await cmd.exited;
    expect(status).toBe(0);
    const execs = events.filter((e): e is ExecEvent => e.kind === 'exec');
    expect(execs[0]!.pid).toBe(cmd.child.pid);
    expect(execs[0]!.argv).toEqual([fixture('storm'), '1', '3', tag, '/bin/true']);
    expect(execs.slice(1).map((e) => e.argv)).toEqual([0, 1, 2].map((i) => ['/bin/true', `${tag}-0-${i}`]));
    // storm forks a spawner, which vforks each /bin/true: the command's
    // grandchildren, each exec'd in the first instant of its life.
    const forks = events.filter((e) => e.kind === 'fork');
    expect(forks).toHaveLength(4);
    const spawner = forks[0]!;
    expect(spawner.ppid).toBe(cmd.child.pid);
    for (const e of execs.slice(1)) expect(e.ppid).toBe(spawner.pid);
    // Every process's exit, the command's last.
    const exits = events.filter((e) => e.kind === 'exit');
    expect(exits).toHaveLength(5);
    expect(exits.at(-1)!.pid).toBe(cmd.child.pid);
    // Nothing outside the command's tree.
    expect(execs.some((e) => e.argv.includes(outside))).toBe(false);
    // Once the kernel has freed what was closed (an RCU grace period later).
    await settledKernelObjects();
    expect(ourPrograms()).toBe(0);
  });

  it('gives the exit status as a shell reports it: the code, or 128 + the signal', async () => {
    for (const [script, status, signal] of [
      ['exit 3', 3, null],
      ['kill -TERM $$', 143, 'SIGTERM'],
      ['kill -KILL $$', 137, 'SIGKILL'],
    ] as const) {
      const cmd = traceCommand('sh', ['-c', script], { stdio: 'ignore' });
      await cmd.start();
      expect(await cmd.exited, script).toMatchObject({ status, signal });
    }
    // Not found: the shell's 127, and no exec by the command's pid.
    const missing = traceCommand(`no-such-command-${process.pid}`, [], { failedExecs: true, stdio: 'ignore' });
    const events = await collect(missing);
    expect((await missing.exited).status).toBe(127);
    expect(events.filter((e) => e.kind === 'exec')).toEqual([]);
  });

  it('passes through its stdio and the environment given', async () => {
    const cmd = traceCommand('sh', ['-c', 'echo "$GREETING"'], { stdio: ['ignore', 'pipe', 'ignore'], commandEnv: { GREETING: 'hello', PATH: process.env.PATH } });
    let out = '';
    cmd.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await cmd.start();
    await cmd.exited;
    expect(out).toBe('hello\n');
  });

  it('leaves the command unrun, and nothing attached, when the tracer cannot start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-cmd-'));
    const marker = join(dir, 'ran');
    try {
      // A cgroup that does not exist: the filter is refused at start().
      const cmd = traceCommand('touch', [marker], { filter: { cgroups: [`/no-such-cgroup-${process.pid}`] }, stdio: 'ignore' });
      await expect(cmd.start()).rejects.toMatchObject({ name: 'ExecTracerError', code: 'EFILTER' });
      const exit = await cmd.exited;
      expect(exit.signal).toBe('SIGKILL');
      expect(existsSync(marker)).toBe(false);
      // Once the kernel has freed what was closed (an RCU grace period later).
    await settledKernelObjects();
    expect(ourPrograms()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad command, args or descendantsOf with a TypeError', () => {
    expect(() => traceCommand('', [])).toThrow(TypeError);
    expect(() => traceCommand('ls', ['-l', 3 as never])).toThrow(/args must be an array of strings/);
    expect(() => traceCommand('ls', [], { filter: { descendantsOf: [1] } })).toThrow(/descendantsOf is the command itself/);
    expect(() => traceCommand('ls', [], { stdio: ['inherit'] as never })).toThrow(/stdio/);
  });

  it('follows a deep tree to its end: every exec of a 200-process build-like run', async () => {
    const n = scaled(200, 4);
    const tag = uniqueTag('tree');
    // A shell that runs n commands, each in a subshell of its own, some nested.
    const script = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `(sh -c '/bin/true ${tag}-${i}')` : `/bin/true ${tag}-${i}`)).join('; ');
    const cmd = traceCommand('sh', ['-c', script], { stdio: 'ignore' });
    const events = await collect(cmd);
    expect((await cmd.exited).status).toBe(0);
    const seen = events.filter((e): e is ExecEvent => e.kind === 'exec' && e.argv[0] === '/bin/true').map((e) => e.argv[1]);
    expect(seen.sort()).toEqual(Array.from({ length: n }, (_, i) => `${tag}-${i}`).sort());
  });
});
