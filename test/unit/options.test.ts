// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { nativeOptions, resolveOptions } from '../../lib/options.js';
import { MockBinding } from '../helpers/mock-binding.js';

const make = (options: unknown) => () => new ExecTracer(options as never, { binding: new MockBinding() });

describe('options', () => {
  it('defaults every option', () => {
    expect(resolveOptions(undefined)).toEqual({
      argvLimit: 8192, ringBufferSize: 2 * 1024 * 1024, maxLatencyMs: 10, attach: 'auto',
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
    [{ ringBufferSize: 4096 }, RangeError, /must hold at least 4 of the largest records argvLimit 8192 allows/],
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
    expect(() => make({ argvLimit: 0, ringBufferSize: 1 << 15, maxLatencyMs: 0, attach: 'tp_btf' })()).not.toThrow();
    expect(() => make({ argvLimit: 1 << 20, ringBufferSize: 1 << 23 })()).not.toThrow();
  });

  it('asks the kernel for a wakeup past a quarter of the ring, or per record at maxLatencyMs 0', () => {
    expect(nativeOptions(resolveOptions({}))).toEqual({
      argvLimit: 8192, ringBufferSize: 2097152, wakeupBytes: 524288, drainIntervalMs: 10,
      batchBytes: 262144, attach: 'auto',
    });
    expect(nativeOptions(resolveOptions({ maxLatencyMs: 0 }))).toMatchObject({ wakeupBytes: 0, drainIntervalMs: 100 });
    expect(nativeOptions(resolveOptions({ maxLatencyMs: 0.4 }))).toMatchObject({ drainIntervalMs: 1 });
  });

  it('passes the resolved options to the binding', async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ argvLimit: 100, maxLatencyMs: 5, attach: 'tracepoint' }, { binding });
    await tracer.start();
    expect(binding.lastOptions).toMatchObject({ argvLimit: 100, drainIntervalMs: 5, attach: 'tracepoint' });
    await tracer.stop();
  });
});
