// SPDX-License-Identifier: MIT
//
// The package as another project gets it: packed into a tarball, installed
// into a fresh project on a "bare machine" whose PATH has node and the
// package manager under test but no C/C++ compiler, no clang, no cmake and no
// apt-get, so only the prebuilt binary can make it work. Used by
// test/integration/package.test.ts and the package-manager and runtime
// matrix (test/install/).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { root } from './process.js';

const execFileAsync = promisify(execFile);

/**
 * Runs a step that takes tens of seconds without blocking the worker's event
 * loop (a worker blocked for a minute misses vitest's RPC deadline); resolves
 * to its standard output.
 */
export async function slow(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<string> {
  const { stdout } = await execFileAsync(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout;
}

/** Builds the prebuilds for ARCHES (scripts/prebuild.cjs), packs the package into DIR and returns the tarball's path. */
export async function packTarball(dir: string, arches: string[]): Promise<string> {
  await slow(process.execPath, [join(root, 'scripts', 'prebuild.cjs'), ...arches.flatMap((arch) => ['--arch', arch])], { cwd: root });
  const packed = await slow('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
  return join(dir, packed.trim().split('\n').at(-1)!);
}

/** A project in DIR/NAME that depends on nothing yet. */
export function freshProject(dir: string, name: string, manifest: Record<string, unknown> = {}): string {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, ...manifest }));
  return project;
}

/** Where `command -v` finds NAME on the machine running the tests. */
export function which(name: string): string {
  return realpathSync(execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim());
}

/**
 * A PATH (DIR/bin) holding only a shell and a few of its tools, `node` (NODE, by default this
 * process's) and TOOLS (name: file): no compiler, no clang, no cmake, no
 * apt-get. Asserts that none of those can be found on it.
 */
export function bareMachine(dir: string, tools: Record<string, string> = {}, node = process.execPath): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const link = (target: string, name: string) => {
    try {
      symlinkSync(target, join(bin, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  };
  link(node, 'node');
  // pnpm's bin shims are shell scripts that call dirname and sed.
  for (const tool of ['sh', 'env', 'uname', 'dirname', 'sed']) link(realpathSync(`/usr/bin/${tool}`), tool);
  for (const [name, file] of Object.entries(tools)) link(file, name);
  const env = { ...process.env, PATH: bin };
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'cmake', 'apt-get']) {
    expect(execFileSync('sh', ['-c', `command -v ${tool} || true`], { env, encoding: 'utf8' }).trim(), tool).toBe('');
  }
  return env;
}

/**
 * A program that traces one exec of its own through the installed package and
 * prints `seen <comm> <attachKind>`: an ES module, or with COMMONJS a
 * require()ing script.
 */
export function traceOnce(tag: string, { commonjs = false } = {}): string {
  const imports = commonjs
    ? "const { spawn } = require('node:child_process'); const { ExecTracer } = require('exec-tracer');"
    : "import { spawn } from 'node:child_process'; import { ExecTracer } from 'exec-tracer';";
  return `
      ${imports}
      const tracer = new ExecTracer();
      tracer.on('exec', (e) => {
        if (e.argv.includes('${tag}')) { console.log('seen', e.comm, tracer.attachKind); void tracer.stop(); }
      });
      const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);
      tracer.on('close', () => clearTimeout(timer));
      tracer.start().then(() => spawn('/bin/echo', ['${tag}'], { stdio: 'ignore' }));
    `;
}
