// SPDX-License-Identifier: MIT
//
// What a built .node asks of the machine that loads it, read with readelf
// (which reads any architecture's ELF, so the arm64 prebuild too).
import { execFileSync } from 'node:child_process';

export interface ElfDemands {
  /** `Machine:` from the ELF header, e.g. 'Advanced Micro Devices X86-64' or 'AArch64'. */
  machine: string;
  /** DT_NEEDED entries. */
  needed: string[];
  /** The highest version required of each versioned library, e.g. { GLIBC: '2.28' }. */
  highest: Record<string, string>;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True if version a (e.g. '3.4.21') is at most b. */
function atMost(a: string | undefined, b: string): boolean {
  return a !== undefined && compareVersions(a, b) <= 0;
}

export function elfDemands(file: string): ElfDemands {
  const readelf = (flag: string) => execFileSync('readelf', ['-W', flag, file], { encoding: 'utf8' });
  const machine = /Machine:\s+(.+)/.exec(readelf('-h'))?.[1]?.trim() ?? '';
  const needed = [...readelf('-d').matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
  const highest: Record<string, string> = {};
  const needs = readelf('-V').split("Version needs section")[1] ?? '';
  for (const [, family, version] of needs.matchAll(/Name: ([A-Z]+)_([0-9.]+)/g)) {
    const current = highest[family!];
    if (current === undefined || compareVersions(version!, current) > 0) highest[family!] = version!;
  }
  return { machine, needed, highest };
}

/**
 * What a prebuild may need, so it loads on the glibc distributions Node 20
 * itself supports (Debian 10+, Ubuntu 20.04+, RHEL 8+): glibc 2.28, and
 * GCC 8's libstdc++ (GLIBCXX_3.4.25, CXXABI_1.3.11); nothing outside the C
 * and C++ runtimes, which every such system has.
 */
export const FLOOR: Record<string, string> = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '7.0.0' };

/** Each required version above FLOOR (or of a library FLOOR does not know), e.g. ['CXXABI_1.3.13']. */
export function beyondFloor(demands: ElfDemands): string[] {
  return Object.entries(demands.highest)
    .filter(([family, version]) => FLOOR[family] === undefined || !atMost(version, FLOOR[family]!))
    .map(([family, version]) => `${family}_${version}`);
}
export const ALLOWED_NEEDED = /^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
