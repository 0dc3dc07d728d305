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
import { LAYOUT } from '../../lib/records/layout.js';
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

/**
 * Whether TOMOYO runs (Debian builds it in and enables it). At every exec it
 * looks bprm->filename up as a path (tomoyo_find_next_domain() ->
 * tomoyo_realpath_nofollow()), which fails for a "/dev/fd/N/<path>" longer
 * than PATH_MAX, and the exec fails with ENOENT. Its boot line says it runs.
 */
function tomoyoRuns(): boolean {
  return execFileSync('dmesg', { encoding: 'utf8' }).includes('TOMOYO Linux initialized');
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
    const dirfd = (name: string) => Number(/dirfd=(\d+)/.exec(runs[name]!.stderr)?.[1]);
    let fits = '';
    await tracer.start();
    try {
      runs.longest = await run(paths, ['longpath', dirOf('longest'), longest, '/bin/true', `${tag}-longest`]);
      // The longest relative path whose name is PATH_MAX - 1 bytes: every
      // kernel runs it, whatever looks the name up.
      fits = relativePath(LONGEST_PATH - `/dev/fd/${dirfd('longest')}/`.length);
      runs.fits = await run(paths, ['longpath', dirOf('fits'), fits, '/bin/true', `${tag}-fits`]);
      for (const [name, rel] of [['enoent', longest], ['toolong', tooLong], ['fartoolong', farTooLong]] as const)
        runs[name] = await run(paths, ['longpath-missing', dirOf(name), rel, '/bin/true', `${tag}-${name}`]);
    } finally {
      await tracer.stop();
    }
    const ran = (label: string) => execs.filter((e) => e.argv.includes(`${tag}-${label}`) && e.argv[0] !== paths);
    // Failed execs carry the path as the caller passed it.
    const failure = (label: string) => {
      const mine = failed.filter((e) => e.argv.includes(`${tag}-${label}`));
      expect(mine, `${label}: ${runs[label]!.stderr}`).toHaveLength(1);
      return mine[0]!;
    };

    // The name the kernel makes for a path of 4,095 bytes: its "/dev/fd/N/"
    // makes it longer than PATH_MAX, and it arrives whole. No successful exec
    // can have a cut filename: the record keeps LAYOUT.filenameMax - 1 bytes,
    // more than the longest name the kernel makes (PATH_MAX - 1 and
    // "/dev/fd/" with ten digits and a slash), so the flag stays false here,
    // where the old limit (4,095 bytes) cut the name silently.
    const name = `/dev/fd/${dirfd('longest')}/${longest}`;
    expect(name.length).toBeGreaterThan(LONGEST_PATH);
    if (runs.longest!.code === 0) {
      const longestRan = ran('longest');
      expect(longestRan).toHaveLength(1);
      expect(longestRan[0]!.filename).toBe(name);
      expect(longestRan[0]!).toMatchObject({
        pid: runs.longest!.pid, filenameTruncated: false, filenameFault: false, argv: ['/bin/true', `${tag}-longest`],
      });
      expect(JSON.parse(JSON.stringify(longestRan[0]))).toMatchObject({ filename: name, filenameTruncated: false });
    } else {
      // Where TOMOYO runs (Debian's kernels do), no exec's name passes
      // PATH_MAX: it refuses this one, and the failed exec says so whole.
      expect(tomoyoRuns(), runs.longest!.stderr).toBe(true);
      expect(ran('longest')).toHaveLength(0);
      expect(failure('longest')).toMatchObject({
        code: 'ENOENT', execveat: true, filename: longest, filenameTruncated: false, pid: runs.longest!.pid,
      });
    }

    expect(runs.fits!.code, runs.fits!.stderr).toBe(0);
    expect(dirfd('fits')).toBe(dirfd('longest'));
    const fitsRan = ran('fits');
    expect(fitsRan).toHaveLength(1);
    expect(fitsRan[0]!.filename).toBe(`/dev/fd/${dirfd('fits')}/${fits}`);
    expect(fitsRan[0]!.filename.length).toBe(LONGEST_PATH);
    expect(fitsRan[0]!).toMatchObject({ pid: runs.fits!.pid, filenameTruncated: false, filenameFault: false });

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
    for (const label of ['enoent', 'toolong', 'fartoolong']) expect(ran(label)).toHaveLength(0);
  });
});
