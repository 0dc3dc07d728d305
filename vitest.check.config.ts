// SPDX-License-Identifier: MIT
//
// `npm run test:check` (scripts/test-check.sh): the real-kernel suites that
// stress the addon's memory handling (storms, overflow, lifecycle, worker
// teardown, many tracers), run against the check build (ASan + UBSan + fault
// injection), and test/check's leak and fault tests.
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Spread, not mergeConfig(): that would add these lists to the base's.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/check/**/*.test.ts',
      'test/integration/exec.kernel.test.ts',
      'test/integration/lifecycle.kernel.test.ts',
      'test/integration/many.kernel.test.ts',
    ],
    exclude: [...configDefaults.exclude],
    setupFiles: ['test/helpers/setup.ts', 'test/check/setup.ts'],
    // Everything runs 2-5x slower under ASan.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
