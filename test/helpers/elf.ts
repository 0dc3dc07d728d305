// SPDX-License-Identifier: MIT
//
// What a built .node asks of the machine that loads it, read with readelf
// (which reads any architecture's ELF, so the arm64 prebuild too). The floor
// and the reading of symbol versions are scripts/glibc-floor.cjs's, which
// `npm run prebuilds` also runs.
import { createRequire } from 'node:module';

interface GlibcFloor {
  FLOOR: Readonly<Record<string, string>>;
  highestNeeded(readelfV: string): Record<string, string>;
  beyondFloor(highest: Record<string, string>): string[];
  readelf(flag: string, file: string): string;
}
const floor = createRequire(import.meta.url)('../../scripts/glibc-floor.cjs') as GlibcFloor;

export interface ElfDemands {
  /** `Machine:` from the ELF header, e.g. 'Advanced Micro Devices X86-64' or 'AArch64'. */
  machine: string;
  /** DT_NEEDED entries. */
  needed: string[];
  /** The highest version required of each versioned library, e.g. { GLIBC: '2.28' }. */
  highest: Record<string, string>;
}

export function elfDemands(file: string): ElfDemands {
  const machine = /Machine:\s+(.+)/.exec(floor.readelf('-h', file))?.[1]?.trim() ?? '';
  const needed = [...floor.readelf('-d', file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
  return { machine, needed, highest: floor.highestNeeded(floor.readelf('-V', file)) };
}

/** What a prebuild may need, so it loads on glibc distributions back to RHEL 8 (scripts/glibc-floor.cjs). */
export const FLOOR = floor.FLOOR;

/** Each required version above FLOOR (or of a library FLOOR does not know), e.g. ['CXXABI_1.3.13']. */
export function beyondFloor(demands: ElfDemands): string[] {
  return floor.beyondFloor(demands.highest);
}
export const ALLOWED_NEEDED = /^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
