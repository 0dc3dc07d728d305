// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTIONS, ExecTracer, type ExecEvent, type ExecFailedEvent } from '../../lib/index.js';
import { Redactor } from '../../lib/redact.js';
import { encodeExecFailedRecord, encodeExecRecord, MockBinding } from '../helpers/mock-binding.js';

const defaults = new Redactor(DEFAULT_REDACTIONS);

describe('Redactor', () => {
  it.each([
    ['--password=hunter2', '--password=***'],
    ['--db-password:hunter2', '--db-password:***'],
    ['-token=abc', '-token=***'],
    ['--api-key=K', '--api-key=***'],
    ['-phunter2', '-p***'],
    ['Authorization: Bearer eyJhbGci', 'Authorization: ***'],
    ['https://deploy:s3cret@git.example.com/x.git', 'https://deploy:***@git.example.com/x.git'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG', 'AWS_SECRET_ACCESS_KEY=***'],
    ['GITHUB_TOKEN=ghp_x', 'GITHUB_TOKEN=***'],
    ['key=AKIAIOSFODNN7EXAMPLE,x', 'key=***,x'],
  ])('redacts %j', (input, output) => {
    expect(defaults.text(input)).toBe(output);
  });

  it.each(['ls', '-l', '/etc/passwd', '--verbose', 'https://git.example.com/x.git', 'PATH=/usr/bin', '-p'])(
    'leaves %j alone',
    (input) => {
      expect(defaults.text(input)).toBe(input);
    },
  );

  it('redacts bytes that are not UTF-8 without losing the others, and returns the same Buffer when nothing matched', () => {
    const raw = Buffer.concat([Buffer.from('--password='), Buffer.from([0xff, 0x41])]);
    expect(defaults.bytes(raw)).toEqual(Buffer.from('--password=***'));
    const plain = Buffer.from([0x66, 0xff]);
    expect(defaults.bytes(plain)).toBe(plain);
  });

  it('replaces every match, and leaves the caller’s RegExp state alone', () => {
    const mine = /secret(\d)/g;
    mine.lastIndex = 3;
    const r = new Redactor([mine]);
    expect(r.text('secret1 secret2')).toBe('secret*** secret***');
    expect(mine.lastIndex).toBe(3);
  });

  it('replaces where the first group matched, even when its text recurs later in the match', () => {
    // Found by its characters from the end, the group here would be the
    // second "ab", and the secret would show.
    expect(new Redactor([/token=(ab)ab/]).text('token=abab')).toBe('token=***ab');
    expect(new Redactor([/(x)?y/]).text('y xy')).toBe('*** ***y');
    expect(new Redactor([/key=(\w*)/d]).text('key= key=v')).toBe('*** key=***');
  });
});

describe('options.redact', () => {
  const secretExec = () =>
    encodeExecRecord({
      argv: ['mysql', '-phunter2', '--password=hunter2', Buffer.from([0x2d, 0x2d, 0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x3d, 0xff, 0x01])],
      env: ['PATH=/bin', 'DB_PASSWORD=hunter2'],
    });

  it('hides secrets in every field a listener can read, raw bytes and JSON included', async () => {
    const binding = new MockBinding();
    const tracer = new ExecTracer({ redact: true, env: true, failedExecs: true }, { binding });
    const seen: (ExecEvent | ExecFailedEvent)[] = [];
    tracer.on('exec', (e) => seen.push(e));
    tracer.on('execFailed', (e) => seen.push(e));
    await tracer.start();
    binding.current.push(secretExec(), encodeExecFailedRecord({ argv: ['/nope', '--password=hunter2'] }));
    const [exec, failed] = seen as [ExecEvent, ExecFailedEvent];
    expect(exec.argv).toEqual(['mysql', '-p***', '--password=***', '--token=***']);
    expect(exec.rawArgv.map((b) => b.toString('latin1'))).toEqual(['mysql', '-p***', '--password=***', '--token=***']);
    expect(exec.env).toEqual({ PATH: '/bin', DB_PASSWORD: '***' });
    expect(failed.argv).toEqual(['/nope', '--password=***']);
    for (const text of [JSON.stringify(exec), JSON.stringify(failed), ...exec.rawEnv.map(String), ...failed.rawArgv.map(String)])
      expect(text).not.toContain('hunter2');
    await tracer.stop();
  });

  it('is off by default, takes your own patterns, and refuses what is not a RegExp', async () => {
    const binding = new MockBinding();
    const plain = new ExecTracer({}, { binding });
    let argv: string[] = [];
    plain.on('exec', (e) => (argv = e.argv));
    await plain.start();
    binding.current.push(secretExec());
    expect(argv[2]).toBe('--password=hunter2');
    await plain.stop();

    const own = new ExecTracer({ redact: [/^-p(.+)$/, ...DEFAULT_REDACTIONS.slice(0, 0)] }, { binding });
    own.on('exec', (e) => (argv = e.argv));
    await own.start();
    binding.current.push(secretExec());
    expect(argv.slice(1, 3)).toEqual(['-p***', '--password=hunter2']);
    await own.stop();

    expect(() => new ExecTracer({ redact: ['--password'] as never }, { binding })).toThrow(
      'options.redact[0] must be a RegExp, got "--password"',
    );
    expect(() => new ExecTracer({ redact: 'yes' as never }, { binding })).toThrow(TypeError);
  });
});
