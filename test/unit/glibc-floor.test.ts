// SPDX-License-Identifier: MIT
//
// scripts/glibc-floor.cjs, the check `npm run prebuilds` and the package test
// run on each prebuild: it must fail on a binary that needs anything newer
// than GLIBC_2.28 / GLIBCXX_3.4.21, and pass one that does not.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/process.js';

const floor = createRequire(import.meta.url)('../../scripts/glibc-floor.cjs') as {
  FLOOR: Record<string, string>;
  highestNeeded(readelfV: string): Record<string, string>;
  beyondFloor(highest: Record<string, string>): string[];
};

/** `readelf -W -V` of a binary needing these versions (its "Version needs section" only). */
function readelfV(needs: Record<string, string[]>): string {
  const lines = ["Version needs section '.gnu.version_r' contains 3 entries:", ' Addr: 0x0000000000003a10  Offset: 0x003a10  Link: 4 (.dynstr)'];
  for (const [file, versions] of Object.entries(needs)) {
    lines.push(`  000000: Version: 1  File: ${file}  Cnt: ${versions.length}`);
    versions.forEach((v, i) => lines.push(`  0x0010:   Name: ${v}  Flags: none  Version: ${i + 2}`));
  }
  return `Version symbols section '.gnu.version' contains 9 entries:\n  000:   0 (*local*)  2 (GLIBC_2.99)\n\n${lines.join('\n')}\n`;
}

const atFloor = {
  'libc.so.6': ['GLIBC_2.2.5', 'GLIBC_2.14', 'GLIBC_2.28', 'GLIBC_2.3.4'],
  'libstdc++.so.6': ['GLIBCXX_3.4', 'GLIBCXX_3.4.21', 'GLIBCXX_3.4.9', 'CXXABI_1.3.9'],
  'libgcc_s.so.1': ['GCC_3.0'],
};

describe('the glibc floor', () => {
  it('is GLIBC_2.28 and GLIBCXX_3.4.21', () => {
    expect(floor.FLOOR).toMatchObject({ GLIBC: '2.28', GLIBCXX: '3.4.21' });
  });

  it('reads the highest version of each library, comparing numbers (3.4.9 < 3.4.21), from the needs section only', () => {
    expect(floor.highestNeeded(readelfV(atFloor))).toEqual({ GLIBC: '2.28', GLIBCXX: '3.4.21', CXXABI: '1.3.9', GCC: '3.0' });
    expect(floor.beyondFloor(floor.highestNeeded(readelfV(atFloor)))).toEqual([]);
  });

  it('fails a binary that needs a newer glibc or libstdc++, or a library it does not know', () => {
    const crafted = readelfV({
      ...atFloor,
      'libc.so.6': [...atFloor['libc.so.6'], 'GLIBC_2.34'],
      'libstdc++.so.6': [...atFloor['libstdc++.so.6'], 'GLIBCXX_3.4.22'],
      'libfoo.so.1': ['FOO_1.0'],
    });
    expect(floor.beyondFloor(floor.highestNeeded(crafted))).toEqual(['GLIBC_2.34', 'GLIBCXX_3.4.22', 'FOO_1.0']);
  });

  it('as a command, exits 1 on a binary above the floor: this system\'s own ls, built against its newer glibc', () => {
    const ls = execFileSync('sh', ['-c', 'readlink -f "$(command -v ls)"'], { encoding: 'utf8' }).trim();
    const highest = floor.highestNeeded(execFileSync('readelf', ['-W', '-V', ls], { encoding: 'utf8' }));
    if (floor.beyondFloor(highest).length === 0) {
      console.warn(`[exec-tracer] ${ls} needs nothing above the floor here; the command's failing exit is not exercised`);
      return;
    }
    let status = 0;
    try {
      execFileSync(process.execPath, [join(root, 'scripts', 'glibc-floor.cjs'), ls], { stdio: 'pipe' });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(1);
  });
});
