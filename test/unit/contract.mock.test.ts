// SPDX-License-Identifier: MIT
import { basename } from 'node:path';
import { describeTracerContract } from '../contract/tracer-contract.js';
import { MockBinding, encodeExecRecord } from '../helpers/mock-binding.js';

let nextPid = 30_000;

describeTracerContract('mock binding', () => {
  const binding = new MockBinding();
  return {
    binding,
    async exec(file, args) {
      const pid = nextPid++;
      binding.current.push(
        encodeExecRecord({ pid, comm: basename(file).slice(0, 15), filename: file, argv: [file, ...args] }),
      );
      return { pid };
    },
  };
});
