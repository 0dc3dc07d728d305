// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { nativeOptions, pumpKind, resolveOptions } from '../../lib/options.js';
import { MockBinding } from '../helpers/mock-binding.js';

/** The largest exec record: the fixed part, the filename, argv, `paths` context paths and the environment. */
const largest = (argvLimit: number, paths: number, envLimit = 0) =>
  LAYOUT.exec.length + LAYOUT.filenameMax + argvLimit + paths * (LAYOUT.pathMax - 1) + envLimit;

const make = (options: unknown) => () => new ExecTracer(options as never, { binding: new MockBinding() });

describe('options', () => {
  it('defaults every option', () => {
    expect(resolveOptions(undefined)).toEqual({
      argvLimit: 8192, ringBufferSize: 2 * 1024 * 1024, maxLatencyMs: 10, attach: 'auto',
      context: { exe: true, file: true, interpreter: true, cwd: true, cgroup: true }, env: false, envLimit: 16384,
      exits: true, forks: false, failedExecs: false, processTable: false, exitGraceMs: 5000,
    });
  });

  it.each([
    [null, TypeError, 'options must be an object, got null'],
    [[], TypeError, 'options must be an object, got an array'],
    ['x', TypeError, 'options must be an object, got "x"'],
    [{ argvLimt: 1 }, TypeError, /options.argvLimt is not an option \(known: argvLimit/],
    [{ argvLimit: '8' }, TypeError, 'options.argvLimit must be an integer, got "8"'],
    [{ argvLimit: 1.5 }, TypeError, 'options.argvLimit must be an integer, got 1.5'],
    [{ argvLimit: -1 }, RangeError, 'options.argvLimit must be between 0 and 1048576, got -1'],
    [{ argvLimit: 2 ** 20 + 1 }, RangeError, 'options.argvLimit must be between 0 and 1048576, got 1048577'],
    [{ ringBufferSize: 3 * 65536 }, RangeError, 'options.ringBufferSize must be a power of two, got 196608'],
    [{ ringBufferSize: 2048 }, RangeError, 'options.ringBufferSize must be between 4096 and 1073741824, got 2048'],
    [{ ringBufferSize: 2 ** 31 }, RangeError, /options.ringBufferSize must be between 4096 and 1073741824/],
    [{ ringBufferSize: 4096 }, RangeError, /must hold at least 4 of the largest records argvLimit 8192, the context paths and the environment allow/],
    [{ ringBufferSize: 1 << 20, argvLimit: 1 << 20 }, RangeError, /must hold at least 4/],
    [{ maxLatencyMs: 'fast' }, TypeError, 'options.maxLatencyMs must be a number, got "fast"'],
    [{ maxLatencyMs: NaN }, TypeError, 'options.maxLatencyMs must be a number, got NaN'],
    [{ maxLatencyMs: -1 }, RangeError, 'options.maxLatencyMs must be between 0 and 10000, got -1'],
    [{ maxLatencyMs: 10_001 }, RangeError, 'options.maxLatencyMs must be between 0 and 10000, got 10001'],
    [{ ringBufferSize: 2 ** 21 + 0.5 }, TypeError, 'options.ringBufferSize must be an integer, got 2097152.5'],
    [{ ringBufferSize: 1n << 21n }, TypeError, 'options.ringBufferSize must be an integer, got 2097152n'],
    [{ attach: undefined, argvLimit: null }, TypeError, 'options.argvLimit must be an integer, got null'],
    [{ attach: 'kprobe' }, TypeError, `options.attach must be 'auto', 'tp_btf' or 'tracepoint', got "kprobe"`],
    [{ signal: {} }, TypeError, 'options.signal must be an AbortSignal, got an object'],
  ])('rejects %o', (options, type, message) => {
    expect(make(options)).toThrow(type);
    expect(make(options)).toThrow(message);
  });

  it('accepts the boundaries', () => {
    expect(() => make({ argvLimit: 0, ringBufferSize: 1 << 15, maxLatencyMs: 0, attach: 'tp_btf', context: false })()).not.toThrow();
    expect(() => make({ argvLimit: 0, ringBufferSize: 1 << 17 })()).not.toThrow();
    expect(() => make({ argvLimit: 1 << 20, ringBufferSize: 1 << 23 })()).not.toThrow();
  });

  it('asks the kernel for a wakeup past a quarter of the ring, or per record at maxLatencyMs 0', () => {
    expect(nativeOptions(resolveOptions({}))).toEqual({
      argvLimit: 8192, ringBufferSize: 2097152, wakeupBytes: 524288, drainIntervalMs: 10,
      batchBytes: 262144, pump: 'loop', attach: 'auto', context: 31, env: false, envLimit: 0, exits: true, forks: false, failedExecs: false, seed: false,
    });
    expect(nativeOptions(resolveOptions({ maxLatencyMs: 0 }))).toMatchObject({ wakeupBytes: 0, drainIntervalMs: 100 });
    expect(nativeOptions(resolveOptions({ maxLatencyMs: 0.4 }))).toMatchObject({ drainIntervalMs: 1 });
  });

  it('has the pump wait on a thread under Bun, which has no libuv poll or timer, and on the loop elsewhere', () => {
    expect(pumpKind({ ...process.versions, bun: '1.4.5' })).toBe('thread');
    expect(pumpKind({ ...process.versions })).toBe('loop');
    expect(pumpKind({ ...process.versions, deno: '2.5.0' })).toBe('loop');
  });

  it('takes context as a boolean or as an object of parts, the missing ones on', () => {
    const bits = (context: unknown) => nativeOptions(resolveOptions({ context })).context;
    const C = LAYOUT.context;
    const all = C.exe | C.file | C.interpreter | C.cwd | C.cgroup;
    expect(bits(undefined)).toBe(all);
    expect(bits(true)).toBe(all);
    expect(bits(false)).toBe(0);
    expect(bits({})).toBe(all);
    expect(bits({ cwd: false })).toBe(all & ~C.cwd);
    expect(bits({ exe: false, file: true, interpreter: false, cwd: false, cgroup: false })).toBe(C.file);
    expect(bits({ exe: false, file: false, interpreter: false, cwd: false })).toBe(C.cgroup);
    expect(resolveOptions({ context: { interpreter: false } }).context).toEqual({
      exe: true, file: true, interpreter: false, cwd: true, cgroup: true,
    });
  });

  it.each([
    [{ context: 'all' }, TypeError, 'options.context must be a boolean or an object, got "all"'],
    [{ context: null }, TypeError, 'options.context must be a boolean or an object, got null'],
    [{ context: [] }, TypeError, 'options.context must be a boolean or an object, got an array'],
    [{ context: { env: true } }, TypeError, 'options.context.env is not a part (known: exe, file, interpreter, cwd, cgroup)'],
    [{ context: { cwd: 1 } }, TypeError, 'options.context.cwd must be a boolean, got 1'],
    // Each path the context stores may add 4095 bytes to the largest record.
    [{ ringBufferSize: 1 << 16, argvLimit: 0 }, RangeError, new RegExp(`4 × ${largest(0, 4)} bytes.*options.context`)],
  ])('rejects context %j', (options, type, message) => {
    expect(make(options)).toThrow(type);
    expect(make(options)).toThrow(message);
  });

  it('sizes the smallest ring by the paths the context collects', () => {
    expect(() => make({ ringBufferSize: 1 << 16, argvLimit: 0, context: { cwd: false, interpreter: false } })()).not.toThrow();
    expect(make({ ringBufferSize: 1 << 15, argvLimit: 0, context: { exe: false, interpreter: false, cwd: false } })).toThrow(
      `4 × ${largest(0, 1)} bytes`,
    );
    expect(() => make({ ringBufferSize: 1 << 15, argvLimit: 0, context: { exe: false, interpreter: false, cwd: false, cgroup: false } })()).not.toThrow();
  });

  it('leaves the environment off unless asked, and reads it whole or by an allow-list', () => {
    expect(nativeOptions(resolveOptions({ envLimit: 100 }))).toMatchObject({ env: false, envLimit: 0 });
    expect(nativeOptions(resolveOptions({ env: true }))).toMatchObject({ env: true, envLimit: 16384 });
    expect(nativeOptions(resolveOptions({ env: ['PATH', 'LD_PRELOAD'], envLimit: 0 }))).toMatchObject({ env: true, envLimit: 0 });
    expect(resolveOptions({ env: ['PATH', 'LD_PRELOAD'] }).env).toEqual(['PATH', 'LD_PRELOAD']);
    expect(resolveOptions({ env: [] }).env).toEqual([]);
  });

  it.each([
    [{ env: 'PATH' }, TypeError, 'options.env must be a boolean or an array of variable names, got "PATH"'],
    [{ env: null }, TypeError, 'options.env must be a boolean or an array of variable names, got null'],
    [{ env: ['PATH', 1] }, TypeError, 'options.env[1] must be a string, got 1'],
    [{ env: ['PATH', ''] }, TypeError, 'options.env[1] must not be empty'],
    [{ env: ['A=B'] }, TypeError, `options.env[0] must be a name without '=', got "A=B"`],
    [{ env: ['A\0B'] }, TypeError, 'options.env[0] must not contain a NUL byte'],
    [{ envLimit: -1 }, RangeError, 'options.envLimit must be between 0 and 1048576, got -1'],
    [{ envLimit: 2 ** 20 + 1 }, RangeError, 'options.envLimit must be between 0 and 1048576, got 1048577'],
    [{ envLimit: '4k' }, TypeError, 'options.envLimit must be an integer, got "4k"'],
    // The environment's bytes count toward the largest record only when it is read.
    [{ env: true, envLimit: 1 << 20, ringBufferSize: 1 << 22 }, RangeError, new RegExp(`4 × ${largest(8192, 4, 1 << 20)} bytes.*lower argvLimit or envLimit`)],
  ])('rejects env %j', (options, type, message) => {
    expect(make(options)).toThrow(type);
    expect(make(options)).toThrow(message);
  });

  it('sizes the smallest ring by the environment only when it is read', () => {
    expect(() => make({ env: false, envLimit: 1 << 20, ringBufferSize: 1 << 17 })()).not.toThrow();
    expect(() => make({ env: ['PATH'], envLimit: 1 << 20, ringBufferSize: 1 << 23 })()).not.toThrow();
  });

  it('passes the resolved options to the binding', async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ argvLimit: 100, maxLatencyMs: 5, attach: 'tracepoint' }, { binding });
    await tracer.start();
    expect(binding.lastOptions).toMatchObject({ argvLimit: 100, drainIntervalMs: 5, attach: 'tracepoint' });
    await tracer.stop();
  });
});
