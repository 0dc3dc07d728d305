// SPDX-License-Identifier: MIT
//
// Every option of `new ExecTracer(options)` as a user passes it: no binding
// injected, so the package loads its own addon and start() walks the path
// every user walks. Each option alone, then a realistic combination, goes
// through construct -> start -> a real exec -> stop, and each case checks
// that the option took effect on that exec, not only that one arrived.
// (`redact` failed here for every user while the suites injected the
// binding and skipped this path.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_REDACTIONS,
  ExecTracer,
  ExecTracerError,
  type ExecEvent,
  type ExecFailedEvent,
  type ExecTracerOptions,
  type ExitEvent,
  type ForkEvent,
} from '../../lib/index.js';
import { eventually, kernel, ownCgroup, patience, realBinding, run, uniqueTag } from './kernel.js';

interface Seen {
  execs: ExecEvent[];
  exits: ExitEvent[];
  forks: ForkEvent[];
  failed: ExecFailedEvent[];
  errors: Error[];
  closes: number;
}

const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Builds a tracer as a user does, starts it, runs `act` (which makes the
 * execs tagged `tag`), waits until `done` holds for what arrived, and stops.
 * Keeps only the events that carry the tag (or belong to a tagged process).
 */
async function traceOne(
  options: ExecTracerOptions,
  tag: string,
  act: () => Promise<unknown>,
  done: (seen: Seen) => boolean = (seen) => seen.execs.length > 0,
): Promise<{ seen: Seen; tracer: ExecTracer }> {
  const tracer = new ExecTracer(options);
  const seen: Seen = { execs: [], exits: [], forks: [], failed: [], errors: [], closes: 0 };
  const pids = new Set<number>();
  tracer.on('exec', (e) => {
    if (e.rawArgv.some((a) => a.includes(tag))) {
      pids.add(e.pid);
      seen.execs.push(e);
    }
  });
  tracer.on('exit', (e) => {
    if (pids.has(e.pid)) seen.exits.push(e);
  });
  tracer.on('fork', (e) => seen.forks.push(e));
  tracer.on('execFailed', (e) => {
    if (e.rawArgv.some((a) => a.includes(tag))) seen.failed.push(e);
  });
  tracer.on('error', (e) => seen.errors.push(e));
  tracer.on('close', () => seen.closes++);
  await tracer.start();
  try {
    await act();
    await eventually(() => done(seen), patience(5000));
  } finally {
    await tracer.stop();
  }
  expect(seen.errors).toEqual([]);
  expect(seen.closes).toBe(1);
  expect(tracer.stats().lost).toBe(0);
  return { seen, tracer };
}

