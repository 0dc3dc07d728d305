// SPDX-License-Identifier: MIT
//
// The built addon carries libbpf inside: a machine without libbpf installed
// can load it, and libbpf's symbols do not leak into the process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root } from '../helpers/process.js';

const addon = join(root, 'build', 'Release', 'exec_tracer.node');

it('links no libbpf dynamically and exports none of its symbols', () => {
  const dynamic = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  expect(needed.length).toBeGreaterThan(0);
  expect(needed.filter((lib) => /bpf/.test(lib!))).toEqual([]);

  const exported = execFileSync('nm', ['-D', '--defined-only', addon], { encoding: 'utf8' });
  expect(exported).not.toMatch(/\bbpf_object__open/);
  expect(exported).toMatch(/\bnapi_register_module_v1\b/);
});

it('is importable by name from ESM and CommonJS, with its types', async () => {
  // Self-reference resolves 'exec-tracer' through package.json exports, as a
  // dependent package would; CommonJS gets the ESM build through require(esm).
  const probe = (code: string, type: string) =>
    execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();
  expect(
    probe(`const m = require('exec-tracer'); console.log(typeof m.ExecTracer, typeof m.ExecTracerError)`, 'commonjs'),
  ).toBe('function function');
  expect(
    probe(`import { ExecTracer, ExecTracerError } from 'exec-tracer'; console.log(typeof ExecTracer, typeof ExecTracerError)`, 'module'),
  ).toBe('function function');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: { '.': { types: string } } };
  expect(existsSync(join(root, manifest.exports['.'].types))).toBe(true);
});

it('needs no glibc newer than 2.28, so the prebuild runs on older distributions', () => {
  // 2.28 comes from fcntl64 (libbpf is built with 64-bit file offsets);
  // std::call_once once raised it to 2.34 through pthread_once.
  const symbols = execFileSync('objdump', ['-T', addon], { encoding: 'utf8' });
  const versions = [...new Set([...symbols.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2])))];
  expect(Math.max(...versions)).toBeLessThanOrEqual(2028);
});
