// SPDX-License-Identifier: MIT
//
// Builds the prebuilt binaries the package ships, where node-gyp-build finds
// them (one Node-API binary serves every Node version):
//   prebuilds/linux-x64/node.napi.glibc.node
//   prebuilds/linux-arm64/node.napi.glibc.node   (cross-compiled)
// and prebuilds/THIRD-PARTY-LICENSES.txt for the libraries compiled into them.
// prebuildify does the naming, stripping and placing; since it drives
// node-gyp, which knows nothing of CMakeLists.txt, its --node-gyp hook points
// at scripts/cmake-js-as-node-gyp.cjs, which builds with cmake-js instead.
// arm64 needs Debian's cross compiler: apt-get install g++-aarch64-linux-gnu.
//
// usage: node scripts/prebuild.cjs [--arch x64|arm64]...   (default: the host's)
'use strict';

const { execFileSync } = require('node:child_process');
const { mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stripTools = { x64: 'x86_64-linux-gnu-strip', arm64: 'aarch64-linux-gnu-strip' };

function parseArches(argv) {
  const arches = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg === '--arch' ? argv[++i] : arg.startsWith('--arch=') ? arg.slice(7) : undefined;
    if (value === undefined) throw new Error(`prebuild: unknown argument '${arg}' (usage: prebuild.cjs [--arch x64|arm64]...)`);
    if (!Object.hasOwn(stripTools, value)) throw new Error(`prebuild: no target for arch '${value}' (known: ${Object.keys(stripTools).join(', ')})`);
    arches.push(value);
  }
  return arches.length > 0 ? arches : [process.arch];
}

function prebuild(arch) {
  // prebuildify takes the addon from <cwd>/build/Release and moves it: a
  // staging directory keeps it away from the build/ the tests use.
  const stage = path.join(root, 'build', `prebuildify-${arch}`);
  rmSync(stage, { recursive: true, force: true });
  rmSync(path.join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  execFileSync(
    process.execPath,
    [
      require.resolve('prebuildify/bin.js'),
      // node-gyp-build reads the name's tags: 'napi' marks it as fit for every
      // Node version, 'glibc' for glibc systems only (musl builds from source).
      '--napi', '--tag-libc', '--name', 'node.napi', '--arch', arch,
      '--strip', '--strip-bin', arch === process.arch ? 'strip' : stripTools[arch],
      '--node-gyp', path.join(__dirname, 'cmake-js-as-node-gyp.cjs'),
      '--cwd', stage, '--out', root,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  rmSync(stage, { recursive: true, force: true });
  const file = path.join('prebuilds', `linux-${arch}`, 'node.napi.glibc.node');
  // A prebuild that needs a newer glibc or libstdc++ than the floor would
  // load on the build host and fail on older ones: refuse to make it.
  execFileSync(process.execPath, [path.join(__dirname, 'glibc-floor.cjs'), file], { cwd: root, stdio: 'inherit' });
  console.log(`prebuild: ${file}`);
}

// The prebuilds carry libbpf (BSD-2-Clause, of LGPL-2.1 OR BSD-2-Clause),
// libelf (LGPL-3.0-or-later OR GPL-2.0-or-later; under the LGPL here: the
// package ships the sources and build to relink it) and zlib (Zlib). Their
// license texts go beside the binaries, taken from the very sources built.
function writeNotices() {
  const fetched = execFileSync('bash', [path.join(root, 'scripts', 'fetch-debian-sources.sh'), path.join(root, 'deps'), 'libbpf', 'elfutils', 'zlib'], {
    encoding: 'utf8',
  });
  const src = Object.fromEntries(fetched.trim().split('\n').map((line) => line.split('=')));
  const sections = [
    ['libbpf', src.libbpf, 'BSD-2-Clause (libbpf is LGPL-2.1 OR BSD-2-Clause)', ['LICENSE.BSD-2-Clause']],
    ['zlib', src.zlib, 'Zlib', ['LICENSE']],
    [
      'libelf (elfutils)',
      src.elfutils,
      'LGPL-3.0-or-later (libelf is LGPL-3.0-or-later OR GPL-2.0-or-later). To rebuild the addon with a ' +
        "modified libelf, build it from exec-tracer's source (a git clone of this version's tag; its README, " +
        "\"Building from source\"): ELFUTILS_SRC=/path/to/elfutils npm run build:native, then run with " +
        'EXEC_TRACER_PREBUILD=$PWD/build/Release, which loads it in place of this prebuild',
      ['COPYING-LGPLV3', 'COPYING'],
    ],
  ];
  const text = [
    'Third-party code compiled into prebuilds/*/node.napi.glibc.node',
    '',
    ...sections.flatMap(([name, dir, license, files]) => [
      '='.repeat(78),
      `${name}: ${path.basename(dir)}, from Debian's source package`,
      `License: ${license}`,
      '='.repeat(78),
      ...files.map((file) => readFileSync(path.join(dir, file), 'utf8')),
    ]),
  ].join('\n');
  writeFileSync(path.join(root, 'prebuilds', 'THIRD-PARTY-LICENSES.txt'), text);
}

if (process.platform !== 'linux') throw new Error('prebuild: exec-tracer builds for Linux only');
for (const arch of parseArches(process.argv.slice(2))) prebuild(arch);
writeNotices();
