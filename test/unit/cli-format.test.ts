// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../lib/records/decode.js';
import {
  colorAllowed, execLine, exitLine, formatArg, formatChain, formatDuration, headerLine, jsonLine, treeExitLine, treeLine,
  type LineStyle,
} from '../../cli/format.js';
import type { ExecEvent, ExecFailedEvent, ExitEvent, ProcessInfo } from '../../lib/index.js';
import { encodeExecFailedRecord, encodeExecRecord, encodeExitRecord } from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 1_700_000_000_000_000_000n };
const exec = (fields: Parameters<typeof encodeExecRecord>[0] = {}) =>
  decodeBatch(encodeExecRecord(fields), clock).records[0] as ExecEvent;
const exit = (fields: Parameters<typeof encodeExitRecord>[0] = {}) =>
  decodeBatch(encodeExitRecord(fields), clock).records[0] as ExitEvent;
const failed = (fields: Parameters<typeof encodeExecFailedRecord>[0] = {}) =>
  decodeBatch(encodeExecFailedRecord(fields), clock).records[0] as ExecFailedEvent;

const plain: LineStyle = {
  time: false, timestamp: false, startMs: 0, printUid: false, quote: false, maxArgs: 20, color: false,
};
// Any byte a process chooses that a terminal would act on.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/;

