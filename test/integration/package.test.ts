// SPDX-License-Identifier: MIT
//
// The package as another project gets it: packed, installed from the
// tarball into a fresh project whose PATH has no C/C++ compiler, no clang
// and no cmake, so only the prebuilt binary can make it work; what the
// tarball holds and adds to a project; the arm64 prebuild loaded by Debian's
// arm64 Node under qemu-user; the x64 one on Debian 11's runtimes. Other
// package managers and runtimes: test/install/ (npm run test:package-managers).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bareMachine, freshProject, packTarball, slow, traceOnce, which } from '../helpers/consumer.js';
import { ALLOWED_NEEDED, beyondFloor, elfDemands } from '../helpers/elf.js';
import { describeCommand } from './package-command.js';
import { describeCommandRun } from './package-command-run.js';
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
const prebuildOf = (arch: string) => join(root, 'prebuilds', `linux-${arch}`, 'node.napi.glibc.node');

const work = mkdtempSync(join(tmpdir(), 'exec-tracer-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let tarball = '';
/** The consumer project the packed package was installed into, for the command's tests. */
let consumer: { project: string; env: NodeJS.ProcessEnv; npmCli: string } | undefined;

describe.skipIf(!kernel)('the packed package', () => {
  it('installs with no compiler from its prebuild, adding two packages; ESM, CommonJS and TypeScript consumers use it', async () => {
    tarball = await packTarball(work, arches);

    // What ships: what a consumer runs (the compiled JavaScript and types,
    // the prebuilds and their licenses) and nothing else: no sources, no
    // source maps, no tests.
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const arch of arches) expect(entries).toContain(`package/prebuilds/linux-${arch}/node.napi.glibc.node`);
    expect(entries).toContain('package/dist/lib/index.js');
    expect(entries).toContain('package/dist/lib/index.d.ts');
    expect(entries).toContain('package/dist/lib/sinks/otel.js');
    expect(entries).toContain('package/dist/lib/sinks/otel.d.ts');
    expect(entries).toContain('package/dist/cli/main.js');
    expect(entries).toContain('package/prebuilds/THIRD-PARTY-LICENSES.txt');
    const unexpected = entries.filter(
      (entry) => !/^package\/(dist\/(lib|types|cli)\/.+\.(js|d\.ts)|prebuilds\/(linux-(x64|arm64)\/node\.napi\.glibc\.node|THIRD-PARTY-LICENSES\.txt)|package\.json|README\.md|LICENSE)$/.test(entry),
    );
    expect(unexpected).toEqual([]);
    // No lifecycle script a consumer's package manager would run or flag.
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts, script).not.toHaveProperty(script);
    expect(Object.keys(manifest.dependencies)).toEqual(['node-gyp-build']);

    // A PATH holding only what npm and node need.
    const npmCli = join(dirname(which('npm')), 'npm-cli.js');
    const env = bareMachine(work);
    const project = freshProject(work, 'consumer');
    await slow(process.execPath, [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, env });
    expect(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.')).sort()).toEqual(['exec-tracer', 'node-gyp-build']);
    consumer = { project, env, npmCli };

    const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: project, env, encoding: 'utf8' }).trim();
    expect(node(['-e', "const { ExecTracer, ExecTracerError } = require('exec-tracer'); console.log(typeof ExecTracer, typeof ExecTracerError)"]))
      .toBe('function function');
    expect(node(['--input-type=module', '-e', traceOnce(uniqueTag('consumer'))])).toBe('seen echo tp_btf');
    expect(node(['--input-type=commonjs', '-e', traceOnce(uniqueTag('consumer-cjs'), { commonjs: true })])).toBe('seen echo tp_btf');

    // exec-tracer/otel with no @opentelemetry package installed (its peers
    // are optional): it loads, and logs through a provider of the user's own.
    expect(node(['-e', "try { require.resolve('@opentelemetry/api-logs'); console.log('found') } catch { console.log('none') }"])).toBe('none');
    const otelTag = uniqueTag('consumer-otel');
    const bridged = `
      import { execFileSync } from 'node:child_process';
      import { ExecTracer } from 'exec-tracer';
      import { bridgeToOtelLogs } from 'exec-tracer/otel';
      const tracer = new ExecTracer();
      const logged = [];
      bridgeToOtelLogs(tracer, { getLogger: (name) => ({ emit: (r) => logged.push([name, r.eventName, r.attributes['process.command_args']?.[1]]) }) });
      await tracer.start();
      execFileSync('/bin/true', ['${otelTag}']);
      await tracer.stop();
      console.log(JSON.stringify(logged.find((l) => l[2] === '${otelTag}')));
    `;
    expect(JSON.parse(node(['--input-type=module', '-e', bridged]))).toEqual(['exec-tracer', 'exec_tracer.process.exec', otelTag]);

    // exec-tracer/metrics with no prom-client installed (an optional peer):
    // /metrics and /healthz served, the exec counted.
    expect(node(['-e', "try { require.resolve('prom-client'); console.log('found') } catch { console.log('none') }"])).toBe('none');
    const served = `
      import { execFileSync } from 'node:child_process';
      import { ExecTracer } from 'exec-tracer';
      import { serveMetrics, tracerMetrics } from 'exec-tracer/metrics';
      const tracer = new ExecTracer();
      const metrics = tracerMetrics(tracer);
      const server = await serveMetrics(metrics, { port: 0 });
      const before = (await fetch(server.url.replace(/metrics$/, 'healthz'))).status;
      await tracer.start();
      const during = (await fetch(server.url.replace(/metrics$/, 'healthz'))).status;
      execFileSync('/bin/true');
      const text = await (await fetch(server.url)).text();
      await tracer.stop();
      await server.close();
      console.log(before, during, /^exec_tracer_execs_by_comm_total\{comm="true"\} [1-9]/m.test(text));
    `;
    expect(node(['--input-type=module', '-e', served])).toBe('503 200 true');

    writeFileSync(
      join(project, 'consumer.ts'),
      `import { ExecTracer, ExecTracerError, type ExecEvent, type ExecTracerOptions } from 'exec-tracer';
       import { bridgeToOtelLogs, type OtelLoggerProvider } from 'exec-tracer/otel';
       import { serveMetrics, tracerMetrics, type MetricsServer, type TracerMetrics } from 'exec-tracer/metrics';
       const options: ExecTracerOptions = { argvLimit: 4096, maxLatencyMs: 5 };
       const tracer: ExecTracer = new ExecTracer(options);
       tracer.on('exec', (e: ExecEvent) => console.log(e.pid.toFixed(0), e.argv.join(' '), e.cgroupId + 1n));
       tracer.on('error', (e: ExecTracerError) => console.log(e.code, e.hint));
       // exec-tracer/otel's types stand alone: no @opentelemetry package here, and no skipLibCheck.
       const provider: OtelLoggerProvider = { getLogger: () => ({ emit: (r) => console.log(r.eventName, r.timestamp[1]) }) };
       bridgeToOtelLogs(tracer, provider, { events: ['exec', 'exit'] }).detach();
       // exec-tracer/metrics' types too, without prom-client.
       const metrics: TracerMetrics = tracerMetrics(tracer, { maxSeries: 10, sinks: { mine: () => ({ sent: 1, dropped: 0, queued: 0 }) } });
       void serveMetrics(metrics, { port: 0 }).then((s: MetricsServer) => s.close());
       export default tracer;
      `,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    node([tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'consumer.ts']);
  }, 120_000);

  it('without a prebuild that loads, start() says what to do, and EXEC_TRACER_PREBUILD loads one from elsewhere', async () => {
    expect(tarball).not.toBe('');
    const env = bareMachine(work);
    const project = freshProject(work, 'no-prebuild');
    await slow(process.execPath, [join(dirname(which('npm')), 'npm-cli.js'), 'install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, env });
    const installed = join(project, 'node_modules', 'exec-tracer');
    rmSync(join(installed, 'prebuilds', `linux-${process.arch}`), { recursive: true });
    const probe = `
      import { ExecTracer } from 'exec-tracer';
      try { await new ExecTracer().start(); console.log('started?!'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }
    `;
    const failed = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: project, env, encoding: 'utf8' })) as {
      code: string; message: string; hint: string;
    };
    expect(failed.code).toBe('ENOADDON');
    expect(failed.message).toContain(`no native addon loads on linux-${process.arch}, glibc `);
    expect(failed.message).toContain(join(installed, 'prebuilds', `linux-${process.arch}`));
    expect(failed.hint).toContain('EXEC_TRACER_PREBUILD=/dir');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(failed.hint).toContain(`git clone --branch v${version} `);
    expect(failed.hint).toContain('npm ci && npm run build:native');

    const elsewhere = { ...env, EXEC_TRACER_PREBUILD: dirname(prebuildOf(process.arch)) };
    const seen = execFileSync(process.execPath, ['--input-type=module', '-e', traceOnce(uniqueTag('elsewhere'))], { cwd: project, env: elsewhere, encoding: 'utf8' });
    expect(seen.trim()).toBe('seen echo tp_btf');
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
    const project = freshProject(work, 'arm64');
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
    const project = freshProject(work, 'bullseye');
    await slow('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });
    const onBullseye = (args: string[]) =>
      slow(join(libs[0]!, 'ld-linux-x86-64.so.2'), ['--library-path', libs.join(':'), process.execPath, ...args], { cwd: project, timeout: 60_000 });
    const glibc = await onBullseye(['-p', 'process.report.getReport().header.glibcVersionRuntime']);
    expect(glibc.trim()).toBe('2.31');
    const seen = await onBullseye(['--input-type=module', '-e', traceOnce(uniqueTag('bullseye'))]);
    expect(seen.trim()).toBe('seen echo tp_btf');
  }, 120_000);
});

// The command through the package's bin, from the install above.
describeCommand(() => {
  if (consumer === undefined) throw new Error('the packed package was not installed (see the first test above)');
  return consumer;
});

// exec-tracer -- CMD through the same bin.
describeCommandRun(() => {
  if (consumer === undefined) throw new Error('the packed package was not installed (see the first test above)');
  return consumer;
});
