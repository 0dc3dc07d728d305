// SPDX-License-Identifier: MIT
//
// `new ExecTracer(options)` with no binding injected, as every user builds
// it: the package's loader is replaced by a mock (vi.mock intercepts the one
// module that loads the addon), so start() walks the user's path without a
// kernel. It must do exactly what it does with an injected binding: the
// options are resolved once, in the constructor. (start() used to validate
// the resolved options again on this path only, and `redact`, which resolves
// to a `redactor`, failed there for every user.)
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_REDACTIONS, ExecTracer, type ExecEvent, type ExecTracerOptions } from '../../lib/index.js';
import { MockBinding, encodeExecRecord } from '../helpers/mock-binding.js';

const state = vi.hoisted(() => ({ binding: undefined as unknown, loads: 0 }));
vi.mock('../../lib/binding.js', () => ({
  loadBinding: () => {
    state.loads++;
    return state.binding;
  },
}));

let binding: MockBinding;
beforeEach(() => {
  binding = new MockBinding();
  state.binding = binding;
  state.loads = 0;
});

/** Starts a tracer built as users build it, feeds it one exec, stops it. */
async function oneExec(options: ExecTracerOptions, argv = ['/bin/true', '--password=hunter2']): Promise<ExecEvent> {
  const tracer = new ExecTracer(options);
  const events: ExecEvent[] = [];
  tracer.on('exec', (e) => events.push(e));
  await tracer.start();
  expect(state.loads).toBe(1);
  binding.current.push(encodeExecRecord({ pid: 42, argv }));
  await tracer.stop();
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('the default binding, as users load it', () => {
  it('starts with redact: true and hides the secret', async () => {
    const e = await oneExec({ redact: true });
    expect(e.argv).toEqual(['/bin/true', '--password=***']);
  });

  it('starts with redact as a list of patterns', async () => {
    const e = await oneExec({ redact: [...DEFAULT_REDACTIONS, /mine=(.+)/] }, ['/bin/true', 'mine=s3cret']);
    expect(e.argv).toEqual(['/bin/true', 'mine=***']);
  });

  it('asks the addon for what an injected binding is asked for', async () => {
    const options: ExecTracerOptions = {
      redact: true, env: ['PATH'], processTable: true, failedExecs: true, filter: { comms: ['true'] },
      context: { cwd: false }, signal: new AbortController().signal, argvLimit: 1024, maxLatencyMs: 5,
    };
    await oneExec(options);
    const viaDefault = binding.lastOptions;
    const injected = new MockBinding();
    const tracer = new ExecTracer(options, { binding: injected });
    await tracer.start();
    await tracer.stop();
    expect(viaDefault).toEqual(injected.lastOptions);
  });

  it("checks ringBufferSize against the loaded addon's page size at start(), opening nothing", async () => {
    Object.defineProperty(binding, 'pageSize', { value: 65536 });
    const tracer = new ExecTracer({ ringBufferSize: 32768, argvLimit: 0, context: false });
    await expect(tracer.start()).rejects.toThrow(
      new RangeError('options.ringBufferSize must be between 65536 and 1073741824, got 32768'),
    );
    expect(binding.opened).toHaveLength(0);
  });
});
