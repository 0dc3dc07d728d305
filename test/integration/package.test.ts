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

describe.skipIf(!kernel)('the packed package', () => {
  it('installs with no compiler from its prebuild; ESM, CommonJS and TypeScript consumers use it', async () => {
    execFileSync(process.execPath, [join(root, 'scripts', 'prebuild.cjs')], { cwd: root, stdio: 'ignore' });
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const tarball = join(work, packed.trim().split('\n').at(-1)!);

    // A PATH holding only what npm and node need.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['sh', 'env', 'uname']) symlinkSync(realpathSync(`/usr/bin/${tool}`), join(bin, tool));
    const env = { ...process.env, PATH: bin };
    const npmCli = join(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())), 'npm-cli.js');
    const compilers = execFileSync('sh', ['-c', 'command -v cc gcc g++ c++ clang cmake || true'], { env, encoding: 'utf8' });
    expect(compilers.trim()).toBe('');

    const project = join(work, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    const installed = execFileSync(
      process.execPath,
      [npmCli, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
      { cwd: project, env, encoding: 'utf8' },
    );
    expect(installed).toContain('exec-tracer: using prebuilds/linux-x64/node.napi.glibc.node');

    const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: project, env, encoding: 'utf8' }).trim();
    expect(node(['-e', "const { ExecTracer, ExecTracerError } = require('exec-tracer'); console.log(typeof ExecTracer, typeof ExecTracerError)"]))
      .toBe('function function');

    const tag = uniqueTag('consumer');
    const esm = `
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
});
