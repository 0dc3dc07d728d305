// SPDX-License-Identifier: MIT
//
// The documentation's block extractor (test/helpers/doc-blocks.ts): which
// fences are code, where each starts, and what its fence says.
import { describe, expect, it } from 'vitest';
import { docBlocks } from '../helpers/doc-blocks.js';

describe('docBlocks', () => {
  it('finds the code blocks of every language it runs, with the line of their first line', () => {
    const markdown = [
      '# Title', //                       1
      '```sh', //                         2
      'npm test', //                      3
      '```', //                           4
      '- in a list:', //                  5
      '  ```ts fragment', //              6
      '  tracer.on("exec", (e) => {', //  7
      '    console.log(e.pid);', //       8
      '  });', //                         9
      '  ```', //                         10
      '~~~~mjs until-killed exec=curl', // 11
      '```', //                           12
      '~~~~', //                          13
      '```', //                           14
      'plain output', //                  15
      '```', //                           16
      '```JavaScript', //                 17
      '```', //                           18
    ].join('\n');
    expect(docBlocks(markdown, 'docs/x.md')).toEqual([
      {
        file: 'docs/x.md',
        line: 7,
        extension: '.ts',
        kind: 'fragment',
        exec: 'true',
        code: 'tracer.on("exec", (e) => {\n  console.log(e.pid);\n});\n',
      },
      { file: 'docs/x.md', line: 12, extension: '.mjs', kind: 'until-killed', exec: 'curl', code: '```\n' },
      { file: 'docs/x.md', line: 18, extension: '.js', kind: 'program', exec: 'true', code: '\n' },
    ]);
  });

  it('rejects a word in a fence it does not know, naming the fence', () => {
    expect(() => docBlocks('text\n```ts fragmnet\nx;\n```\n', 'README.md')).toThrow(
      "README.md:2: unknown word 'fragmnet' in a code fence",
    );
    expect(() => docBlocks('```ts fragment exec=curl\nx;\n```\n', 'README.md')).toThrow(
      'README.md:1: exec= applies to until-killed blocks only',
    );
  });
});
