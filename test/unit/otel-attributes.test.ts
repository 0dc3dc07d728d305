// SPDX-License-Identifier: MIT
//
// The OpenTelemetry form of each event kind: every name outside exec_tracer.*
// is one the semantic-conventions registry has (its npm package, as
// published), no name is also a namespace of others, 64-bit values stay
// exact, and times keep their nanoseconds.
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isoNs, otelEventName, toOtelAttributes, toOtelRecord, type TracerEvent } from '../../lib/otel/attributes.js';
import { decodeBatch } from '../../lib/records/decode.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { encodeExecFailedRecord, encodeExecRecord, encodeExitRecord, encodeForkRecord } from '../helpers/mock-binding.js';

// Not a round number of ms: the nanoseconds must survive.
const clock = { epochOffsetNs: 1_765_000_000_123_456_789n };

/** The registry's attribute names (ATTR_* constants), and its templates (functions of a key). */
const REGISTRY = new Set(Object.entries(semconv).filter(([k, v]) => k.startsWith('ATTR_') && typeof v === 'string').map(([, v]) => v as string));
const TEMPLATES = Object.entries(semconv)
  .filter(([k, v]) => k.startsWith('ATTR_') && typeof v === 'function')
  .map(([, v]) => (v as (key: string) => string)('')); // 'process.environment_variable.'

function decodeOne(record: Buffer): TracerEvent {
  const { records, error } = decodeBatch(record, clock);
  expect(error).toBeUndefined();
  expect(records).toHaveLength(1);
  return records[0]!;
}

const exec = () =>
  decodeOne(
    encodeExecRecord({
      pid: 4242, tid: 4243, ppid: 1, uid: 1000, gid: 1001, nsPid: 7, comm: 'curl',
      filename: '/usr/bin/curl', argv: ['curl', '-s', 'https://example.com'],
      bootNs: 5_000_000_001n, startBootNs: 4_000_000_002n, parentStartBootNs: 3_000_000_000n,
      cgroupId: 0xffff_ffff_ffff_fff1n, execSeq: 7n, parentExecSeq: 3n,
      exe: '/usr/bin/curl', cwd: '/home/ann', exeIno: 0x20_0000_0000_0001n, exeCtimeNs: 1_700_000_000_000_000_123n,
      exeDev: (8 << 20) | 1, exeMode: 0o104755, exeNlink: 1,
      euid: 0, egid: 1001, suid: 0, sgid: 1001, fsuid: 0, fsgid: 1001,
      capEffective: 0x1ff_ffff_ffffn, capPermitted: 0x1ff_ffff_ffffn, capInheritable: 0n,
      loginUid: 1000, sessionId: 4, namespaces: { pid: 4026531836, mnt: 4026531841 }, tty: 'pts3',
      cgroup: '/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope',
      env: ['LANG=C.UTF-8', 'TERM=xterm'], sid: 4000, pgid: 4100,
    }),
  );

const all = (): TracerEvent[] => [
  exec(),
  decodeOne(encodeExitRecord({ pid: 4242, status: 9, bootNs: 9_000_000_000n, startBootNs: 4_000_000_002n })),
  decodeOne(encodeForkRecord({ pid: 4244, ppid: 4242, bootNs: 6_000_000_000n })),
  decodeOne(encodeExecFailedRecord({ pid: 4242 })),
];

