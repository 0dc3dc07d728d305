// SPDX-License-Identifier: MIT
//
// Real execs through the real kernel: every field, every exec path, a storm,
// truncation. The kernel sees every process on the host, so each test tags
// its execs and looks only at events carrying its tag.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecTracer, type ExecEvent, type ExecTracerOptions } from '../../lib/index.js';
import { pumpDeps } from '../helpers/pump.js';
import { fixture, kernel, realBinding, run, scaled, traceDuring, uniqueTag } from './kernel.js';

function withTag(events: ExecEvent[], tag: string): ExecEvent[] {
  return events.filter((e) => e.argv.some((a) => a.includes(tag)));
}

const scratch = mkdtempSync(join(tmpdir(), 'exec-tracer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!kernel)('the real kernel', () => {
  it('delivers each exec exactly once with the right ids, names and arguments', async () => {
    const tag = uniqueTag('fields');
    const before = realBinding().bootTimeNs();
    const started = Date.now();
    let echo!: Awaited<ReturnType<typeof run>>;
    let nobody!: Awaited<ReturnType<typeof run>>;
    let bytes!: Awaited<ReturnType<typeof run>>;
    const { events } = await traceDuring(async () => {
      echo = await run('/bin/echo', [tag, 'with space', '', 'last']);
      nobody = await run('/bin/true', [`${tag}-nobody`], { uid: 65534, gid: 65534 });
      // Bytes that are not UTF-8 can only be passed by something that takes
      // them raw: the fixture turns hex into arguments.
      bytes = await run(fixture('exec-paths'), [
        'hexargs', '/bin/echo', Buffer.from(`${tag}-bytes`).toString('hex'), 'fffe41', '',
      ]);
    });
    const after = realBinding().bootTimeNs();

    const mine = withTag(events, tag);
    const e = mine.filter((x) => x.pid === echo.pid);
    expect(e).toHaveLength(1);
    const ev = e[0]!;
    expect(ev.comm).toBe('echo');
    expect(ev.filename).toBe('/bin/echo');
    expect(ev.argv).toEqual(['/bin/echo', tag, 'with space', '', 'last']);
    expect(ev.argc).toBe(5);
    expect(ev.argvTruncated).toBe(false);
    expect(ev.argvTotalBytes).toBe(Buffer.byteLength(ev.argv.join('\0') + '\0'));
    expect(ev.tid).toBe(echo.pid);
    expect(ev.ppid).toBe(process.pid);
    expect(ev.nsPid).toBe(echo.pid); // the tests run in the initial pid namespace
    expect(ev.uid).toBe(0);
    expect(ev.gid).toBe(0);
    expect(ev.cgroupId).toBeGreaterThan(0n);
    expect(ev.bootNs).toBeGreaterThanOrEqual(before);
    expect(ev.bootNs).toBeLessThanOrEqual(after);
    expect(ev.startBootNs).toBeLessThanOrEqual(ev.bootNs);
    expect(Math.abs(ev.time.getTime() - started)).toBeLessThan(10_000);
    expect(ev.processId).toBe(`${echo.pid}:${ev.startBootNs}`);
    expect(ev.execId).toMatch(new RegExp(`^${echo.pid}:${ev.startBootNs}:[1-9]\\d*$`));
    expect(ev.parentProcessId).toBe(`${process.pid}:${ev.parentStartBootNs}`);
    expect(ev.parentExecId).toMatch(new RegExp(`^${process.pid}:${ev.parentStartBootNs}:[1-9]\\d*$`));

    const n = mine.filter((x) => x.pid === nobody.pid);
    expect(n).toHaveLength(1);
    expect(n[0]!.uid).toBe(65534);
    expect(n[0]!.gid).toBe(65534);
    expect(n[0]!.comm).toBe('true');

    // The fixture itself execs once (argv holds the hex, not the tag) and then
    // becomes echo: one event for echo, with the raw bytes intact.
    const b = mine.filter((x) => x.pid === bytes.pid && x.comm === 'echo');
    expect(b).toHaveLength(1);
    expect(b[0]!.rawArgv[2]).toEqual(Buffer.from([0xff, 0xfe, 0x41]));
    expect(b[0]!.argv[2]).toBe('\ufffd\ufffdA');
    expect(b[0]!.argv[3]).toBe('');
  });

  it('sees execveat, fexecve, an exec from a non-leader thread and a #! script', async () => {
    const tag = uniqueTag('paths');
    const paths = fixture('exec-paths');
    const script = join(scratch, 'a-script.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o755);
    const runs: Record<string, Awaited<ReturnType<typeof run>>> = {};
    const { events } = await traceDuring(async () => {
      for (const mode of ['execveat', 'fexecve', 'thread']) {
        runs[mode] = await run(paths, [mode, '/bin/echo', `${tag}-${mode}`]);
      }
      runs.script = await run(script, [`${tag}-script`]);
    });

    const find = (suffix: string) =>
      events.filter((e) => e.argv.includes(`${tag}-${suffix}`) && e.argv[0] !== paths);

    for (const mode of ['execveat', 'fexecve']) {
      const got = find(mode);
      expect(got, `${mode} (exit ${runs[mode]!.code}: ${runs[mode]!.stderr.trim()})`).toHaveLength(1);
      expect(got[0]!.pid).toBe(runs[mode]!.pid);
      expect(got[0]!.argv).toEqual(['/bin/echo', `${tag}-${mode}`]);
      // An exec through a file descriptor has no path: the kernel names it.
      expect(got[0]!.filename).toMatch(/^\/dev\/fd\/\d+$/);
    }

    const thread = find('thread');
    expect(thread).toHaveLength(1);
    const tid = Number(/tid=(\d+)/.exec(runs.thread!.stderr)![1]);
    expect(thread[0]!.pid).toBe(runs.thread!.pid);
    expect(tid).not.toBe(runs.thread!.pid);
    expect(thread[0]!.tid).toBe(tid);

    const viaScript = find('script');
    expect(viaScript).toHaveLength(1);
    expect(viaScript[0]!.pid).toBe(runs.script!.pid);
    expect(viaScript[0]!.filename).toBe(script);
    expect(viaScript[0]!.argv).toEqual(['/bin/sh', script, `${tag}-script`]);
    expect(viaScript[0]!.comm).toBe(basename(script).slice(0, 15));
  });

  const perSpawner = scaled(500, 10);
  // Under Bun the pump waits on a thread (native/ring_watch.h): the same
  // storm and quiet spells through it, under Node.
  // (undefined: lib/'s choice, or EXEC_TRACER_TEST_PUMP's.)
  for (const pump of [undefined, 'thread'] as const) {
    const through = pump === undefined ? '' : ` (the ${pump} pump)`;
    it(`delivers every exec of a ${4 * perSpawner}-exec storm from 4 spawners, none twice, none lost${through}`, async () => {
      const tag = uniqueTag('storm');
      const storm = fixture('storm');
      const total = 4 * perSpawner;
      let out!: Awaited<ReturnType<typeof run>>;
      const { events, tracer } = await traceDuring(async () => {
        out = await run(storm, ['4', String(perSpawner), tag]);
      }, {}, { deps: pumpDeps(pump) });
      expect(out.stdout).toContain(`spawned=${total} failed=0`);
      const seen = new Map<string, number>();
      for (const e of events) {
        const arg = e.argv[1];
        if (e.comm === 'true' && arg?.startsWith(`${tag}-`)) seen.set(arg, (seen.get(arg) ?? 0) + 1);
      }
      expect(seen.size).toBe(total);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      for (let s = 0; s < 4; s++) for (let i = 0; i < perSpawner; i++) expect(seen.has(`${tag}-${s}-${i}`)).toBe(true);
      expect(tracer.stats().lost).toBe(0);
      expect(tracer.stats().events).toBeGreaterThanOrEqual(total);
    });

    it(`delivers execs that follow quiet spells while running, though an idle tracer stops its timer${through}`, async () => {
      // An idle tracer has no drain timer: the program must wake it for the
      // first record. Without that wake these would surface only at stop().
      const tracer = new ExecTracer({}, pumpDeps(pump));
      const arrived = new Map<string, () => void>();
      tracer.on('exec', (e) => {
        for (const [tag, resolve] of arrived) if (e.argv.includes(tag)) resolve();
      });
      await tracer.start();
      try {
        for (let round = 0; round < 5; round++) {
          await new Promise((r) => setTimeout(r, 150)); // several empty ticks: idle
          const tag = uniqueTag(`quiet${round}`);
          const seen = new Promise<void>((resolve) => arrived.set(tag, resolve));
          await run('/bin/true', [tag]);
          const timedOut = Symbol('timeout');
          const outcome = await Promise.race([seen, new Promise((r) => setTimeout(() => r(timedOut), 2000))]);
          expect(outcome, `round ${round}`).not.toBe(timedOut);
        }
      } finally {
        await tracer.stop();
      }
    });
  }

  it('counts every exec it could not deliver when the ring overflows: none vanishes', async () => {
    // spawnSync blocks the event loop, so nothing drains the ring while the
    // execs arrive: the kernel must drop, and must count each drop. A long
    // tag makes each record ~1 KiB, so the smallest ring the options allow
    // for this argvLimit without the context's paths (32 KiB) holds ~30 of
    // them, and even the kernel matrix's scaled-down run (80 execs)
    // overflows it.
    const tag = `${uniqueTag('overflow')}-${'o'.repeat(800)}`;
    const perSpawner = scaled(1000, 40);
    const total = 2 * perSpawner;
    const { events, tracer } = await traceDuring(
      async () => {
        const out = spawnSync(fixture('storm'), ['2', String(perSpawner), tag], { encoding: 'utf8' });
        expect(out.stdout).toContain(`spawned=${total} failed=0`);
      },
      { argvLimit: 1024, ringBufferSize: 32768, context: false },
    );
    const seen = new Map<string, number>();
    for (const e of events) {
      const arg = e.argv[1];
      if (arg?.startsWith(`${tag}-`)) seen.set(arg, (seen.get(arg) ?? 0) + 1);
    }
    const { lost } = tracer.stats();
    expect(lost).toBeGreaterThan(0);
    expect(seen.size).toBeLessThan(total);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // Other processes' drops can only add to `lost`; none of ours may vanish.
    expect(seen.size + lost).toBeGreaterThanOrEqual(total);
  });

  it('truncates argv at the limit and reports the original length', async () => {
    const tag = uniqueTag('long');
    const long = 'x'.repeat(20_000);
    let child!: Awaited<ReturnType<typeof run>>;
    const { events } = await traceDuring(
      async () => {
        child = await run('/bin/true', [tag, long]);
      },
      { argvLimit: 8192 },
    );
    const got = events.filter((e) => e.pid === child.pid);
    expect(got).toHaveLength(1);
    const ev = got[0]!;
    expect(ev.argvTruncated).toBe(true);
    expect(ev.argvTotalBytes).toBe(`/bin/true\0${tag}\0${long}\0`.length);
    expect(ev.argc).toBe(3);
    expect(ev.argv[0]).toBe('/bin/true');
    expect(ev.argv[1]).toBe(tag);
    // exactly the limit was kept, and the cut argument is the last one
    expect(ev.argv).toHaveLength(3);
    expect(ev.argv[2]).toBe('x'.repeat(8192 - `/bin/true\0${tag}\0`.length));
  });

  it('keeps argv whole above 32 KiB when the limit allows it', async () => {
    // Per-CPU array values are capped at 32 KiB; the scratch map is not.
    const tag = uniqueTag('big');
    const big = 'y'.repeat(40_000);
    let child!: Awaited<ReturnType<typeof run>>;
    const { events } = await traceDuring(
      async () => {
        child = await run('/bin/true', [tag, big]);
      },
      { argvLimit: 65536, ringBufferSize: 1 << 20 },
    );
    const ev = events.find((e) => e.pid === child.pid)!;
    expect(ev.argvTruncated).toBe(false);
    expect(ev.argv).toEqual(['/bin/true', tag, big]);
  });

  it('falls back to the classic tracepoint only when asked, and says why it cannot attach', async () => {
    // tracefs is not mounted on these machines; we never mount it for the user.
    const mounted = existsSync('/sys/kernel/tracing/events/sched/sched_process_exec/id');
    const tracer = new ExecTracer({ attach: 'tracepoint' });
    if (mounted) {
      await tracer.start();
      expect(tracer.attachKind).toBe('tracepoint');
      await tracer.stop();
    } else {
      await expect(tracer.start()).rejects.toMatchObject({ code: 'ENOTRACEFS', operation: 'tracefs' });
    }
  });
});
