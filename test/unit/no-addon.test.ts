// SPDX-License-Identifier: MIT
//
// A copy of the package with no addon in it: importing must not throw (users
// on other platforms, or tools that only want the types), and start() must
// say what is missing.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { root, run } from '../helpers/process.js';

const copy = mkdtempSync(join(tmpdir(), 'exec-tracer-noaddon-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

it('imports without an addon and rejects start() with ENOADDON', async () => {
  for (const part of ['lib', 'types', 'package.json']) cpSync(join(root, part), join(copy, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const script = `
    const { ExecTracer } = await import('./lib/index.ts');
    console.log('imported');
    const tracer = new ExecTracer();
    try { await tracer.start(); console.log('started?!'); }
    catch (e) { console.log(e.code, e.operation, /npm rebuild/.test(e.hint)); }
  `;
  const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: copy });
  expect(result.stdout.trim().split('\n')).toEqual(['imported', 'ENOADDON addon true']);
});
