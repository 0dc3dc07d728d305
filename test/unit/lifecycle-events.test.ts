// SPDX-License-Identifier: MIT
//
// Exit and fork records decoded, and emitted in the kernel's order among
// exec events.
import { describe, expect, it } from 'vitest';
import { ExecTracer, decodeBatch } from '../../lib/index.js';
import { decodeRecords } from '../../lib/records/decode.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { resolveOptions } from '../../lib/options.js';
import {
  MockBinding,
  encodeExecFailedRecord,
  encodeExecRecord,
  encodeExitRecord,
  encodeForkRecord,
  encodeTaskRecord,
} from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 1_700_000_000_000_000_000n };

describe('exit records', () => {
  const exitOf = (status: number) => decodeBatch(encodeExitRecord({ status }), clock).records[0]!;

  it('decode the identities, times and comm', () => {
    const e = decodeBatch(
      encodeExitRecord({ pid: 77, tid: 79, ppid: 1, comm: 'worker', startBootNs: 1_000n, bootNs: 5_000n, execSeq: 4n, status: 3 << 8 }),
      clock,
    ).records[0]!;
    expect(e).toMatchObject({
      kind: 'exit', pid: 77, tid: 79, ppid: 1, comm: 'worker', processId: '77:1000', execId: '77:1000:4',
      startBootNs: 1_000n, bootNs: 5_000n, durationNs: 4_000n, exitCode: 3, signal: undefined, coreDumped: false,
    });
    expect(e.time.getTime()).toBe(Number((5_000n + clock.epochOffsetNs) / 1_000_000n));
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ kind: 'exit', exitCode: 3, processId: '77:1000', durationNs: '4000' });
  });

  it.each([
    [0, { exitCode: 0, signal: undefined, signalNumber: undefined, coreDumped: false }],
    [255 << 8, { exitCode: 255, signal: undefined, coreDumped: false }],
    [9, { exitCode: undefined, signal: 'SIGKILL', signalNumber: 9, coreDumped: false }],
    [11 | 0x80, { exitCode: undefined, signal: 'SIGSEGV', signalNumber: 11, coreDumped: true }],
    [15, { exitCode: undefined, signal: 'SIGTERM', coreDumped: false }],
    [34, { signal: 'SIGRTMIN', signalNumber: 34 }],
    [36, { signal: 'SIGRTMIN+2', signalNumber: 36 }],
  ])('read the wait status %i', (status, expected) => {
    expect(exitOf(status)).toMatchObject({ status, ...expected });
  });

  it('reject a record shorter than the exit layout', () => {
    const short = encodeExitRecord({ fixedSize: LAYOUT.exit.length - 8 });
    expect(decodeBatch(short, clock).error?.message).toMatch(/a short exit record/);
  });
});

describe('fork records', () => {
  it('decode the child, its parent and the image it inherited', () => {
    const f = decodeBatch(
      encodeForkRecord({ pid: 501, ppid: 500, comm: 'bash', startBootNs: 9_000n, parentStartBootNs: 2_000n, execSeq: 6n }),
      clock,
    ).records[0]!;
    expect(f).toMatchObject({
      kind: 'fork', pid: 501, ppid: 500, comm: 'bash', processId: '501:9000', parentProcessId: '500:2000',
      execId: '501:9000:6', startBootNs: 9_000n, parentStartBootNs: 2_000n,
    });
  });
});

