// SPDX-License-Identifier: MIT
//
// The longest names exec can be given, through the real kernel. For
// execveat(dirfd, relative path) the kernel names the file
// "/dev/fd/<dirfd>/<path>": longer than PATH_MAX when the path is as long as
// the kernel takes. The filename must arrive whole, and a path that is cut
// must say so.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecTracer, type ExecEvent, type ExecFailedEvent } from '../../lib/index.js';
import { LAYOUT } from '../../lib/layout.js';
import { fixture, kernel, run, uniqueTag } from './kernel.js';

/** The longest path exec takes: PATH_MAX (4096) less its NUL. */
const LONGEST_PATH = 4095;

/**
 * A relative path of exactly `length` bytes whose components (at most 255
 * bytes each, NAME_MAX) the fixture can create one at a time.
 */
function relativePath(length: number): string {
  const parts: string[] = [];
  let used = 0;
  while (length - used > 201) {
    parts.push('d'.repeat(200));
    used += 201; // the component and its slash
  }
  parts.push('x'.repeat(length - used));
  return parts.join('/');
}

const scratch = mkdtempSync(join(tmpdir(), 'exec-tracer-filename-'));
// rm(1) removes a tree deeper than PATH_MAX, which fs.rmSync cannot.
afterAll(() => execFileSync('rm', ['-rf', scratch]));

describe.skipIf(!kernel)('exec filenames at the length limit, on the real kernel', () => {
  it('keeps the whole /dev/fd/N/ name of an execveat at the longest relative path, and the paths of failed ones', async () => {
    const tag = uniqueTag('longpath');
    const paths = fixture('exec-paths');
    const longest = relativePath(LONGEST_PATH);
    // One byte over: the kernel refuses it (ENAMETOOLONG) before it looks
    // for the file, and the path still fits the record whole.
    const tooLong = relativePath(LONGEST_PATH + 1);
    // Longer than the record keeps: the only way to make a cut filename.
    const farTooLong = relativePath(LAYOUT.filenameMax + 100);
    expect(Buffer.byteLength(longest)).toBe(LONGEST_PATH);

    const tracer = new ExecTracer({ failedExecs: true });
    const execs: ExecEvent[] = [];
    const failed: ExecFailedEvent[] = [];
    tracer.on('exec', (e) => execs.push(e));
    tracer.on('execFailed', (e) => failed.push(e));
    const runs: Record<string, Awaited<ReturnType<typeof run>>> = {};
    const dirOf = (name: string) => {
      mkdirSync(join(scratch, name));
      return join(scratch, name);
    };
    await tracer.start();
    try {
      runs.ok = await run(paths, ['longpath', dirOf('ok'), longest, '/bin/true', `${tag}-ok`]);
      for (const [name, rel] of [['enoent', longest], ['toolong', tooLong], ['fartoolong', farTooLong]] as const)
        runs[name] = await run(paths, ['longpath-missing', dirOf(name), rel, '/bin/true', `${tag}-${name}`]);
    } finally {
      await tracer.stop();
    }
    const dirfd = (name: string) => Number(/dirfd=(\d+)/.exec(runs[name]!.stderr)?.[1]);

    // The exec: the kernel's name for it is 4,095 bytes of path plus its
    // "/dev/fd/N/", more than PATH_MAX, and it arrives whole. No successful
    // exec can have a cut filename: the record keeps LAYOUT.filenameMax - 1
    // bytes, more than the longest name the kernel makes (PATH_MAX - 1 and
    // "/dev/fd/" with ten digits and a slash), so this one proves the flag
    // stays false where the old limit (4,095 bytes) cut the name silently.
    expect(runs.ok!.code, runs.ok!.stderr).toBe(0);
    const ok = execs.filter((e) => e.argv.includes(`${tag}-ok`) && e.argv[0] !== paths);
    expect(ok).toHaveLength(1);
    const name = `/dev/fd/${dirfd('ok')}/${longest}`;
    expect(name.length).toBeGreaterThan(LONGEST_PATH);
    expect(ok[0]!.filename).toBe(name);
    expect(ok[0]!).toMatchObject({ pid: runs.ok!.pid, filenameTruncated: false, filenameFault: false, argv: ['/bin/true', `${tag}-ok`] });
    expect(JSON.parse(JSON.stringify(ok[0]))).toMatchObject({ filename: name, filenameTruncated: false });

    // Failed execs carry the path as the caller passed it.
    const failure = (label: string) => {
      const mine = failed.filter((e) => e.argv.includes(`${tag}-${label}`));
      expect(mine, `${label}: ${runs[label]!.stderr}`).toHaveLength(1);
      return mine[0]!;
    };
    expect(failure('enoent')).toMatchObject({
      code: 'ENOENT', execveat: true, filename: longest, filenameTruncated: false, filenameFault: false, pid: runs.enoent!.pid,
    });
    expect(failure('toolong')).toMatchObject({
      code: 'ENAMETOOLONG', execveat: true, filename: tooLong, filenameTruncated: false, pid: runs.toolong!.pid,
    });
    const cut = failure('fartoolong');
    expect(cut).toMatchObject({
      code: 'ENAMETOOLONG', execveat: true, filenameTruncated: true, filenameFault: false, pid: runs.fartoolong!.pid,
    });
    expect(cut.filename).toBe(farTooLong.slice(0, LAYOUT.filenameMax - 1));
    expect(JSON.parse(JSON.stringify(cut))).toMatchObject({ filenameTruncated: true });
    // No exec of these ran.
    const ran = execs.filter((e) => e.argv[0] !== paths && ['enoent', 'toolong', 'fartoolong'].some((l) => e.argv.includes(`${tag}-${l}`)));
    expect(ran).toHaveLength(0);
  });
});
