// SPDX-License-Identifier: MIT
//
// Process names and arguments are chosen by whoever runs the process: an
// attacker can put ANSI escapes or newlines in them to rewrite a terminal or
// forge log lines. Everything printed goes through here.

const HEX = (code: number) => `\\x${code.toString(16).padStart(2, '0')}`;
const NAMED: Record<number, string> = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x5c: '\\\\' };

/**
 * Code points shown as `\u{…}`: bidi controls (they reorder what follows on
 * the line: "Trojan Source", CVE-2021-42574), line and paragraph separators
 * (some terminals and log viewers break lines on them), lone surrogates
 * (they cannot be written as UTF-8) and U+FFFD (what invalid UTF-8 decoded to).
 */
function isInvisibleTrouble(code: number): boolean {
  return (
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x061c ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0xd800 && code <= 0xdfff) ||
    code === 0xfffd
  );
}

/**
 * Escapes a string for a terminal: C0 and C1 control characters (ESC among
 * them), DEL and backslash become `\xNN`-style escapes, bidi controls, line
 * separators, lone surrogates and U+FFFD become `\u{…}`; everything else
 * stays as it is.
 */
export function escapeForTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (NAMED[code] !== undefined) out += NAMED[code];
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += HEX(code);
    else if (isInvisibleTrouble(code)) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return out;
}

/**
 * Escapes raw bytes for a terminal: valid UTF-8 as escapeForTerminal does,
 * each invalid byte as `\xNN`, so nothing is lost or hidden.
 */
export function escapeBytesForTerminal(bytes: Uint8Array): string {
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!decoded.includes('\ufffd')) return escapeForTerminal(decoded);
  // Slow path: each sequence decoded strictly on its own; a byte that
  // starts no valid sequence is shown as \xNN.
  const strict = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len > 0 && i + len <= bytes.length) {
      try {
        out += escapeForTerminal(strict.decode(bytes.subarray(i, i + len)));
        i += len;
        continue;
      } catch {
        // not a valid sequence: fall through to the byte escape
      }
    }
    out += HEX(b);
    i += 1;
  }
  return out;
}

/**
 * One command-line argument for a terminal: escaped (escapeForTerminal, or
 * escapeBytesForTerminal for raw bytes), then in single quotes when it is
 * empty or holds whitespace or a quote (a quote inside as `\'`), so `a b`
 * reads apart from `a` `b` and an empty argument stays visible.
 */
export function escapeArgForTerminal(arg: string | Uint8Array): string {
  const text = typeof arg === 'string' ? escapeForTerminal(arg) : escapeBytesForTerminal(arg);
  return text === '' || /[\s'"]/u.test(text) ? `'${text.replaceAll("'", "\\'")}'` : text;
}
