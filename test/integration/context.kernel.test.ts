// SPDX-License-Identifier: MIT
//
// What really ran and where: exe, its file's identity and flags, the
// interpreter and the cwd, each checked against a truth the test makes
// itself (a file it copied, a mount it made, a directory it created).
import { execFileSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, statSync,
  linkSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecEvent, ExecTracerOptions } from '../../lib/index.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { fixture, kernel, run, traceDuring, uniqueTag } from './kernel.js';

/** The events of the execs `body` makes (and of every other exec meanwhile). */
async function execsDuring(body: () => Promise<void>, options: ExecTracerOptions = {}): Promise<ExecEvent[]> {
  return (await traceDuring(body, options)).events;
}

/** Programs that exec the one under test, passing its arguments on. */
let launchers: Set<string> | undefined;
function isLauncher(exe: string): boolean {
  launchers ??= new Set([
    fixture('exec-paths'),
    realpathSync(execFileSync('sh', ['-c', 'command -v unshare'], { encoding: 'utf8' }).trim()),
  ]);
  return launchers.has(exe);
}

/** The one event whose argv holds `tag` exactly, launchers left out. */
function only(events: ExecEvent[], tag: string): ExecEvent {
  const found = events.filter((e) => e.argv.includes(tag) && !isLauncher(e.exe));
  expect(found, `events tagged ${tag}`).toHaveLength(1);
  return found[0]!;
}

/** exe's identity fields equal what stat(2) says of `path`. */
function expectIdentity(event: ExecEvent, path: string): void {
  const st = statSync(path, { bigint: true });
  expect(event.exeInode).toBe(st.ino);
  expect(event.exeDevice).toBe(Number(st.dev));
  expect(event.exeMode).toBe(Number(st.mode));
  expect(event.exeCtimeNs).toBe(st.ctimeNs);
  expect(event.exeNlink).toBe(Number(st.nlink));
}

