// SPDX-License-Identifier: MIT
//
// vitest.check.config.ts's setup: the suites it runs must be testing the
// check build, not whatever addon node-gyp-build finds first.
import { realBinding } from '../integration/kernel.js';

const binding = realBinding();
if (binding.sanitizers === undefined || binding.faults === undefined)
  throw new Error(
    'the check suites loaded an addon without sanitizers or fault injection: run them with `npm run test:check`, ' +
      'which builds build-check/ and sets EXEC_TRACER_PREBUILD to it',
  );
