// SPDX-License-Identifier: MIT
//
// Who ran an exec: ids and capabilities the test sets with setpriv, setuid
// and file capabilities, the audit identity it writes, and namespaces it
// makes, each against what the kernel shows of the running process.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecEvent } from '../../lib/index.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { kernel, run, traceDuring, uniqueTag } from './kernel.js';

const TRUE = realpathSync('/bin/true');
const CAP_NET_RAW = 13n;
const CAP_SYS_ADMIN = 21n;

/** The exec of /bin/true (or a copy) that got `tag`, launchers left out. */
function only(events: ExecEvent[], tag: string): ExecEvent {
  const found = events.filter((e) => e.argv.includes(tag) && e.comm.startsWith('true'));
  expect(found, `events tagged ${tag}`).toHaveLength(1);
  return found[0]!;
}

async function ok(file: string, args: string[]): Promise<string> {
  const result = await run(file, args);
  expect(result.code, `${file} ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

// Where nobody may run the copies: a directory anyone can enter, on a file
// system that honours setuid bits (the test's tmpdir is).
const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-who-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!kernel)('who ran the exec, on the real kernel', () => {
  it('reports every id and capability set the exec was given', async () => {
    const tag = uniqueTag('ids');
    const { events } = await traceDuring(async () => {
      // CAP_NET_RAW kept through the exec as an ambient capability, so it is
      // inheritable, permitted and effective after it.
      await ok('setpriv', [
        '--reuid=1234', '--regid=2345', '--clear-groups',
        '--inh-caps=-all,+net_raw', '--ambient-caps=-all,+net_raw', '--bounding-set=-all,+net_raw',
        TRUE, `${tag}-caps`,
      ]);
      // Real and effective ids apart (no capabilities: kernels before 6.x
      // drop ambient ones on such an exec, later ones keep them).
      await ok('setpriv', ['--ruid=1234', '--euid=1500', '--rgid=2345', '--egid=2500', '--clear-groups', TRUE, `${tag}-apart`]);
    });
    const caps = only(events, `${tag}-caps`);
    expect([caps.uid, caps.euid, caps.suid, caps.fsuid, caps.gid, caps.egid, caps.sgid, caps.fsgid]).toEqual([
      1234, 1234, 1234, 1234, 2345, 2345, 2345, 2345,
    ]);
    expect([caps.capInheritable, caps.capPermitted, caps.capEffective]).toEqual([
      1n << CAP_NET_RAW, 1n << CAP_NET_RAW, 1n << CAP_NET_RAW,
    ]);
    expect(caps.secureExec).toBe(false);

    const apart = only(events, `${tag}-apart`);
    // exec(2) copies the effective ids into the saved and filesystem ones.
    expect([apart.uid, apart.euid, apart.suid, apart.fsuid]).toEqual([1234, 1500, 1500, 1500]);
    expect([apart.gid, apart.egid, apart.sgid, apart.fsgid]).toEqual([2345, 2500, 2500, 2500]);
    expect(apart.capEffective).toBe(0n);
    // The kernel marks any exec whose effective ids differ from the real
    // ones as secure (security/commoncap.c), with no setuid file involved:
    // the flag is the kernel's, not a guess from the file's mode.
    expect(apart.secureExec).toBe(true);
  });

  it('sees the kernel raise privileges for a setuid file and for file capabilities, and only then', async () => {
    const tag = uniqueTag('secure');
    const setuid = join(dir, 'true-setuid');
    const plain = join(dir, 'true-plain');
    const withCaps = join(dir, 'true-caps');
    for (const copy of [setuid, plain, withCaps]) copyFileSync(TRUE, copy);
    chmodSync(setuid, 0o4755);
    chmodSync(plain, 0o755);
    chmodSync(withCaps, 0o755);
    execFileSync('setcap', ['cap_net_raw+ep', withCaps]);
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const { events } = await traceDuring(async () => {
      await ok('setpriv', [...asNobody, setuid, `${tag}-setuid`]);
      await ok('setpriv', [...asNobody, plain, `${tag}-plain`]);
      await ok('setpriv', [...asNobody, withCaps, `${tag}-caps`]);
    });

    const raised = only(events, `${tag}-setuid`);
    expect([raised.uid, raised.euid, raised.suid]).toEqual([65534, 0, 0]);
    expect(raised.secureExec).toBe(true);
    // An exec that makes the euid 0 grants the full set (no SECBIT_NOROOT).
    expect(raised.capEffective & (1n << CAP_SYS_ADMIN)).toBe(1n << CAP_SYS_ADMIN);

    const same = only(events, `${tag}-plain`);
    expect([same.uid, same.euid, same.suid]).toEqual([65534, 65534, 65534]);
    expect(same.secureExec).toBe(false);
    expect(same.capEffective).toBe(0n);

    const caps = only(events, `${tag}-caps`);
    expect(caps.euid).toBe(65534);
    expect(caps.secureExec).toBe(true);
    expect(caps.capPermitted).toBe(1n << CAP_NET_RAW);
    expect(caps.capEffective).toBe(1n << CAP_NET_RAW);
  });

  it('reports the audit login uid and session a process was given, and undefined when unset', async () => {
    const tag = uniqueTag('audit');
    const own = Number(readFileSync('/proc/self/loginuid', 'utf8'));
    let session = '';
    const { events } = await traceDuring(async () => {
      // Setting the login uid starts a new audit session; the child prints it.
      session = await ok('sh', ['-c', `echo 4321 > /proc/self/loginuid && cat /proc/self/sessionid && exec ${TRUE} ${tag}-set`]);
      await ok(TRUE, [`${tag}-inherited`]);
    });
    const set = only(events, `${tag}-set`);
    expect(set.loginUid).toBe(4321);
    expect(set.sessionId).toBe(Number(session.trim()));
    const inherited = only(events, `${tag}-inherited`);
    expect(inherited.loginUid).toBe(own === 0xffffffff ? undefined : own);
  });

  it('names the controlling terminal of an exec under a pty, and none without one', async () => {
    const tag = uniqueTag('tty');
    let shown = '';
    const { events } = await traceDuring(async () => {
      // script(1) runs the command on a new pseudo-terminal; tty(1) names it.
      shown = await ok('script', ['-qc', `tty; exec ${TRUE} ${tag}-pty`, '/dev/null']);
      // setsid(1): a new session, so no controlling terminal at all.
      await ok('setsid', [TRUE, `${tag}-none`]);
    });
    const device = shown.trim();
    expect(device).toMatch(/^\/dev\/pts\/\d+$/);
    expect(only(events, `${tag}-pty`).tty).toBe(device.slice('/dev/'.length));
    expect(only(events, `${tag}-none`).tty).toBeUndefined();
  });

  it('names the session and the process group by their leaders, as /proc/<pid>/stat does', async () => {
    const tag = uniqueTag('session');
    const { events } = await traceDuring(async () => {
      await ok(TRUE, [`${tag}-inherited`]);
      // setsid(1) calls setsid(2) and execs: the process leads a new session and group.
      await ok('setsid', [TRUE, `${tag}-leader`]);
    });
    // Fields 5 and 6 of /proc/<pid>/stat, after the parenthesised name.
    const [pgid, sid] = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ').slice(2, 4).map(Number);
    const inherited = only(events, `${tag}-inherited`);
    expect([inherited.sid, inherited.pgid]).toEqual([sid, pgid]);
    const leader = only(events, `${tag}-leader`);
    expect([leader.sid, leader.pgid]).toEqual([leader.pid, leader.pid]);
    expect(leader.sid).not.toBe(sid);
  });

  it('names the namespaces of a process in new ones as /proc/<pid>/ns does', async () => {
    const tag = uniqueTag('ns');
    const names = LAYOUT.namespaces;
    let printed = '';
    const { events } = await traceDuring(async () => {
      printed = await ok('unshare', [
        '--pid', '--mount', '--net', '--uts', '--ipc', '--user', '--map-root-user', '--cgroup', '--time',
        '--fork', '--mount-proc', 'sh', '-c',
        `for n in ${names.join(' ')}; do readlink /proc/$$/ns/$n; done; exec ${TRUE} ${tag}`,
      ]);
    });
    const e = only(events, tag);
    const shown = Object.fromEntries(
      printed.trim().split('\n').map((line) => {
        const m = /^(\w+):\[(\d+)\]$/.exec(line)!;
        return [m[1], Number(m[2])];
      }),
    );
    expect(e.namespaces).toEqual(shown);
    // All new: none is the host's.
    const host = Object.fromEntries(names.map((n) => [n, Number(/\[(\d+)\]/.exec(execFileSync('readlink', [`/proc/self/ns/${n}`], { encoding: 'utf8' }))![1])]));
    for (const n of names) expect(e.namespaces[n], n).not.toBe(host[n]);
    expect(e.nsPid).toBe(1);
  });
});
