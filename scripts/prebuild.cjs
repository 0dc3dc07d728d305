// SPDX-License-Identifier: MIT
//
// Puts a stripped, Node-API (version-independent) build of the addon where
// node-gyp-build looks for prebuilt binaries: prebuilds/linux-<arch>/node.napi.glibc.node.
// prebuildify itself drives node-gyp, which knows nothing of CMakeLists.txt
// (its issue #49), so this is the small copy step that stands in for it.
'use strict';

const { execFileSync } = require('node:child_process');
const { copyFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'exec_tracer.node');
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const target = path.join(dir, 'node.napi.glibc.node');

execFileSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--runtime', 'node'], {
  cwd: root,
  stdio: 'inherit',
});
mkdirSync(dir, { recursive: true });
copyFileSync(built, target);
// Debug symbols are most of the file; the dynamic symbol table stays.
execFileSync('strip', ['--strip-unneeded', target]);
console.log(`prebuild: ${path.relative(root, target)}`);
