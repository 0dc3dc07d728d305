// SPDX-License-Identifier: MIT
//
// A reader of the YAML subset that examples/deploy/ and docs/agent.md write
// (no YAML parser is among the project's dependencies, and one is not added
// for a test): documents split by `---`, block mappings and sequences by
// indentation, `- key: value` items, flow sequences and mappings (`["BPF"]`,
// `{ name: btf, readOnly: true }`), plain, single- and double-quoted
// scalars, `#` comments. Anything else (anchors, tags, block scalars, tabs)
// is an error naming the line, never a silent misreading.

/** A parsed YAML value. */
export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  n: number;
  indent: number;
  text: string;
}

/** The documents of TEXT. */
export function parseYamlDocuments(text: string): Yaml[] {
  const docs: Line[][] = [[]];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.includes('\t')) throw new Error(`yaml line ${i + 1}: a tab`);
    const text = stripComment(raw, i + 1).trimEnd();
    if (text.trim() === '') continue;
    if (text === '---') {
      docs.push([]);
      continue;
    }
    if (/^\s*[&*!|>%]/.test(text) || /:\s+[&*!|>]/.test(text)) throw new Error(`yaml line ${i + 1}: not in the subset read here: ${raw}`);
    docs.at(-1)!.push({ n: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  }
  return docs.filter((d) => d.length > 0).map((lines) => {
    const [value, next] = block(lines, 0, lines[0]!.indent);
    if (next !== lines.length) throw new Error(`yaml line ${lines[next]!.n}: unexpected indentation`);
    return value;
  });
}

/** The one document of TEXT. */
export function parseYaml(text: string): Yaml {
  const docs = parseYamlDocuments(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0]!;
}

/** RAW without its comment (a # at the start or after a space, outside quotes). */
function stripComment(raw: string, n: number): string {
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) return raw.slice(0, i);
  }
  if (quote) throw new Error(`yaml line ${n}: an unclosed quote`);
  return raw;
}

/** The block starting at LINES[I], all of whose lines are indented INDENT: its value and the index after it. */
function block(lines: Line[], i: number, indent: number): [Yaml, number] {
  return lines[i]!.text.startsWith('- ') || lines[i]!.text === '-' ? sequence(lines, i, indent) : mapping(lines, i, indent);
}

function sequence(lines: Line[], i: number, indent: number): [Yaml[], number] {
  const items: Yaml[] = [];
  while (i < lines.length && lines[i]!.indent === indent && (lines[i]!.text.startsWith('- ') || lines[i]!.text === '-')) {
    const rest = lines[i]!.text.slice(1).trimStart();
    if (rest === '') {
      const [value, next] = nested(lines, i + 1, indent);
      items.push(value);
      i = next;
    } else if (keyOf(rest) !== undefined) {
      // `- key: value`: a mapping whose lines are indented where `key` starts.
      const at = indent + (lines[i]!.text.length - rest.length);
      const inner = [{ ...lines[i]!, indent: at, text: rest }, ...lines.slice(i + 1)];
      const [value, next] = mapping(inner, 0, at);
      items.push(value);
      i += next;
    } else {
      items.push(scalarOrFlow(rest, lines[i]!.n));
      i++;
    }
  }
  return [items, i];
}

function mapping(lines: Line[], i: number, indent: number): [{ [key: string]: Yaml }, number] {
  const map: { [key: string]: Yaml } = {};
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const key = keyOf(line.text);
    if (key === undefined) throw new Error(`yaml line ${line.n}: expected key: value, got ${line.text}`);
    if (key in map) throw new Error(`yaml line ${line.n}: ${key} given twice`);
    const rest = line.text.slice(key.length + 1).trim();
    if (rest !== '') {
      map[key] = scalarOrFlow(rest, line.n);
      i++;
    } else if (i + 1 < lines.length && lines[i + 1]!.indent === indent && lines[i + 1]!.text.startsWith('- ')) {
      // A sequence may sit at its key's indentation.
      [map[key], i] = sequence(lines, i + 1, indent);
    } else {
      [map[key], i] = nested(lines, i + 1, indent);
    }
  }
  return [map, i];
}

/** The block under a `key:` or `-` (indented deeper than INDENT); null if there is none. */
function nested(lines: Line[], i: number, indent: number): [Yaml, number] {
  if (i >= lines.length || lines[i]!.indent <= indent) return [null, i];
  return block(lines, i, lines[i]!.indent);
}

/** The key of a `key: value` or `key:` line, or undefined. */
function keyOf(text: string): string | undefined {
  const match = /^([A-Za-z0-9_./-]+):(\s|$)/.exec(text);
  return match?.[1];
}

function scalarOrFlow(text: string, n: number): Yaml {
  if (text.startsWith('[') || text.startsWith('{')) {
    const [value, end] = flow(text, 0, n);
    if (text.slice(end).trim() !== '') throw new Error(`yaml line ${n}: text after a flow collection: ${text}`);
    return value;
  }
  return scalar(text, n);
}

/** A flow collection or scalar starting at TEXT[I] (spaces skipped): its value and the index after it. */
function flow(text: string, i: number, n: number): [Yaml, number] {
  while (text[i] === ' ') i++;
  const open = text[i];
  if (open === '[' || open === '{') {
    const close = open === '[' ? ']' : '}';
    const list: Yaml[] = [];
    const map: { [key: string]: Yaml } = {};
    i++;
    for (;;) {
      while (text[i] === ' ') i++;
      if (text[i] === close) return [open === '[' ? list : map, i + 1];
      if (open === '{') {
        const key = /^([A-Za-z0-9_./-]+):\s/.exec(text.slice(i));
        if (!key) throw new Error(`yaml line ${n}: expected key: in ${text}`);
        if (key[1]! in map) throw new Error(`yaml line ${n}: ${key[1]} given twice`);
        const [value, next] = flow(text, i + key[0].length, n);
        map[key[1]!] = value;
        i = next;
      } else {
        const [value, next] = flow(text, i, n);
        list.push(value);
        i = next;
      }
      while (text[i] === ' ') i++;
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw new Error(`yaml line ${n}: expected , or ${close} in ${text}`);
    }
  }
  // A scalar inside a flow collection ends at , ] or } (outside quotes).
  let end = i;
  if (text[i] === '"' || text[i] === "'") {
    end = text.indexOf(text[i]!, i + 1) + 1;
    if (end === 0) throw new Error(`yaml line ${n}: an unclosed quote`);
  } else {
    while (end < text.length && !',]}'.includes(text[end]!)) end++;
  }
  return [scalar(text.slice(i, end).trim(), n), end];
}

function scalar(text: string, n: number): Yaml {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`yaml line ${n}: a bad quoted string: ${text}`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/[[\]{},]|: /.test(text)) throw new Error(`yaml line ${n}: not a plain scalar: ${text}`);
  return text;
}
