// SPDX-License-Identifier: MIT
//
// options.filter and setFilter() through the mock binding: what reaches the
// addon, when, and the errors around it. What the kernel does with a filter
// is tested for real in test/integration/filter.kernel.test.ts; the
// validation itself in filter.test.ts.
import { describe, expect, it } from 'vitest';
import { ExecTracer, ExecTracerError, LAYOUT } from '../../lib/index.js';
import { MockBinding, nativeError } from '../helpers/mock-binding.js';

const K = LAYOUT.filter;

function setup(options = {}) {
  const binding = new MockBinding();
  const tracer = new ExecTracer(options, { binding });
  return { binding, tracer };
}

describe('filters through the binding', () => {
  it('hands options.filter to open() compiled, and nothing without one', async () => {
    const { binding, tracer } = setup({ filter: { uids: [1000, 1000], exclude: { comms: ['sh'] }, hostOnly: true } });
    await tracer.start();
    expect(binding.lastOptions?.filter).toEqual({
      flags: K.hostOnly,
      entries: [
        [K.uid, K.include, 1000],
        [K.comm, K.exclude, Buffer.from('sh')],
      ],
    });
    expect(tracer.filter).toEqual({ uids: [1000, 1000], exclude: { comms: ['sh'] }, hostOnly: true });
    await tracer.stop();

    const plain = setup();
    await plain.tracer.start();
    expect(plain.binding.lastOptions).not.toHaveProperty('filter');
    await plain.tracer.stop();
  });

  it('setFilter() before start() is kept for start(); while running it reaches the addon at once', async () => {
    const { binding, tracer } = setup();
    await tracer.setFilter({ comms: ['make'] });
    await tracer.start();
    expect(binding.current.filters).toEqual([{ flags: 0, entries: [[K.comm, K.include, Buffer.from('make')]] }]);
    await tracer.setFilter({ euids: [0] });
    expect(binding.current.filters.at(-1)).toEqual({ flags: 0, entries: [[K.euid, K.include, 0]] });
    // {} removes the filter: an empty one goes to the kernel.
    await tracer.setFilter({});
    expect(binding.current.filters.at(-1)).toEqual({ flags: 0, entries: [] });
    expect(tracer.filter).toEqual({});
    await tracer.stop();
  });

  it('setFilter() during start() applies once the tracer runs', async () => {
    const binding = new MockBinding();
    let open!: () => void;
    binding.openGate = new Promise((resolve) => (open = resolve));
    const tracer = new ExecTracer({}, { binding });
    const started = tracer.start();
    const set = tracer.setFilter({ gids: [7] });
    open();
    await started;
    await set;
    expect(binding.current.filters).toEqual([{ flags: 0, entries: [[K.gid, K.include, 7]] }]);
    await tracer.stop();
  });

  it('excludeSelf names this process as a root to leave out, by the host pid the binding reports', async () => {
    const { binding, tracer } = setup({ filter: { excludeSelf: true } });
    expect(tracer.hostPid).toBeUndefined();
    await tracer.start();
    // Pid 0 (SELF_PID): the addon's own host pid, which it reports.
    expect(binding.lastOptions?.filter?.entries).toEqual([[K.descendant, K.exclude, 0, 0n]]);
    expect(tracer.hostPid).toBe(process.pid);
    await tracer.stop();
  });

  it('a bad filter is a TypeError or RangeError naming the key, and the filter in force stays', async () => {
    expect(() => setup({ filter: { uids: [] } })).toThrow(/options\.filter\.uids is an empty list/);
    expect(() => setup({ filter: { pids: [1] } })).toThrow(TypeError);
    const { binding, tracer } = setup({ filter: { uids: [1] } });
    await tracer.start();
    await expect(tracer.setFilter({ comms: ['a-name-longer-than-15'] })).rejects.toThrow(RangeError);
    await expect(tracer.setFilter({ uids: ['0'] as unknown as number[] })).rejects.toThrow(/filter\.uids\[0\]/);
    expect(binding.current.filters).toHaveLength(1);
    expect(tracer.filter).toEqual({ uids: [1] });
    await tracer.stop();
  });

  it("the kernel's refusal is a typed error and the old filter stays", async () => {
    const { binding, tracer } = setup();
    await tracer.start();
    binding.current.filterError = nativeError('EOPNOTSUPP', 95, 'filter');
    const error = await tracer.setFilter({ descendantsOf: [process.pid] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecTracerError);
    expect((error as ExecTracerError).code).toBe('EUNSUPPORTED');
    expect((error as ExecTracerError).hint).toMatch(/descendantsOf/);
    expect(tracer.filter).toBeUndefined();
    binding.current.filterError = nativeError('E2BIG', 7, 'filter');
    await expect(tracer.setFilter({ uids: [1] })).rejects.toMatchObject({ code: 'EKERNEL', operation: 'filter' });
    await tracer.stop();
  });

  it('setFilter() once stopped rejects with ECLOSED', async () => {
    const { tracer } = setup();
    await tracer.start();
    await tracer.stop();
    await expect(tracer.setFilter({ uids: [0] })).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it("stats() reads the kernel's filter counts while running and keeps the last ones after stop()", async () => {
    const { binding, tracer } = setup({ filter: { uids: [0] } });
    await tracer.start();
    binding.current.filteredCounts = [10, 4, 2, 1, 0];
    expect(tracer.stats()).toMatchObject({ filtered: 10, filteredExits: 4, filteredForks: 2, filteredFailedExecs: 1, filterMisses: 0 });
    binding.current.filteredCounts = [12, 5, 2, 1, 3];
    await tracer.stop();
    expect(tracer.stats()).toMatchObject({ filtered: 12, filteredExits: 5, filterMisses: 3 });
  });

  it("the classic tracepoint cannot follow processes: a TypeError names the option", () => {
    expect(() => setup({ attach: 'tracepoint', filter: { descendantsOf: [1] } })).toThrow(/attach 'tp_btf' or 'auto'/);
    expect(() => setup({ attach: 'tracepoint', filter: { exePrefixes: ['/usr/'] } })).toThrow(TypeError);
    expect(() => setup({ attach: 'tracepoint', filter: { uids: [0] } })).not.toThrow();
  });
});
