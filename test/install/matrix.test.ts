// SPDX-License-Identifier: MIT
//
// `npm run test:package-managers`: the packed package as each package
// manager installs it and each runtime runs it, on a bare machine (no
// compiler, no clang, no cmake, no apt-get on PATH: test/helpers/consumer.ts).
// Every install must pass with no warning about exec-tracer's scripts (it has
// none), and the installed package must trace a real exec through the API and
// through the `exec-tracer` bin. Managers and runtimes come from the npm
// registry, cached in deps/install-matrix/ (test/install/tools.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../helpers/command.js';
import { bareMachine, freshProject, packTarball, traceOnce } from '../helpers/consumer.js';
import { run } from '../helpers/process.js';
import { kernel, skipReason, uniqueTag } from '../integration/kernel.js';
import { tool } from './tools.js';

if (!kernel && process.env.CI === 'true') throw new Error(`the install matrix must run under CI=true: ${skipReason}`);
if (!kernel) console.warn(`[exec-tracer] skipping the install matrix: ${skipReason}`);

const work = mkdtempSync(join(tmpdir(), 'exec-tracer-matrix-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let tarball = '';
beforeAll(async () => {
  if (kernel) tarball = await packTarball(work, [process.arch]);
}, 300_000);

/** What a manager prints when it skips, blocks, gates or runs a dependency's build script. */
const SCRIPT_WARNING = /script|postinstall|ignored build|blocked|must be built|allowBuilds/i;

interface Manager {
  name: string;
  /** The manager's command: [npm spec, bin]. */
  tool: [string, string];
  /** The Node the manager runs on, if not this process's: [npm spec, bin]. */
  node?: [string, string];
  /** The arguments that add the tarball. */
  add: (tarball: string) => string[];
  /** Files the project starts with, besides package.json. */
  files?: Record<string, string>;
  /** yarn's PnP: no node_modules; programs run through `yarn node`, the bin through `yarn`. */
  pnp?: boolean;
}

const NPM_ADD = (tgz: string) => ['install', '--no-audit', '--no-fund', tgz];
const YARN_ENV = { YARN_ENABLE_TELEMETRY: '0', YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_ENABLE_GLOBAL_CACHE: 'true' };

const MANAGERS: Manager[] = [
  // npm 10 is the npm Node 20 and 22 bundle; npm 11 is Node 24's and 26's.
  { name: 'npm 10', tool: ['npm@10', 'npm'], add: NPM_ADD },
  { name: 'npm 11 --strict-allow-scripts', tool: ['npm@11', 'npm'], add: (tgz) => [...NPM_ADD(tgz), '--strict-allow-scripts'] },
  { name: 'npm 12', tool: ['npm@12', 'npm'], node: ['node@24', 'node'], add: NPM_ADD },
  { name: 'pnpm 10', tool: ['pnpm@10', 'pnpm'], add: (tgz) => ['add', tgz] },
  // The current pnpm, whose strictDepBuilds fails an install over any unapproved build script.
  { name: 'pnpm 12', tool: ['pnpm@12', 'pnpm'], node: ['node@24', 'node'], add: (tgz) => ['add', tgz] },
  { name: 'yarn 4, node-modules', tool: ['@yarnpkg/cli-dist@4', 'yarn'], add: (tgz) => ['add', tgz], files: { '.yarnrc.yml': 'nodeLinker: node-modules\n' } },
  { name: 'yarn 4, PnP', tool: ['@yarnpkg/cli-dist@4', 'yarn'], add: (tgz) => ['add', tgz], files: { '.yarnrc.yml': 'nodeLinker: pnp\n' }, pnp: true },
  { name: 'bun', tool: ['bun@1', 'bun'], add: (tgz) => ['add', tgz] },
];

/**
 * Runs the bin until it prints a JSON line for an exec tagged TAG (spawned
 * until seen), then stops it as Ctrl-C does, with SIGINT to its process group
 * (`yarn exec-tracer` does not pass a SIGINT of its own on); returns that event.
 */
async function traceThroughBin(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ comm: string; argv: string[] }> {
  const tag = uniqueTag('bin');
  const command = startCommand(file, [...args, '--json', '-l', tag], env, cwd, true);
  const timer = setInterval(() => spawn('/bin/echo', [tag], { stdio: 'ignore' }), 200);
  try {
    const line = await command.line((l) => l.includes(tag), 30_000);
    return JSON.parse(line) as { comm: string; argv: string[] };
  } finally {
    clearInterval(timer);
    if (command.proc.exitCode === null) process.kill(-command.proc.pid!, 'SIGINT');
    expect(await command.exited, command.stderr()).toEqual({ code: 0, signal: null });
  }
}

describe.skipIf(!kernel)('installed by', () => {
  for (const manager of MANAGERS) {
    it(`${manager.name}: installs with no script warning, and traces an exec through the API and the bin`, async () => {
      const dir = join(work, manager.name.replace(/\W+/g, '-'));
      const managerFile = await tool(...manager.tool);
      const node = manager.node === undefined ? process.execPath : await tool(...manager.node);
      const env = { ...bareMachine(dir, { [manager.tool[1]]: managerFile }, node), ...YARN_ENV };
      const project = freshProject(dir, 'consumer');
      for (const [name, text] of Object.entries(manager.files ?? {})) writeFileSync(join(project, name), text);

      const installed = await run(join(dir, 'bin', manager.tool[1]), manager.add(tarball), { cwd: project, env });
      const output = installed.stdout + installed.stderr;
      expect(installed.code, output).toBe(0);
      expect(output).not.toMatch(SCRIPT_WARNING);

      const tag = uniqueTag('api');
      writeFileSync(join(project, 'trace.mjs'), traceOnce(tag));
      const [file, args] = manager.pnp ? [join(dir, 'bin', 'yarn'), ['node', 'trace.mjs']] : [join(dir, 'bin', 'node'), ['trace.mjs']];
      const traced = await run(file, args, { cwd: project, env });
      expect(traced.stdout.trim(), traced.stderr).toBe('seen echo tp_btf');

      const bin = manager.pnp ? [join(dir, 'bin', 'yarn'), ['exec-tracer']] as const : [join(project, 'node_modules', '.bin', 'exec-tracer'), []] as const;
      const event = await traceThroughBin(bin[0], [...bin[1]], env, project);
      expect(event.comm).toBe('echo');
    }, 180_000);
  }
});

// One project, installed by npm, run by each runtime.
describe.skipIf(!kernel)('run by', () => {
  let project = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    const dir = join(work, 'runtimes');
    env = bareMachine(dir);
    project = freshProject(dir, 'consumer');
    execFileSync(process.execPath, [join(dirname(await tool('npm@10', 'npm')), 'npm-cli.js'), ...NPM_ADD(tarball)], { cwd: project, env });
  }, 120_000);

  for (const major of [20, 22, 24, 26]) {
    it(`Node ${major}: an ES module and a CommonJS program each trace an exec`, async () => {
      const node = await tool(`node@${major}`, 'node');
      expect(execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' })).toMatch(new RegExp(`^${major}\\.`));
      writeFileSync(join(project, `trace-${major}.mjs`), traceOnce(uniqueTag(`node${major}-esm`)));
      writeFileSync(join(project, `trace-${major}.cjs`), traceOnce(uniqueTag(`node${major}-cjs`), { commonjs: true }));
      for (const program of [`trace-${major}.mjs`, `trace-${major}.cjs`]) {
        const traced = await run(node, [program], { cwd: project, env });
        expect(traced.stdout.trim(), `${program}: ${traced.stderr}`).toBe('seen echo tp_btf');
      }
    }, 180_000);
  }

  it('Deno, with --allow-read --allow-ffi --allow-run --allow-env, traces an exec; without --allow-ffi it names that flag', async () => {
    const deno = await tool('deno@2', 'deno');
    writeFileSync(join(project, 'trace-deno.mjs'), traceOnce(uniqueTag('deno')));
    const traced = await run(deno, ['run', '--allow-read', '--allow-ffi', '--allow-run', '--allow-env', 'trace-deno.mjs'], { cwd: project, env });
    expect(traced.stdout.trim(), traced.stderr).toBe('seen echo tp_btf');

    writeFileSync(
      join(project, 'no-ffi.mjs'),
      `import { ExecTracer } from 'exec-tracer';
       try { await new ExecTracer().start(); console.log('started?!'); }
       catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`,
    );
    const refused = await run(deno, ['run', '--allow-read', '--allow-run', '--allow-env', 'no-ffi.mjs'], { cwd: project, env });
    const error = JSON.parse(refused.stdout.trim().split('\n').at(-1)!) as { code: string; message: string; hint: string };
    expect(error.code, refused.stderr).toBe('ENOADDON');
    expect(error.message).toContain('under Deno without --allow-ffi');
    expect(error.hint).not.toMatch(/npm rebuild/);
  }, 180_000);

  // Bun implements no uv_poll: until the pump stops needing it under Bun,
  // start() aborts the whole process (exit 134), and this fails.
  it('Bun traces an exec', async () => {
    const bun = await tool('bun@1', 'bun');
    writeFileSync(join(project, 'trace-bun.mjs'), traceOnce(uniqueTag('bun')));
    const traced = await run(bun, ['trace-bun.mjs'], { cwd: project, env });
    expect(traced.stdout.trim(), `exit ${traced.code}: ${traced.stderr}`).toBe('seen echo tp_btf');
  }, 180_000);
});
