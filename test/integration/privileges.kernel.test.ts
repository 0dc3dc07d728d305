// SPDX-License-Identifier: MIT
//
// exec-tracer without root: a process running as nobody (uid 65534) with
// only CAP_BPF and CAP_PERFMON traces; one with no capability at all is
// refused with EPERM and a hint that names them. setpriv (util-linux) drops
// the privileges, the way a service manager's AmbientCapabilities= would.
// And the shipped systemd unit's privileges acted out: its ExecStart run
// as nobody with exactly the capabilities, bounding set, NoNewPrivileges
// and LimitMEMLOCK the unit gives, and refused with one capability fewer.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommand } from '../helpers/command.js';
import { capabilityNames, execStart, shippedUnit } from '../helpers/systemd-unit.js';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { eventually, kernel, patience, root, run, uniqueTag } from './kernel.js';

const child = join(root, 'test', 'fixtures', 'trace-child.ts');
const NOBODY = 65534;
// Capability numbers (linux/capability.h): both exist since Linux 5.8.
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;
const CAP_SYS_RESOURCE = 24n;
const CAP_NUMBERS: Record<string, bigint> = { perfmon: CAP_PERFMON, bpf: CAP_BPF };

// Before Linux 5.11 BPF maps are charged to RLIMIT_MEMLOCK, which a process
// without CAP_SYS_RESOURCE cannot raise: the administrator raises it (ulimit
// -l, systemd's LimitMEMLOCK=infinity), as done here on such kernels. Later
// kernels charge the memory cgroup and ignore the limit (and these machines'
// root lacks CAP_SYS_RESOURCE, so it could not raise it anyway).
const [major = 0, minor = 0] = release().split('.').map(Number);
const memlockCharged = major < 5 || (major === 5 && minor < 11);

/** How asNobody runs a program beyond its capabilities: what a systemd unit's settings do. */
interface NobodyOptions {
  /** The bounding set (CapabilityBoundingSet=); by default the same as the capabilities. */
  bounding?: string[];
  /** NoNewPrivileges=yes. */
  noNewPrivs?: boolean;
  /** RLIMIT_MEMLOCK (LimitMEMLOCK=); by default unlimited where the kernel charges it, else left as it is. */
  memlock?: 'unlimited' | 'unchanged';
}

/**
 * The command that runs FILE ARGS as nobody with exactly CAPS (setpriv's
 * names: effective, permitted, inheritable and ambient), in a view of the
 * project nobody can enter: the checkout may sit in a directory only root
 * may enter (/root/x, or a `mktemp -d` itself, mode 700), so a private mount
 * namespace puts a tmpfs (mode 755) at a fresh path and binds each of the
 * project's entries into it. Paths below the project in FILE and ARGS are
 * rewritten to that view, which is also the cwd. `done()` removes the view's
 * mount point once the command has ended.
 */
function nobodyCommand(caps: string[], file: string, args: string[], options: NobodyOptions = {}) {
  const list = (names: string[]) => ['-all', ...names.map((c) => `+${c}`)].join(',');
  const view = mkdtempSync(join(tmpdir(), 'exec-tracer-nobody-'));
  const inView = (arg: string) => (arg.startsWith(`${root}/`) ? join(view, relative(root, arg)) : arg);
  const setpriv = [
    'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups',
    `--inh-caps=${list(caps)}`, `--ambient-caps=${list(caps)}`, `--bounding-set=${list(options.bounding ?? caps)}`,
    ...(options.noNewPrivs ? ['--no-new-privs'] : []),
    inView(file), ...args.map(inView),
  ];
  const memlock = options.memlock ?? (memlockCharged ? 'unlimited' : 'unchanged');
  const command = memlock === 'unlimited' ? ['prlimit', '--memlock=unlimited:unlimited', ...setpriv] : setpriv;
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
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', root, view, ...command],
    view,
    done: () => rmdirSync(view),
  };
}

/** Runs FILE ARGS to its end as nobody with exactly CAPS (nobodyCommand). */
async function asNobody(caps: string[], file: string, args: string[], options: NobodyOptions = {}) {
  const command = nobodyCommand(caps, file, args, options);
  try {
    const result = await run(command.file, command.args);
    return { ...result, view: command.view };
  } finally {
    command.done();
  }
}

/** The effective capability mask a process started by asNobody(caps) has. */
async function effectiveCaps(caps: string[]): Promise<bigint> {
  const status = await asNobody(caps, '/bin/cat', ['/proc/self/status']);
  return capMask(status.stdout, 'CapEff');
}

/** A capability mask (CapEff, CapBnd…) from a /proc/PID/status text. */
function capMask(status: string, field: string): bigint {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  if (hex === undefined) throw new Error(`no ${field} in: ${status}`);
  return BigInt(`0x${hex}`);
}

/** The mask of capabilities named as setpriv names them. */
const maskOf = (names: string[]) =>
  names.reduce((mask, name) => {
    const bit = CAP_NUMBERS[name];
    if (bit === undefined) throw new Error(`the unit grants ${name}: add its number here to test it`);
    return mask | (1n << bit);
  }, 0n);

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

