// SPDX-License-Identifier: MIT
//
// Bun as the runtime: it implements no libuv poll or timer, so the tracer
// runs its thread pump there (native/ring_watch.h). A program importing the
// package runs under a real Bun (npm's `bun` package, installed once into
// deps/bun/) and traces one exec; before the thread pump, start() aborted
// the process (panic: unsupported uv function: uv_poll_init, exit 134).
// On the host only, not a *.kernel.test.ts: the kernel matrix's guests
// cannot install Bun, and the thread pump is the same code there.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernel, root, uniqueTag } from './kernel.js';

/** The Bun the test runs: pinned, so a new Bun cannot change the result unseen. */
const BUN_VERSION = '1.4.5';
const bunDir = join(root, 'deps', `bun-${BUN_VERSION}`);
// The platform package's binary itself: with --ignore-scripts (nothing of a
// third party runs at install) bun's own bin/ holds only a placeholder.
const bun = join(bunDir, 'node_modules', '@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : process.arch}`, 'bin', 'bun');

const execFileAsync = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'exec-tracer-bun-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A program that traces one /bin/true TAG through the package, then stops (or exits without stop()). */
function program(tag: string, end: 'stop' | 'exit'): string {
  return `
    import { execFileSync } from 'node:child_process';
    import { ExecTracer } from 'exec-tracer';
    const tracer = new ExecTracer();
    const seen = new Promise((resolve) => tracer.on('exec', (e) => { if (e.argv.includes('${tag}')) resolve(e); }));
    await tracer.start();
    execFileSync('/bin/true', ['${tag}']);
    const e = await seen;
    console.log('seen', e.comm, e.argv[1], tracer.attachKind);
    ${end === 'stop' ? "await tracer.stop(); console.log('stopped');" : 'process.exit(0);'}
  `;
}

async function runUnderBun(source: string): Promise<string> {
  const file = join(work, `trace-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  // A tracer that never delivers would keep the process alive: the timeout
  // turns that into a failure with what was printed.
  const { stdout } = await execFileAsync(bun, [file], { cwd: work, encoding: 'utf8', timeout: 30_000 });
  return stdout;
}

describe.skipIf(!kernel)('Bun as the runtime', () => {
  beforeAll(() => {
    if (!existsSync(bun)) {
      mkdirSync(bunDir, { recursive: true });
      execFileSync('npm', ['install', '--prefix', bunDir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `bun@${BUN_VERSION}`], {
        stdio: 'inherit',
      });
    }
    // The package as a dependency of the program's project: its main, built.
    mkdirSync(join(work, 'node_modules'), { recursive: true });
    symlinkSync(root, join(work, 'node_modules', 'exec-tracer'));
    expect(existsSync(join(root, 'dist', 'lib', 'index.js')), 'the package is built (npm run build)').toBe(true);
  }, 180_000);

  it('traces one exec through new ExecTracer() and stops cleanly', async () => {
    const tag = uniqueTag('bun');
    const out = await runUnderBun(program(tag, 'stop'));
    expect(out).toMatch(new RegExp(`^seen true ${tag} (tp_btf|tracepoint)\\nstopped\\n$`));
  }, 60_000);

  it('exits without stop(): the cleanup hook stops the pump thread', async () => {
    const tag = uniqueTag('bun-exit');
    const out = await runUnderBun(program(tag, 'exit'));
    expect(out).toMatch(new RegExp(`^seen true ${tag} `));
  }, 60_000);
});
