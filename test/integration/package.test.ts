// SPDX-License-Identifier: MIT
//
// The package as another project gets it: packed, installed from the
// tarball into a fresh project whose PATH has no C/C++ compiler, no clang
// and no cmake, so only the prebuilt binary can make it work; the arm64
// prebuild loaded by Debian's arm64 Node under qemu-user; and a source build
// from the tarball.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALLOWED_NEEDED, beyondFloor, elfDemands } from '../helpers/elf.js';
import { describeCommand } from './command.js';
import { kernel, realBinding, root, uniqueTag } from './kernel.js';

/** Why the arm64 prebuild cannot be built and run here, or undefined if it can. */
function arm64Unavailable(): string | undefined {
  if (process.arch !== 'x64') return `the host is ${process.arch}; the arm64 cross build is set up for x64 hosts`;
  const missing = ['aarch64-linux-gnu-g++', 'qemu-aarch64-static'].filter(
    (tool) => execFileSync('sh', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }).trim() === '',
  );
  if (missing.length > 0) return `${missing.join(' and ')} missing (bash scripts/setup-debian.sh installs them)`;
  return undefined;
}
const arm64Reason = arm64Unavailable();
if (arm64Reason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`the arm64 prebuild must be built and tested under CI=true: ${arm64Reason}`);
  console.warn(`[exec-tracer] skipping the arm64 prebuild: ${arm64Reason}`);
}
const arches = arm64Reason === undefined ? ['x64', 'arm64'] : [process.arch];
// Steps that take tens of seconds run asynchronously: a worker whose event
// loop is blocked for a minute misses vitest's RPC deadline.
const execFileAsync = promisify(execFile);
async function slow(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const { stdout } = await execFileAsync(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout;
}
const prebuildOf = (arch: string) => join(root, 'prebuilds', `linux-${arch}`, 'node.napi.glibc.node');

const work = mkdtempSync(join(tmpdir(), 'exec-tracer-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let tarball = '';
/** The consumer project the packed package was installed into, for the command's tests. */
let consumer: { project: string; env: NodeJS.ProcessEnv; npmCli: string } | undefined;

/** A project that depends on nothing yet. */
function freshProject(name: string): string {
  const project = join(work, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true }));
  return project;
}

/** An ESM program that traces one exec of its own through the installed package. */
function traceOnce(tag: string): string {
  return `
      import { spawn } from 'node:child_process';
      import { ExecTracer } from 'exec-tracer';
      const tracer = new ExecTracer();
      tracer.on('exec', (e) => {
        if (e.argv.includes('${tag}')) { console.log('seen', e.comm, tracer.attachKind); void tracer.stop(); }
      });
      await tracer.start();
      spawn('/bin/echo', ['${tag}'], { stdio: 'ignore' });
      setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000).unref();
    `;
}

/** A PATH holding only what npm and node need: no compiler, no clang, no cmake, no apt-get. */
function bareMachine(): { env: NodeJS.ProcessEnv; npmCli: string } {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const link = (target: string, name: string) => {
    try {
      symlinkSync(target, join(bin, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  };
  link(process.execPath, 'node');
  for (const tool of ['sh', 'env', 'uname']) link(realpathSync(`/usr/bin/${tool}`), tool);
  const env = { ...process.env, PATH: bin };
  const npmCli = join(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())), 'npm-cli.js');
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'cmake', 'apt-get']) {
    expect(execFileSync('sh', ['-c', `command -v ${tool} || true`], { env, encoding: 'utf8' }).trim(), tool).toBe('');
  }
  return { env, npmCli };
}

