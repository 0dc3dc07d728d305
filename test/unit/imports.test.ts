// SPDX-License-Identifier: MIT
//
// The shape of the sources, read as text: no import cycles (type-only ones
// included) in lib/ and types/; lib/records/clock.ts a leaf; the command in
// cli/ a consumer of the public API only, like examples/; nothing in the
// library importing the command. A regex over the import statements is
// enough for sources that tsc already checks, and needs no build.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/process.js';

/** `import … from 'x'`, `export … from 'x'`, `import 'x'` and `import('x')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** The .ts files below DIR (relative to the repository), recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** What FILE imports: relative imports as repository paths (.js -> .ts), others as written. */
function importsOf(file: string, text = readFileSync(join(root, file), 'utf8')): string[] {
  // Comments may name modules too: only code counts.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(SPECIFIER)].map(([, specifier]) =>
    specifier!.startsWith('.')
      ? relative(root, resolve(root, dirname(file), specifier!)).replace(/\.js$/, '.ts')
      : specifier!,
  );
}

/** Every cycle in GRAPH (file -> the files it imports), each once, as the path that closes it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return found;
}

function graphOf(files: string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]));
}

describe('the import graph', () => {
  const library = [...sources('lib'), ...sources('types')];

  it('has no cycle in lib/ and types/, type-only imports included', () => {
    expect(library).toContain('lib/tracer.ts');
    expect(cycles(graphOf(library))).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(importsOf('lib/records/x.ts', "import type { Clock } from './clock.js';\nexport { y } from '../y.js';")).toEqual([
      'lib/records/clock.ts',
      'lib/y.ts',
    ]);
  });

  it('keeps lib/records/clock.ts a leaf: it imports nothing of lib/', () => {
    expect(importsOf('lib/records/clock.ts').filter((i) => i.startsWith('lib/'))).toEqual([]);
  });

  it('keeps the command a consumer: cli/ imports the library by its name only, and the library never imports cli/', () => {
    const cli = sources('cli');
    expect(cli).toContain('cli/main.ts');
    for (const file of cli) {
      const outside = importsOf(file).filter((i) => i.startsWith('lib/') || i.startsWith('types/') || i.startsWith('..'));
      expect(outside, file).toEqual([]);
    }
    for (const file of library) expect(importsOf(file).filter((i) => i.startsWith('cli/')), file).toEqual([]);
  });

  it('keeps the main entry free of the sinks and metrics, and the library free of @opentelemetry and prom-client (optional peers)', () => {
    // 'exec-tracer' must load with no @opentelemetry package installed, and
    // exec-tracer/otel's .d.ts must type-check without them: the sinks take
    // the user's provider and declare the shapes they use themselves.
    const reached = new Set<string>();
    const next = ['lib/index.ts'];
    while (next.length > 0) {
      const file = next.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      next.push(...importsOf(file).filter((i) => library.includes(i)));
    }
    expect(reached.has('lib/tracer.ts')).toBe(true);
    expect([...reached].filter((f) => f.startsWith('lib/sinks/') || f.startsWith('lib/metrics/'))).toEqual([]);
    expect(library).toContain('lib/sinks/otel.ts');
    expect(library).toContain('lib/metrics/index.ts');
    // prom-client is an optional peer too: exec-tracer/metrics registers objects of its shape.
    for (const file of library)
      expect(importsOf(file).filter((i) => i.startsWith('@opentelemetry/') || i === 'prom-client'), file).toEqual([]);
  });

  it('has the examples import the library by its name only', () => {
    for (const file of sources('examples'))
      expect(importsOf(file).filter((i) => !i.startsWith('node:') && i !== 'exec-tracer'), file).toEqual([]);
  });
});
