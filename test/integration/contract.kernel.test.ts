// SPDX-License-Identifier: MIT
import { describe } from 'vitest';
import { describeTracerContract } from '../contract/tracer-contract.js';
import { fixture, kernel, realBinding, run } from './kernel.js';

describe.skipIf(!kernel)('real addon', () => {
  describeTracerContract('real kernel', () => ({
    binding: realBinding(),
    async exec(file, args) {
      // Arbitrary bytes cannot go through spawn(): the fixture execs them raw.
      const result = args.some((a) => Buffer.isBuffer(a))
        ? await run(fixture('exec-paths'), [
            'hexargs', file, ...args.map((a) => Buffer.from(a).toString('hex')),
          ])
        : await run(file, args as string[]);
      if (result.code !== 0) throw new Error(`${file} exited with ${result.code}: ${result.stderr}`);
      return { pid: result.pid };
    },
  }));
});
