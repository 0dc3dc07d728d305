// SPDX-License-Identifier: MIT
//
// The code blocks of the README and docs/, so that a test can type-check and
// run them: the documentation cannot promise an API that does not work.
//
// The convention, in a block's fence info string (after the language, where
// GitHub still highlights the block and shows none of it):
//
//   ```ts                  a complete program: type-checked, then run as root
//                          against the real kernel; it must exit 0 by itself
//   ```ts until-killed     a complete program that traces until Ctrl-C: run,
//                          it must print (stdout) the argv of a command the
//                          test runs while it traces, then end on SIGINT
//   ```ts until-killed exec=curl
//                          the same, for a program that prints only some
//                          commands: the test's command is named `curl`
//   ```ts fragment         part of a program: type-checked only, with every
//                          export of 'exec-tracer' and a `tracer` and an
//                          `event` in scope (test/helpers/doc-typecheck.ts)
//
// Languages: ts, typescript, js, javascript, mjs, cjs (JavaScript is checked
// with checkJs). Other blocks (sh, json, plain output) are not code to run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What a block's info string says the test may do with it. */
export type DocBlockKind = 'program' | 'until-killed' | 'fragment';

export interface DocBlock {
  /** The Markdown file, relative to the repository (`README.md`, `docs/api.md`). */
  file: string;
  /** 1-based line of the block's first line of code (the one after the fence). */
  line: number;
  /** The file extension the block is compiled and run as. */
  extension: '.ts' | '.js' | '.mjs' | '.cjs';
  kind: DocBlockKind;
  /** For `until-killed`: the name of the command the test runs while it traces (`exec=NAME`; default `true`). */
  exec: string;
  /** The code, its indentation inside a list item removed. */
  code: string;
}

const EXTENSIONS: Record<string, DocBlock['extension']> = {
  ts: '.ts',
  typescript: '.ts',
  js: '.js',
  javascript: '.js',
  mjs: '.mjs',
  cjs: '.cjs',
};

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/** The code blocks of one Markdown text; `file` names it in the blocks. */
export function docBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [indent, fence, info] = [open[1]!, open[2]!, open[3]!];
    // A backtick fence's info string may not hold a backtick (CommonMark).
    if (fence[0] === '`' && info.includes('`')) continue;
    const closing = new RegExp(`^ *${fence[0]}{${fence.length},} *$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j]!); j++) {
      const text = lines[j]!;
      const strip = Math.min(indent.length, text.length - text.trimStart().length);
      body.push(text.slice(strip));
    }
    const [language = '', ...words] = info.trim().split(/\s+/);
    const extension = EXTENSIONS[language.toLowerCase()];
    if (extension !== undefined)
      blocks.push({ file, line: i + 2, extension, ...attributes(words, `${file}:${i + 1}`), code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

/** The kind and `exec=` of a fence's words after the language; an unknown word is an error, not a program. */
function attributes(words: string[], where: string): { kind: DocBlockKind; exec: string } {
  let kind: DocBlockKind = 'program';
  let exec = 'true';
  for (const word of words) {
    if (word === 'fragment' || word === 'until-killed') kind = word;
    else if (/^exec=[\w.-]+$/.test(word)) exec = word.slice('exec='.length);
    else throw new Error(`${where}: unknown word '${word}' in a code fence (known: fragment, until-killed, exec=NAME)`);
  }
  if (exec !== 'true' && kind !== 'until-killed') throw new Error(`${where}: exec= applies to until-killed blocks only`);
  return { kind, exec };
}

/** Every code block of README.md and docs/**\/*.md under `root` (docs/ may not exist). */
export function repositoryDocBlocks(root: string): DocBlock[] {
  const docs = join(root, 'docs');
  const files = [
    join(root, 'README.md'),
    ...(existsSync(docs)
      ? readdirSync(docs, { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.md'))
          .sort()
          .map((f) => join(docs, f))
      : []),
  ];
  return files.flatMap((path) => docBlocks(readFileSync(path, 'utf8'), relative(root, path)));
}

/** `README.md:10`: where a block's code starts. */
export function blockName(block: DocBlock): string {
  return `${block.file}:${block.line}`;
}

/** A file name for a block's code, unique among the blocks. */
export function blockFileName(block: DocBlock): string {
  return `${block.file.replaceAll('/', '__')}-L${block.line}${block.extension}`;
}
