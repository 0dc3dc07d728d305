// SPDX-License-Identifier: MIT
//
// Where an exec ran and what it was given: cgroups the test makes in the v2
// hierarchy, named as container runtimes name theirs, and environments it
// hands to a child, each against what the test set up. The cgroup cases also
// remove the process and its cgroup before the tracer reads the ring: the
// path must come from the kernel at the exec, not from a look-up after it.
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBatch, type ExecEvent, type ExecTracerOptions } from '../../lib/index.js';
import { nativeOptions, resolveOptions } from '../../lib/options.js';
import { cgroup2Mount, kernel, realBinding, run, uniqueTag } from './kernel.js';

/**
 * Traces `body` through the addon itself, with the ring paused: every record
 * stays in the kernel until `body` is done, so whatever `body` removes is
 * gone before a single record is read. Returns the raw bytes and the events.
 */
async function traceHeld(
  body: () => Promise<void>,
  options: ExecTracerOptions = {},
): Promise<{ bytes: Buffer; events: ExecEvent[] }> {
  const binding = realBinding();
  const resolved = resolveOptions(options);
  const native = await binding.open(nativeOptions(resolved));
  const batches: Buffer[] = [];
  let failure: unknown;
  native.start(
    (batch) => batches.push(Buffer.from(batch)),
    (error) => (failure = error),
  );
  native.pause();
  try {
    await body();
  } finally {
    native.close(); // hands over everything still in the ring
  }
  expect(failure).toBeUndefined();
  expect(native.dropped()).toBe(0);
  const bytes = Buffer.concat(batches);
  const envNames = Array.isArray(resolved.env) ? resolved.env : undefined;
  const { events, error } = decodeBatch(bytes, { epochOffsetNs: 0n }, { envNames });
  expect(error).toBeUndefined();
  return { bytes, events };
}

/** The exec of /bin/true that got `tag`. */
function only(events: ExecEvent[], tag: string): ExecEvent {
  const found = events.filter((e) => e.argv[1] === tag && e.comm === 'true');
  expect(found, `events tagged ${tag}`).toHaveLength(1);
  return found[0]!;
}