async function ok(file: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<void> {
  const result = await run(file, args, options);
  expect(result.code, `${file} ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'exec-tracer-ctx-')));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
  // rm(1) removes a tree deeper than PATH_MAX, which fs.rmSync cannot.
  execFileSync('rm', ['-rf', scratch]);
});

/** A fresh directory under the scratch directory. */
function dir(...parts: string[]): string {
  const path = join(scratch, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

const TRUE = realpathSync('/bin/true');

describe.skipIf(!kernel)('the exec context on the real kernel', () => {
  it('resolves exe to the real file however exec reached it, with stat(2) identity', async () => {
    const tag = uniqueTag('exe');
    const source = dir('bind-source');
    const target = dir('bind-target');
    copyFileSync(TRUE, join(source, 'true'));
    chmodSync(join(source, 'true'), 0o755);
    execFileSync('mount', ['--bind', source, target]);
    mounts.push(target);
    const paths = fixture('exec-paths');
    const events = await execsDuring(async () => {
      await ok('/bin/sh', ['-c', 'exit 0', `${tag}-sh`]);
      await ok(join(target, 'true'), [`${tag}-bind`]);
      await ok('/usr/bin/../bin/./true', [`${tag}-dots`]);
      await ok(paths, ['dirfd', '/usr/bin', 'true', `${tag}-dirfd`]);
      await ok(paths, ['execveat', '/bin/true', `${tag}-execveat`]);
      await ok(paths, ['fexecve', '/bin/true', `${tag}-fexecve`]);
    });

    // A symlink shows its target: what the kernel mapped.
    const sh = only(events, `${tag}-sh`);
    expect(sh.filename).toBe('/bin/sh');
    expect(sh.exe).toBe(realpathSync('/bin/sh'));
    expect(sh.rawExe).toEqual(Buffer.from(sh.exe));
    expect(sh.exeTruncated).toBe(false);
    expectIdentity(sh, realpathSync('/bin/sh'));

    // Through a bind mount: the path through that mount, the file's identity.
    const bind = only(events, `${tag}-bind`);
    expect(bind.exe).toBe(join(target, 'true'));
    expectIdentity(bind, join(source, 'true'));

    for (const how of ['dots', 'dirfd', 'execveat', 'fexecve']) {
      const event = only(events, `${tag}-${how}`);
      expect(event.exe, how).toBe(TRUE);
      expect(event.exeDeleted || event.exeMemfd || event.exeUpperLayer, how).toBe(false);
      expectIdentity(event, TRUE);
    }
    expect(only(events, `${tag}-dirfd`).filename).toMatch(/^\/dev\/fd\/\d+\/true$/);
    expect(only(events, `${tag}-fexecve`).filename).toMatch(/^\/dev\/fd\/\d+$/);
  });

  it('flags a memfd, a deleted file, and a setuid file, and counts a hard-linked one\'s links', async () => {
    const tag = uniqueTag('flags');
    const copy = join(dir('deleted'), 'true-copy');
    const setuid = join(dir('setuid'), 'true-setuid');
    copyFileSync(TRUE, setuid);
    chmodSync(setuid, 0o4755);
    // The setuid file under a second name, as a planted copy might hide.
    linkSync(setuid, join(dir('setuid'), 'also-true'));
    const paths = fixture('exec-paths');
    const events = await execsDuring(async () => {
      await ok(paths, ['memfd', '/bin/true', `${tag}-memfd`]);
      await ok(paths, ['unlinked', '/bin/true', copy, `${tag}-deleted`]);
      await ok(setuid, [`${tag}-setuid`]);
    });

    const memfd = only(events, `${tag}-memfd`);
    expect(memfd.exeMemfd).toBe(true);
    expect(memfd.exeDeleted).toBe(true); // a memfd never had a link
    expect(memfd.exeNlink).toBe(0);
    expect(memfd.exe).toBe('/memfd:exec-tracer-test');
    expect(memfd.exeMode & 0o170000).toBe(0o100000);

    const deleted = only(events, `${tag}-deleted`);
    expect(deleted.exeDeleted).toBe(true);
    expect(deleted.exeNlink).toBe(0);
    expect(deleted.exeMemfd).toBe(false);
    expect(deleted.exe).toBe(copy); // d_path() would add " (deleted)": the flag says it
    expect(existsSync(copy)).toBe(false);

    const suid = only(events, `${tag}-setuid`);
    expect(suid.exe).toBe(setuid);
    expect(suid.exeMode & 0o4000).toBe(0o4000);
    expect(suid.exeDeleted || suid.exeMemfd).toBe(false);
    expect(suid.exeNlink).toBe(2);
    expectIdentity(suid, setuid);
  });

  it('tells a file written into an overlay upper layer from one of the lower layer', async () => {
    const tag = uniqueTag('overlay');
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => dir('overlay', d));
    copyFileSync(TRUE, join(lower!, 'from-image'));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged!]);
    mounts.push(merged!);
    // Written through the overlay, as a process in a container writes it.
    copyFileSync(TRUE, join(merged!, 'written'));
    chmodSync(join(merged!, 'written'), 0o755);
    const events = await execsDuring(async () => {
      await ok(join(merged!, 'from-image'), [`${tag}-lower`]);
      await ok(join(merged!, 'written'), [`${tag}-upper`]);
    });
    const fromImage = only(events, `${tag}-lower`);
    expect(fromImage.exe).toBe(join(merged!, 'from-image'));
    expect(fromImage.exeUpperLayer).toBe(false);
    const written = only(events, `${tag}-upper`);
    expect(written.exe).toBe(join(merged!, 'written'));
    expect(written.exeUpperLayer).toBe(true);
    expect(existsSync(join(upper!, 'written'))).toBe(true);
  });

  it('reports the interpreter of a #! script, and of a script run by a script', async () => {
    const tag = uniqueTag('interp');
    const scripts = dir('scripts');
    const inner = join(scripts, 'inner.sh');
    const outer = join(scripts, 'outer');
    writeFileSync(inner, '#!/bin/sh\nexit 0\n');
    // Its interpreter is itself a script: the kernel runs the chain.
    writeFileSync(outer, `#!${inner}\n`);
    chmodSync(inner, 0o755);
    chmodSync(outer, 0o755);
    const events = await execsDuring(async () => {
      await ok(inner, [`${tag}-plain`]);
      await ok(outer, [`${tag}-nested`]);
      await ok('/bin/true', [`${tag}-elf`]);
    });

    const plain = only(events, `${tag}-plain`);
    expect(plain.filename).toBe(inner);
    expect(plain.interpreter).toBe('/bin/sh');
    expect(plain.rawInterpreter).toEqual(Buffer.from('/bin/sh'));
    expect(plain.exe).toBe(realpathSync('/bin/sh'));

    // The kernel replaces bprm->interp at each level: the last interpreter
    // is the one that runs, and it is what exe is.
    const nested = only(events, `${tag}-nested`);
    expect(nested.filename).toBe(outer);
    expect(nested.argv).toEqual(['/bin/sh', inner, outer, `${tag}-nested`]);
    expect(nested.interpreter).toBe('/bin/sh');
    expect(nested.exe).toBe(realpathSync('/bin/sh'));

    const elf = only(events, `${tag}-elf`);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.rawInterpreter).toBeUndefined();
  });

  it('reports cwd exactly: deep, with any bytes in a name, and cut past the walk bound', async () => {
    const tag = uniqueTag('cwd');
    // ~300 characters deep.
    const deep = dir('deep', ...Array.from({ length: 12 }, (_, i) => `level-${i}-${'x'.repeat(16)}`));
    expect(deep.length).toBeGreaterThan(300);
    // A name with bytes that are not UTF-8 and a newline.
    const oddName = Buffer.concat([Buffer.from('odd-'), Buffer.from([0xff, 0xfe, 0x0a, 0x80]), Buffer.from('-dir')]);
    const oddParent = dir('odd');
    const oddPath = Buffer.concat([Buffer.from(`${oddParent}/`), oddName]);
    mkdirSync(oddPath);
    // Deeper than the walk goes: a component per step.
    const tooDeep = dir('too-deep', ...Array.from({ length: LAYOUT.pathDepth + 6 }, () => 'd'));
    // Longer than PATH_MAX in bytes, in few components: made by the fixture
    // with relative mkdir and chdir, as no path can name it.
    const longBase = dir('too-long');
    const longName = 'l'.repeat(240);
    const longPath = join(longBase, ...Array.from({ length: 20 }, () => longName));
    const paths = fixture('exec-paths');
    const events = await execsDuring(async () => {
      await ok('/bin/true', [`${tag}-deep`], { cwd: deep });
      await ok(paths, ['chdirhex', oddPath.toString('hex'), '/bin/true', `${tag}-odd`]);
      await ok('/bin/true', [`${tag}-too-deep`], { cwd: tooDeep });
      await ok('/bin/true', [`${tag}-root`], { cwd: '/' });
      await ok(paths, ['deepcwd', '20', longName, '/bin/true', `${tag}-long`], { cwd: longBase });
    });

    const d = only(events, `${tag}-deep`);
    expect(d.cwd).toBe(deep);
    expect(d.cwdTruncated).toBe(false);

    const odd = only(events, `${tag}-odd`);
    expect(odd.rawCwd).toEqual(oddPath);
    expect(odd.cwdTruncated).toBe(false);

    // Cut: the deepest pathDepth components, a true suffix of the real path.
    const cut = only(events, `${tag}-too-deep`);
    expect(cut.cwdTruncated).toBe(true);
    expect(cut.cwd).toBe('/d'.repeat(LAYOUT.pathDepth));
    expect(tooDeep.endsWith(cut.cwd)).toBe(true);
    expect(cut.exeTruncated).toBe(false);

    // Cut by bytes: whole components, the deepest that fit in PATH_MAX - 1.
    const long = only(events, `${tag}-long`);
    expect(long.cwdTruncated).toBe(true);
    expect(longPath.endsWith(long.cwd)).toBe(true);
    expect(long.cwd).toBe(`/${longName}`.repeat(Math.floor((LAYOUT.pathMax - 1) / (longName.length + 1))));

    expect(only(events, `${tag}-root`).cwd).toBe('/');
  });

  it('shows exe and cwd as a chrooted process and one in its own mount namespace see them', async () => {
    const tag = uniqueTag('views');
    // A root with the host's /usr bound in, and the merged-/usr links.
    const newRoot = dir('chroot');
    for (const d of ['usr', 'work/here']) mkdirSync(join(newRoot, d), { recursive: true });
    for (const name of ['bin', 'sbin', 'lib', 'lib64']) {
      if (!existsSync(`/${name}`)) continue;
      if (lstatSync(`/${name}`).isSymbolicLink()) symlinkSync(readlinkSync(`/${name}`), join(newRoot, name));
      else mkdirSync(join(newRoot, name));
    }
    const binds = ['usr', 'bin', 'sbin', 'lib', 'lib64']
      .filter((name) => existsSync(`/${name}`) && !lstatSync(`/${name}`).isSymbolicLink())
      .map((name) => `mount --rbind /${name} ${newRoot}/${name}`)
      .join(' && ');
    const privateTmpfs = dir('private-tmpfs');
    const events = await execsDuring(async () => {
      await ok('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `${binds} && chroot ${newRoot} /bin/sh -c 'cd /work/here && /usr/bin/true ${tag}-chroot'`]);
      await ok('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `${binds} && unshare --root=${newRoot} --wd=/work /usr/bin/true ${tag}-unshare-root`]);
      // A tmpfs only this namespace has: the binary and cwd live on it.
      await ok('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `mount -t tmpfs tmpfs ${privateTmpfs} && cp ${TRUE} ${privateTmpfs}/t && mkdir ${privateTmpfs}/in && ` +
        `cd ${privateTmpfs}/in && ../t ${tag}-tmpfs`]);
    });

    const chrooted = only(events, `${tag}-chroot`);
    expect(chrooted.exe).toBe(TRUE);
    expect(chrooted.cwd).toBe('/work/here');
    expect(chrooted.exeTruncated || chrooted.cwdTruncated).toBe(false);

    const rooted = only(events, `${tag}-unshare-root`);
    expect(rooted.exe).toBe(TRUE);
    expect(rooted.cwd).toBe('/work');

    const tmpfs = only(events, `${tag}-tmpfs`);
    expect(tmpfs.exe).toBe(join(privateTmpfs, 't'));
    expect(tmpfs.cwd).toBe(join(privateTmpfs, 'in'));
    expect(existsSync(join(privateTmpfs, 't'))).toBe(false); // not on the host's side
  });

  it('leaves out exactly the parts options.context turns off', async () => {
    const tag = uniqueTag('off');
    const run1 = await execsDuring(async () => ok('/bin/true', [tag], { cwd: '/' }), { context: false });
    const none = only(run1, tag);
    expect([none.exe, none.cwd, none.interpreter, none.exeInode, none.exeMode, none.exeDevice]).toEqual([
      '', '', undefined, 0n, 0, 0,
    ]);
    expect(none.rawExe.length + none.rawCwd.length).toBe(0);
    expect(none.argv).toEqual(['/bin/true', tag]);

    const run2 = await execsDuring(async () => ok('/bin/true', [tag], { cwd: '/' }), { context: { cwd: false } });
    const noCwd = only(run2, tag);
    expect(noCwd.cwd).toBe('');
    expect(noCwd.exe).toBe(TRUE);
    expectIdentity(noCwd, TRUE);
  });
});
