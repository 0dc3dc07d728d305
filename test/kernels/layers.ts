// SPDX-License-Identifier: MIT
//
// The guest's initramfs, as concatenated cpio archives (the kernel unpacks
// each in turn into one root file system):
//   root          Debian trixie's coreutils, util-linux, bpftool, busybox
//                 (the shell of /init) and the C/C++ runtimes, unpacked from
//                 Debian's archive for that CPU; cached by package set
//   node          Node.js for that CPU from the npm registry (the official
//                 build, published as node-linux-<arch>), the host's
//                 version; cached by version
//   node_modules  the project's dependencies for that CPU (vitest and tsx
//                 with their native esbuild and rollup); cached by lockfile
//   project       the sources, tests, built dist/, the addon, the fixtures
//                 compiled for that CPU, /init and its settings; every run
// Everything comes from Debian's archive or the npm registry and lives under
// deps/kernels/ (git-ignored), never in the repository.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { buildSync, transformSync } from 'esbuild';
import { TS_ENTRIES, bundleName } from '../helpers/ts-entry.js';
import { ARCHES, type Arch } from './matrix.js';

/** Where the guest finds the bundled TypeScript entry points (test/helpers/ts-entry.ts). */
export const TS_BUNDLES_IN_GUEST = '/project/build/ts-bundles';

/** Debian packages of the guest's root file system. */
const ROOT_PACKAGES = [
  'busybox-static', // the shell of /init, and its mount, ip, base64, poweroff
  'coreutils', 'dash', // /bin/true, /bin/echo, /bin/sh: what the tests exec
  'util-linux', 'mount', // unshare, setpriv, prlimit, mount (tracefs, privileges, context, who tests)
  'libcap2-bin', // setcap: the who test's file capabilities
  'bsdutils', // script: the who test's pseudo-terminal
  'bpftool', // the tests count the kernel's BPF objects with it
  'libstdc++6', // Node's C++ runtime
];
/** What the guest never reads: documentation, locales, iconv modules. */
const ROOT_PRUNE = ['./usr/share/doc', './usr/share/man', './usr/share/info', './usr/share/locale', './usr/lib/*/gconv'];
/** Dependencies nothing loads at run time: the type checker, types, the prebuild tool. */
const NODE_MODULES_PRUNE = ['typescript', '@types', 'prebuildify'];

export interface Layers {
  /** Everything the guest of this CPU boots with, in unpacking order. */
  initrd: string;
  /** The Node.js version inside. */
  node: string;
}