async function ok(file: string, args: string[]): Promise<void> {
  const result = await run(file, args);
  expect(result.code, `${file} ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

/** Runs /bin/true `tag` inside the cgroup directory `dir` (a shell moves itself there, then execs). */
function trueIn(dir: string, tag: string): Promise<void> {
  return ok('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec /bin/true "$2"', 'sh', dir, tag]);
}

const hex = (seed: string) => (seed.repeat(64).replace(/[^0-9a-f]/g, '0') + '0'.repeat(64)).slice(0, 64);

describe.skipIf(!kernel)('where the exec ran, on the real kernel', () => {
  const made: string[] = [];
  /** mkdir -p under the v2 hierarchy, remembered for removal deepest first. */
  const makeCgroup = (base: string, relative: string): string => {
    let dir = base;
    for (const part of relative.split('/').filter(Boolean)) {
      dir = join(dir, part);
      mkdirSync(dir);
      made.push(dir);
    }
    return dir;
  };
  const removeCgroups = () => {
    // A cgroup can be removed once its last process has exited; the kernel
    // lets go of an exited one a moment after waitpid, so retry briefly.
    for (const dir of made.splice(0).reverse()) {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (i >= 200) throw error;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        }
      }
    }
  };
  afterAll(removeCgroups);

  it('names the cgroup and container of a Docker scope, a CRI-O scope and a Kubernetes pod, removed before the read', async () => {
    const tag = uniqueTag('cg');
    const top = join(cgroup2Mount(), `exec-tracer-${tag}`);
    const docker = hex(`d0c${tag}`);
    const crio = hex(`c410${tag}`);
    const containerd = hex(`c0d${tag}`);
    const pod = 'kubepods-burstable-pod3f1b2c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice';
    const shapes = {
      docker: [`/system.slice/docker-${docker}.scope`, docker],
      crio: [`/machine.slice/crio-${crio}.scope`, crio],
      k8s: [`/kubepods.slice/kubepods-burstable.slice/${pod}/cri-containerd-${containerd}.scope`, containerd],
    } as const;
    const ids = new Map<string, bigint>();

    const { events } = await traceHeld(async () => {
      makeCgroup(cgroup2Mount(), `exec-tracer-${tag}`);
      await trueIn(top, `${tag}-top`);
      for (const [name, [relative]] of Object.entries(shapes)) {
        const dir = makeCgroup(top, relative);
        ids.set(name, BigInt(statSync(dir).ino));
        await trueIn(dir, `${tag}-${name}`);
      }
      // The processes have exited; now their cgroups go too, before the
      // tracer has read a byte of the ring.
      removeCgroups();
    });

    // The path is absolute in the hierarchy as the host sees it: whatever is
    // above the test's own directory (a cgroup namespace's root, if this runs
    // in one) is what the exec in that directory shows.
    const base = only(events, `${tag}-top`);
    expect(base.cgroup).toMatch(new RegExp(`/exec-tracer-${tag}$`));
    expect(base.containerId).toBeUndefined();
    for (const [name, [relative, id]] of Object.entries(shapes)) {
      const e = only(events, `${tag}-${name}`);
      expect(e.cgroup, name).toBe(`${base.cgroup}${relative}`);
      expect(e.rawCgroup.toString(), name).toBe(e.cgroup);
      expect([e.cgroupTruncated, e.containerId], name).toEqual([false, id]);
      // The id of the very cgroup named: its directory's inode number.
      expect(e.cgroupId, name).toBe(ids.get(name));
    }
  });

  it('keeps the deepest 32 levels of a deeper cgroup and flags the cut', async () => {
    const tag = uniqueTag('deep');
    const levels = Array.from({ length: 35 }, (_, i) => `l${i + 1}`);
    const { events } = await traceHeld(async () => {
      const top = makeCgroup(cgroup2Mount(), `exec-tracer-${tag}`);
      await trueIn(makeCgroup(top, levels.slice(0, 30).join('/')), `${tag}-30`);
      await trueIn(makeCgroup(join(top, levels.slice(0, 30).join('/')), levels.slice(30).join('/')), `${tag}-35`);
      removeCgroups();
    });
    const shallow = only(events, `${tag}-30`);
    expect(shallow.cgroupTruncated).toBe(false);
    expect(shallow.cgroup).toMatch(new RegExp(`/exec-tracer-${tag}/${levels.slice(0, 30).join('/')}$`));
    const deep = only(events, `${tag}-35`);
    expect(deep.cgroupTruncated).toBe(true);
    expect(deep.cgroup).toBe(`/${levels.slice(35 - 32).join('/')}`);
  });

  it('turns the cgroup walk off with the context part', async () => {
    const tag = uniqueTag('nocg');
    const { events } = await traceHeld(() => ok('/bin/true', [tag]), { context: { cgroup: false } });
    const e = only(events, tag);
    expect([e.cgroup, e.cgroupTruncated, e.containerId, e.rawCgroup.length]).toEqual(['', false, undefined, 0]);
    expect(e.cwd).not.toBe('');
  });
});

describe.skipIf(!kernel)('the environment, on the real kernel', () => {
  // Given through env(1) so the bytes are exact: Node would encode strings.
  const childEnv = (tag: string, ...extra: string[]) =>
    ok('sh', [
      '-c',
      `s=$1 t=$2; shift 2; exec env -i "$(printf 'BIN=\\377\\376x')" EMPTY= EQ=a=b=c "SECRET=$s" "$@" /bin/true "$t"`,
      'sh', `secret-${tag}`, tag, ...extra,
    ]);

  it('reads none of it unless asked: no byte of it reaches the ring', async () => {
    const tag = uniqueTag('envoff');
    const secret = `secret-${tag}`;
    // Spawned directly: the secret is in no exec's argv, only in this one's environment.
    const spawnTrue = async () => {
      const result = await run('/bin/true', [tag], { env: { SECRET: secret } });
      expect(result.code).toBe(0);
    };
    const off = await traceHeld(spawnTrue);
    const e = only(off.events, tag);
    expect([e.env, e.rawEnv, e.envTotalBytes, e.envTruncated, e.envFault]).toEqual([{}, [], 0, false, false]);
    expect(off.bytes.includes(tag)).toBe(true);
    expect(off.bytes.includes(secret)).toBe(false);
    // The same search finds it when the environment is read.
    const on = await traceHeld(spawnTrue, { env: true });
    expect(on.bytes.includes(secret)).toBe(true);
    expect(only(on.events, tag).env).toEqual({ SECRET: secret });
  });

  it('gives the exact environment: empty values, values with =, bytes that are not UTF-8', async () => {
    const tag = uniqueTag('env');
    const { events } = await traceHeld(() => childEnv(tag), { env: true });
    const e = only(events, tag);
    const entries = [Buffer.from([0x42, 0x49, 0x4e, 0x3d, 0xff, 0xfe, 0x78]), 'EMPTY=', 'EQ=a=b=c', `SECRET=secret-${tag}`];
    expect(e.rawEnv).toEqual(entries.map((x) => Buffer.from(x)));
    expect(e.env).toEqual({ BIN: '\ufffd\ufffdx', EMPTY: '', EQ: 'a=b=c', SECRET: `secret-${tag}` });
    expect(e.envTotalBytes).toBe(entries.reduce((n, x) => n + Buffer.from(x).length + 1, 0));
    expect([e.envTruncated, e.envFault]).toEqual([false, false]);
  });

  it('keeps only the names of an allow-list', async () => {
    const tag = uniqueTag('envlist');
    const { events } = await traceHeld(() => childEnv(tag), { env: ['EQ', 'EMPTY', 'ABSENT'] });
    const e = only(events, tag);
    expect(e.env).toEqual({ EMPTY: '', EQ: 'a=b=c' });
    expect(e.rawEnv.map(String)).toEqual(['EMPTY=', 'EQ=a=b=c']);
    expect(e.envTotalBytes).toBeGreaterThan(0);
  });

  it('flags an environment over envLimit and counts all of it', async () => {
    const tag = uniqueTag('envcut');
    const long = `LONG=${'x'.repeat(300)}`;
    const { events } = await traceHeld(() => childEnv(tag, long), { env: true, envLimit: 64 });
    const e = only(events, tag);
    expect(e.envTruncated).toBe(true);
    const all = Buffer.concat([
      Buffer.from([0x42, 0x49, 0x4e, 0x3d, 0xff, 0xfe, 0x78, 0]),
      ...['EMPTY=', 'EQ=a=b=c', `SECRET=secret-${tag}`, long].map((x) => Buffer.from(`${x}\0`)),
    ]);
    expect(e.envTotalBytes).toBe(all.length);
    // The first 64 bytes, split at the NULs: the last entry cut short.
    const kept = all.subarray(0, 64);
    expect(Buffer.concat(e.rawEnv.flatMap((x) => [x, Buffer.from([0])])).subarray(0, 64)).toEqual(kept);
  });
});