describe('the tracer', () => {
  it("emits exec, exit and fork in the kernel's order, and counts each", async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ forks: true }, { binding });
    const order: string[] = [];
    tracer.on('exec', (e) => order.push(`exec ${e.pid}`));
    tracer.on('exit', (e) => order.push(`exit ${e.pid}`));
    tracer.on('fork', (e) => order.push(`fork ${e.pid}`));
    await tracer.start();
    binding.current.push(encodeForkRecord({ pid: 2 }), encodeExecRecord({ pid: 2 }), encodeExitRecord({ pid: 2 }), encodeExitRecord({ pid: 3 }));
    expect(order).toEqual(['fork 2', 'exec 2', 'exit 2', 'exit 3']);
    expect(tracer.stats()).toMatchObject({ events: 1, exits: 2, forks: 1 });
    expect(binding.lastOptions).toMatchObject({ exits: true, forks: true });
    await tracer.stop();
  });

  it('decodeRecords counts exit records instead of making events when asked', () => {
    const batch = Buffer.concat([encodeExitRecord({ pid: 1 }), encodeExecRecord({ pid: 2 }), encodeExitRecord({ pid: 3 })]);
    const counted = decodeRecords(batch, clock, undefined, undefined, false);
    expect(counted.records.map((r) => r.kind)).toEqual(['exec']);
    expect(counted.countedExits).toBe(2);
    const made = decodeRecords(batch, clock, undefined, undefined, true);
    expect(made.records.map((r) => r.kind)).toEqual(['exit', 'exec', 'exit']);
    expect(made.countedExits).toBe(0);
  });

  it("counts exits nobody listens to without making events of them, and a listener added later gets the next", async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({}, { binding });
    await tracer.start();
    binding.current.push(encodeExecRecord({ pid: 7 }), encodeExitRecord({ pid: 7 }), encodeExitRecord({ pid: 8 }));
    expect(tracer.stats()).toMatchObject({ events: 1, exits: 2 });
    const seen: number[] = [];
    tracer.on('exit', (e) => seen.push(e.pid));
    binding.current.push(encodeExitRecord({ pid: 9 }));
    expect(seen).toEqual([9]);
    expect(tracer.stats()).toMatchObject({ exits: 3 });
    // A malformed exit record is still refused, counted or not.
    tracer.off('exit', tracer.listeners('exit')[0] as never);
    const errors: string[] = [];
    tracer.on('error', (e) => errors.push(e.code));
    binding.current.push(encodeExitRecord({ pid: 10, fixedSize: 40 }));
    expect(errors).toEqual(['EDECODE']);
    await tracer.stop();
  });

  it('asks for exits by default and forks only when told', () => {
    expect(resolveOptions({})).toMatchObject({ exits: true, forks: false });
    expect(resolveOptions({ exits: false, forks: true })).toMatchObject({ exits: false, forks: true });
  });

  it.each([
    [{ exits: 1 }, TypeError, 'options.exits must be a boolean, got 1'],
    [{ forks: 'yes' }, TypeError, 'options.forks must be a boolean, got "yes"'],
    [{ forks: true, attach: 'tracepoint' }, TypeError, "options.forks needs attach 'tp_btf' or 'auto'"],
  ])('rejects %j', (options, type, message) => {
    const make = () => new ExecTracer(options as never, { binding: new MockBinding() });
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

describe('failed-exec records', () => {
  it('decode the path and argv as passed, the errno and its name', () => {
    const e = decodeBatch(
      encodeExecFailedRecord({
        pid: 50, tid: 51, ppid: 7, uid: 1000, errno: 13, comm: 'bash', filename: './run.sh', argv: ['./run.sh', '-x'],
        startBootNs: 10n, bootNs: 20n, execSeq: 3n, flags: LAYOUT.execFailed.argvTruncated,
      }),
      clock,
    ).records[0]!;
    expect(e).toMatchObject({
      kind: 'execFailed', pid: 50, tid: 51, ppid: 7, uid: 1000, comm: 'bash', filename: './run.sh', argv: ['./run.sh', '-x'],
      errno: 13, code: 'EACCES', argvTruncated: true, argvFault: false, filenameFault: false, filenameTruncated: false,
      execveat: false, processId: '50:10', execId: '50:10:3', bootNs: 20n,
    });
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ kind: 'execFailed', code: 'EACCES', argv: ['./run.sh', '-x'] });
  });

  it('flag a path cut at the limit (a caller may pass more than PATH_MAX; exec refuses it)', () => {
    const long = `dir/${'p'.repeat(6000)}`;
    const e = decodeBatch(
      encodeExecFailedRecord({ errno: 36, filename: long, argv: ['a', 'b'], flags: LAYOUT.execFailed.execveat }),
      clock,
    ).records[0]!;
    expect(e).toMatchObject({
      code: 'ENAMETOOLONG', filename: long.slice(0, LAYOUT.filenameMax - 1), filenameTruncated: true, filenameFault: false,
      execveat: true, argv: ['a', 'b'], argvTruncated: false,
    });
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ filenameTruncated: true, execveat: true });
    const whole = decodeBatch(encodeExecFailedRecord({ filename: 'p'.repeat(4096) }), clock).records[0]!;
    expect(whole).toMatchObject({ filename: 'p'.repeat(4096), filenameTruncated: false });
  });

  it('name an errno Node does not know by its number', () => {
    expect(decodeBatch(encodeExecFailedRecord({ errno: 4000 }), clock).records[0]).toMatchObject({ errno: 4000, code: 'E4000' });
  });

  it('reject lengths past the record', () => {
    const record = encodeExecFailedRecord();
    record.writeUInt32LE(1 << 20, LAYOUT.execFailed.argvLen);
    expect(decodeBatch(record, clock).error?.message).toMatch(/lengths past/);
  });

  it("are emitted as 'execFailed' when asked for, and counted", async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ failedExecs: true }, { binding });
    const seen: string[] = [];
    tracer.on('execFailed', (e) => seen.push(`${e.code}:${e.filename}`));
    await tracer.start();
    expect(binding.lastOptions).toMatchObject({ failedExecs: true });
    binding.current.push(encodeExecFailedRecord({ errno: 2, filename: '/nope' }), encodeExecRecord());
    expect(seen).toEqual(['ENOENT:/nope']);
    expect(tracer.stats()).toMatchObject({ events: 1, failedExecs: 1 });
    await tracer.stop();
  });
});