describe('toOtelAttributes', () => {
  it('uses only names the semantic-conventions registry has, outside exec_tracer.*', () => {
    expect(REGISTRY.size).toBeGreaterThan(500);
    expect(TEMPLATES).toContain('process.environment_variable.');
    for (const event of all()) {
      for (const name of Object.keys(toOtelAttributes(event))) {
        if (name.startsWith('exec_tracer.')) continue;
        const known = REGISTRY.has(name) || TEMPLATES.some((t) => name.startsWith(t) && name.length > t.length);
        expect(known, `${event.kind}: ${name} is not in @opentelemetry/semantic-conventions`).toBe(true);
      }
    }
  });

  it('never names an attribute that is also a namespace of others', () => {
    for (const event of all()) {
      const names = Object.keys(toOtelAttributes(event));
      for (const name of names) expect(names.filter((other) => other.startsWith(`${name}.`)), name).toEqual([]);
    }
  });

  it('maps an exec: ids, the program, its arguments, who ran it, where, the environment', () => {
    const a = toOtelAttributes(exec());
    expect(a).toMatchObject({
      'process.pid': 4242, 'thread.id': 4243, 'process.parent_pid': 1, 'process.vpid': 7,
      'process.executable.path': '/usr/bin/curl', 'process.executable.name': 'curl',
      'process.command': 'curl', 'process.command_args': ['curl', '-s', 'https://example.com'], 'process.args_count': 3,
      'process.user.id': 0, 'process.real_user.id': 1000, 'process.saved_user.id': 0,
      'process.working_directory': '/home/ann', 'process.interactive': true,
      'process.session_leader.pid': 4000, 'process.group_leader.pid': 4100,
      'process.linux.cgroup': '0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope',
      'container.id': '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'process.environment_variable.LANG': 'C.UTF-8', 'process.environment_variable.TERM': 'xterm',
      'host.name': hostname(),
      'exec_tracer.comm': 'curl', 'exec_tracer.exec.filename': '/usr/bin/curl',
      'exec_tracer.process_id': '4242:4000000002', 'exec_tracer.parent_process_id': '1:3000000000',
      'exec_tracer.exec_id': '4242:4000000002:7', 'exec_tracer.parent_exec_id': '1:3000000000:3',
      'exec_tracer.capabilities.effective': '000001ffffffffff', 'exec_tracer.capabilities.inheritable': '0000000000000000',
      'exec_tracer.real_group.id': 1001, 'exec_tracer.audit.login_uid': 1000, 'exec_tracer.audit.session_id': 4,
      'exec_tracer.tty': 'pts/3', 'exec_tracer.namespace.pid': 4026531836, 'exec_tracer.namespace.mnt': 4026531841,
      'exec_tracer.exe.mode': 0o104755, 'exec_tracer.exe.nlink': 1, 'exec_tracer.argv.truncated': false,
    });
    expect(['amd64', 'arm64', 'arm32', 'x86', 'ppc32', 'ppc64', 's390x']).toContain(a['host.arch']);
    // Namespaces the record left at 0 are unknown, not 0.
    expect(a).not.toHaveProperty('exec_tracer.namespace.net');
  });

  it('keeps every 64-bit value exact, as a decimal string', () => {
    const a = toOtelAttributes(exec());
    expect(a['exec_tracer.exe.inode']).toBe('9007199254740993');
    expect(a['exec_tracer.cgroup.id']).toBe(String(0xffff_ffff_ffff_fff1n));
    expect(a['exec_tracer.boot_ns']).toBe('5000000001');
    for (const [name, value] of Object.entries(a))
      if (typeof value === 'number') expect(Number.isSafeInteger(value), name).toBe(true);
  });

  it('writes times as ISO 8601 with all nine digits of nanoseconds', () => {
    const record = toOtelRecord(exec());
    // 1_765_000_000_123_456_789 + 5_000_000_001 ns since the epoch.
    expect(record.timestamp).toBe('2025-12-06T05:46:45.123456790Z');
    expect(record.attributes['process.creation.time']).toBe('2025-12-06T05:46:44.123456791Z');
    expect(record.attributes['exec_tracer.exe.ctime']).toBe('2023-11-14T22:13:20.000000123Z');
    expect(record.eventName).toBe('exec_tracer.process.exec');
    expect(isoNs(0n)).toBe('1970-01-01T00:00:00.000000000Z');
    expect(isoNs(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
  });

  it('leaves out what was not collected, rather than writing it as empty', () => {
    const a = toOtelAttributes(
      decodeOne(encodeExecRecord({ context: 0, exe: '', cwd: '', cgroup: '', loginUid: 0xffffffff, sessionId: 0xffffffff })),
    );
    for (const name of ['process.executable.path', 'process.working_directory', 'exec_tracer.exe.inode', 'exec_tracer.audit.login_uid', 'exec_tracer.tty', 'container.id'])
      expect(a, name).not.toHaveProperty(name);
    expect(a['process.interactive']).toBe(false);
  });

  it('maps an exit, a fork and a failed exec, each under its event name', () => {
    const [, exit, fork, failed] = all();
    expect(otelEventName(exit!)).toBe('exec_tracer.process.exit');
    expect(toOtelAttributes(exit!)).toMatchObject({
      'process.pid': 4242, 'exec_tracer.signal': 'SIGKILL', 'exec_tracer.signal_number': 9, 'exec_tracer.exit_status': 9,
      'exec_tracer.core_dumped': false, 'process.exit.time': '2025-12-06T05:46:49.123456789Z', 'exec_tracer.duration_ns': '4999999998',
    });
    expect(toOtelAttributes(exit!)).not.toHaveProperty('process.exit.code');
    expect(toOtelAttributes(decodeOne(encodeExitRecord({ status: 3 << 8 })))['process.exit.code']).toBe(3);
    expect(otelEventName(fork!)).toBe('exec_tracer.process.fork');
    expect(toOtelAttributes(fork!)).toMatchObject({ 'process.pid': 4244, 'process.parent_pid': 4242, 'process.creation.time': '2025-12-06T05:46:46.123456789Z' });
    expect(otelEventName(failed!)).toBe('exec_tracer.process.exec_failed');
    const f = toOtelAttributes(failed!);
    expect(f['error.type']).toBe((failed as { code: string }).code);
    expect(f['exec_tracer.exec.args']).toEqual((failed as { argv: string[] }).argv);
    expect(f).not.toHaveProperty('process.command_args');
  });

  it('has a form for every record type the layout knows that becomes an event', () => {
    expect(Object.keys(LAYOUT)).toEqual(expect.arrayContaining(['exec', 'exit', 'fork', 'execFailed']));
  });
});
