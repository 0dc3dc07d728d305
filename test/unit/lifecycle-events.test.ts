// SPDX-License-Identifier: MIT
//
// Exit and fork records decoded, and emitted in the kernel's order among
// exec events.
import { describe, expect, it } from 'vitest';
import { ExecTracer, decodeBatch } from '../../lib/index.js';
import { LAYOUT } from '../../lib/layout.js';
import { resolveOptions } from '../../lib/options.js';
import { MockBinding, encodeExecRecord, encodeExitRecord, encodeForkRecord } from '../helpers/mock-binding.js';

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
