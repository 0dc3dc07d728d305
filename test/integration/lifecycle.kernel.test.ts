// SPDX-License-Identifier: MIT
//
// Nothing may stay behind in the kernel: not after many start/stop cycles,
// not when the process is killed, not when a worker thread is torn down
// without stop(). These count kernel-wide BPF objects, so this suite must not
// run beside another that loads tracers (vitest runs files one at a time).
import { realpathSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { pumpDeps } from '../helpers/pump.js';
import {
  child, eventually, kernel, kernelObjects, openFds, ownCgroup, settledKernelObjects, ourPrograms, PROGRAMS_PER_TRACER, LINKS_PER_TRACER, patience, root, run, scaled, startChild, uniqueTag,
} from './kernel.js';

describe.skipIf(!kernel)('kernel object lifecycle', () => {
  const cycles = scaled(100, 10);
  it(`returns file descriptors and kernel objects to baseline after ${cycles} start/stop cycles`, async () => {
    // The first cycle warms up lazily opened fds (the addon itself, the loader's thread pool, ...).
    const warm = new ExecTracer({}, pumpDeps());
    await warm.start();
    await warm.stop();
    const fds = openFds();
    const objects = await settledKernelObjects();

    for (let i = 0; i < cycles; i++) {
      const tracer = new ExecTracer({}, pumpDeps());
      await tracer.start();
      if (i === 0) {
        const during = kernelObjects();
        expect(during.progs).toBe(objects.progs + PROGRAMS_PER_TRACER);
        expect(during.links).toBe(objects.links + LINKS_PER_TRACER);
        expect(during.maps).toBeGreaterThan(objects.maps);
      }
      await tracer.stop();
    }

    expect(openFds()).toBe(fds);
    expect(await eventually(() => {
      const now = kernelObjects();
      return now.progs === objects.progs && now.maps === objects.maps && now.links === objects.links;
    })).toBe(true);
  });

  it('leaves no BPF program behind when the tracing process is killed with SIGKILL', async () => {
    const baseline = ourPrograms();
    const c = startChild(['hold']);
    expect(await c.next()).toBe('ready');
    expect(ourPrograms()).toBe(baseline + PROGRAMS_PER_TRACER);
    c.proc.kill('SIGKILL');
    await new Promise((r) => c.proc.once('exit', r));
    expect(await eventually(() => ourPrograms() === baseline)).toBe(true);
  });

  it('detaches and frees everything when a worker thread ends without stop()', async () => {
    const baseline = ourPrograms();
    const c = startChild(['worker']);
    try {
      expect(await c.next()).toBe('ready');
      expect(ourPrograms()).toBe(baseline + PROGRAMS_PER_TRACER);
      c.proc.stdin!.write('terminate the worker\n');
      expect(await c.next()).toBe('terminated');
      // The process is still alive: only the env cleanup hook can have freed it.
      expect(await eventually(() => ourPrograms() === baseline)).toBe(true);
      expect(c.proc.exitCode).toBeNull();
    } finally {
      c.proc.kill('SIGKILL');
    }
  });

  it('surfaces an exception thrown by a listener as an uncaught exception', async () => {
    const c = startChild(['throw', uniqueTag('throw')]);
    expect(await c.next()).toBe('uncaught listener-boom');
    await new Promise((r) => c.proc.once('exit', r));
    expect(c.proc.exitCode).toBe(0);
  });

  it('traces through the classic tracepoint where tracefs is mounted', async () => {
    // A private mount namespace: the host's mounts stay as they were.
    const tag = uniqueTag('tracefs');
    const result = await run('unshare', [
      '--mount', '--propagation', 'private', 'sh', '-c',
      `mount -t tracefs tracefs /sys/kernel/tracing && exec "${process.execPath}" ${tsEntryArgs(child).map((a) => `"${a}"`).join(' ')} exec tracepoint ${tag}`,
    ], { cwd: root });
    const [seen, context] = result.stdout.trim().split('\n');
    expect(seen).toBe('seen tracepoint');
    expect(result.code).toBe(0);
    // The classic tracepoint has no bprm: the interpreter is unknown (absent),
    // the rest of the context is read from the task as with tp_btf.
    expect(JSON.parse(context!.replace(/^context /, ''))).toEqual({
      exe: realpathSync('/bin/echo'),
      exeInode: String(statSync(realpathSync('/bin/echo')).ino),
      cwd: root,
      interpreter: null,
      cgroup: ownCgroup(),
      env: { ET_TAG: tag },
    });
  });
});
