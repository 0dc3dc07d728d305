#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// The glibc floor of the prebuilds: reads the symbol versions each binary
// requires (readelf -V, "Version needs section"; readelf reads any
// architecture's ELF, so the arm64 prebuild too) and fails if one is newer
// than FLOOR. GLIBC_2.28 is what Node's own Linux binaries need since Node 18
// (the prebuilds reach it through fcntl64); GLIBCXX_3.4.21 and CXXABI_1.3.9
// are GCC 5's libstdc++, so RHEL 8-era hosts load them.
//
// usage: node scripts/glibc-floor.cjs FILE...
//   prints each file's highest version per library; exits 1 if any is above the floor.
'use strict';

const { execFileSync } = require('node:child_process');

/** The newest version a prebuild may require of each versioned library. */
const FLOOR = Object.freeze({ GLIBC: '2.28', GLIBCXX: '3.4.21', CXXABI: '1.3.9', GCC: '7.0.0' });

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest version required of each library, from `readelf -W -V` output: { GLIBC: '2.28', ... }. */
function highestNeeded(readelfV) {
  const highest = {};
  const needs = readelfV.split('Version needs section')[1] ?? '';
  for (const [, family, version] of needs.matchAll(/Name: ([A-Z]+)_([0-9.]+)/g)) {
    if (highest[family] === undefined || compareVersions(version, highest[family]) > 0) highest[family] = version;
  }
  return highest;
}

/** Each required version above FLOOR, or of a library FLOOR does not know: ['GLIBC_2.34']. */
function beyondFloor(highest) {
  return Object.entries(highest)
    .filter(([family, version]) => FLOOR[family] === undefined || compareVersions(version, FLOOR[family]) > 0)
    .map(([family, version]) => `${family}_${version}`);
}

function readelf(flag, file) {
  return execFileSync('readelf', ['-W', flag, file], { encoding: 'utf8' });
}

module.exports = { FLOOR, compareVersions, highestNeeded, beyondFloor, readelf };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: glibc-floor.cjs FILE...');
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    const highest = highestNeeded(readelf('-V', file));
    const beyond = beyondFloor(highest);
    const found = Object.entries(highest).map(([family, version]) => `${family}_${version}`).join(' ');
    if (highest.GLIBC === undefined) {
      console.error(`glibc-floor: ${file}: no GLIBC version needed at all (not a glibc binary?)`);
      failed = true;
    } else if (beyond.length > 0) {
      console.error(`glibc-floor: ${file} needs ${beyond.join(' ')}, above the floor (${Object.entries(FLOOR).map(([f, v]) => `${f}_${v}`).join(' ')})`);
      failed = true;
    } else {
      console.log(`glibc-floor: ${file}: at most ${found}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
