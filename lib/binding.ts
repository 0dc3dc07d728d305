// SPDX-License-Identifier: MIT
//
// The only module that loads the addon, and only when a tracer starts: an
// import of the package never throws, even where the addon cannot load.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from '../types/binding.js';
import { ExecTracerError } from './errors.js';

let binding: NativeBinding | undefined;

/** The package's root: lib/ in a checkout, dist/lib/ once built. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'exec-tracer')
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('exec-tracer: cannot find the package root');
    dir = parent;
  }
}

/** The addon for this platform; throws ExecTracerError('ENOADDON') if none loads. */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  let root = '(unknown)';
  try {
    root = packageRoot();
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    binding = load(root);
    return binding;
  } catch (error) {
    const platform = `${process.platform}-${process.arch}`;
    throw new ExecTracerError(
      'ENOADDON',
      `exec-tracer: no native addon loads for ${platform} (looked in ${join(root, 'build', 'Release')} ` +
        `and ${join(root, 'prebuilds', platform)}): ${(error as Error).message}`,
      {
        operation: 'addon',
        hint:
          process.platform === 'linux'
            ? 'rebuild it with `npm rebuild exec-tracer` (needs the build tools listed in the README), ' +
              'or pass your own binding: new ExecTracer(options, { binding })'
            : 'exec tracing needs Linux (eBPF); on other platforms pass a binding: new ExecTracer(options, { binding })',
        cause: error,
      },
    );
  }
}
