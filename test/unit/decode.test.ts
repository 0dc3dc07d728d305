// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../lib/records/decode.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { encodeExecRecord } from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 1_700_000_000_000_000_000n };

describe('decodeBatch', () => {
  it('decodes every field of an exec record', () => {
    const record = encodeExecRecord({
      pid: 100, tid: 101, ppid: 50, uid: 1000, gid: 1001, nsPid: 7,
      comm: 'bash', filename: '/usr/bin/bash', argv: ['bash', '-c', 'echo hi'],
      bootNs: 5_000_000_000n, startBootNs: 4_000_000_000n, parentStartBootNs: 3_000_000_000n,
      cgroupId: 0xffff_ffff_ffffn, execSeq: 7n, parentExecSeq: 3n,
    });
    const { events, unknown, error } = decodeBatch(record, clock);
    expect(error).toBeUndefined();
    expect(unknown).toBe(0);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e).toMatchObject({
      pid: 100, tid: 101, ppid: 50, uid: 1000, gid: 1001, nsPid: 7, comm: 'bash',
      filename: '/usr/bin/bash', argv: ['bash', '-c', 'echo hi'], argc: 3,
      argvTruncated: false, argvFault: false, argvTotalBytes: 'bash\0-c\0echo hi\0'.length, filenameTruncated: false,
      bootNs: 5_000_000_000n, startBootNs: 4_000_000_000n, parentStartBootNs: 3_000_000_000n,
      cgroupId: 0xffff_ffff_ffffn, kind: 'exec', processId: '100:4000000000', parentProcessId: '50:3000000000',
      execId: '100:4000000000:7', parentExecId: '50:3000000000:3',
    });
    expect(e.time.getTime()).toBe(Number((5_000_000_000n + clock.epochOffsetNs) / 1_000_000n));
    expect(e.rawFilename).toEqual(Buffer.from('/usr/bin/bash'));
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ pid: 100, argv: ['bash', '-c', 'echo hi'] });
  });

  it('keeps empty arguments, and a 15-byte comm without a NUL', () => {
    const record = encodeExecRecord({ comm: 'abcdefghijklmno', argv: ['', 'x', '', ''] });
    const e = decodeBatch(record, clock).events[0]!;
    expect(e.argv).toEqual(['', 'x', '', '']);
    expect(e.argc).toBe(4);
    expect(e.comm).toBe('abcdefghijklmno');
  });

  it('keeps the cut last argument of a truncated argv and flags it', () => {
    const record = encodeExecRecord({ argv: ['/bin/true', 'abcdef', 'ghijkl'], argvLimit: 20 });
    const e = decodeBatch(record, clock).events[0]!;
    expect(e.argvTruncated).toBe(true);
    expect(e.argv).toEqual(['/bin/true', 'abcdef', 'ghi']);
    expect(e.argc).toBe(3);
    expect(e.argvTotalBytes).toBe(24);
  });

  it('decodes invalid UTF-8 to U+FFFD and keeps the exact bytes', () => {
    const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
    const record = encodeExecRecord({ argv: ['x', bad], filename: Buffer.from([0x2f, 0xc3]) });
    const e = decodeBatch(record, clock).events[0]!;
    expect(e.argv[1]).toBe('a\ufffd\ufffdb');
    expect(e.rawArgv[1]).toEqual(bad);
    expect(e.filename).toBe('/\ufffd');
    expect(e.rawFilename).toEqual(Buffer.from([0x2f, 0xc3]));
  });

  it('counts argc from argv when the kernel could not give it', () => {
    const record = encodeExecRecord({ argv: ['a', 'b'], argc: 0, flags: LAYOUT.flags.argcUnknown });
    expect(decodeBatch(record, clock).events[0]!.argc).toBe(2);
  });

  it('reports an unreadable argv or filename', () => {
    const record = encodeExecRecord({ argv: [], flags: LAYOUT.flags.argvFault });
    const e = decodeBatch(record, clock).events[0]!;
    expect(e.argvFault).toBe(true);
    expect(e.filenameFault).toBe(false);
    expect(e.argv).toEqual([]);
    expect(e.argc).toBe(0);

    const noName = encodeExecRecord({ filename: '', flags: LAYOUT.flags.filenameFault });
    const f = decodeBatch(noName, clock).events[0]!;
    expect(f.filenameFault).toBe(true);
    expect(f.argvFault).toBe(false);
    expect(f.filename).toBe('');
    expect(f.argv).toEqual(['/bin/true']);
  });

  it('keeps the longest name the kernel makes whole, and flags a longer one cut at the limit', () => {
    // execveat(dirfd, relative path): "/dev/fd/<dirfd>/" before PATH_MAX - 1 bytes of path.
    const longest = `/dev/fd/2147483647/${'d'.repeat(4095)}`;
    expect(longest.length).toBeLessThan(LAYOUT.filenameMax);
    const whole = decodeBatch(encodeExecRecord({ filename: longest, argv: ['x'] }), clock).events[0]!;
    expect(whole).toMatchObject({ filename: longest, filenameTruncated: false, argv: ['x'] });

    const cut = decodeBatch(encodeExecRecord({ filename: 'f'.repeat(5000), argv: ['x'] }), clock).events[0]!;
    expect(cut.filenameTruncated).toBe(true);
    expect(cut.filenameFault).toBe(false);
    expect(cut.filename).toBe('f'.repeat(LAYOUT.filenameMax - 1));
    // What follows the cut name is read from where the name ends.
    expect(cut.argv).toEqual(['x']);
    expect(JSON.parse(JSON.stringify(cut))).toMatchObject({ filenameTruncated: true, filenameFault: false });
    expect(JSON.parse(JSON.stringify(whole))).toMatchObject({ filenameTruncated: false });

    // The flag alone, as the kernel sets it: read from the record, not inferred from the length.
    const flagged = decodeBatch(encodeExecRecord({ filename: '/bin/x', flags: LAYOUT.flags.filenameTruncated }), clock);
    expect(flagged.events[0]!).toMatchObject({ filename: '/bin/x', filenameTruncated: true, argvTruncated: false });
  });

  it('keeps an argv cut right after a NUL as whole arguments, and one of only NULs as empty ones', () => {
    const cut = decodeBatch(encodeExecRecord({ argv: ['ab', 'cd'], argvLimit: 3 }), clock).events[0]!;
    expect(cut.argvTruncated).toBe(true);
    expect(cut.argv).toEqual(['ab']);
    expect(cut.argc).toBe(2);
    const empties = decodeBatch(encodeExecRecord({ argv: ['', ''] }), clock).events[0]!;
    expect(empties.argv).toEqual(['', '']);
    expect(empties.argvTotalBytes).toBe(2);
  });

  it('decodes each string once, and views the batch instead of copying it', () => {
    const batch = encodeExecRecord({ argv: ['a', 'bc'] });
    const e = decodeBatch(batch, clock).events[0]!;
    expect(e.argv).toBe(e.argv);
    expect(e.filename).toBe(e.filename);
    expect(e.rawArgv).toBe(e.rawArgv);
    expect(e.rawArgv[1]!.buffer).toBe(batch.buffer);
    expect(e.rawFilename.buffer).toBe(batch.buffer);
    // A Date is mutable: each read gets its own.
    expect(e.time).not.toBe(e.time);
  });

  it('decodes many records in one batch and skips unknown record types', () => {
    const batch = Buffer.concat([
      encodeExecRecord({ pid: 1 }),
      encodeExecRecord({ pid: 2, type: 99 }),
      encodeExecRecord({ pid: 3 }),
    ]);
    const { events, unknown } = decodeBatch(batch, clock);
    expect(events.map((e) => e.pid)).toEqual([1, 3]);
    expect(unknown).toBe(1);
  });

  it('reads the variable part where fixed_size says, so appended fixed fields stay compatible', () => {
    const base = encodeExecRecord({ filename: '/bin/x', argv: ['x'] });
    const X = LAYOUT.exec;
    const grown = Buffer.concat([base.subarray(0, X.length), Buffer.alloc(8, 0xee), base.subarray(X.length)]);
    grown.writeUInt16LE(X.length + 8, LAYOUT.header.fixedSize);
    grown.writeUInt32LE(grown.length, LAYOUT.header.size);
    const e = decodeBatch(grown, clock).events[0]!;
    expect(e.filename).toBe('/bin/x');
    expect(e.argv).toEqual(['x']);
  });

  it('stops at a malformed record, keeping the ones before it, and never throws', () => {
    const good = encodeExecRecord({ pid: 1 });
    const bad = encodeExecRecord({ pid: 2 });
    bad.writeUInt32LE(bad.length + 100, LAYOUT.header.size);
    const r1 = decodeBatch(Buffer.concat([good, bad]), clock);
    expect(r1.events.map((e) => e.pid)).toEqual([1]);
    expect(r1.error?.message).toMatch(/malformed record at byte \d+/);

    const short = encodeExecRecord();
    short.writeUInt32LE(4, LAYOUT.header.size);
    expect(decodeBatch(short, clock).error).toBeDefined();

    const lying = encodeExecRecord({ argv: ['abc'] });
    lying.writeUInt32LE(1000, LAYOUT.exec.argvLen);
    expect(decodeBatch(lying, clock).error?.message).toMatch(/past the record's end/);

    expect(decodeBatch(Buffer.alloc(3), clock).error?.message).toMatch(/truncated header/);
  });

  it('decodes argv only when it is read', () => {
    const record = encodeExecRecord({ filename: '/bin/x', argv: ['a', 'b'], exe: '/usr/bin/x', cwd: '/home' });
    const e = decodeBatch(record, clock).events[0]!;
    expect(e.pid).toBe(4242);
    // Mutating the batch after decode shows whether a field was read eagerly.
    const argvAt = LAYOUT.exec.length + '/bin/x'.length;
    record.write('z', argvAt + 2);
    record.write('Y', argvAt + 4 + 9);
    record.write('H', argvAt + 4 + 10 + 1);
    expect(e.argv).toEqual(['a', 'z']);
    expect(e.exe).toBe('/usr/bin/Y');
    expect(e.cwd).toBe('/Home');
  });

  describe('who ran it', () => {
    it('decodes the credentials, capabilities, audit identity and namespaces', () => {
      const W = LAYOUT.whoFlags;
      const namespaces = { pid: 4026532001, mnt: 2, net: 3, uts: 4, ipc: 5, user: 6, cgroup: 7, time: 4026531834 };
      const e = decodeBatch(encodeExecRecord({
        uid: 1000, gid: 1000, euid: 0, egid: 5, suid: 0, sgid: 5, fsuid: 0, fsgid: 5,
        capInheritable: 1n << 13n, capPermitted: (1n << 41n) - 1n, capEffective: 1n << 40n,
        loginUid: 1000, sessionId: 7, namespaces, whoFlags: W.secureExec, sid: 900, pgid: 950,
      }), clock).events[0]!;
      expect(e).toMatchObject({
        uid: 1000, euid: 0, suid: 0, fsuid: 0, gid: 1000, egid: 5, sgid: 5, fsgid: 5,
        capInheritable: 1n << 13n, capPermitted: (1n << 41n) - 1n, capEffective: 1n << 40n,
        secureExec: true, loginUid: 1000, sessionId: 7, sid: 900, pgid: 950,
      });
      expect(e.namespaces).toEqual(namespaces);
      expect(Object.isFrozen(e.namespaces)).toBe(true);
      expect(JSON.parse(JSON.stringify(e))).toMatchObject({ euid: 0, capPermitted: String((1n << 41n) - 1n), namespaces, sid: 900, pgid: 950 });
      // A record of an object without them: 0.
      const older = decodeBatch(encodeExecRecord({ fixedSize: LAYOUT.exec.sid, sid: 900, pgid: 950 }), clock).events[0]!;
      expect([older.sid, older.pgid]).toEqual([0, 0]);
    });

    it('names the controlling terminal as /dev does, and none as undefined', () => {
      const tty = (name?: string) => decodeBatch(encodeExecRecord(name === undefined ? {} : { tty: name }), clock).events[0]!.tty;
      expect(tty('pts3')).toBe('pts/3');
      expect(tty('pts12')).toBe('pts/12');
      expect(tty('tty1')).toBe('tty1');
      expect(tty('ttyS0')).toBe('ttyS0');
      expect(tty('ptsx')).toBe('ptsx');
      expect(tty()).toBeUndefined();
    });

    it('reads an unset or unknown audit identity as undefined', () => {
      const unset = decodeBatch(encodeExecRecord(), clock).events[0]!;
      expect([unset.loginUid, unset.sessionId, unset.secureExec]).toEqual([undefined, undefined, false]);
      const noAudit = decodeBatch(encodeExecRecord({ loginUid: 0, sessionId: 1, whoFlags: LAYOUT.whoFlags.auditUnknown }), clock)
        .events[0]!;
      expect([noAudit.loginUid, noAudit.sessionId]).toEqual([undefined, undefined]);
      const root = decodeBatch(encodeExecRecord({ loginUid: 0, sessionId: 1 }), clock).events[0]!;
      expect([root.loginUid, root.sessionId]).toEqual([0, 1]);
    });

    it('reads as empty in a record of before these fields', () => {
      const e = decodeBatch(encodeExecRecord({ fixedSize: 128, uid: 1000, tty: 'pts1' }), clock).events[0]!;
      expect([e.euid, e.capEffective, e.secureExec, e.loginUid, e.namespaces.pid, e.tty]).toEqual([0, 0n, false, undefined, 0, undefined]);
      expect(e.exe).toBe('/usr/bin/true');
    });
  });

  describe('the context', () => {
    it('decodes exe, its identity and flags, the interpreter and cwd', () => {
      const F = LAYOUT.contextFlags;
      const record = encodeExecRecord({
        filename: '/opt/run.sh', argv: ['/bin/sh', '/opt/run.sh'],
        exe: '/usr/bin/dash', interpreter: '/bin/sh', cwd: '/srv/app',
        exeIno: 0xffff_ffff_ffffn, exeCtimeNs: 1_700_000_000_123_456_789n, exeMode: 0o104755,
        exeDev: (259 << 20) | 0x12345, exeNlink: 0xfffffffe,
        contextFlags: F.exeDeleted | F.exeUpperLayer | F.cwdTruncated,
      });
      const { events, error } = decodeBatch(record, clock);
      expect(error).toBeUndefined();
      const e = events[0]!;
      expect(e).toMatchObject({
        exe: '/usr/bin/dash', exeTruncated: false, exeInode: 0xffff_ffff_ffffn,
        exeCtimeNs: 1_700_000_000_123_456_789n, exeMode: 0o104755, exeNlink: 0xfffffffe,
        exeDeleted: true, exeMemfd: false, exeUpperLayer: true,
        interpreter: '/bin/sh', cwd: '/srv/app', cwdTruncated: true,
      });
      // stat(2)'s encoding of major 259, minor 0x12345 (glibc makedev).
      expect(e.exeDevice).toBe(0x45 | (259 << 8) | (0x123 << 20));
      expect(e.rawExe).toEqual(Buffer.from('/usr/bin/dash'));
      expect(e.rawInterpreter).toEqual(Buffer.from('/bin/sh'));
      expect(e.rawCwd).toEqual(Buffer.from('/srv/app'));
      expect(e.argv).toEqual(['/bin/sh', '/opt/run.sh']);
      expect(JSON.parse(JSON.stringify(e))).toMatchObject({
        exe: '/usr/bin/dash', exeInode: String(0xffff_ffff_ffffn), exeMode: 0o104755, exeNlink: 0xfffffffe, interpreter: '/bin/sh', cwd: '/srv/app',
      });
    });

    it('has no interpreter without the flag, and keeps exact bytes of every path', () => {
      const odd = Buffer.from([0x2f, 0xff, 0x0a, 0x80]);
      const e = decodeBatch(encodeExecRecord({ exe: odd, cwd: odd, exeCtimeNs: -1_500_000_000n }), clock).events[0]!;
      expect(e.interpreter).toBeUndefined();
      expect(e.rawInterpreter).toBeUndefined();
      expect(e.rawExe).toEqual(odd);
      expect(e.rawCwd).toEqual(odd);
      expect(e.cwd).toBe('/\ufffd\n\ufffd');
      expect(e.exeCtimeNs).toBe(-1_500_000_000n);
    });

    it('reads as empty when the kernel object predates the context fields', () => {
      const e = decodeBatch(encodeExecRecord({ fixedSize: 96, argv: ['old'] }), clock).events[0]!;
      expect(e.argv).toEqual(['old']);
      expect([e.exe, e.cwd, e.interpreter, e.exeInode, e.exeDevice, e.exeMode, e.exeCtimeNs, e.exeNlink]).toEqual([
        '', '', undefined, 0n, 0, 0, 0n, 0,
      ]);
      expect([e.exeDeleted, e.exeMemfd, e.exeUpperLayer, e.exeTruncated, e.cwdTruncated]).toEqual([
        false, false, false, false, false,
      ]);
    });

    it('rejects path lengths past the record\'s end', () => {
      for (const field of [LAYOUT.exec.exeLen, LAYOUT.exec.interpLen, LAYOUT.exec.cwdLen, LAYOUT.exec.cgroupLen]) {
        const lying = encodeExecRecord();
        lying.writeUInt16LE(lying.readUInt16LE(field) + 1, field);
        expect(decodeBatch(lying, clock).error?.message).toMatch(/past the record's end/);
      }
    });
  });

  describe('where: cgroup and container', () => {
    const id = 'a3f9c2d1e4b5a6978899aabbccddeeff00112233445566778899aabbccddeeff';

    it('decodes the cgroup path, its cut flag and the container id parsed from it', () => {
      const e = decodeBatch(encodeExecRecord({ cgroup: `/system.slice/docker-${id}.scope`, cwd: '/srv' }), clock).events[0]!;
      expect(e).toMatchObject({ cgroup: `/system.slice/docker-${id}.scope`, cgroupTruncated: false, containerId: id, cwd: '/srv' });
      expect(e.rawCgroup).toEqual(Buffer.from(`/system.slice/docker-${id}.scope`));
      const cut = decodeBatch(
        encodeExecRecord({ cgroup: `/crio-${id}.scope`, contextFlags: LAYOUT.contextFlags.cgroupTruncated }),
        clock,
      ).events[0]!;
      expect([cut.cgroup, cut.cgroupTruncated, cut.containerId]).toEqual([`/crio-${id}.scope`, true, id]);
      const host = decodeBatch(encodeExecRecord({ cgroup: '/user.slice/user-0.slice/session-1.scope' }), clock).events[0]!;
      expect(host.containerId).toBeUndefined();
      expect(JSON.parse(JSON.stringify(e))).toMatchObject({ cgroup: `/system.slice/docker-${id}.scope`, containerId: id });
    });

    it('reads as empty in a record of before the cgroup path', () => {
      const e = decodeBatch(encodeExecRecord({ fixedSize: 256, cwd: '/srv' }), clock).events[0]!;
      expect([e.cgroup, e.cgroupTruncated, e.containerId, e.cwd]).toEqual(['', false, undefined, '/srv']);
      expect([e.env, e.rawEnv, e.envTotalBytes, e.envTruncated]).toEqual([{}, [], 0, false]);
    });
  });

  describe('the environment', () => {
    const envOf = (fields: Parameters<typeof encodeExecRecord>[0], names?: string[]) =>
      decodeBatch(encodeExecRecord(fields), clock, { envNames: names }).events[0]!;

    it('splits entries at the first =, keeps empty values and exact bytes, after the cgroup path', () => {
      const odd = Buffer.from([0x42, 0x49, 0x4e, 0x3d, 0xff, 0x00 + 0x41]);
      const e = envOf({ cgroup: '/a', env: ['A=1', 'EMPTY=', 'EQ=x=y', odd] });
      expect(e.env).toEqual({ A: '1', EMPTY: '', EQ: 'x=y', BIN: '\ufffdA' });
      expect(e.rawEnv).toEqual([Buffer.from('A=1'), Buffer.from('EMPTY='), Buffer.from('EQ=x=y'), odd]);
      expect([e.envTotalBytes, e.envTruncated, e.envFault, e.cgroup]).toEqual([4 + 7 + 7 + 7, false, false, '/a']);
    });

    it('keeps the first of a name given twice, leaves entries without a name out of env, and has no prototype', () => {
      const e = envOf({ env: ['X=first', 'X=second', 'NOEQUALS', '=nameless', '__proto__=p', 'constructor=c'] });
      expect(e.env.X).toBe('first');
      expect(Object.getPrototypeOf(e.env)).toBeNull();
      expect(Object.keys(e.env)).toEqual(['X', '__proto__', 'constructor']);
      expect(e.env['__proto__']).toBe('p');
      expect(e.rawEnv).toHaveLength(6);
    });

    it('keeps only the allow-list\'s names, compared byte for byte', () => {
      const e = envOf({ env: ['PATH=/bin', 'SECRET=x', 'PATHX=y', 'PÄTH=ü', 'LD_PRELOAD=/x.so', 'NOEQ'] }, ['PATH', 'LD_PRELOAD', 'PÄTH', 'NOEQ']);
      expect(e.env).toEqual({ PATH: '/bin', PÄTH: 'ü', LD_PRELOAD: '/x.so' });
      expect(e.rawEnv.map(String)).toEqual(['PATH=/bin', 'PÄTH=ü', 'LD_PRELOAD=/x.so']);
      expect(envOf({ env: ['A=1'] }, []).env).toEqual({});
    });

    it('keeps the cut last entry of a truncated environment and flags it', () => {
      const e = envOf({ env: ['A=1', 'LONG=abcdef'], envLimit: 9 });
      expect(e.rawEnv.map(String)).toEqual(['A=1', 'LONG=']);
      expect([e.envTruncated, e.envTotalBytes]).toEqual([true, 16]);
    });

    it('is empty when the kernel did not read it', () => {
      const e = envOf({});
      expect([e.env, e.rawEnv, e.envTotalBytes, e.envTruncated, e.envFault]).toEqual([{}, [], 0, false, false]);
    });

    it('rejects an environment length past the record\'s end', () => {
      const lying = encodeExecRecord({ env: ['A=1'] });
      lying.writeUInt32LE(lying.readUInt32LE(LAYOUT.exec.envLen) + 1, LAYOUT.exec.envLen);
      expect(decodeBatch(lying, clock).error?.message).toMatch(/past the record's end/);
    });
  });
});
