// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ARGS, parseCliArgs, UsageError } from '../../cli/args.js';
import { USAGE } from '../../cli/usage.js';
import { DEFAULT_REDACTIONS, Redactor } from '../../lib/redact.js';

describe('the command line', () => {
  it('defaults to execsnoop-like lines of everything', () => {
    expect(parseCliArgs([])).toEqual({
      help: false, time: false, timestamp: false, fails: false, quote: false, printUid: false,
      maxArgs: DEFAULT_MAX_ARGS, json: false, schema: 'exec-tracer', shutdownTimeoutMs: 5000, exits: false, tree: false, top: false, redact: false,
    });
  });

  it("takes execsnoop's short and long flags", () => {
    const s = parseCliArgs(['-T', '-t', '-x', '-u', '1000', '-n', '^cc', '-l', 'make', '-q', '-c', '/system.slice', '-U', '--max-args', '5']);
    expect(s).toMatchObject({ time: true, timestamp: true, fails: true, uids: [1000], quote: true, cgroups: ['/system.slice'], printUid: true, maxArgs: 5 });
    expect(s.name?.test('cc1')).toBe(true);
    expect(s.line?.source).toBe('make');
    expect(parseCliArgs(['--time', '--timestamp', '--fails', '--uid', '0', '--quote', '--print-uid'])).toMatchObject({
      time: true, timestamp: true, fails: true, uids: [0], quote: true, printUid: true,
    });
  });

  it('takes repeated or comma-separated lists', () => {
    expect(parseCliArgs(['-u', '1,2', '-u', '3']).uids).toEqual([1, 2, 3]);
    expect(parseCliArgs(['--descendants', '10', '--descendants', '20,30']).descendants).toEqual([10, 20, 30]);
    expect(parseCliArgs(['--env', 'PATH,HOME', '--env', 'CI']).env).toEqual(['PATH', 'HOME', 'CI']);
  });

  it('takes the flags beyond execsnoop', () => {
    expect(parseCliArgs(['--json', '--exits', '--container', 'abc123', '--duration', '2.5'])).toMatchObject({
      json: true, exits: true, container: 'abc123', durationMs: 2500,
    });
    expect(parseCliArgs(['--tree']).tree).toBe(true);
    expect(parseCliArgs(['--json', '--schema', 'otel']).schema).toBe('otel');
    expect(parseCliArgs(['--json', '--schema=exec-tracer']).schema).toBe('exec-tracer');
    expect(parseCliArgs(['--json', '--output', '/var/log/x.json']).output).toBe('/var/log/x.json');
    expect(parseCliArgs(['--shutdown-timeout', '0.5']).shutdownTimeoutMs).toBe(500);
    expect(parseCliArgs(['--top']).top).toBe(true);
  });

  it('takes -- CMD ARGS: everything after the first -- is the command, flags included', () => {
    expect(parseCliArgs(['--tree', '--', 'make', '-j4', '--', '-x']).command).toEqual(['make', '-j4', '--', '-x']);
    expect(parseCliArgs(['--json', '--', 'npm', 'ci'])).toMatchObject({ json: true, command: ['npm', 'ci'] });
    expect(parseCliArgs(['-x']).command).toBeUndefined();
  });

  it('takes --npm and --report FILE with -- CMD', () => {
    expect(parseCliArgs(['--npm', '--report', 'r.json', '--', 'npm', 'ci'])).toMatchObject({ npm: true, report: 'r.json', command: ['npm', 'ci'] });
    expect(parseCliArgs(['--npm', '--json', '--', 'npm', 'ci'])).toMatchObject({ npm: true, json: true });
    expect(parseCliArgs(['--', 'npm', 'ci']).npm).toBeUndefined();
  });

  it('takes --metrics [HOST:]PORT, on 127.0.0.1 unless a host is given, with any output', () => {
    expect(parseCliArgs(['--metrics', '9464']).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseCliArgs(['--metrics', '0.0.0.0:9464']).metrics).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseCliArgs(['--metrics=[::]:0']).metrics).toEqual({ host: '::', port: 0 });
    expect(parseCliArgs(['--metrics', 'node1.example:9100']).metrics).toEqual({ host: 'node1.example', port: 9100 });
    for (const output of ['--json', '--tree', '--top']) expect(parseCliArgs([output, '--metrics', '1']).metrics, output).toBeDefined();
    expect(parseCliArgs([]).metrics).toBeUndefined();
  });

  it('takes --syslog with its TLS files and facility, beside any output but --top', () => {
    expect(parseCliArgs(['--syslog', 'tcp://127.0.0.1:514']).syslog).toEqual({ url: 'tcp://127.0.0.1:514' });
    expect(
      parseCliArgs(['--syslog', 'tls://c:6514', '--syslog-ca', 'ca.pem', '--syslog-cert', 'c.pem', '--syslog-key', 'k.pem', '--syslog-facility', 'local3'])
        .syslog,
    ).toEqual({ url: 'tls://c:6514', caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem', facility: 'local3' });
    for (const output of [[], ['--json'], ['--tree'], ['--exits', '-x'], ['--descendants', '1', '-n', 'sh']])
      expect(parseCliArgs([...output, '--syslog', 'tcp://h:514']).syslog, output.join(' ')).toEqual({ url: 'tcp://h:514' });
    expect(parseCliArgs([])).not.toHaveProperty('syslog');
  });

  it('takes --redact with any output', () => {
    expect(parseCliArgs(['--redact']).redact).toBe(true);
    for (const output of ['--json', '--tree', '--top', '--exits'])
      expect(parseCliArgs([output, '--redact']), output).toMatchObject({ redact: true });
  });

  it.each([
    [['--bogus'], /bogus/],
    [['-u', 'root'], /-u\/--uid takes integers/],
    [['--uid=-1'], /integers between 0/],
    [['-n', '('], /-n\/--name: not a regular expression/],
    [['-l', '[a'], /-l\/--line: not a regular expression/],
    [['--max-args', '0'], /--max-args takes integers between 1/],
    [['--duration', 'soon'], /--duration takes a positive number/],
    [['--duration', '0'], /--duration/],
    [['--container', 'not-hex!'], /--container takes a container id/],
    [['--descendants', '0'], /--descendants takes integers between 1/],
    [['--env', 'A=B'], /--env takes variable names/],
    [['-c', ''], /-c\/--cgroup takes a cgroup v2 path/],
    [['stray'], /positional|stray/i],
    [['--json', '--tree'], /--json and --tree cannot be combined/],
    [['--top', '--json'], /--top and --json cannot be combined/],
    [['--top', '-T'], /--top is a screen of its own/],
    [['--schema', 'otel'], /--schema names the fields of --json lines: give --json too/],
    [['--output', ''], /--output takes a file name/],
    [['--shutdown-timeout=-1'], /--shutdown-timeout takes seconds between 0 and 3600, got "-1"/],
    [['--shutdown-timeout', 'soon'], /--shutdown-timeout takes seconds/],
    [['--top', '--output', 'x.json'], /--output does not apply/],
    [['--json', '--schema', 'ecs'], /--schema takes exec-tracer or otel, got "ecs"/],
    [['--syslog', 'udp://127.0.0.1:514'], /--syslog: udp:\/\/127\.0\.0\.1:514: syslog over UDP is not offered/],
    [['--syslog', 'collector:514'], /--syslog: not a syslog server url/],
    [['--syslog', 'tcp://collector'], /--syslog: not a syslog server url/],
    [['--syslog', 'tcp://h:514', '--syslog-ca', 'ca.pem'], /--syslog-ca is for TLS, and tcp:\/\/h:514 is plain TCP/],
    [['--syslog', 'tcp://h:514', '--syslog-cert', 'c.pem', '--syslog-key', 'k.pem'], /--syslog-cert is for TLS/],
    [['--syslog', 'tls://h:6514', '--syslog-cert', 'c.pem'], /--syslog-cert needs --syslog-key/],
    [['--syslog', 'tls://h:6514', '--syslog-key', 'k.pem'], /--syslog-key needs --syslog-cert/],
    [['--syslog', 'tls://h:6514', '--syslog-facility', 'nope'], /--syslog-facility takes one of kern, user, .*got "nope"/],
    [['--syslog-ca', 'ca.pem'], /--syslog-ca needs --syslog tcp:\/\/HOST:PORT or tls:\/\/HOST:PORT/],
    [['--syslog-facility', 'user'], /--syslog-facility needs --syslog/],
    [['--top', '--syslog', 'tcp://h:514'], /--top is a screen of its own: --syslog/],
    [['--metrics', '65536'], /--metrics takes \[HOST:\]PORT .*got "65536"/],
    [['--metrics', 'localhost'], /--metrics takes \[HOST:\]PORT/],
    [['--metrics', '::1:9464'], /--metrics takes \[HOST:\]PORT/],
    [['--metrics', ':9464'], /--metrics takes \[HOST:\]PORT/],
    [['--'], /-- takes the command to run/],
    [['--top', '--', 'ls'], /--top cannot be combined with -- CMD/],
    [['--descendants', '1', '--duration', '2', '--', 'ls'], /--descendants and --duration cannot be combined with -- CMD/],
    [['ls', '--', 'ls'], /positional|ls/i],
    [['--npm'], /--npm attributes one command's execs to package scripts: exec-tracer --npm -- npm ci/],
    [['--report', 'r.json', '--', 'npm', 'ci'], /--report writes the --npm report/],
    [['--npm', '--report', '', '--', 'npm', 'ci'], /--report takes a file name/],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('the --redact help', () => {
  // S in the help stands for a secret. Each example the help gives is
  // checked against DEFAULT_REDACTIONS (what --redact turns on), so the help
  // cannot go on promising or warning about what the defaults no longer do.
  const S = 'hunter2';
  const redactor = new Redactor(DEFAULT_REDACTIONS);
  const hidden = (argv: string[]) => argv.map((a) => redactor.text(a)).every((a) => !a.includes(S));

  it.each([
    ['--password=S', [`--password=${S}`]],
    ['--db-token=S', [`--db-token=${S}`]],
    ['-secret:S', [`-secret:${S}`]],
    ['mysql -pS', ['mysql', `-p${S}`]],
    ['Authorization:', [`Authorization: Bearer ${S}`]],
    ['Proxy-Authorization:', [`Proxy-Authorization: Basic ${S}`]],
    ['user:S@', [`https://user:${S}@example.com/`]],
    ['NAME=S', [`DB_PASSWORD=${S}`, `GITHUB_TOKEN=${S}`]],
  ])('says it hides %j, and it does', (text, argv) => {
    expect(USAGE).toContain(text);
    expect(hidden(argv)).toBe(true);
  });

  it('says it hides AWS access key ids anywhere, and it does', () => {
    expect(USAGE).toContain('AWS access key ids (AKIA…, ASIA…) anywhere');
    expect(redactor.text('--key AKIAIOSFODNN7EXAMPLE,x')).toBe('--key ***,x');
  });

  it('warns of a harmless -p… shown as -p***, as it is', () => {
    expect(USAGE).toContain('mkdir -pv shows as -p***');
    expect(redactor.text('-pv')).toBe('-p***');
  });

  it.each([
    ['--password S', ['--password', S]],
    ['mysql -p S', ['mysql', '-p', S]],
    ['curl -u user:S', ['curl', '-u', `user:${S}`]],
    ["sh -c 'mysql -pS'", ['sh', '-c', `mysql -p${S}`]],
  ])('says it misses %j, and it does', (text, argv) => {
    expect(USAGE).toContain(text);
    expect(hidden(argv)).toBe(false);
  });
});
