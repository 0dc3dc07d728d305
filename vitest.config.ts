// SPDX-License-Identifier: MIT
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The example and the command (cli/) import the package by name, as a
    // user's program does; in tests that name means these sources
    // (tsconfig.json "paths" does the same for the typecheck), not whatever
    // dist/ was last built.
    alias: [
      { find: /^exec-tracer$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
      { find: /^exec-tracer\/syslog$/, replacement: fileURLToPath(new URL('./lib/sinks/syslog.ts', import.meta.url)) },
      { find: /^exec-tracer\/metrics$/, replacement: fileURLToPath(new URL('./lib/metrics/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The check build's suites need that build (npm run test:check); the
    // install matrix is a tier of its own (npm run test:package-managers).
    exclude: [...configDefaults.exclude, 'test/check/**', 'test/install/**'],
    setupFiles: ['test/helpers/setup.ts'],
    pool: 'forks',
    // The real-kernel suites count kernel-wide BPF objects and time storms:
    // they must not run beside each other. The machines have 2 cores anyway.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
