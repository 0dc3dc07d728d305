// SPDX-License-Identifier: MIT
//
// The built addon carries libbpf, libelf and zlib inside: a machine without
// them installed can load it, and their symbols do not leak into the process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ALLOWED_NEEDED, beyondFloor, elfDemands } from '../helpers/elf.js';
import { root } from '../helpers/process.js';

const addon = join(root, 'build', 'Release', 'exec_tracer.node');

it('links only the C and C++ runtimes dynamically and exports none of the embedded libraries', () => {
  const { needed } = elfDemands(addon);
  expect(needed.length).toBeGreaterThan(0);
  expect(needed.filter((lib) => !ALLOWED_NEEDED.test(lib))).toEqual([]);

  const exported = execFileSync('nm', ['-D', '--defined-only', addon], { encoding: 'utf8' });
  for (const symbol of ['bpf_object__open', 'elf_begin', 'gelf_getshdr', 'inflate', 'deflate', 'crc32']) {
    expect(exported).not.toMatch(new RegExp(`\\b${symbol}\\b`));
  }
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

it('needs no glibc newer than 2.28 and no libstdc++ newer than GCC 8, so the prebuild runs on older distributions', () => {
  // 2.28 comes from fcntl64 (libbpf is built with 64-bit file offsets).
  // std::call_once once raised it to 2.34 through pthread_once, libelf's
  // fstat to 2.33, and a std::exception_ptr CXXABI to GCC 11's 1.3.13.
  const demands = elfDemands(addon);
  expect(demands.highest.GLIBC).toBeDefined();
  expect(beyondFloor(demands)).toEqual([]);
});
