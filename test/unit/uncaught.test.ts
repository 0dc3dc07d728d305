// SPDX-License-Identifier: MIT
//
// A listener that throws, and an 'error' nobody listens to, must surface as
// uncaught exceptions (the addon calls back through MakeCallback), not be
// swallowed by the tracer. That takes a process of its own: the batches are
// delivered from the event loop, as the addon delivers them, and the child
// reports what reached process 'uncaughtException'.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { LAYOUT } from '../../lib/records/layout.js';
import { encodeExecRecord } from '../helpers/mock-binding.js';
import { root, run } from '../helpers/process.js';

const url = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);

const script = `
  import { ExecTracer } from ${url('lib/index.ts')};
  import { MockBinding, encodeExecRecord, nativeError } from ${url('test/helpers/mock-binding.ts')};
  const tick = () => new Promise((r) => setTimeout(r, 10));
  const uncaught = [];
  process.on('uncaughtException', (e) => uncaught.push((e.code ?? 'plain') + ': ' + e.message.split('\\n')[0]));

  const binding = new MockBinding();
  const tracer = new ExecTracer({}, { binding });
  const seen = [];
  tracer.on('exec', (e) => {
    seen.push(e.pid);
    if (e.pid === 1) throw new Error('listener threw on pid 1');
  });
  await tracer.start();
  const native = binding.current;
  native.pushLater(encodeExecRecord({ pid: 1 }));
  await tick();
  native.pushLater(encodeExecRecord({ pid: 2 }));
  await tick();
  const bad = encodeExecRecord({ pid: 3 });
  bad.writeUInt32LE(3, 4); // size smaller than the header
  native.pushLater(encodeExecRecord({ pid: 4 }), bad);
  await tick();
  setImmediate(() => native.fail(nativeError('EBADF', 9, 'poll')));
  await tick();
  console.log(JSON.stringify({ seen, uncaught, closed: native.closed }));
`;

it("a throwing listener, and an unheard 'error', become uncaught exceptions; the tracer goes on", async () => {
  const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({
    seen: [1, 2, 4],
    uncaught: [
      'plain: listener threw on pid 1',
      `EDECODE: exec-tracer: malformed record at byte ${encodeExecRecord().length} of a batch: ` +
        `sizes that do not fit (size 3, fixed ${LAYOUT.exec.length})`,
      'EKERNEL: exec-tracer: poll: the mock was told to fail: error 9 (EBADF, errno 9)',
    ],
    // A ring that cannot be read any more stops the tracer even with no listener.
    closed: true,
  });
});
