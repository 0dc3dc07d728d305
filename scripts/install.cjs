// SPDX-License-Identifier: MIT
//
// npm's install step. Uses a binary that loads (a prebuild in prebuilds/, or
// an earlier build in build/Release) and otherwise builds from source with
// cmake-js. Plain `node-gyp-build` as the install script would fall back to
// node-gyp, which knows nothing of CMakeLists.txt. When neither works, it
// says why the prebuild did not load and names each missing build tool.
//
// npm 11.19 warns about dependencies' install scripts that the project's
// allowScripts does not cover, and skips them under strict-allow-scripts.
// The prebuilds need no install script: node-gyp-build finds them when the
// package loads. Only a source build does (`npm install-scripts approve
// exec-tracer`, then `npm rebuild exec-tracer`).
'use strict';

const { spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** The binary node-gyp-build would load, and why it cannot, if it cannot. */
function tryBinary() {
  if (process.env.EXEC_TRACER_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true') {
    return { reason: 'a source build was asked for (EXEC_TRACER_BUILD_FROM_SOURCE=1 or --build-from-source)' };
  }
  let file;
  try {
    file = require('node-gyp-build').path(root);
  } catch (error) {
    return { reason: `no prebuild for linux-${process.arch} (prebuilds exist for linux-x64 and linux-arm64, glibc)` };
  }
  try {
    require(file); // a prebuild for another libc, or one too new for this glibc, fails here
    return { file };
  } catch (error) {
    return { reason: `${path.relative(root, file)} does not load here: ${String(error.message).split('\n')[0]}` };
  }
}

function onPath(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const anyOf = (names, extraDirs) => names.some((name) => onPath(name, extraDirs));
const versioned = (tool) => [`${tool}-19`, `${tool}-16`, `${tool}-15`, `${tool}-14`, tool];

/** What the source build needs (CMakeLists.txt looks for the same names) and lacks. */
function missingForSourceBuild() {
  const missing = [];
  if (!onPath('cmake')) missing.push('cmake (>= 3.18)');
  if (!anyOf(['cc', 'gcc'])) missing.push('a C compiler (gcc)');
  if (!anyOf(['c++', 'g++'])) missing.push('a C++17 compiler (g++)');
  if (!anyOf(versioned('clang'))) missing.push('clang (to compile the BPF program)');
  if (!anyOf(versioned('llvm-strip'))) missing.push('llvm-strip (llvm)');
  if (!anyOf(['bpftool'], ['/usr/sbin', '/usr/local/sbin', '/sbin'])) missing.push('bpftool');
  const sourcesGiven = ['LIBBPF_SRC', 'ELFUTILS_SRC', 'ZLIB_SRC'].every((name) => process.env[name]);
  if (!sourcesGiven && !onPath('apt-get')) {
    missing.push("apt-get to fetch libbpf, elfutils and zlib sources (or LIBBPF_SRC, ELFUTILS_SRC and ZLIB_SRC set to source trees)");
  }
  return missing;
}

function fail(lines) {
  console.error(lines.join('\n'));
  process.exit(1);
}

function main() {
  if (process.platform !== 'linux') {
    // Importing the package still works (the tracer reports ENOADDON on start).
    console.warn(`exec-tracer: ${process.platform} has no eBPF exec tracing; skipping the native build`);
    return;
  }
  const binary = tryBinary();
  if (binary.file) {
    console.log(`exec-tracer: using ${path.relative(root, binary.file)}`);
    return;
  }
  const setupHint = 'On Debian/Ubuntu, as root: bash node_modules/exec-tracer/scripts/setup-debian.sh --build-only, then npm rebuild exec-tracer';
  const missing = missingForSourceBuild();
  if (missing.length > 0) {
    fail([
      `exec-tracer: cannot install. No prebuilt binary fits (${binary.reason}),`,
      'and building from source needs what this machine lacks:',
      ...missing.map((what) => `  - ${what}`),
      setupHint,
    ]);
  }
  console.log(`exec-tracer: ${binary.reason}; building from source with cmake-js`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--runtime', 'node'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    fail([
      `exec-tracer: the source build failed (cmake-js exited with ${result.status ?? result.signal}; its output is above),`,
      `and no prebuilt binary fits (${binary.reason}).`,
      setupHint,
    ]);
  }
}

main();
