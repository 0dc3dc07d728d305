// SPDX-License-Identifier: MIT
import { describe } from 'vitest';
import { describeTracerContract } from '../contract/tracer-contract.js';
import { fixture, kernel, run } from './kernel.js';

// No binding is injected: the tracer loads the package's addon as a user's does.
describe.skipIf(!kernel)('real addon', () => {
  describeTracerContract('real kernel', () => ({
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