describe('the process table (mocked kernel)', () => {
  const seed = [
    encodeTaskRecord({ pid: 1, ppid: 0, comm: 'init', startBootNs: 1n, parentStartBootNs: 0n, argv: ['/sbin/init'], exe: '/sbin/init' }),
    encodeTaskRecord({ pid: 2, ppid: 0, comm: 'kthreadd', startBootNs: 2n, parentStartBootNs: 0n, kernelThread: true }),
    encodeTaskRecord({ pid: 100, ppid: 1, comm: 'sshd', startBootNs: 100n, parentStartBootNs: 1n, argv: ['sshd', '-D'], exe: '/usr/sbin/sshd' }),
  ];

  it('is seeded at start(), follows forks without emitting them, and resolves ancestry', async () => {
    const binding = new MockBinding();
    binding.seedRecords = seed;
    const tracer = new ExecTracer({ processTable: true }, { binding });
    expect(tracer.processes?.size).toBe(0);
    const forks: unknown[] = [];
    tracer.on('fork', (e) => forks.push(e));
    let ancestry: string[] = [];
    tracer.on('exec', (e) => (ancestry = e.ancestors().map((p) => `${p.comm}(${p.pid})`)));
    await tracer.start();
    expect(binding.lastOptions).toMatchObject({ seed: true, forks: true });
    const table = tracer.processes!;
    expect(table.size).toBe(3);
    expect(table.get(100)).toMatchObject({ comm: 'sshd', argv: ['sshd', '-D'], exe: '/usr/sbin/sshd', seeded: true, processId: '100:100' });
    expect(table.get(2)).toMatchObject({ kernelThread: true, argv: [] });
    binding.current.push(
      encodeForkRecord({ pid: 200, ppid: 100, startBootNs: 200n, parentStartBootNs: 100n, comm: 'sshd' }),
      encodeExecRecord({ pid: 200, ppid: 100, startBootNs: 200n, parentStartBootNs: 100n, comm: 'bash', argv: ['-bash'] }),
    );
    expect(forks).toEqual([]);
    expect(ancestry).toEqual(['sshd(100)', 'init(1)']);
    expect(table.get(200)).toMatchObject({ comm: 'bash', argv: ['-bash'], seeded: false });
    expect(tracer.stats()).toMatchObject({ events: 1, forks: 0 });
    binding.current.push(encodeExitRecord({ pid: 200, ppid: 100, startBootNs: 200n }));
    expect(table.has(200)).toBe(false);
    expect(table.byProcessId('200:200')).toMatchObject({ exited: true });
    await tracer.stop();
  });

  it('is absent unless asked for, and events then have no parent', async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({}, { binding });
    let parent: unknown = 'unset';
    let ancestors: unknown;
    tracer.on('exec', (e) => {
      parent = e.parent;
      ancestors = e.ancestors();
    });
    await tracer.start();
    expect(tracer.processes).toBeUndefined();
    expect(binding.lastOptions).toMatchObject({ seed: false, forks: false });
    binding.current.push(encodeExecRecord());
    expect(parent).toBeUndefined();
    expect(ancestors).toEqual([]);
    await tracer.stop();
  });

  it.each([
    [{ processTable: 1 }, TypeError, 'options.processTable must be a boolean, got 1'],
    [{ processTable: true, exits: false }, TypeError, 'options.processTable needs exits'],
    [{ processTable: true, attach: 'tracepoint' }, TypeError, "options.processTable needs attach 'tp_btf' or 'auto'"],
    [{ failedExecs: true, attach: 'tracepoint' }, TypeError, "options.failedExecs needs attach 'tp_btf' or 'auto'"],
    [{ failedExecs: 'yes' }, TypeError, 'options.failedExecs must be a boolean, got "yes"'],
    [{ exitGraceMs: 1.5 }, TypeError, 'options.exitGraceMs must be an integer, got 1.5'],
    [{ exitGraceMs: -1 }, RangeError, 'options.exitGraceMs must be between 0 and 600000, got -1'],
    [{ exitGraceMs: 600_001 }, RangeError, 'options.exitGraceMs must be between 0 and 600000'],
  ])('rejects %j', (options, type, message) => {
    const make = () => new ExecTracer(options as never, { binding: new MockBinding() });
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});
