// SPDX-License-Identifier: MIT
//
// Type-checks the documentation's code blocks (test/helpers/doc-blocks.ts)
// with the repository's TypeScript and tsconfig.json: strict, 'exec-tracer'
// mapped to lib/index.ts, JavaScript blocks with checkJs. All blocks are one
// program, so @types/node and lib/ are read once.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { blockFileName, blockName, type DocBlock } from './doc-blocks.js';

/** A block written out as the file that tsc checks and node runs. */
export interface WrittenBlock {
  block: DocBlock;
  path: string;
  /** Lines of fragment context before the block's first line in the file. */
  offset: number;
}

/** The names lib/index.ts exports, read from its export declarations. */
export function packageExports(root: string): { values: string[]; types: string[] } {
  const path = join(root, 'lib', 'index.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const values: string[] = [];
  const types: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    if (!statement.exportClause || !ts.isNamedExports(statement.exportClause))
      throw new Error(`${path}: 'export *' is not understood here: list the names, or teach packageExports()`);
    for (const element of statement.exportClause.elements)
      (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
  }
  return { values, types };
}

/**
 * A fragment as the file it is checked as. It sits inside a block statement
 * (so it may declare its own `tracer`, and `await` at its top level), after
 * declarations of `tracer` (an `ExecTracer`) and `event` (an `ExecEvent`)
 * and, unless it imports something itself, an import of every export of
 * 'exec-tracer'. Its own leading imports stay before the block, on their own
 * lines, so its lines keep their numbers.
 */
function fragmentFile(block: DocBlock, exports: { values: string[]; types: string[] }): { text: string; offset: number } {
  const javascript = block.extension !== '.ts';
  const context = javascript
    ? [
        '/** @type {import("exec-tracer").ExecTracer} */ const tracer = /** @type {any} */ (undefined);',
        '/** @type {import("exec-tracer").ExecEvent} */ const event = /** @type {any} */ (undefined);',
      ]
    : ["declare const tracer: import('exec-tracer').ExecTracer;", "declare const event: import('exec-tracer').ExecEvent;"];
  const source = ts.createSourceFile(`fragment${block.extension}`, block.code, ts.ScriptTarget.Latest);
  const isImport = (s: ts.Statement) =>
    ts.isImportDeclaration(s) ||
    ts.isImportEqualsDeclaration(s) ||
    (ts.isVariableStatement(s) && /\brequire\(/.test(s.getText(source)));
  let imports = 0;
  while (imports < source.statements.length && isImport(source.statements[imports]!)) imports++;
  if (imports === 0) {
    const names = javascript ? exports.values : [...exports.values, ...exports.types.map((t) => `type ${t}`)];
    context.push(
      block.extension === '.cjs'
        ? `const { ${names.join(', ')} } = require('exec-tracer');`
        : `import { ${names.join(', ')} } from 'exec-tracer';`,
      '{',
    );
    return { text: `${context.join('\n')}\n${block.code}}\n`, offset: context.length };
  }
  const at = source.statements[imports - 1]!.end;
  return {
    text: `${context.join('\n')}\n${block.code.slice(0, at)} {${block.code.slice(at)}}\n`,
    offset: context.length,
  };
}

/** Writes every block into `dir` (emptied first) as the file it is checked and run as. */
export function writeBlocks(blocks: DocBlock[], dir: string, exports: { values: string[]; types: string[] }): WrittenBlock[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return blocks.map((block) => {
    const path = join(dir, blockFileName(block));
    const { text, offset } = block.kind === 'fragment' ? fragmentFile(block, exports) : { text: block.code, offset: 0 };
    writeFileSync(path, text);
    return { block, path, offset };
  });
}

/**
 * tsc's complaints about the written blocks, one per line as
 * `README.md:14:7 error TS2339: …` (the Markdown file and line); none when
 * every block compiles.
 */
export function typecheckBlocks(root: string, written: WrittenBlock[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.json could not be read');
  const options = { ...config.options, allowJs: true, checkJs: true, noEmit: true };
  const program = ts.createProgram(
    written.map((w) => w.path),
    options,
  );
  const found: string[] = [];
  const say = (where: string, d: ts.Diagnostic) =>
    found.push(`${where} error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  for (const d of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) say('tsconfig.json:', d);
  for (const w of written) {
    const file = program.getSourceFile(w.path);
    if (!file) throw new Error(`${blockName(w.block)}: tsc did not read ${w.path}`);
    for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const { line, character } = file.getLineAndCharacterOfPosition(d.start ?? 0);
      const codeLine = line - w.offset;
      const inCode = codeLine >= 0 && codeLine < w.block.code.split('\n').length - 1;
      say(
        inCode
          ? `${w.block.file}:${w.block.line + codeLine}:${character + 1}`
          : `${blockName(w.block)} (in the fragment's context, line ${line + 1} of ${w.path})`,
        d,
      );
    }
  }
  return found;
}
