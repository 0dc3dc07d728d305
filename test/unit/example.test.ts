// SPDX-License-Identifier: MIT
//
// The example's command line and line format, in process: the module only
// traces when it is the program, so importing it here starts nothing.
import { describe, expect, it } from 'vitest';
import { formatExec, parseCommandLine } from '../../examples/print-execs.js';
import { decodeBatch } from '../../lib/records/decode.js';
import { encodeExecRecord } from '../helpers/mock-binding.js';

const event = (fields: Parameters<typeof encodeExecRecord>[0]) =>
  decodeBatch(encodeExecRecord(fields), { epochOffsetNs: 0n }).events[0]!;

describe('print-execs line format', () => {
  it("prints the seed's line: comm and pid", () => {
    expect(formatExec(event({ comm: 'ls', pid: 377673, argv: ['ls', '-l'] }), false)).toBe(
      '🚀 Process started: ls (PID 377673)',
    );
  });

  it('adds the arguments with --args, quoting empty ones and ones with spaces', () => {
    const e = event({ comm: 'sh', pid: 7, argv: ['/bin/sh', '-c', 'echo hi', '', "it's"] });
    expect(formatExec(e, true)).toBe(`🚀 Process started: sh (PID 7) /bin/sh -c 'echo hi' '' 'it\\'s'`);
  });

  it('never writes escapes, newlines or invalid UTF-8 raw', () => {
    const e = event({
      comm: 'x\x1b[31my',
      argv: ['/bin/echo', 'a\nb', Buffer.from([0x66, 0xff, 0x1b, 0x5d])],
    });
    const line = formatExec(e, true);
    expect(line).toBe('🚀 Process started: x\\x1b[31my (PID 4242) /bin/echo a\\nb f\\xff\\x1b]');
    expect(line).not.toMatch(/[\x00-\x1f\x7f]/);
  });

  it('marks a truncated argv', () => {
    const e = event({ argv: ['/bin/true', 'abcdef'], argvLimit: 13 });
    expect(formatExec(e, true)).toBe('🚀 Process started: true (PID 4242) /bin/true abc …');
  });

  it('quotes what would otherwise be ambiguous', () => {
    const e = event({ comm: 'echo', argv: ['/bin/echo', '', 'a b', 'plain'] });
    expect(formatExec(e, true)).toBe("🚀 Process started: echo (PID 4242) /bin/echo '' 'a b' plain");
  });
});

describe('print-execs command line', () => {
  it('defaults to running until a signal, without arguments', () => {
    expect(parseCommandLine([])).toEqual({ help: false, args: false });
  });

  it('takes --duration in seconds, --args and --help', () => {
    expect(parseCommandLine(['--duration', '1.5', '--args'])).toEqual({ help: false, args: true, durationMs: 1500 });
    expect(parseCommandLine(['-h']).help).toBe(true);
  });

  it.each([
    [['--duration', 'soon'], '--duration takes a positive number of seconds, got "soon"'],
    [['--duration', '0'], '--duration takes a positive number of seconds, got "0"'],
    [['--duration', ''], '--duration takes a positive number of seconds, got ""'],
    [['--verbose'], /Unknown option '--verbose'/],
    [['ls'], /Unexpected argument 'ls'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
