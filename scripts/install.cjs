// SPDX-License-Identifier: MIT
//
// npm's install step. Uses a binary that loads (a prebuild in prebuilds/, or
// an earlier build in build/Release) and otherwise builds from source with
// cmake-js. Plain `node-gyp-build` as the install script would fall back to
// node-gyp, which knows nothing of CMakeLists.txt.
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function loadableBinary() {
  if (process.env.EXEC_TRACER_BUILD_FROM_SOURCE === '1') return undefined;
  try {
    const file = require('node-gyp-build').path(root);
    require(file); // a prebuild for another libc or a broken one fails here
    return file;
  } catch {
    return undefined;
  }
}

function main() {
  if (process.platform !== 'linux') {
    // Importing the package still works (the tracer reports ENOADDON on start).
    console.warn(`exec-tracer: ${process.platform} has no eBPF exec tracing; skipping the native build`);
    return;
  }
  const found = loadableBinary();
  if (found) {
    console.log(`exec-tracer: using ${path.relative(root, found)}`);
    return;
  }
  console.log('exec-tracer: no prebuilt binary loads here; building from source with cmake-js');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--runtime', 'node'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(
      [
        'exec-tracer: the source build failed and no prebuilt binary fits this machine.',
        'Building needs: cmake >= 3.18, a C++17 compiler, clang (BPF target), llvm-strip, bpftool,',
        "libelf and zlib headers, and libbpf's sources (fetched from Debian's archive with apt-get,",
        'or LIBBPF_SRC=/path/to/libbpf). On Debian/Ubuntu, as root: bash scripts/setup-debian.sh',
      ].join('\n'),
    );
    process.exit(result.status ?? 1);
  }
}

main();