describe.skipIf(!kernel)('the systemd unit examples/deploy/exec-tracer.service, acted out', () => {
  const unit = shippedUnit();
  const caps = capabilityNames(unit.get('Service', 'AmbientCapabilities'));
  const bounding = capabilityNames(unit.get('Service', 'CapabilityBoundingSet'));
  const noNewPrivs = unit.get('Service', 'NoNewPrivileges') === 'yes';
  // LimitMEMLOCK=infinity. Raising the limit needs CAP_SYS_RESOURCE, which
  // the guests' root has and this host's root lacks; without it the limit is
  // left as it is, which a kernel that charges memlock would not forgive.
  const mayRaise = (capMask(readFileSync('/proc/self/status', 'utf8'), 'CapEff') & (1n << CAP_SYS_RESOURCE)) !== 0n;
  const memlockValue = unit.get('Service', 'LimitMEMLOCK');
  if (memlockValue !== 'infinity') throw new Error(`LimitMEMLOCK=${memlockValue}: this test acts out infinity only`);
  if (!mayRaise && memlockCharged) throw new Error('this kernel charges BPF maps to RLIMIT_MEMLOCK and this root cannot raise it (no CAP_SYS_RESOURCE)');
  const options: NobodyOptions = { bounding, noNewPrivs, memlock: mayRaise ? 'unlimited' : 'unchanged' };
  const main = join(root, 'dist', 'cli', 'main.js');

  /**
   * ExecStart's arguments, --output moved into DIR: a directory owned by
   * nobody, mode 700, as LogsDirectory= and LogsDirectoryMode= make it.
   */
  function execStartArgs(dir: string): { args: string[]; output: string } {
    const { args } = execStart(unit);
    const at = args.indexOf('--output');
    expect(at, 'the unit writes --output into its LogsDirectory').toBeGreaterThanOrEqual(0);
    const shipped = args[at + 1]!;
    expect(dirname(shipped)).toBe(`/var/log/${unit.get('Service', 'LogsDirectory')}`);
    const output = join(dir, basename(shipped));
    return { args: args.map((a, i) => (i === at + 1 ? output : a)), output };
  }

  function logsDirectory(): string {
    const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-logs-'));
    chownSync(dir, NOBODY, NOBODY);
    chmodSync(dir, Number.parseInt(unit.get('Service', 'LogsDirectoryMode') ?? '0755', 8));
    return dir;
  }

  it("its ExecStart traces as nobody holding exactly the unit's capabilities, with NoNewPrivileges and LimitMEMLOCK", async () => {
    expect(caps.length).toBeGreaterThan(0);
    expect(noNewPrivs).toBe(true);
    const dir = logsDirectory();
    const { args, output } = execStartArgs(dir);
    const command = nobodyCommand(caps, process.execPath, [main, ...args], options);
    const running = startCommand(command.file, command.args, { ...process.env });
    const tag = uniqueTag('unit');
    const spawner = setInterval(() => spawn('/bin/echo', [tag], { stdio: 'ignore' }), 100);
    try {
      const tagged = () => (existsSync(output) ? readFileSync(output, 'utf8').split('\n').filter((l) => l.includes(tag)) : []);
      await eventually(() => tagged().length > 0 || running.proc.exitCode !== null, patience(30_000));
      expect(tagged().length, running.stderr()).toBeGreaterThan(0);
      clearInterval(spawner);
      // The command (unshare, sh, prlimit and setpriv exec'd into it) holds
      // exactly the unit's set, and no more can be had.
      const status = readFileSync(`/proc/${running.proc.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
      expect(capMask(status, 'CapEff')).toBe(maskOf(caps));
      expect(capMask(status, 'CapAmb')).toBe(maskOf(caps));
      expect(capMask(status, 'CapBnd')).toBe(maskOf(bounding));
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      if (options.memlock === 'unlimited') expect(readFileSync(`/proc/${running.proc.pid}/limits`, 'utf8')).toMatch(/^Max locked memory\s+unlimited\s+unlimited/m);
      running.proc.kill('SIGTERM');
      const { code } = await running.exited;
      expect(code, running.stderr()).toBe(0);
      expect(running.stderr()).toMatch(/^exec-tracer: \d+ execs, 0 lost, 0 filtered\n$/);
      const event = JSON.parse(tagged()[0]!) as { kind: string; argv: string[]; exe: string };
      expect(event).toMatchObject({ kind: 'exec', argv: ['/bin/echo', tag], exe: realpathSync('/bin/echo') });
      // Created by nobody, 0600: command lines hold secrets.
      expect(statSync(output)).toMatchObject({ uid: NOBODY });
      expect(statSync(output).mode & 0o777).toBe(0o600);
    } finally {
      clearInterval(spawner);
      running.proc.kill('SIGKILL');
      await running.exited;
      command.done();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with any one of the unit's capabilities taken away, ExecStart exits 1 with the library's EPERM and its hint", async () => {
    for (const missing of caps) {
      const dir = logsDirectory();
      try {
        const result = await asNobody(caps.filter((c) => c !== missing), process.execPath, [main, ...execStartArgs(dir).args], options);
        expect(result.code, `without ${missing}: ${result.stderr}`).toBe(1);
        expect(result.stderr, `without ${missing}`).toMatch(
          /^exec-tracer: exec-tracer: [^\n]*\(EPERM, errno 1\)\nhint: run as root, or grant CAP_BPF and CAP_PERFMON \(Linux >= 5\.8\)/,
        );
        expect(result.stderr).not.toMatch(/\n\s+at /);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
