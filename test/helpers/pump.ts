// SPDX-License-Identifier: MIT
//
// The real-kernel suites run the pump lib/ picks for the runtime (the loop's
// under Node). EXEC_TRACER_TEST_PUMP=thread runs them with the thread pump
// Bun gets (native/ring_watch.h), under Node, through a binding that asks
// for it; suites that test it always ask with pumpDeps('thread').
import { createRequire } from 'node:module';
import type { NativeBinding, PumpKind } from '../../types/binding.js';
import type { ExecTracerDeps } from '../../types/index.js';
import { root } from './process.js';

/** The pump asked for by EXEC_TRACER_TEST_PUMP, or undefined: lib/'s choice. */
export const testPump: PumpKind | undefined = (() => {
  const raw = process.env.EXEC_TRACER_TEST_PUMP;
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'loop' && raw !== 'thread') throw new Error(`EXEC_TRACER_TEST_PUMP must be 'loop' or 'thread', got '${raw}'`);
  return raw;
})();

/** The built addon with open() asking for `pump` whatever lib/ chose. */
export function withPump(binding: NativeBinding, pump: PumpKind): NativeBinding {
  return Object.assign(Object.create(binding) as NativeBinding, {
    open: (options: Parameters<NativeBinding['open']>[0]) => binding.open({ ...options, pump }),
  });
}

/** Deps for new ExecTracer(options, deps): the real addon with `pump`, or lib/'s own choice. */
export function pumpDeps(pump: PumpKind | undefined = testPump): ExecTracerDeps {
  if (pump === undefined) return {};
  const binding = createRequire(import.meta.url)('node-gyp-build')(root) as NativeBinding;
  return { binding: withPump(binding, pump) };
}
