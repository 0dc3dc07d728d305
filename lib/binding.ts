// SPDX-License-Identifier: MIT
//
// The only module that loads the addon, and only when a tracer starts: an
// import of the package never throws, even where the addon cannot load.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from '../types/binding.js';
import { ExecTracerError } from './errors.js';
import { describeNoAddon, hostFacts, type PackageSource } from './no-addon.js';

let binding: NativeBinding | undefined;

interface Manifest {
  name?: string;
  version?: string;
  repository?: string | { url?: string };
}

/** The package's root: lib/ in a checkout, dist/lib/ once built. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).name === 'exec-tracer') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('exec-tracer: cannot find the package root');
    dir = parent;
  }
}

/** The version and repository a source build should come from. */
function packageSource(root: string | undefined): PackageSource {
  try {
    const manifest = JSON.parse(readFileSync(join(root!, 'package.json'), 'utf8')) as Manifest;
    const url = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
    return { version: manifest.version ?? '0.0.0', ...(url ? { repository: url.replace(/^git\+/, '') } : {}) };
  } catch {
    return { version: '0.0.0' };
  }
}

// A build's name (cmake-js) and prebuildify's names, in the order preferred.
const ADDON_NAMES = ['exec_tracer.node', 'node.napi.glibc.node', 'node.napi.node'];

/**
 * EXEC_TRACER_PREBUILD: a directory holding the addon (a build/Release, a
 * prebuilds/linux-<arch>), or a directory node-gyp-build can load from (a
 * package root with build/ or prebuilds/ in it).
 */
function loadFromDirectory(dir: string, load: (dir: string) => NativeBinding, require: NodeJS.Require): NativeBinding {
  const files = readdirSync(dir).filter((name) => name.endsWith('.node'));
  if (files.length === 0) return load(dir);
  const file = ADDON_NAMES.find((name) => files.includes(name)) ?? files.sort()[0]!;
  return require(join(dir, file)) as NativeBinding;
}

/** The addon for this platform; throws ExecTracerError('ENOADDON') if none loads. */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  let root: string | undefined;
  let looked = 'the package root was not found';
  try {
    root = packageRoot();
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    const chosen = process.env.EXEC_TRACER_PREBUILD;
    if (chosen) {
      looked = `EXEC_TRACER_PREBUILD=${chosen}`;
      binding = loadFromDirectory(chosen, load, require);
    } else {
      looked = `looked in ${join(root, 'build', 'Release')} and ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)}`;
      binding = load(root);
    }
    return binding;
  } catch (error) {
    const { message, hint } = describeNoAddon(hostFacts(), packageSource(root), looked, (error as Error).message);
    throw new ExecTracerError('ENOADDON', `exec-tracer: ${message}`, { operation: 'addon', hint, cause: error });
  }
}
