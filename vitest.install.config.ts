// SPDX-License-Identifier: MIT
//
// `npm run test:package-managers`: the packed package installed by each
// package manager and run by each runtime (test/install/). A tier of its own:
// it fetches the managers and runtimes (cached in deps/install-matrix/), and
// .ci/run runs it after npm test.
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// Spread, not mergeConfig(): that would add these lists to the base's.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/install/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
  },
});