/** One exec of /bin/true (or `file`) carrying `tag`, with `env` as its whole environment. */
const exec = (tag: string, env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin' }, file = '/bin/true', args: string[] = []) =>
  run(file, [tag, ...args], { env });

describe.skipIf(!kernel)('every option through new ExecTracer(options), on the real kernel', () => {
  it('{}: an exec with its argv and context, and its exit', async () => {
    const tag = uniqueTag('opt-none');
    const { seen, tracer } = await traceOne({}, tag, () => exec(tag), (s) => s.exits.length > 0);
    const [e] = seen.execs as [ExecEvent];
    expect(e.argv).toEqual(['/bin/true', tag]);
    expect(e.exe).toMatch(/\/true$/);
    expect(e.cwd).toBe(process.cwd());
    expect(e.env).toEqual({});
    expect(seen.exits).toHaveLength(1);
    expect(tracer.processes).toBeUndefined();
  });

  it('no options at all (undefined)', async () => {
    const tag = uniqueTag('opt-undefined');
    const tracer = new ExecTracer();
    const seen: ExecEvent[] = [];
    tracer.on('exec', (e) => e.argv.includes(tag) && seen.push(e));
    await tracer.start();
    await exec(tag);
    await eventually(() => seen.length > 0, patience(5000));
    await tracer.stop();
    expect(seen).toHaveLength(1);
  });

  it('argvLimit: cuts argv at that many bytes and says so', async () => {
    const tag = uniqueTag('opt-argv');
    const { seen } = await traceOne({ argvLimit: 64 }, tag, () => exec(tag, undefined, '/bin/true', ['x'.repeat(200)]));
    const [e] = seen.execs as [ExecEvent];
    expect(e.argvTruncated).toBe(true);
    expect(e.argv.join('\0').length).toBeLessThanOrEqual(64);
    expect(e.argvTotalBytes).toBeGreaterThan(200);
  });

  it('ringBufferSize: a smaller ring still delivers, and a size below the page size is refused at start()', async () => {
    const tag = uniqueTag('opt-ring');
    const { seen } = await traceOne({ ringBufferSize: 1 << 20 }, tag, () => exec(tag));
    expect(seen.execs).toHaveLength(1);
    // Valid before the addon is loaded (a power of two >= 4096), so the
    // constructor takes it; start() knows the real page size.
    const page = realBinding().pageSize;
    if (page > 4096) {
      const small = new ExecTracer({ ringBufferSize: page / 2, argvLimit: 0, context: false });
      await expect(small.start()).rejects.toBeInstanceOf(RangeError);
    }
  });

  it('maxLatencyMs: 0 wakes the reader per record; 50 drains on a timer', async () => {
    for (const maxLatencyMs of [0, 50]) {
      const tag = uniqueTag(`opt-latency${maxLatencyMs}`);
      const { seen } = await traceOne({ maxLatencyMs }, tag, () => exec(tag));
      expect(seen.execs).toHaveLength(1);
    }
  });

  it('signal: aborting stops the tracer; an aborted signal refuses start() with EABORTED', async () => {
    const tag = uniqueTag('opt-signal');
    const controller = new AbortController();
    const tracer = new ExecTracer({ signal: controller.signal });
    const seen: ExecEvent[] = [];
    tracer.on('exec', (e) => e.argv.includes(tag) && seen.push(e));
    const closed = once(tracer, 'close');
    await tracer.start();
    await exec(tag);
    await eventually(() => seen.length > 0, patience(5000));
    controller.abort();
    await closed;
    expect(seen).toHaveLength(1);
    await expect(tracer.start()).rejects.toMatchObject({ code: 'ECLOSED' });

    const aborted = new ExecTracer({ signal: AbortSignal.abort('no thanks') });
    await expect(aborted.start()).rejects.toMatchObject({ code: 'EABORTED' });
  });

  it("attach: 'auto' and 'tp_btf' attach the BTF tracepoint", async () => {
    for (const attach of ['auto', 'tp_btf'] as const) {
      const tag = uniqueTag(`opt-attach-${attach}`);
      const { seen, tracer } = await traceOne({ attach }, tag, () => exec(tag));
      expect(seen.execs).toHaveLength(1);
      expect(tracer.attachKind).toBe('tp_btf');
    }
  });

  it("attach: 'tracepoint' attaches the classic one where tracefs is mounted, and says why not elsewhere", async () => {
    // The classic tracepoint with a real exec under a mounted tracefs is in
    // lifecycle.kernel.test.ts (a private mount namespace): this process
    // never mounts tracefs for the host.
    const tag = uniqueTag('opt-attach-tracepoint');
    const mounted = (await run('/bin/sh', ['-c', 'test -e /sys/kernel/tracing/events/sched/sched_process_exec/id'])).code === 0;
    if (mounted) {
      const { seen, tracer } = await traceOne({ attach: 'tracepoint', exits: false }, tag, () => exec(tag));
      expect(seen.execs).toHaveLength(1);
      expect(tracer.attachKind).toBe('tracepoint');
    } else {
      const tracer = new ExecTracer({ attach: 'tracepoint' });
      const error = await tracer.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecTracerError);
      expect(error).toMatchObject({ code: 'ENOTRACEFS' });
    }
  });

  it('context: false collects no paths; { cwd: false } drops only the working directory', async () => {
    let tag = uniqueTag('opt-context-off');
    let { seen } = await traceOne({ context: false }, tag, () => exec(tag));
    let e = seen.execs[0]!;
    expect(e.argv).toEqual(['/bin/true', tag]);
    expect(e.exe).toBe('');
    expect(e.cwd).toBe('');
    expect(e.cgroup).toBe('');

    tag = uniqueTag('opt-context-cwd');
    ({ seen } = await traceOne({ context: { cwd: false } }, tag, () => exec(tag)));
    e = seen.execs[0]!;
    expect(e.cwd).toBe('');
    expect(e.exe).toMatch(/\/true$/);
    expect(e.cgroup).toBe(ownCgroup());
  });

  it('env: true keeps every variable; an allow-list keeps only the names it lists', async () => {
    let tag = uniqueTag('opt-env-all');
    const env = { PATH: '/usr/bin:/bin', ET_ONE: 'one', ET_TWO: 'two' };
    let { seen } = await traceOne({ env: true }, tag, () => exec(tag, env));
    expect(seen.execs[0]!.env).toEqual(env);

    tag = uniqueTag('opt-env-list');
    ({ seen } = await traceOne({ env: ['ET_TWO', 'ET_ABSENT'] }, tag, () => exec(tag, env)));
    expect(seen.execs[0]!.env).toEqual({ ET_TWO: 'two' });
  });

  it('envLimit: cuts the environment at that many bytes and says so', async () => {
    const tag = uniqueTag('opt-envlimit');
    const { seen } = await traceOne({ env: true, envLimit: 32 }, tag, () =>
      exec(tag, { PATH: '/usr/bin:/bin', ET_BIG: 'y'.repeat(500) }),
    );
    const e = seen.execs[0]!;
    expect(e.envTruncated).toBe(true);
    expect(e.envTotalBytes).toBeGreaterThan(500);
    // What fits is kept (a cut last value, flagged by envTruncated), never more.
    expect(Buffer.byteLength(e.rawEnv.map((v) => v.toString('latin1')).join('\0'))).toBeLessThanOrEqual(32);
  });

  it('exits: false reports no exit', async () => {
    const tag = uniqueTag('opt-exits');
    const { seen, tracer } = await traceOne({ exits: false }, tag, () => exec(tag));
    expect(seen.execs).toHaveLength(1);
    expect(seen.exits).toEqual([]);
    expect(tracer.stats().exits).toBe(0);
  });

  it('forks: true reports the fork that made the process', async () => {
    const tag = uniqueTag('opt-forks');
    let pid = 0;
    const { seen } = await traceOne(
      { forks: true },
      tag,
      async () => (pid = (await exec(tag)).pid),
      (s) => s.execs.length > 0 && s.forks.some((f) => f.pid === pid),
    );
    const fork = seen.forks.find((f) => f.pid === pid);
    expect(fork?.ppid).toBe(process.pid);
    expect(seen.execs[0]!.processId).toBe(fork?.processId);
  });

  it('failedExecs: true reports an exec that fails, with its errno', async () => {
    const tag = uniqueTag('opt-failed');
    const missing = join(dir, `missing-${tag}`);
    const { seen } = await traceOne(
      { failedExecs: true },
      tag,
      () => run('/bin/sh', ['-c', `exec "${missing}" ${tag}`]),
      (s) => s.failed.some((f) => f.filename === missing),
    );
    const failed = seen.failed.find((f) => f.filename === missing)!;
    expect(failed.code).toBe('ENOENT');
    expect(failed.argv).toEqual([missing, tag]);
  });

  it('redact: true hides the secrets DEFAULT_REDACTIONS know in argv, env and toJSON()', async () => {
    const tag = uniqueTag('opt-redact');
    const { seen } = await traceOne({ redact: true, env: ['DB_PASSWORD'] }, tag, () =>
      exec(tag, { PATH: '/usr/bin:/bin', DB_PASSWORD: 'hunter2' }, '/bin/true', ['--password=hunter2']),
    );
    const e = seen.execs[0]!;
    expect(e.argv).toEqual(['/bin/true', tag, '--password=***']);
    expect(e.env).toEqual({ DB_PASSWORD: '***' });
    expect(JSON.stringify(e)).not.toContain('hunter2');
  });

  it('redact: a list of patterns, the defaults and the user\'s own', async () => {
    const tag = uniqueTag('opt-redact-list');
    const { seen } = await traceOne({ redact: [...DEFAULT_REDACTIONS, /mine=(.+)/] }, tag, () =>
      exec(tag, undefined, '/bin/true', ['--token=abc123', 'mine=s3cret']),
    );
    expect(seen.execs[0]!.argv).toEqual(['/bin/true', tag, '--token=***', 'mine=***']);
  });

  it('processTable: the live table knows the process and its ancestry', async () => {
    const tag = uniqueTag('opt-table');
    const { seen, tracer } = await traceOne({ processTable: true }, tag, () => exec(tag, undefined, '/bin/sh', ['-c', 'true']));
    const e = seen.execs[0]!;
    expect(e.ancestors().map((p) => p.pid)).toContain(process.pid);
    expect(tracer.processes?.get(process.pid)?.pid).toBe(process.pid);
  });

  it('exitGraceMs: a process that exited stays resolvable that long, and no longer', async () => {
    for (const exitGraceMs of [60_000, 0]) {
      const tag = uniqueTag(`opt-grace${exitGraceMs}`);
      let pid = 0;
      const { seen, tracer } = await traceOne(
        { processTable: true, exitGraceMs },
        tag,
        async () => (pid = (await exec(tag)).pid),
        (s) => s.exits.some((e) => e.pid === pid),
      );
      expect(seen.exits).toHaveLength(1);
      const exited = tracer.processes!.byProcessId(seen.execs[0]!.processId);
      if (exitGraceMs > 0) expect(exited).toMatchObject({ pid, exited: true, argv: ['/bin/true', tag] });
      else expect(await eventually(() => tracer.processes!.byProcessId(seen.execs[0]!.processId) === undefined, 1000)).toBe(true);
      expect(tracer.processes!.get(pid)).toBeUndefined();
    }
  });

  it('filter: keeps only what it names, in the kernel', async () => {
    const tag = uniqueTag('opt-filter');
    // comm 'true' is kept, 'echo' is not: both carry the tag.
    const { seen, tracer } = await traceOne({ filter: { comms: ['true'] } }, tag, async () => {
      await exec(tag, undefined, '/bin/echo');
      await exec(tag);
    });
    expect(seen.execs.map((e) => e.comm)).toEqual(['true']);
    expect(tracer.stats().filtered).toBeGreaterThan(0);
  });

  it('events({ highWaterMark, signal }): for await starts the tracer; the signal ends the loop, not the tracer', async () => {
    const tag = uniqueTag('opt-events');
    const tracer = new ExecTracer({ exits: false });
    const controller = new AbortController();
    const got: ExecEvent[] = [];
    const loop = (async () => {
      for await (const e of tracer.events({ highWaterMark: 2, signal: controller.signal })) {
        if (!e.argv.includes(tag)) continue;
        got.push(e);
        if (got.length === 3) controller.abort();
      }
    })();
    await eventually(() => tracer.attachKind !== undefined, patience(5000));
    for (let i = 0; i < 3; i++) await exec(tag);
    await loop;
    expect(got).toHaveLength(3);
    // Still tracing: a later exec arrives to a listener.
    const later = uniqueTag('opt-events-later');
    const after: ExecEvent[] = [];
    tracer.on('exec', (e) => e.argv.includes(later) && after.push(e));
    await exec(later);
    await eventually(() => after.length > 0, patience(5000));
    await tracer.stop();
    expect(after).toHaveLength(1);
  });

  it('await using: leaving the scope stops the tracer', async () => {
    const tag = uniqueTag('opt-using');
    let closes = 0;
    const seen: ExecEvent[] = [];
    {
      await using tracer = new ExecTracer();
      tracer.on('close', () => closes++);
      tracer.on('exec', (e) => e.argv.includes(tag) && seen.push(e));
      await tracer.start();
      await exec(tag);
      await eventually(() => seen.length > 0, patience(5000));
    }
    expect(closes).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('a realistic combination: redact, env, processTable, failedExecs, filter, context and signal together', async () => {
    const tag = uniqueTag('opt-combined');
    const controller = new AbortController();
    // Held on its stdin until the tracer is attached, then it execs.
    const child = spawn('/bin/sh', ['-c', `read _; /bin/true ${tag} --password=hunter2; exec /nonexistent/${tag} ${tag}`], {
      env: { PATH: '/usr/bin:/bin', DB_PASSWORD: 'hunter2' },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    try {
      const { seen } = await traceOne(
        {
          redact: true,
          env: ['PATH', 'DB_PASSWORD'],
          processTable: true,
          failedExecs: true,
          filter: { descendantsOf: [child.pid!] },
          context: { cwd: false },
          signal: controller.signal,
        },
        tag,
        async () => {
          await exec(tag); // outside the subtree: filtered out in the kernel
          const exited = once(child, 'exit');
          child.stdin!.end('go\n');
          await exited;
        },
        (s) => s.execs.length > 0 && s.failed.length > 0,
      );
      expect(seen.execs).toHaveLength(1);
      const e = seen.execs[0]!;
      expect(e.argv).toEqual(['/bin/true', tag, '--password=***']);
      expect(e.env).toEqual({ PATH: '/usr/bin:/bin', DB_PASSWORD: '***' });
      expect(e.cwd).toBe('');
      expect(e.exe).toMatch(/\/true$/);
      expect(e.ancestors().map((p) => p.pid)).toContain(child.pid);
      expect(JSON.stringify(e)).not.toContain('hunter2');
      expect(seen.failed).toHaveLength(1);
      expect(seen.failed[0]).toMatchObject({ code: 'ENOENT', filename: `/nonexistent/${tag}`, pid: child.pid });
    } finally {
      controller.abort();
      child.kill('SIGKILL');
    }
  });
});
