// SPDX-License-Identifier: MIT
//
// The package as another project gets it: packed, installed from the
// tarball into a fresh project whose PATH has no C/C++ compiler, no clang
// and no cmake, so only the prebuilt binary can make it work.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernel, root, uniqueTag } from './kernel.js';

const work = mkdtempSync(join(tmpdir(), 'exec-tracer-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let tarball = '';

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

describe.skipIf(!kernel)('the packed package', () => {
  it('installs with no compiler from its prebuild; ESM, CommonJS and TypeScript consumers use it', async () => {
    execFileSync(process.execPath, [join(root, 'scripts', 'prebuild.cjs')], { cwd: root, stdio: 'ignore' });
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    tarball = join(work, packed.trim().split('\n').at(-1)!);

    // A PATH holding only what npm and node need.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['sh', 'env', 'uname']) symlinkSync(realpathSync(`/usr/bin/${tool}`), join(bin, tool));
    const env = { ...process.env, PATH: bin };
    const npmCli = join(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())), 'npm-cli.js');
    const compilers = execFileSync('sh', ['-c', 'command -v cc gcc g++ c++ clang cmake || true'], { env, encoding: 'utf8' });
    expect(compilers.trim()).toBe('');

    const project = freshProject('consumer');
    const installed = execFileSync(
      process.execPath,
      [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
      { cwd: project, env, encoding: 'utf8' },
    );
    expect(installed).toContain('exec-tracer: using prebuilds/linux-x64/node.napi.glibc.node');

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

  it('builds from source out of the tarball when told not to use the prebuild', () => {
    expect(tarball).not.toBe('');
    const project = freshProject('from-source');
    const installed = execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
      { cwd: project, env: { ...process.env, EXEC_TRACER_BUILD_FROM_SOURCE: '1' }, encoding: 'utf8' },
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
