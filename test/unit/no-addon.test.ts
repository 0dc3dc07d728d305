// SPDX-License-Identifier: MIT
//
// When no addon loads: importing must not throw (users on other platforms,
// or tools that only want the types), and start() must say what this machine
// is, why no prebuild fits it, and the two ways on.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeNoAddon, hostFacts, PREBUILD_GLIBC, type HostFacts } from '../../lib/no-addon.js';
import { root, run } from '../helpers/process.js';

const copy = mkdtempSync(join(tmpdir(), 'exec-tracer-noaddon-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** start()'s rejection in a copy of the package with no addon in it, as JSON. */
async function startWithoutAddon(env: NodeJS.ProcessEnv = {}): Promise<{ code: string; operation: string; message: string; hint: string }> {
  const script = `
    const { ExecTracer } = await import('./lib/index.ts');
    console.log('imported');
    const tracer = new ExecTracer();
    try { await tracer.start(); console.log('started?!'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, operation: e.operation, message: e.message, hint: e.hint })); }
  `;
  const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: copy,
    env: { ...process.env, ...env },
  });
  const [imported, json] = result.stdout.trim().split('\n');
  expect(imported, result.stderr).toBe('imported');
  return JSON.parse(json!) as { code: string; operation: string; message: string; hint: string };
}

describe('a package with no addon', () => {
  it('imports, and rejects start() with ENOADDON naming this machine and both ways on', async () => {
    for (const part of ['lib', 'types', 'package.json']) cpSync(join(root, part), join(copy, part), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const error = await startWithoutAddon();
    expect(error.code).toBe('ENOADDON');
    expect(error.operation).toBe('addon');
    const facts = hostFacts();
    expect(error.message).toContain(`no native addon loads on linux-${process.arch}, glibc ${facts.glibc}`);
    expect(error.message).toContain(join(copy, 'prebuilds', `linux-${process.arch}`));
    expect(error.hint).toContain('EXEC_TRACER_PREBUILD=/dir');
    expect(error.hint).toContain('npm ci && npm run build:native');
    expect(error.hint).not.toMatch(/npm rebuild/);
  });

  it('loads the addon EXEC_TRACER_PREBUILD names, and says so when that directory has none', async () => {
    const empty = join(copy, 'empty');
    mkdirSync(empty, { recursive: true });
    const error = await startWithoutAddon({ EXEC_TRACER_PREBUILD: empty });
    expect(error.code).toBe('ENOADDON');
    expect(error.message).toContain(`(EXEC_TRACER_PREBUILD=${empty})`);
  });
});

describe("ENOADDON's words", () => {
  const source = { version: '1.2.3', repository: 'https://example.org/exec-tracer.git' };
  const linux = (facts: Partial<HostFacts>): HostFacts => ({ platform: 'linux', arch: 'x64', glibc: '2.36', ...facts });
  const text = (facts: HostFacts) => describeNoAddon(facts, source, 'looked in /pkg/prebuilds/linux-x64', 'No native build was found');

  it('names the platform, CPU and C library, and keeps the loader\'s own reason', () => {
    const { message } = text(linux({ arch: 'arm64', glibc: '2.31' }));
    expect(message).toMatch(/^no native addon loads on linux-arm64, glibc 2\.31 \(looked in \/pkg\/prebuilds\/linux-x64\): /);
    expect(message).toMatch(/: No native build was found$/);
  });

  it('sets the glibc the prebuilds need against the one found', () => {
    expect(PREBUILD_GLIBC).toBe('2.28');
    expect(text(linux({ glibc: '2.17' })).message).toContain('the prebuilds need glibc ≥ 2.28, and this is glibc 2.17');
    expect(text(linux({ glibc: '2.9' })).message).toContain('and this is glibc 2.9'); // 2.9 < 2.28: numbers, not strings
    expect(text(linux({ glibc: '2.36' })).message).toContain('the prebuild for linux-x64 (glibc ≥ 2.28; found 2.36) did not load');
  });

  it('says when the CPU has no prebuild', () => {
    expect(text(linux({ arch: 'riscv64' })).message).toContain('there is no prebuild for linux-riscv64 (the package has linux-x64 and linux-arm64)');
  });

  it('gives both ways on, the source build as exact commands from a git clone of this version', () => {
    const { hint } = text(linux({}));
    expect(hint).toContain('EXEC_TRACER_PREBUILD=/dir');
    expect(hint).toContain(
      'git clone --branch v1.2.3 https://example.org/exec-tracer.git exec-tracer && cd exec-tracer && ' +
        'sudo bash scripts/setup-debian.sh --build-only && npm ci && npm run build:native, then EXEC_TRACER_PREBUILD=$PWD/build/Release',
    );
    expect(hint).not.toMatch(/npm rebuild/);
  });

  it('tells musl systems that Alpine is not supported yet', () => {
    const { message, hint } = text(linux({ glibc: undefined }));
    expect(message).toContain('on linux-x64, musl (no glibc)');
    expect(hint).toMatch(/^Alpine and other musl systems are not supported yet/);
  });

  it('names the permissions Deno has not granted, not a rebuild', () => {
    const { message, hint } = text(linux({ denoMissing: ['ffi', 'env'] }));
    expect(message).toMatch(/^no native addon loads under Deno without --allow-ffi --allow-env: /);
    expect(hint).toContain('Deno has not granted --allow-ffi --allow-env; run with deno run --allow-read --allow-ffi --allow-run --allow-env');
    expect(hint).not.toMatch(/npm|EXEC_TRACER_PREBUILD/);
    // Granted all: Deno is then like any other runtime.
    expect(text(linux({ denoMissing: [] })).hint).toContain('EXEC_TRACER_PREBUILD=/dir');
  });

  it('outside Linux, says exec tracing needs Linux', () => {
    expect(text({ platform: 'darwin', arch: 'arm64', glibc: undefined }).hint).toMatch(/^exec tracing needs Linux/);
  });

  it('reads glibc from the process report here, and no Deno', () => {
    const facts = hostFacts();
    expect(facts.glibc).toMatch(/^2\.\d+$/);
    expect(facts.denoMissing).toBeUndefined();
  });
});