function sh(file: string, args: string[], cwd?: string): string {
  return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** DIR's tree (paths relative to it, owned by root, `prune` left out) as a newc cpio archive. */
function writeCpio(dir: string, out: string, prune: string[] = []): void {
  const pruned = prune.map((p) => `-path '${p}'`).join(' -o ');
  const find = prune.length > 0 ? `find . \\( ${pruned} \\) -prune -o -print` : 'find .';
  execFileSync('sh', ['-c', `${find} | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > '${out}.partial'`], { cwd: dir });
  execFileSync('mv', [`${out}.partial`, out]);
}

/** OUT, rebuilt by `build` only when KEY differs from the key it was built with. */
function cached(out: string, key: string, build: () => void): string {
  const keyFile = `${out}.key`;
  if (existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return out;
  build();
  writeFileSync(keyFile, key);
  return out;
}

/** A fresh, empty staging directory. */
function stage(cache: string, name: string): string {
  const dir = join(cache, 'stage', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function rootLayer(root: string, cache: string, arch: Arch): string {
  const dir = join(cache, `root-trixie-${arch}`);
  sh('bash', [join(root, 'test', 'helpers', 'debian-root.sh'), dir, 'trixie', arch, ...ROOT_PACKAGES]);
  const key = `${readFileSync(join(dir, '.exec-tracer-root'), 'utf8')} prune ${ROOT_PRUNE.join(' ')}`;
  return cached(join(cache, `root-${arch}.cpio`), key, () => writeCpio(dir, join(cache, `root-${arch}.cpio`), ROOT_PRUNE));
}

/** The version of node-linux-<arch> to use: the host's, else the newest of its major. */
function nodeVersion(arch: Arch, log: (line: string) => void): string {
  const name = `node-linux-${ARCHES[arch].node}`;
  const published = JSON.parse(sh('npm', ['view', name, 'versions', '--json'])) as string[];
  const host = process.versions.node;
  if (published.includes(host)) return host;
  const major = host.split('.')[0];
  const newest = published.filter((v) => v.split('.')[0] === major).at(-1);
  if (newest === undefined) throw new Error(`the npm registry has no ${name} for Node ${major} (the host runs ${host})`);
  log(`${name}@${host} is not published; using ${newest}`);
  return newest;
}

function nodeLayer(cache: string, arch: Arch, version: string): string {
  const spec = ARCHES[arch];
  const out = join(cache, `node-${arch}.cpio`);
  return cached(out, `node-linux-${spec.node}@${version}`, () => {
    const dir = stage(cache, `node-${arch}`);
    const tarball = sh('npm', ['pack', '--silent', `node-linux-${spec.node}@${version}`], dir).trim().split('\n').at(-1)!;
    sh('tar', ['-xzf', tarball, 'package/bin/node'], dir);
    const bin = join(dir, 'usr', 'local', 'bin');
    mkdirSync(bin, { recursive: true });
    execFileSync('mv', [join(dir, 'package', 'bin', 'node'), join(bin, 'node')]);
    rmSync(join(dir, 'package'), { recursive: true });
    rmSync(join(dir, tarball));
    // The symbol table is 14 MB the guest never reads (and unpacks at every
    // boot); the dynamic symbols that addons link against stay.
    sh(spec.strip, [join(bin, 'node')]);
    chmodSync(join(bin, 'node'), 0o755);
    writeCpio(dir, out);
    rmSync(dir, { recursive: true });
  });
}

/** The project's node_modules for ARCH: this host's for amd64, an npm ci for that CPU otherwise. */
function nodeModulesLayer(root: string, cache: string, arch: Arch): string {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const lockHash = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const native = ARCHES[arch].node === process.arch;
  // The host's tree can be reinstalled under the same lockfile: its own
  // lockfile copy changes then.
  const installed = native ? statSync(join(root, 'node_modules', '.package-lock.json')).mtimeMs : 0;
  const out = join(cache, `node_modules-${arch}.cpio`);
  return cached(out, `${lockHash} ${installed}`, () => {
    let from = join(root, 'node_modules');
    const install = join(cache, `npm-${arch}`);
    if (!native) {
      rmSync(install, { recursive: true, force: true });
      mkdirSync(install, { recursive: true });
      copyFileSync(join(root, 'package.json'), join(install, 'package.json'));
      copyFileSync(join(root, 'package-lock.json'), join(install, 'package-lock.json'));
      // --cpu/--os pick the optional native packages (esbuild, rollup) of
      // that CPU from the same lockfile; no install script runs.
      sh('npm', ['ci', `--cpu=${ARCHES[arch].node}`, '--os=linux', '--libc=glibc', '--ignore-scripts', '--no-audit', '--no-fund'], install);
      from = join(install, 'node_modules');
    }
    const dir = stage(cache, `node_modules-${arch}`);
    mkdirSync(join(dir, 'project'));
    // Hard links: the same file system, no copy of 60 MB.
    sh('cp', ['-al', from, join(dir, 'project', 'node_modules')]);
    for (const name of NODE_MODULES_PRUNE) rmSync(join(dir, 'project', 'node_modules', name), { recursive: true, force: true });
    writeCpio(dir, out);
    rmSync(dir, { recursive: true });
    rmSync(install, { recursive: true, force: true });
  });
}

/** Every file below DIR, recursively. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * The guest runs the project's TypeScript as JavaScript transpiled here, at
 * the same paths with .js for .ts: under emulation vite would start esbuild
 * (a Go program) and transform each file, about a fifth of a guest's run.
 * It is the same code: esbuild strips the types, as vite's transform does.
 * No source maps: vitest's handling of them cost more than the transform
 * saved, so a stack trace from a guest names lines of the transpiled file.
 * The vitest config's .ts names are rewritten to match, and checked.
 */
function transpileTypeScript(project: string): void {
  const trees = ['lib', 'types', 'cli', 'test', 'examples'].map((t) => join(project, t));
  for (const file of trees.flatMap(filesBelow).filter((f) => f.endsWith('.ts'))) {
    const { code } = transformSync(readFileSync(file, 'utf8'), {
      loader: 'ts', format: 'esm', target: 'node20', sourcefile: relative(project, file),
    });
    writeFileSync(`${file.slice(0, -3)}.js`, code);
    rmSync(file);
  }
  const configFile = join(project, 'vitest.config.ts');
  let config = readFileSync(configFile, 'utf8');
  for (const [from, to] of [
    ["'./lib/index.ts'", "'./lib/index.js'"],
    ["'test/**/*.test.ts'", "'test/**/*.test.js'"],
    ["'test/helpers/setup.ts'", "'test/helpers/setup.js'"],
  ] as const) {
    if (!config.includes(from)) throw new Error(`vitest.config.ts no longer names ${from}: update transpileTypeScript()`);
    config = config.replace(from, to);
  }
  writeFileSync(join(project, 'vitest.config.mjs'), transformSync(config, { loader: 'ts', format: 'esm', target: 'node20' }).code);
  rmSync(configFile);
}

/** A test file's name in the guest, where its TypeScript is transpiled. */
export function guestTestFile(file: string): string {
  return file.replace(/\.ts$/, '.js');
}

export interface ProjectOptions {
  /** Test files to run, relative to the repository. */
  files: string[];
  /** Exported in the guest before the tests run. */
  env: Record<string, string>;
}

/** The sources, tests, dist/, addon and fixtures for ARCH, with /init: rebuilt every run. */
function projectLayer(root: string, cache: string, arch: Arch, options: ProjectOptions): string {
  const spec = ARCHES[arch];
  const dir = stage(cache, `project-${arch}`);
  const project = join(dir, 'project');
  for (const file of ['package.json', 'tsconfig.json', 'vitest.config.ts']) cpSync(join(root, file), join(project, file));
  for (const tree of ['lib', 'types', 'cli', 'test', 'examples', 'dist']) cpSync(join(root, tree), join(project, tree), { recursive: true });
  mkdirSync(join(project, spec.addon, '..'), { recursive: true });
  copyFileSync(join(root, spec.addon), join(project, spec.addon));

  // The tests compile a fixture when its binary is missing or older than its
  // source; the guest has no compiler, so each is built here, for that CPU,
  // and dated after its source.
  const fixtures = join(project, 'build', 'test-fixtures');
  mkdirSync(fixtures, { recursive: true });
  const past = new Date('2000-01-01T00:00:00Z');
  for (const source of readdirSync(join(project, 'test', 'fixtures')).filter((f) => f.endsWith('.c'))) {
    utimesSync(join(project, 'test', 'fixtures', source), past, past);
    sh(spec.cc, ['-O2', '-Wall', '-pthread', '-o', join(fixtures, source.slice(0, -2)), join(project, 'test', 'fixtures', source)]);
  }

  // The programs the suites start as children, as plain JavaScript: tsx's
  // loader would cost ~10 s per child under emulation. Resolved like tsx
  // resolves them (tsconfig paths: 'exec-tracer' is lib/index.ts); only the
  // addon's loader stays outside, found in the guest's node_modules.
  for (const entry of TS_ENTRIES) {
    buildSync({
      entryPoints: [join(root, entry)],
      outfile: join(project, TS_BUNDLES_IN_GUEST.slice('/project/'.length), bundleName(entry)),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: join(root, 'tsconfig.json'),
      external: ['node-gyp-build'],
      logLevel: 'error',
    });
  }

  transpileTypeScript(project);

  cpSync(join(root, 'test', 'kernels', 'guest-init.sh'), join(dir, 'init'));
  chmodSync(join(dir, 'init'), 0o755);
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(etc, 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
  writeFileSync(
    join(etc, 'exec-tracer-guest.env'),
    [`FILES=${quote(options.files.map(guestTestFile).join(' '))}`, ...Object.entries(options.env).map(([k, v]) => `export ${k}=${quote(v)}`)].join('\n') + '\n',
  );
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'root']) mkdirSync(join(dir, d));

  const out = join(cache, `project-${arch}.cpio`);
  writeCpio(dir, out);
  return out;
}

/** Builds (or reuses) the layers for ARCH and concatenates them into one initramfs. */
export function buildInitrd(root: string, cache: string, arch: Arch, options: ProjectOptions, log: (line: string) => void): Layers {
  mkdirSync(cache, { recursive: true });
  const version = nodeVersion(arch, log);
  const parts = [
    rootLayer(root, cache, arch),
    nodeLayer(cache, arch, version),
    nodeModulesLayer(root, cache, arch),
    projectLayer(root, cache, arch, options),
  ];
  const initrd = join(cache, `initrd-${arch}.cpio`);
  execFileSync('sh', ['-c', `cat ${parts.map((p) => `'${p}'`).join(' ')} > '${initrd}'`]);
  return { initrd, node: version };
}
