// SPDX-License-Identifier: MIT
//
// exec-tracer without root: a process running as nobody (uid 65534) with
// only CAP_BPF and CAP_PERFMON traces; one with no capability at all is
// refused with EPERM and a hint that names them. setpriv (util-linux) drops
// the privileges, the way a service manager's AmbientCapabilities= would.
import { mkdtempSync, realpathSync, rmdirSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { kernel, root, run, uniqueTag } from './kernel.js';

const child = join(root, 'test', 'fixtures', 'trace-child.ts');
const NOBODY = 65534;
// Capability numbers (linux/capability.h): both exist since Linux 5.8.
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

// Before Linux 5.11 BPF maps are charged to RLIMIT_MEMLOCK, which a process
// without CAP_SYS_RESOURCE cannot raise: the administrator raises it (ulimit
// -l, systemd's LimitMEMLOCK=infinity), as done here on such kernels. Later
// kernels charge the memory cgroup and ignore the limit (and these machines'
// root lacks CAP_SYS_RESOURCE, so it could not raise it anyway).
const [major = 0, minor = 0] = release().split('.').map(Number);
const memlockCharged = major < 5 || (major === 5 && minor < 11);

/**
 * Runs FILE ARGS as nobody with exactly CAPS (effective, permitted and
 * ambient), in a view of the project nobody can enter: the checkout may sit
 * in a directory only root may enter (/root/x, or a `mktemp -d` itself, mode
 * 700), so a private mount namespace puts a tmpfs (mode 755) at a fresh path
 * and binds each of the project's entries into it. Paths below the project
 * in FILE and ARGS are rewritten to that view, which is also the cwd.
 */
async function asNobody(caps: ('bpf' | 'perfmon')[], file: string, args: string[]) {
  const set = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  const view = mkdtempSync(join(tmpdir(), 'exec-tracer-nobody-'));
  const inView = (arg: string) => (arg.startsWith(`${root}/`) ? join(view, relative(root, arg)) : arg);
  const setpriv = [
    'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups',
    `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`,
    inView(file), ...args.map(inView),
  ];
  const command = memlockCharged ? ['prlimit', '--memlock=unlimited:unlimited', ...setpriv] : setpriv;
  const script = [
    'src=$1; dst=$2; shift 2',
    'mount -t tmpfs -o mode=755 tmpfs "$dst" || exit 125',
    'for e in "$src"/*; do',
    '  n=${e##*/}',
    '  if [ -d "$e" ]; then mkdir "$dst/$n"; else : > "$dst/$n"; fi',
    '  mount --bind "$e" "$dst/$n" || exit 125',
    'done',
    'cd "$dst" && exec "$@"',
  ].join('\n');
  try {
    const result = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', root, view, ...command]);
    return { ...result, view };
  } finally {
    rmdirSync(view);
  }
}

/** The effective capability mask a process started by asNobody(caps) has. */
async function effectiveCaps(caps: ('bpf' | 'perfmon')[]): Promise<bigint> {
  const status = await asNobody(caps, '/bin/cat', ['/proc/self/status']);
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status.stdout)?.[1];
  if (hex === undefined) throw new Error(`no CapEff in: ${status.stdout}${status.stderr}`);
  return BigInt(`0x${hex}`);
}

describe.skipIf(!kernel)('privileges', () => {
  it('traces as an unprivileged user that holds only CAP_BPF and CAP_PERFMON', async () => {
    expect(await effectiveCaps(['bpf', 'perfmon'])).toBe((1n << CAP_BPF) | (1n << CAP_PERFMON));
    const tag = uniqueTag('caps');
    const result = await asNobody(['bpf', 'perfmon'], process.execPath, [...tsEntryArgs(child), 'exec', 'tp_btf', tag]);
    const [seen, context] = result.stdout.trim().split('\n');
    expect(seen, result.stderr).toBe('seen tp_btf');
    expect(result.code).toBe(0);
    // The path walks need nothing more than those two capabilities.
    expect(JSON.parse(context!.replace(/^context /, ''))).toMatchObject({ exe: realpathSync('/bin/echo'), cwd: result.view });
  });

  it('refuses an unprivileged user without them with EPERM and a hint that names them', async () => {
    expect(await effectiveCaps([])).toBe(0n);
    const result = await asNobody([], process.execPath, [...tsEntryArgs(child), 'exec', 'tp_btf', uniqueTag('nocaps')]);
    expect(result.code).toBe(1);
    // trace-child prints "error <code> <the error>" for a failed start.
    expect(result.stdout, result.stderr).toMatch(/^error EPERM ExecTracerError: exec-tracer: load: /);
    expect(result.stdout).toMatch(/hint: run as root, or grant CAP_BPF and CAP_PERFMON/);
  });
});
