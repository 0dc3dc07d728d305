// SPDX-License-Identifier: MIT
//
// Which kernels the matrix boots, on which CPUs, and what runs in each.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Arch = 'amd64' | 'arm64';

export interface ArchSpec {
  /** process.arch of that CPU, as Node and node-gyp-build name it. */
  node: 'x64' | 'arm64';
  /** The system emulator and the machine it emulates (software CPU: no KVM). */
  qemu: string;
  machine: string[];
  /** The serial console the kernel writes to. */
  console: string;
  /** C compiler and strip for that CPU, on this x64 host. */
  cc: string;
  strip: string;
  /** The addon the guest loads, at the same path in the guest's /project (where node-gyp-build looks). */
  addon: string;
}

export const ARCHES: Record<Arch, ArchSpec> = {
  amd64: {
    node: 'x64',
    qemu: 'qemu-system-x86_64',
    machine: ['-M', 'q35', '-cpu', 'max'],
    console: 'ttyS0',
    cc: 'cc',
    strip: 'strip',
    // The build `npm test` tests: the same sources, this host's compiler.
    addon: 'build/Release/exec_tracer.node',
  },
  arm64: {
    node: 'arm64',
    qemu: 'qemu-system-aarch64',
    // Neoverse N1 (ARMv8.2: AWS Graviton2, Ampere Altra), the arm64 servers
    // people run. Not 'max': its emulated pointer authentication is slow, and
    // under it qemu 7.2 once broke Node's bootstrap (a TDZ ReferenceError in
    // node:internal/bootstrap/node) on the 6.12 kernel.
    machine: ['-M', 'virt', '-cpu', 'neoverse-n1'],
    console: 'ttyAMA0',
    cc: 'aarch64-linux-gnu-gcc',
    strip: 'aarch64-linux-gnu-strip',
    // The binary the package ships (scripts/prebuild.cjs --arch arm64).
    addon: 'prebuilds/linux-arm64/node.napi.glibc.node',
  },
};

export interface KernelSpec {
  /** What --kernel selects, and how results are labelled. */
  id: string;
  /** The Debian release whose default kernel (linux-image-ARCH) this is. */
  suite: string;
  arch: Arch;
  /** Test files run in the guest, relative to the repository. */
  files: string[];
}

/** Every real-kernel suite (test/integration/*.kernel.test.ts). */
export function kernelSuites(root: string): string[] {
  return readdirSync(join(root, 'test', 'integration'))
    .filter((f) => f.endsWith('.kernel.test.ts'))
    .sort()
    .map((f) => `test/integration/${f}`);
}

/**
 * Debian 11, 12 and 13's default kernels on x86-64, and 12 and 13's on
 * arm64, each running every real-kernel suite: the arm64 ones load the
 * shipped arm64 prebuild.
 */
export function matrix(root: string): KernelSpec[] {
  const all = kernelSuites(root);
  return [
    { id: '5.10-amd64', suite: 'bullseye', arch: 'amd64', files: all },
    { id: '6.1-amd64', suite: 'bookworm', arch: 'amd64', files: all },
    { id: '6.12-amd64', suite: 'trixie', arch: 'amd64', files: all },
    { id: '6.1-arm64', suite: 'bookworm', arch: 'arm64', files: all },
    { id: '6.12-arm64', suite: 'trixie', arch: 'arm64', files: all },
  ];
}