describe('the default lines', () => {
  it('follow execsnoop: PCOMM PID PPID RET ARGS, aligned under the header', () => {
    const header = headerLine(plain);
    expect(header).toBe('PCOMM            PID     PPID    RET ARGS');
    const line = execLine(exec({ comm: 'ls', pid: 377673, ppid: 1201, argv: ['ls', '-l', '/tmp'] }), plain);
    expect(line).toBe('ls               377673  1201      0 ls -l /tmp');
    for (const title of ['PID', 'PPID', 'ARGS']) {
      const at = header.indexOf(title);
      expect(line.slice(at).length, title).toBeGreaterThan(0);
      expect(line[at - 1], title).toBe(' ');
    }
    expect(line.indexOf('377673')).toBe(header.indexOf('PID'));
    expect(line.indexOf('1201')).toBe(header.indexOf('PPID'));
    expect(line.indexOf('ls -l')).toBe(header.indexOf('ARGS'));
  });

  it('adds TIME, TIME(s) and UID columns in execsnoop order', () => {
    const style = { ...plain, time: true, timestamp: true, printUid: true };
    const e = exec({ uid: 1000, bootNs: 5_000_000_000n });
    style.startMs = e.time.getTime() - 1500;
    expect(headerLine(style)).toMatch(/^TIME {5}TIME\(s\) {2}UID {4}PCOMM/);
    const line = execLine(e, style);
    expect(line).toMatch(/^\d\d:\d\d:\d\d 1\.500 {4}1000 {3}/);
    expect(line.indexOf('1000')).toBe(headerLine(style).indexOf('UID'));
  });

  it('escapes every byte a terminal would act on, in the name and the arguments', () => {
    const line = execLine(
      exec({ comm: Buffer.from('x\x1b[2Jy'), argv: [Buffer.from('a\nb'), Buffer.from([0x66, 0xff, 0xfe]), '\u202eevil'] }),
      plain,
    );
    expect(line).not.toMatch(CONTROL);
    expect(line).toContain('x\\x1b[2Jy');
    expect(line).toContain("a\\nb f\\xff\\xfe \\u{202e}evil");
  });

  it('quotes what would read back wrong, or everything with -q', () => {
    expect(formatArg(Buffer.from('a b'), false)).toBe("'a b'");
    expect(formatArg(Buffer.from(''), false)).toBe("''");
    expect(formatArg(Buffer.from("it's"), false)).toBe("'it\\'s'");
    expect(formatArg(Buffer.from('plain'), false)).toBe('plain');
    expect(formatArg(Buffer.from('say "hi"'), true)).toBe('"say \\"hi\\""');
    expect(execLine(exec({ argv: ['echo', 'a b'] }), { ...plain, quote: true })).toMatch(/ "echo" "a b"$/);
  });

  it('cuts at --max-args with " ...", and marks arguments the kernel cut', () => {
    const argv = Array.from({ length: 30 }, (_, i) => `a${i}`);
    expect(execLine(exec({ argv }), { ...plain, maxArgs: 3 })).toMatch(/ a0 a1 a2 \.\.\.$/);
    expect(execLine(exec({ argv }), plain)).toMatch(/ a19 \.\.\.$/);
    expect(execLine(exec({ argv: ['echo', 'hello'], argvLimit: 8 }), plain)).toMatch(/ echo hel \.\.\.$/);
  });

  it('shows a failed exec with RET -errno, as execsnoop does', () => {
    const line = execLine(failed({ comm: 'bash', errno: 2, argv: ['/nonexistent', 'x'] }), plain);
    expect(line).toMatch(/^bash +\d+ +\d+ +-2 \/nonexistent x$/);
  });

  it('prints the --env variables after the arguments, escaped', () => {
    const e = exec({ argv: ['make'], env: ['PATH=/bin', 'CC=gcc', 'EVIL=\x1b]0;x\x07', 'HOME=/root'] });
    const line = execLine(e, { ...plain, env: ['CC', 'EVIL'] });
    expect(line).toMatch(/ make {2}CC=gcc EVIL=\\x1b\]0;x\\x07$/);
    expect(line).not.toMatch(CONTROL);
  });

  it('colours only when asked, and never lets the data colour itself', () => {
    const e = failed({ comm: 'x\x1b[31m', errno: 13 });
    expect(execLine(e, plain)).not.toContain('\x1b');
    const coloured = execLine(e, { ...plain, color: true });
    expect(coloured).toContain('\x1b[31m-13\x1b[39m');
    expect(coloured.replace('\x1b[31m-13\x1b[39m', '')).not.toContain('\x1b');
    expect(headerLine({ ...plain, color: true })).toMatch(/^\x1b\[1mPCOMM/);
  });

  it('allows colour on a TTY without NO_COLOR (no-color.org: an empty value does not count)', () => {
    expect(colorAllowed(true, {})).toBe(true);
    expect(colorAllowed(true, { NO_COLOR: '' })).toBe(true);
    expect(colorAllowed(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed(false, {})).toBe(false);
  });
});

describe('exit lines', () => {
  it('say how the process ended and after how long', () => {
    const ran = (ns: bigint) => ({ startBootNs: 1_000_000_000n, bootNs: 1_000_000_000n + ns });
    expect(exitLine(exit({ comm: 'make', status: 2 << 8, ...ran(1_500_000_000n) }), plain)).toMatch(
      /^make +4242 +1 +- \[exit 2 after 1\.50s\]$/,
    );
    expect(exitLine(exit({ status: 9, ...ran(3_000n) }), plain)).toMatch(/\[killed by SIGKILL after 3µs\]$/);
    expect(exitLine(exit({ status: 0x80 | 11, ...ran(0n) }), plain)).toMatch(/\[killed by SIGSEGV \(core dumped\) after 0µs\]$/);
  });

  it('formats durations people read', () => {
    expect(formatDuration(999n)).toBe('0µs');
    expect(formatDuration(850_000n)).toBe('850µs');
    expect(formatDuration(1_234_567n)).toBe('1.23ms');
    expect(formatDuration(12_300_000n)).toBe('12.3ms');
    expect(formatDuration(4_210_000_000n)).toBe('4.21s');
    expect(formatDuration(182_000_000_000n)).toBe('3m02s');
    expect(formatDuration(18_420_000_000_000n)).toBe('5h07m');
  });
});

describe('--tree', () => {
  const info = (pid: number, comm: string): ProcessInfo => ({ pid, comm }) as ProcessInfo;

  it('shows the chain root first, without init or kthreadd, escaped', () => {
    const chain = [info(1390, 'make'), info(1201, 'bash'), info(812, 'sshd'), info(1, 'systemd')];
    expect(formatChain(chain, 'cc', 1402)).toBe('sshd(812) › bash(1201) › make(1390) › cc(1402)');
    expect(formatChain([info(2, 'kthreadd')], 'kworker', 9)).toBe('kworker(9)');
    expect(formatChain([info(5, 'a\x1b[Kb')], 'c\nd', 6)).toBe('a\\x1b[Kb(5) › c\\nd(6)');
  });

  it('puts the arguments after the chain; a failed exec names its error', () => {
    const e = exec({ comm: 'cc', pid: 1402, argv: ['cc', '-c', 'x.c'] });
    expect(treeLine(e, plain)).toBe('cc(1402)  cc -c x.c');
    const self = { ...info(77, 'sh'), ancestors: () => [info(70, 'bash')] } as ProcessInfo;
    expect(treeLine(failed({ comm: 'sh', pid: 77, errno: 2, argv: ['nope'] }), plain, self)).toBe(
      'bash(70) › sh(77)  nope  [failed: ENOENT]',
    );
  });
});

describe('--json', () => {
  it('writes every field of an exec, 64-bit numbers as decimal strings', () => {
    const e = exec({ pid: 31337, argv: ['echo', 'hi'], cgroupId: 2n ** 63n + 5n, bootNs: 2n ** 60n });
    const parsed = JSON.parse(jsonLine(e)) as Record<string, unknown>;
    expect(parsed).toMatchObject({ kind: 'exec', pid: 31337, argv: ['echo', 'hi'], cgroupId: '9223372036854775813' });
    expect(parsed.bootNs).toBe(String(2n ** 60n));
    const defined = Object.entries(e.toJSON()).filter(([, value]) => value !== undefined);
    expect(Object.keys(parsed).sort()).toEqual(defined.map(([key]) => key).sort());
    expect(jsonLine(e)).not.toContain('\n');
  });

  it('carries the exact bytes, in base64, of every field that is not valid UTF-8', () => {
    const badArg = Buffer.from([0x61, 0xff, 0x0a, 0x1b]);
    const e = exec({
      comm: Buffer.from([0xc3, 0x28]), filename: Buffer.from('/tmp/\xff', 'latin1'), argv: ['ok', badArg, 'é'],
      cwd: Buffer.from([0x2f, 0x80]), exe: '/usr/bin/ok', cgroup: '/ok', env: ['A=1', Buffer.from([0x42, 0x3d, 0xfe])],
    });
    const line = jsonLine(e);
    expect(line).not.toMatch(/[\x00-\x1f]/);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const bytes = (b64: unknown) => Buffer.from(b64 as string, 'base64');
    expect(bytes(parsed.commBase64)).toEqual(Buffer.from([0xc3, 0x28]));
    expect(bytes(parsed.filenameBase64)).toEqual(Buffer.from('/tmp/\xff', 'latin1'));
    expect((parsed.argvBase64 as string[]).map(bytes)).toEqual([Buffer.from('ok'), badArg, Buffer.from('é')]);
    expect(bytes(parsed.cwdBase64)).toEqual(Buffer.from([0x2f, 0x80]));
    expect((parsed.envBase64 as string[]).map(bytes)).toEqual([Buffer.from('A=1'), Buffer.from([0x42, 0x3d, 0xfe])]);
    for (const valid of ['exeBase64', 'cgroupBase64', 'interpreterBase64']) expect(parsed).not.toHaveProperty(valid);
  });

  it('adds nothing for valid UTF-8, and encodes exits and failed execs too', () => {
    expect(JSON.stringify(JSON.parse(jsonLine(exec({ argv: ['ünïcode'] }))))).not.toContain('Base64');
    const x = JSON.parse(jsonLine(exit({ status: 1 << 8, comm: 'false' }))) as Record<string, unknown>;
    expect(x).toMatchObject({ kind: 'exit', exitCode: 1, comm: 'false' });
    expect(typeof x.durationNs).toBe('string');
    const f = JSON.parse(jsonLine(failed({ errno: 13, argv: ['/etc/passwd'] }))) as Record<string, unknown>;
    expect(f).toMatchObject({ kind: 'execFailed', code: 'EACCES', argv: ['/etc/passwd'], filenameTruncated: false });
    const cut = JSON.parse(jsonLine(failed({ errno: 36, filename: 'x'.repeat(5000) }))) as Record<string, unknown>;
    expect(cut).toMatchObject({ code: 'ENAMETOOLONG', filenameTruncated: true });
    expect(JSON.parse(jsonLine(exec({ filename: 'y'.repeat(5000) })))).toMatchObject({ filenameTruncated: true });
  });
});

describe('--tree --exits', () => {
  it('shows an exit under its chain, as the process table still knows it', () => {
    const self = { pid: 30537, comm: 'sh', ancestors: () => [{ pid: 30536, comm: 'sh' }, { pid: 1, comm: 'systemd' }] } as unknown as ProcessInfo;
    const e = exit({ pid: 30537, comm: 'sh', status: 0, startBootNs: 1_000_000n, bootNs: 1_712_000n });
    expect(treeExitLine(e, plain, self)).toBe('sh(30536) › sh(30537)  [exit 0 after 712µs]');
    expect(treeExitLine(e, plain)).toBe('sh(30537)  [exit 0 after 712µs]');
  });
});
