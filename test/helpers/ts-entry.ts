// SPDX-License-Identifier: MIT
//
// How a test runs a TypeScript program (a fixture, an example) in a child
// Node process: through tsx, the way `npm run demo` runs the example.
//
// Under the kernel matrix's emulated CPUs (test/kernels/) tsx's loader alone
// costs ~10 s per process, more than most tests take. There the same entry
// points are bundled with esbuild on the host beforehand (test/kernels/
// layers.ts) and EXEC_TRACER_TS_BUNDLES names their directory in the guest: the child
// then runs that bundle, which is the same code as plain JavaScript.
import { join, relative } from 'node:path';
import { root } from './process.js';

/** The TypeScript programs the real-kernel suites start as child processes. */
export const TS_ENTRIES = ['test/fixtures/trace-child.ts', 'test/fixtures/ns-tracer.ts', 'examples/print-execs.ts'];

/** The file name of ENTRY's bundle (ENTRY relative to the repository). */
export function bundleName(entry: string): string {
  return `${entry.replaceAll('/', '__').replace(/\.ts$/, '')}.mjs`;
}

/** Node's arguments that run the TypeScript file ENTRY (an absolute path). */
export function tsEntryArgs(entry: string): string[] {
  const bundles = process.env.EXEC_TRACER_TS_BUNDLES;
  if (bundles === undefined || bundles === '') return ['--import', 'tsx', entry];
  const name = relative(root, entry);
  if (!TS_ENTRIES.includes(name)) throw new Error(`${name} is not bundled for the kernel matrix: add it to TS_ENTRIES`);
  return [join(bundles, bundleName(name))];
}
