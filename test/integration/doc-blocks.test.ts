// SPDX-License-Identifier: MIT
//
// The README's (and docs/'s) code: every block type-checks, and every
// complete program runs, as root against the real kernel. The fence info
// string says which is which (test/helpers/doc-blocks.ts).
//
// Not a *.kernel.test.ts: the kernel matrix (test/kernels/) need not run it.
// What the blocks call is tested on every kernel by the other suites, and
// under the matrix's emulated CPUs each block's process would cost tsx's
// ~10 s start. Here it runs on the host, under the same skip rule.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockName, docBlocks, repositoryDocBlocks, type DocBlock } from '../helpers/doc-blocks.js';
import { packageExports, typecheckBlocks, writeBlocks, type WrittenBlock } from '../helpers/doc-typecheck.js';
import { kernel, root, run, uniqueTag } from './kernel.js';

/** How long a program may take to exit by itself, or to print the exec it was shown (ms). */
const LIMIT_MS = 30_000;

const blocks = repositoryDocBlocks(root);
const dir = join(root, 'build', 'doc-blocks');

/**
 * Checked in the same program as the documentation's blocks, to show that
 * a block that does not compile fails the test and is named by its own line.
 */
const canaries = docBlocks(
  [
    '```ts',
    "import { ExecTracer } from 'exec-tracer';",
    'new ExecTracer({ notAnOption: 1 });',
    '```',
    '```ts fragment',
    "tracer.on('exec', (e) => e.notAField);",
    '```',
    '```ts fragment',
    "import { setTimeout as sleep } from 'node:timers/promises';",
    'await sleep(1);',
    'const tracer = new ExecTracer();',
    '```',
    '```js fragment',
    'await tracer.stop(event.pid);',
    '```',
  ].join('\n'),
  'canary.md',
);

let written: WrittenBlock[];
beforeAll(() => {
  written = writeBlocks([...blocks, ...canaries], dir, packageExports(root));
});

describe('the documentation’s code blocks', () => {
  it('are found, and some are programs', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0);
    expect(blocks.some((b) => b.kind !== 'fragment')).toBe(true);
  });

  it('type-check (strict, as tsconfig.json says; fragments in their context)', () => {
    const errors = typecheckBlocks(root, written);
    const [canaryErrors, documentErrors] = [
      errors.filter((e) => e.startsWith('canary.md:')),
      errors.filter((e) => !e.startsWith('canary.md:')),
    ];
    expect(documentErrors.join('\n')).toBe('');
    expect(canaryErrors).toEqual([
      expect.stringMatching(/^canary\.md:3:18 error TS2353: .*'notAnOption'/),
      expect.stringMatching(/^canary\.md:6:28 error TS2339: Property 'notAField' does not exist on type 'ExecEvent'/),
      // A fragment that imports has only its imports (and tracer, event) in scope.
      expect.stringMatching(/^canary\.md:11:20 error TS2304: Cannot find name 'ExecTracer'/),
      expect.stringMatching(/^canary\.md:14:19 error TS2554: Expected 0 arguments, but got 1/),
    ]);
  });
});

/** Node's arguments that run a written block: through tsx, which maps 'exec-tracer' as tsconfig.json does. */
function nodeArgs(block: DocBlock): string[] {
  const file = written.find((w) => w.block === block);
  if (!file) throw new Error(`${blockName(block)} was not written`);
  return ['--import', 'tsx', file.path];
}

describe.skipIf(!kernel)('the documentation’s programs, run as root', () => {
  for (const block of blocks.filter((b) => b.kind === 'program')) {
    it(`${blockName(block)} exits 0 by itself`, async () => {
      const result = await run(process.execPath, nodeArgs(block), { cwd: root, timeout: LIMIT_MS, killSignal: 'SIGKILL' });
      expect(result.code, `${blockName(block)} did not exit 0 within ${LIMIT_MS / 1000} s; stderr:\n${result.stderr}`).toBe(0);
    });
  }

  for (const block of blocks.filter((b) => b.kind === 'until-killed')) {
    it(`${blockName(block)} prints an exec it traces (a command named ${block.exec}), and ends on SIGINT`, async () => {
      const child = spawn(process.execPath, nodeArgs(block), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const exited = new Promise<NonNullable<typeof ended>>((resolve) =>
        child.once('exit', (code, signal) => resolve((ended = { code, signal }))),
      );
      // The command is /bin/true under the name the block watches for: the
      // kernel names a task after the last component of the path it execs.
      const commands = mkdtempSync(join(tmpdir(), 'exec-tracer-doc-'));
      const command = join(commands, block.exec);
      symlinkSync('/bin/true', command);
      const tag = uniqueTag('doc');
      try {
        // Until it prints the command: it traces from start(), which the
        // program does not announce.
        const deadline = Date.now() + LIMIT_MS;
        while (!stdout.includes(tag) && ended === undefined && Date.now() < deadline) {
          await run(command, [tag]);
          await new Promise((r) => setTimeout(r, 100));
        }
        const seen = `${blockName(block)}; stdout:\n${stdout}\nstderr:\n${stderr}`;
        expect(ended, `ended before SIGINT: ${seen}`).toBeUndefined();
        expect(stdout, `did not print '${command} ${tag}' within ${LIMIT_MS / 1000} s: ${seen}`).toContain(`${command} ${tag}`);
        child.kill('SIGINT');
        // Without a SIGINT handler Node ends by the signal, as on Ctrl-C.
        const end = await exited;
        expect(end.code === 0 || end.signal === 'SIGINT', `ended with ${JSON.stringify(end)} on SIGINT: ${seen}`).toBe(true);
      } finally {
        if (ended === undefined) child.kill('SIGKILL');
        rmSync(commands, { recursive: true, force: true });
      }
    });
  }
});
