// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { escapeArgForTerminal, escapeBytesForTerminal, escapeForTerminal } from '../../lib/index.js';

describe('escapeForTerminal', () => {
  it('leaves ordinary text alone, including non-ASCII', () => {
    expect(escapeForTerminal('ls -la /tmp/été 🚀')).toBe('ls -la /tmp/été 🚀');
  });

  it('makes escapes, newlines, controls, DEL, C1 and bidi overrides visible', () => {
    expect(escapeForTerminal('\x1b[2J\x1b]0;pwned\x07')).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeForTerminal('a\nb\rc\td\\e')).toBe('a\\nb\\rc\\td\\\\e');
    expect(escapeForTerminal('\x00\x7f\u009b')).toBe('\\x00\\x7f\\x9b');
    expect(escapeForTerminal('abc\u202edcba')).toBe('abc\\u{202e}dcba');
    expect(escapeForTerminal('\u2067x\u2069\u200f\u061c')).toBe('\\u{2067}x\\u{2069}\\u{200f}\\u{61c}');
    expect(escapeForTerminal('a\u2028b\u2029')).toBe('a\\u{2028}b\\u{2029}');
  });

  it('shows lone surrogates and U+FFFD instead of writing them', () => {
    expect(escapeForTerminal('x\ud800y\udfff')).toBe('x\\u{d800}y\\u{dfff}');
    expect(escapeForTerminal('bad \ufffd')).toBe('bad \\u{fffd}');
  });

  it('shows each invalid byte as \\xNN', () => {
    expect(escapeBytesForTerminal(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xc3, 0x1b]))).toBe('a\\xffé\\xc3\\x1b');
    expect(escapeBytesForTerminal(Buffer.from('plain\n'))).toBe('plain\\n');
  });
});

describe('escapeArgForTerminal', () => {
  it('quotes an argument only when it would read ambiguously', () => {
    expect(escapeArgForTerminal('plain')).toBe('plain');
    expect(escapeArgForTerminal('')).toBe("''");
    expect(escapeArgForTerminal('a b')).toBe("'a b'");
    expect(escapeArgForTerminal("it's")).toBe("'it\\'s'");
    expect(escapeArgForTerminal('say "hi"')).toBe(`'say "hi"'`);
  });

  it('escapes first, so an escaped control character needs no quotes', () => {
    expect(escapeArgForTerminal('a\tb')).toBe('a\\tb');
    expect(escapeArgForTerminal('\x1b[2J x')).toBe("'\\x1b[2J x'");
  });

  it('takes raw bytes, showing a byte that is not UTF-8 as \\xNN', () => {
    expect(escapeArgForTerminal(Buffer.from([0x61, 0x20, 0xff]))).toBe("'a \\xff'");
    expect(escapeArgForTerminal(Buffer.from('plain'))).toBe('plain');
  });
});
