// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ExecTracer, ExecTracerError, type ExecEvent } from '../../lib/index.js';
import { MockBinding, encodeExecFailedRecord, encodeExecRecord, encodeExitRecord, encodeForkRecord, nativeError } from '../helpers/mock-binding.js';

function setup(options = {}) {
  const binding = new MockBinding();
  const tracer = new ExecTracer(options, { binding });
  const events: ExecEvent[] = [];
  tracer.on('exec', (e) => events.push(e));
  return { binding, tracer, events };
}

describe('lifecycle', () => {
  it('start() twice opens once and returns the same promise', async () => {
    const { binding, tracer } = setup();
    const a = tracer.start();
    const b = tracer.start();
    expect(a).toBe(b);
    await a;
    expect(binding.opened).toHaveLength(1);
    expect(tracer.attachKind).toBe('tp_btf');
    await tracer.stop();
  });

  it('stop() delivers what is still in the ring before close, once', async () => {
    const { binding, tracer, events } = setup();
    const order: string[] = [];
    tracer.on('exec', () => order.push('exec'));
    tracer.on('close', () => order.push('close'));
    await tracer.start();
    binding.current.pause(); // records wait, as in the kernel's ring
    binding.current.push(encodeExecRecord({ pid: 1 }), encodeExecRecord({ pid: 2 }));
    expect(events).toHaveLength(0);
    await Promise.all([tracer.stop(), tracer.stop()]);
    await tracer.stop();
    expect(events.map((e) => e.pid)).toEqual([1, 2]);
    expect(order).toEqual(['exec', 'exec', 'close']);
    expect(binding.current.closed).toBe(true);
  });

  it('stop() before start() closes without loading anything', async () => {
    const { binding, tracer } = setup();
    let closes = 0;
    tracer.on('close', () => closes++);
    await tracer.stop();
    expect(closes).toBe(1);
    expect(binding.opened).toHaveLength(0);
    await expect(tracer.start()).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('stop() while starting waits for the load, then releases it', async () => {
    const { binding, tracer } = setup();
    let open!: () => void;
    binding.openGate = new Promise((r) => (open = r));
    const started = tracer.start();
    const stopped = tracer.stop();
    open();
    await expect(started).rejects.toMatchObject({ code: 'ECLOSED' });
    await stopped;
    expect(binding.current.closed).toBe(true);
    expect(binding.current.started).toBe(false);
  });

  it('aborting the signal stops the tracer; an aborted signal makes start() reject', async () => {
    const controller = new AbortController();
    const { binding, tracer } = setup({ signal: controller.signal });
    const closed = new Promise<void>((r) => tracer.once('close', () => r()));
    await tracer.start();
    controller.abort();
    await closed;
    expect(binding.current.closed).toBe(true);

    const { tracer: t2 } = setup({ signal: AbortSignal.abort('no') });
    await expect(t2.start()).rejects.toMatchObject({ code: 'EABORTED' });
  });

  it('aborting while starting rejects start() with EABORTED', async () => {
    const controller = new AbortController();
    const { binding, tracer } = setup({ signal: controller.signal });
    let open!: () => void;
    binding.openGate = new Promise((r) => (open = r));
    const started = tracer.start();
    controller.abort();
    open();
    await expect(started).rejects.toMatchObject({ code: 'EABORTED' });
    expect(binding.current.closed).toBe(true);
  });

  it('supports await using', async () => {
    const binding = new MockBinding();
    {
      await using tracer = new ExecTracer({}, { binding });
      await tracer.start();
    }
    expect(binding.current.closed).toBe(true);
  });
});

describe('lost and stats', () => {
  it("emits 'lost' with the growth of the kernel's drop count and counts everything", async () => {
    const { binding, tracer } = setup();
    const lost: number[] = [];
    tracer.on('lost', (n) => lost.push(n));
    await tracer.start();
    binding.current.push(encodeExecRecord());
    binding.current.droppedTotal = 5;
    binding.current.push(encodeExecRecord(), encodeExecRecord());
    binding.current.push(encodeExecRecord());
    binding.current.droppedTotal = 7;
    binding.current.flush();
    expect(lost).toEqual([5, 2]);
    const record = encodeExecRecord();
    expect(tracer.stats()).toEqual({ events: 4, exits: 0, forks: 0, failedExecs: 0, lost: 7, batches: 4, bytes: 4 * record.length, unknownRecords: 0,
      filtered: 0, filteredExits: 0, filteredForks: 0, filteredFailedExecs: 0, filterMisses: 0,
    });
    await tracer.stop();
  });

  it('counts records of an unknown type in stats, and emits the rest', async () => {
    const { binding, tracer, events } = setup();
    await tracer.start();
    binding.current.push(encodeExecRecord({ pid: 1 }), encodeExecRecord({ type: 77 }), encodeExecRecord({ pid: 2 }));
    expect(events.map((e) => e.pid)).toEqual([1, 2]);
    expect(tracer.stats()).toMatchObject({ events: 2, unknownRecords: 1, batches: 1 });
    await tracer.stop();
  });

  it("reports drops that arrive with the final drain of stop(), before 'close'", async () => {
    const { binding, tracer } = setup();
    const order: string[] = [];
    tracer.on('lost', (n) => order.push(`lost ${n}`));
    tracer.on('close', () => order.push('close'));
    await tracer.start();
    binding.current.droppedTotal = 3;
    await tracer.stop();
    expect(order).toEqual(['lost 3', 'close']);
    expect(tracer.stats().lost).toBe(3);
  });

  it("reports a malformed batch as an 'error' with code EDECODE, after the good records", async () => {
    const { binding, tracer, events } = setup();
    const errors: ExecTracerError[] = [];
    tracer.on('error', (e) => errors.push(e));
    await tracer.start();
    const bad = encodeExecRecord();
    bad.writeUInt32LE(3, 4);
    binding.current.push(encodeExecRecord({ pid: 9 }), bad);
    expect(events.map((e) => e.pid)).toEqual([9]);
    expect(errors[0]).toBeInstanceOf(ExecTracerError);
    expect(errors[0]!.code).toBe('EDECODE');
    await tracer.stop();
  });
});

describe('errors', () => {
  const cases = [
    [nativeError('EPERM', 1, 'load'), 'EPERM', /CAP_BPF and CAP_PERFMON/],
    [nativeError('EACCES', 13, 'attach'), 'EPERM', /run as root/],
    [nativeError('EACCES', 13, 'load', 'libbpf: prog: -- BEGIN PROG LOAD LOG --\nR1 invalid mem access\n-- END PROG LOAD LOG --\n'), 'EVERIFIER', /report it/],
    [nativeError('ENOENT', 2, 'btf'), 'ENOBTF', /\/sys\/kernel\/btf\/vmlinux/],
    [nativeError('ENOENT', 2, 'tracefs'), 'ENOTRACEFS', /mount -t tracefs tracefs \/sys\/kernel\/tracing/],
    [nativeError('EBUSY', 16, 'attach'), 'EBUSY', /busy/],
    [nativeError('EINVAL', 22, 'load', 'libbpf: failed to create map'), 'EKERNEL', /Linux >= 5.8/],
    [nativeError('ENOSYS', 38, 'load'), 'EKERNEL', /bpf\(\) system call is not implemented.*qemu-user/],
  ] as const;

  it.each(cases)('maps %s to a code with a hint', async (native, code, hint) => {
    const binding = new MockBinding();
    binding.openError = native;
    const tracer = new ExecTracer({}, { binding });
    let closes = 0;
    tracer.on('close', () => closes++);
    const error = await tracer.start().then(
      () => undefined,
      (e: unknown) => e as ExecTracerError,
    );
    expect(error).toBeInstanceOf(ExecTracerError);
    expect(error!.code).toBe(code);
    expect(error!.hint).toMatch(hint);
    expect(error!.message).toContain(error!.hint);
    expect(error!.errno).toBe(native.errno);
    expect(error!.operation).toBe(native.operation);
    // The message alone names the step and the errno.
    expect(error!.message).toMatch(new RegExp(`^exec-tracer: ${native.operation}: .*\\(${native.code}, errno ${native.errno}\\)`));
    if (native.log) expect(error!.log).toBe(native.log);
    expect(closes).toBe(1);
  });

  it("turns a failure to read the ring into 'error' and stops", async () => {
    const { binding, tracer } = setup();
    const errors: ExecTracerError[] = [];
    tracer.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((r) => tracer.once('close', () => r()));
    await tracer.start();
    binding.current.fail(nativeError('EBADF', 9, 'poll'));
    await closed;
    expect(errors[0]!.operation).toBe('poll');
    expect(errors[0]!.code).toBe('EKERNEL');
    expect(binding.current.closed).toBe(true);
  });

  it('says EBADF-like failures keep their errno name in the message', async () => {
    const binding = new MockBinding();
    binding.openError = nativeError('ENOMEM', 12, 'ringbuf');
    const error = await new ExecTracer({}, { binding }).start().catch((e: ExecTracerError) => e);
    expect(error).toMatchObject({ code: 'EKERNEL', operation: 'ringbuf', errno: 12 });
    expect(error!.message).toContain('ENOMEM');
    expect(error!.hint).toMatch(/ENOMEM during ringbuf/);
  });

  it('a failure to start watching the ring rejects start() and releases the kernel objects', async () => {
    const binding = new MockBinding();
    binding.startError = nativeError('EBADF', 9, 'poll');
    const tracer = new ExecTracer({}, { binding });
    let closes = 0;
    tracer.on('close', () => closes++);
    await expect(tracer.start()).rejects.toMatchObject({ code: 'EKERNEL', operation: 'poll' });
    expect(binding.current.closed).toBe(true);
    expect(closes).toBe(1);
  });

  it('start() after a failed start rejects with ECLOSED', async () => {
    const binding = new MockBinding();
    binding.openError = nativeError('EPERM', 1, 'load');
    const tracer = new ExecTracer({}, { binding });
    await expect(tracer.start()).rejects.toMatchObject({ code: 'EPERM' });
    await expect(tracer.start()).rejects.toMatchObject({ code: 'ECLOSED' });
    await tracer.stop();
    expect(binding.opened).toHaveLength(0);
  });

  it('checks ringBufferSize against the binding\'s page size at start(), opening nothing', async () => {
    const binding = new MockBinding();
    Object.defineProperty(binding, 'pageSize', { value: 65536 });
    const tracer = new ExecTracer({ ringBufferSize: 32768, argvLimit: 0, context: false }, { binding });
    await expect(tracer.start()).rejects.toThrow(
      new RangeError('options.ringBufferSize must be between 65536 and 1073741824, got 32768'),
    );
    expect(binding.opened).toHaveLength(0);
  });
});

describe('async iteration', () => {
  it('pauses the ring past the high-water mark and resumes below half, losing nothing', async () => {
    const { binding, tracer } = setup();
    const iterator = tracer.events({ highWaterMark: 4 });
    await tracer.start();
    const native = binding.current;
    native.push(...[1, 2, 3, 4, 5].map((pid) => encodeExecRecord({ pid })));
    expect(native.pauseCalls).toBe(1);
    expect(native.paused).toBe(true);
    // The kernel keeps recording while paused; those wait in the ring.
    native.push(encodeExecRecord({ pid: 6 }));
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await iterator.next()).value!.pid);
    expect(native.paused).toBe(false);
    expect(native.resumeCalls).toBe(1);
    for (let i = 0; i < 3; i++) got.push((await iterator.next()).value!.pid);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    await tracer.stop();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('break detaches the iterator and un-pauses, leaving the tracer running', async () => {
    const { binding, tracer } = setup();
    await tracer.start();
    const listeners = tracer.listenerCount('exec');
    const seen: number[] = [];
    const loop = (async () => {
      for await (const e of tracer.events({ highWaterMark: 1 })) {
        seen.push(e.pid);
        break;
      }
    })();
    binding.current.push(encodeExecRecord({ pid: 1 }), encodeExecRecord({ pid: 2 }));
    await loop;
    expect(seen).toEqual([1]);
    expect(binding.current.paused).toBe(false);
    expect(tracer.listenerCount('exec')).toBe(listeners);
    await tracer.stop();
  });

  it('ends on its own signal, and throws the error of a failed start', async () => {
    const { tracer } = setup();
    const controller = new AbortController();
    const iterator = tracer.events({ signal: controller.signal });
    const pending = iterator.next();
    controller.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    await tracer.stop();

    const binding = new MockBinding();
    binding.openError = nativeError('EPERM', 1, 'load');
    const failing = new ExecTracer({}, { binding });
    await expect((async () => {
      for await (const _ of failing) void _;
    })()).rejects.toMatchObject({ code: 'EPERM' });
  });

  it('rejects bad options', () => {
    const { tracer } = setup();
    expect(() => tracer.events({ highWaterMark: 0 })).toThrow(
      new RangeError('options.highWaterMark must be between 1 and 9007199254740991, got 0'),
    );
    expect(() => tracer.events({ highWaterMark: '8' as never })).toThrow(
      new TypeError('options.highWaterMark must be an integer, got "8"'),
    );
    expect(() => tracer.events({ signal: 'x' as never })).toThrow(
      new TypeError('options.signal must be an AbortSignal, got "x"'),
    );
    expect(() => tracer.events({ hwm: 1 } as never)).toThrow(TypeError);
    expect(tracer.listenerCount('exec')).toBe(1);
  });

  it('yields the kinds asked for, in the kernel order, and refuses a kind the options leave off', async () => {
    const { binding, tracer } = setup({ forks: true, failedExecs: true });
    expect(() => tracer.events({ kinds: ['exit', 'nope' as never] })).toThrow(/options.kinds must be a non-empty array of 'exec', 'exit', 'fork', 'execFailed'/);
    expect(() => tracer.events({ kinds: [] })).toThrow(TypeError);
    const iterator = tracer.events({ kinds: ['fork', 'exec', 'exit'] });
    await tracer.start();
    binding.current.push(
      encodeForkRecord({ pid: 5, ppid: 4 }),
      encodeExecRecord({ pid: 5 }),
      encodeExecFailedRecord({ pid: 5 }),
      encodeExitRecord({ pid: 5 }),
    );
    await tracer.stop();
    const got: string[] = [];
    for await (const e of iterator) got.push(`${e.kind}:${e.pid}`);
    expect(got).toEqual(['fork:5', 'exec:5', 'exit:5']);
    const plain = setup();
    expect(() => plain.tracer.events({ kinds: ['fork'] })).toThrow("events({ kinds: ['fork'] }) needs the tracer's option forks: true");
    expect(() => plain.tracer.events({ kinds: ['execFailed'] })).toThrow(/failedExecs: true/);
  });

  it('delivers what was queued before the tracer closed, then ends', async () => {
    const { binding, tracer } = setup();
    const iterator = tracer.events();
    await tracer.start();
    binding.current.push(encodeExecRecord({ pid: 1 }), encodeExecRecord({ pid: 2 }));
    await tracer.stop();
    const got: number[] = [];
    for await (const e of iterator) got.push(e.pid);
    expect(got).toEqual([1, 2]);
    expect(tracer.listenerCount('exec')).toBe(1);
    expect(tracer.listenerCount('close')).toBe(0);
  });

  it("yields the queued events, then throws the tracer's 'error'", async () => {
    const { binding, tracer } = setup();
    const iterator = tracer.events();
    await tracer.start();
    const bad = encodeExecRecord();
    bad.writeUInt32LE(3, 4);
    binding.current.push(encodeExecRecord({ pid: 1 }), bad);
    expect((await iterator.next()).value?.pid).toBe(1);
    await expect(iterator.next()).rejects.toMatchObject({ code: 'EDECODE' });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(tracer.listenerCount('error')).toBe(0);
    await tracer.stop();
  });

  it('answers next() calls made before earlier ones settled, in order', async () => {
    const { binding, tracer } = setup();
    const iterator = tracer.events();
    await tracer.start();
    const pending = [iterator.next(), iterator.next(), iterator.next()];
    binding.current.push(encodeExecRecord({ pid: 1 }), encodeExecRecord({ pid: 2 }));
    await tracer.stop();
    expect(await Promise.all(pending)).toEqual([
      { value: expect.objectContaining({ pid: 1 }), done: false },
      { value: expect.objectContaining({ pid: 2 }), done: false },
      { value: undefined, done: true },
    ]);
  });

  it('ends at once on a stopped tracer, registering nothing', async () => {
    const { tracer } = setup();
    await tracer.stop();
    const iterator = tracer.events();
    expect(tracer.listenerCount('close')).toBe(0);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('two iterators pause the ring until both are below their marks', async () => {
    const { binding, tracer } = setup();
    const a = tracer.events({ highWaterMark: 2 });
    const b = tracer.events({ highWaterMark: 4 });
    await tracer.start();
    const native = binding.current;
    native.push(...[1, 2].map((pid) => encodeExecRecord({ pid })));
    expect(native.paused).toBe(true);
    await a.next();
    expect(native.paused).toBe(false); // a is at half its mark, b is below its own
    native.push(...[3, 4].map((pid) => encodeExecRecord({ pid })));
    expect(native.paused).toBe(true); // a holds 2 and b 4 now: both at their marks
    expect(native.pauseCalls).toBe(2);
    await a.return!();
    expect(native.paused).toBe(true); // b still holds 4
    await b.next();
    expect(native.paused).toBe(true);
    await b.next();
    expect(native.paused).toBe(false);
    expect(native.resumeCalls).toBe(2);
    await tracer.stop();
  });
});
