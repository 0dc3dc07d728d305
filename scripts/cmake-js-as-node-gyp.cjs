#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// What prebuildify runs in place of node-gyp (its --node-gyp hook), since
// node-gyp knows nothing of CMakeLists.txt. prebuildify calls
//   <this> rebuild --target=<node version> --devdir=<dir> --arch=<arch> --release
// in a staging directory and then takes ./build/Release/*.node from there. This
// builds with cmake-js instead: natively into the project's build/ for the
// host's CPU, cross-compiled into build-<arch>/ (toolchain file in cmake/) for
// another, and copies the addon to the staging directory. --target is ignored:
// a Node-API addon is the same binary for every Node version.
'use strict';

const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const toolchains = { arm64: 'aarch64-linux-gnu.cmake' };

const args = process.argv.slice(2);
const option = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
if (args[0] !== 'rebuild') {
  console.error(`cmake-js-as-node-gyp: only 'rebuild' is supported (got: ${args.join(' ')})`);
  process.exit(2);
}
if (args.includes('--debug')) {
  console.error('cmake-js-as-node-gyp: prebuilds are release builds');
  process.exit(2);
}
const arch = option('arch') ?? process.arch;
const native = arch === process.arch;
if (!native && !Object.hasOwn(toolchains, arch)) {
  console.error(`cmake-js-as-node-gyp: no cross toolchain for ${arch} on ${process.arch} (known: ${Object.keys(toolchains).join(', ')})`);
  process.exit(2);
}

const out = path.join(root, native ? 'build' : `build-${arch}`);
const cmakeArgs = [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--runtime', 'node', '--arch', arch, '--directory', root, '--out', out];
if (!native) cmakeArgs.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', toolchains[arch])}`);
execFileSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit' });

// prebuildify moves what it finds here: hand it a copy, so build/ keeps the
// addon the tests load.
const staged = path.join(process.cwd(), 'build', 'Release');
mkdirSync(staged, { recursive: true });
copyFileSync(path.join(out, 'Release', 'exec_tracer.node'), path.join(staged, 'exec_tracer.node'));