describe.skipIf(!kernel)('the packed package', () => {
  it('installs with no compiler from its prebuild; ESM, CommonJS and TypeScript consumers use it', async () => {
    const archArgs = arches.flatMap((arch) => ['--arch', arch]);
    await slow(process.execPath, [join(root, 'scripts', 'prebuild.cjs'), ...archArgs], { cwd: root });
    const packed = await slow('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
    tarball = join(work, packed.trim().split('\n').at(-1)!);

    // What ships: the compiled JavaScript and types, the prebuilds, and what
    // a source build needs; no tests, benchmarks or TypeScript sources.
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const arch of arches) expect(entries).toContain(`package/prebuilds/linux-${arch}/node.napi.glibc.node`);
    expect(entries).toContain('package/dist/lib/index.js');
    expect(entries).toContain('package/dist/lib/index.d.ts');
    expect(entries).toContain('package/CMakeLists.txt');
    expect(entries).toContain('package/scripts/fetch-debian-sources.sh');
    expect(entries).toContain('package/cmake/elfutils/config.h');
    expect(entries).toContain('package/prebuilds/THIRD-PARTY-LICENSES.txt');
    const unexpected = entries.filter(
      (entry) => !/^package\/(dist\/(lib|types)\/|prebuilds\/(linux-(x64|arm64)\/node\.napi\.glibc\.node|THIRD-PARTY-LICENSES\.txt)$|bpf\/|native\/|cmake\/|scripts\/|CMakeLists\.txt$|package\.json$|README\.md$|LICENSE$)/.test(entry),
    );
    expect(unexpected).toEqual([]);

    // A PATH holding only what npm and node need.
    const { env, npmCli } = bareMachine();
    const project = freshProject('consumer');
    const installed = await slow(
      process.execPath,
      [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
      { cwd: project, env },
    );
    expect(installed).toContain('exec-tracer: using prebuilds/linux-x64/node.napi.glibc.node');
    consumer = { project, env, npmCli };

    const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: project, env, encoding: 'utf8' }).trim();
    expect(node(['-e', "const { ExecTracer, ExecTracerError } = require('exec-tracer'); console.log(typeof ExecTracer, typeof ExecTracerError)"]))
      .toBe('function function');

    const esm = traceOnce(uniqueTag('consumer'));
    expect(node(['--input-type=module', '-e', esm])).toBe('seen echo tp_btf');

    writeFileSync(
      join(project, 'consumer.ts'),
      `import { ExecTracer, ExecTracerError, type ExecEvent, type ExecTracerOptions } from 'exec-tracer';
       const options: ExecTracerOptions = { argvLimit: 4096, maxLatencyMs: 5 };
       const tracer: ExecTracer = new ExecTracer(options);
       tracer.on('exec', (e: ExecEvent) => console.log(e.pid.toFixed(0), e.argv.join(' '), e.cgroupId + 1n));
       tracer.on('error', (e: ExecTracerError) => console.log(e.code, e.hint));
       export default tracer;
      `,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    node([tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'consumer.ts']);
  }, 120_000);

  it('fails to install with a list of exactly what is missing when no prebuild fits and nothing can build', () => {
    expect(tarball).not.toBe('');
    const { env, npmCli } = bareMachine();
    const project = freshProject('nothing-fits');
    let output = '';
    try {
      execFileSync(process.execPath, [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], {
        cwd: project,
        env: { ...env, EXEC_TRACER_BUILD_FROM_SOURCE: '1' },
        encoding: 'utf8',
        stdio: 'pipe',
      });
      expect.unreachable('the install should have failed');
    } catch (error) {
      const failed = error as { status: number; stdout: string; stderr: string };
      expect(failed.status).not.toBe(0);
      output = failed.stdout + failed.stderr;
    }
    expect(output).toContain('exec-tracer: cannot install. No prebuilt binary fits (a source build was asked for');
    for (const missing of ['cmake (>= 3.18)', 'a C compiler (gcc)', 'a C++17 compiler (g++)', 'clang (to compile the BPF program)', 'llvm-strip (llvm)', 'apt-get to fetch libbpf']) {
      expect(output).toContain(`  - ${missing}`);
    }
    expect(output).toContain('setup-debian.sh --build-only');
  }, 60_000);

  it('ships prebuilds that are the right ELF for their CPU and need only an old glibc and libstdc++', () => {
    expect(tarball).not.toBe('');
    const machines: Record<string, string> = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
    for (const arch of arches) {
      const demands = elfDemands(prebuildOf(arch));
      expect(demands.machine, arch).toBe(machines[arch]);
      expect(demands.needed.filter((lib) => !ALLOWED_NEEDED.test(lib)), arch).toEqual([]);
      expect(demands.highest.GLIBC, arch).toBeDefined();
      expect(beyondFloor(demands), arch).toEqual([]);
      console.log(`[exec-tracer] prebuild linux-${arch}: needs ${demands.needed.join(' ')}; at most ${Object.entries(demands.highest).map(([f, v]) => `${f}_${v}`).join(' ')}`);
    }
  });

  it.skipIf(arm64Reason !== undefined)('loads its arm64 prebuild in Debian\'s arm64 Node under qemu-user', async () => {
    expect(tarball).not.toBe('');
    const sysroot = (
      await slow('bash', [join(root, 'test', 'helpers', 'debian-root.sh'), join(root, 'deps', 'trixie-arm64-node'), 'trixie', 'arm64', 'nodejs'])
    ).trim();
    const project = freshProject('arm64');
    await slow('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });
    const tag = uniqueTag('arm64');
    writeFileSync(
      join(project, 'probe.cjs'),
      `const { spawn } = require('node:child_process');
       const path = require('node:path');
       const { ExecTracer, ExecTracerError } = require('exec-tracer');
       const pkg = path.dirname(require.resolve('exec-tracer/package.json'));
       const file = require('node-gyp-build').path(pkg);
       const binding = require(file);
       const out = { arch: process.arch, node: process.version, file: path.relative(pkg, file),
         api: typeof ExecTracer, bootTimeNs: String(binding.bootTimeNs()), pageSize: binding.pageSize };
       const tracer = new ExecTracer();
       const done = (trace) => { out.trace = trace; console.log(JSON.stringify(out)); void tracer.stop(); };
       tracer.on('exec', (e) => { if (e.argv.includes('${tag}')) done({ seen: e.comm }); });
       tracer.start().then(
         () => spawn('/bin/echo', ['${tag}'], { stdio: 'ignore' }),
         (e) => done({ error: e instanceof ExecTracerError, code: e.code, errno: e.errno, hint: e.hint }));
       setTimeout(() => done({ timeout: true }), 20000).unref();
      `,
    );
    const before = realBinding().bootTimeNs();
    const output = await slow('qemu-aarch64-static', ['-L', sysroot, join(sysroot, 'usr', 'bin', 'node'), 'probe.cjs'], {
      cwd: project,
      timeout: 100_000,
    });
    const after = realBinding().bootTimeNs();
    const probe = JSON.parse(output.trim().split('\n').at(-1)!) as {
      arch: string; node: string; file: string; api: string; bootTimeNs: string; pageSize: number;
      trace: { seen?: string; error?: boolean; code?: string; errno?: number; hint?: string; timeout?: boolean };
    };
    expect(probe.arch).toBe('arm64');
    expect(probe.file).toBe('prebuilds/linux-arm64/node.napi.glibc.node');
    expect(probe.api).toBe('function');
    // The arm64 addon read the same clock as the host's x64 addon, in between.
    expect(BigInt(probe.bootTimeNs)).toBeGreaterThanOrEqual(before);
    expect(BigInt(probe.bootTimeNs)).toBeLessThanOrEqual(after);
    expect(probe.pageSize).toBeGreaterThan(0);
    // qemu-user does not implement bpf(2) (qemu 7.2: ENOSYS), so the tracer
    // must fail with its typed error; should a qemu pass it through, the
    // trace must then see the exec.
    if (probe.trace.seen === undefined) {
      expect(probe.trace).toMatchObject({ error: true, code: 'EKERNEL', errno: 38 });
      expect(probe.trace.hint).toMatch(/qemu-user/);
    } else {
      expect(probe.trace.seen).toBe('echo');
    }
    console.log(`[exec-tracer] arm64 under qemu-user (${probe.node}): loaded; start: ${JSON.stringify(probe.trace).slice(0, 80)}`);
  }, 150_000);

  it.skipIf(process.arch !== 'x64')('traces with its x64 prebuild on Debian 11\'s C and C++ runtimes (glibc 2.31, GCC 10\'s libstdc++)', async () => {
    // The oldest runtimes Debian's archive still serves. The ELF checks above
    // guard 2.28; this shows the binary really loads and runs on older
    // libraries than the ones it was built with (a CXXABI_1.3.13 slipped in
    // once, which GCC 10's libstdc++ does not have).
    expect(tarball).not.toBe('');
    const runtimes = (
      await slow('bash', [join(root, 'test', 'helpers', 'debian-root.sh'), join(root, 'deps', 'bullseye-amd64-runtimes'), 'bullseye', 'amd64', 'libc6', 'libstdc++6'])
    ).trim();
    const libs = [join(runtimes, 'lib', 'x86_64-linux-gnu'), join(runtimes, 'usr', 'lib', 'x86_64-linux-gnu')];
    const project = freshProject('bullseye');
    await slow('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });
    const onBullseye = (args: string[]) =>
      slow(join(libs[0]!, 'ld-linux-x86-64.so.2'), ['--library-path', libs.join(':'), process.execPath, ...args], { cwd: project, timeout: 60_000 });
    const glibc = await onBullseye(['-p', 'process.report.getReport().header.glibcVersionRuntime']);
    expect(glibc.trim()).toBe('2.31');
    const seen = await onBullseye(['--input-type=module', '-e', traceOnce(uniqueTag('bullseye'))]);
    expect(seen.trim()).toBe('seen echo tp_btf');
  }, 120_000);

  it('builds from source out of the tarball when told not to use the prebuild', async () => {
    expect(tarball).not.toBe('');
    const project = freshProject('from-source');
    const installed = await slow(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
      { cwd: project, env: { ...process.env, EXEC_TRACER_BUILD_FROM_SOURCE: '1' } },
    );
    expect(installed).toContain('building from source with cmake-js');
    // node-gyp-build prefers build/Release over prebuilds/: this is the fresh build.
    const seen = execFileSync(process.execPath, ['--input-type=module', '-e', traceOnce(uniqueTag('source'))], {
      cwd: project,
      encoding: 'utf8',
    }).trim();
    expect(seen).toBe('seen echo tp_btf');
    const loaded = execFileSync(process.execPath, ['-e', "console.log(require('node-gyp-build').path(require.resolve('exec-tracer/package.json').replace('/package.json', '')))"], {
      cwd: project,
      encoding: 'utf8',
    }).trim();
    expect(loaded).toMatch(/node_modules\/exec-tracer\/build\/Release\/exec_tracer\.node$/);
  }, 180_000);
});

// The command through the package's bin, from the install above.
describeCommand(() => {
  if (consumer === undefined) throw new Error('the packed package was not installed (see the first test above)');
  return consumer;
});
