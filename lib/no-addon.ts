// SPDX-License-Identifier: MIT
//
// What ENOADDON says: the machine as the prebuilds see it (platform, CPU,
// C library and its version), why no prebuild fits, and the two ways on.
// The facts are gathered in one place (hostFacts) and the words made from them
// by a pure function (describeNoAddon), so every case is unit-tested without
// having to be that machine.

/** The glibc the prebuilds need: fcntl64 arrived in 2.28 (scripts/glibc-floor.cjs checks it). */
export const PREBUILD_GLIBC = '2.28';
/** The CPUs the package carries a prebuild for (glibc only). */
export const PREBUILD_ARCHES: readonly string[] = ['x64', 'arm64'];
/** What Deno must be granted to load and run the addon. */
export const DENO_PERMISSIONS = ['read', 'ffi', 'run', 'env'] as const;

/** The machine as the addon loader sees it. */
export interface HostFacts {
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** The running glibc's version ('2.36'), or undefined when the C library is not glibc (musl). */
  glibc: string | undefined;
  /** Under Deno, the permissions of DENO_PERMISSIONS it has not granted; undefined elsewhere. */
  denoMissing?: string[];
}

/** Where a source build comes from: the package's version and repository. */
export interface PackageSource {
  version: string;
  /** package.json `repository`, as a URL git can clone, when the package names one. */
  repository?: string;
}

/** The error's message (after "exec-tracer: ") and hint. */
export interface NoAddonText {
  message: string;
  hint: string;
}

interface DenoPermissions {
  querySync?: (descriptor: { name: string }) => { state: string };
}

/** The facts of the running process (Node, Deno or Bun). Never throws. */
export function hostFacts(): HostFacts {
  const facts: HostFacts = { platform: process.platform, arch: process.arch, glibc: runningGlibc() };
  const deno = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno;
  if (deno !== undefined || process.versions.deno !== undefined) facts.denoMissing = denoMissing(deno?.permissions);
  return facts;
}

/**
 * glibc's version from the process report's header; absent on musl. (node-gyp-build
 * itself decides musl from /etc/alpine-release alone, which other musl images lack.)
 */
function runningGlibc(): string | undefined {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header?.glibcVersionRuntime;
  } catch {
    return undefined;
  }
}

function denoMissing(permissions: DenoPermissions | undefined): string[] {
  if (typeof permissions?.querySync !== 'function') return [];
  return DENO_PERMISSIONS.filter((name) => {
    try {
      return permissions.querySync!({ name }).state !== 'granted';
    } catch {
      return true;
    }
  });
}

/** Whether glibc version A ('2.17') is older than B ('2.28'): glibc's versions are major.minor. */
function olderGlibc(a: string, b: string): boolean {
  const [majorA = 0, minorA = 0] = a.split('.').map(Number);
  const [majorB = 0, minorB = 0] = b.split('.').map(Number);
  return majorA < majorB || (majorA === majorB && minorA < minorB);
}

/** 'glibc 2.36' or 'musl (no glibc)'. */
export function libcOf(facts: HostFacts): string {
  return facts.glibc === undefined ? 'musl (no glibc)' : `glibc ${facts.glibc}`;
}

/** The exact commands of a source build from a git clone, ending with the variable that loads it. */
export function sourceBuildCommands(source: PackageSource): string {
  const repository = source.repository ?? "<exec-tracer's git repository>";
  return (
    `git clone --branch v${source.version} ${repository} exec-tracer && cd exec-tracer && ` +
    'sudo bash scripts/setup-debian.sh --build-only && npm ci && npm run build:native, ' +
    'then EXEC_TRACER_PREBUILD=$PWD/build/Release'
  );
}

/**
 * Why no addon loaded, and what to do. LOOKED names where the loader looked,
 * REASON is the loader's own error.
 */
export function describeNoAddon(facts: HostFacts, source: PackageSource, looked: string, reason: string): NoAddonText {
  const target = `${facts.platform}-${facts.arch}`;
  if (facts.denoMissing !== undefined && facts.denoMissing.length > 0) {
    const flags = facts.denoMissing.map((name) => `--allow-${name}`).join(' ');
    return {
      message: `no native addon loads under Deno without ${flags}: ${reason}`,
      hint:
        `Deno has not granted ${flags}; run with ` +
        `deno run ${DENO_PERMISSIONS.map((name) => `--allow-${name}`).join(' ')} (Deno loads Node-API addons ` +
        'under --allow-ffi; the tracer also reads files and the environment, and runs programs)',
    };
  }
  if (facts.platform !== 'linux') {
    return {
      message: `no native addon loads on ${target}: ${reason}`,
      hint: 'exec tracing needs Linux (eBPF); on other platforms pass a binding: new ExecTracer(options, { binding })',
    };
  }
  const host = `${target}, ${libcOf(facts)}`;
  const ways =
    `Either point EXEC_TRACER_PREBUILD at a directory holding an addon built for this machine ` +
    `(EXEC_TRACER_PREBUILD=/dir: a build/Release or a prebuilds/linux-${facts.arch} directory), ` +
    `or build one from source, from a git clone: ${sourceBuildCommands(source)}`;
  let why: string;
  if (facts.glibc === undefined) {
    why = `the prebuilds are for glibc ≥ ${PREBUILD_GLIBC}, and this C library is not glibc`;
    return {
      message: `no native addon loads on ${host} (${looked}): ${why}: ${reason}`,
      hint: `Alpine and other musl systems are not supported yet: use a glibc-based image (Debian, Ubuntu, RHEL 8+). ${ways}`,
    };
  }
  if (!PREBUILD_ARCHES.includes(facts.arch)) {
    why = `there is no prebuild for ${target} (the package has ${PREBUILD_ARCHES.map((a) => `linux-${a}`).join(' and ')})`;
  } else if (olderGlibc(facts.glibc, PREBUILD_GLIBC)) {
    why = `the prebuilds need glibc ≥ ${PREBUILD_GLIBC}, and this is glibc ${facts.glibc}`;
  } else {
    why = `the prebuild for ${target} (glibc ≥ ${PREBUILD_GLIBC}; found ${facts.glibc}) did not load`;
  }
  return { message: `no native addon loads on ${host} (${looked}): ${why}: ${reason}`, hint: ways };
}
