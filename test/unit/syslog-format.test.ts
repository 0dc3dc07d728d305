// SPDX-License-Identifier: MIT
//
// The syslog sink's bytes: RFC 5424 header and PRI, RFC 6587 framing, the
// MSG (the event's OpenTelemetry record), cutting to maxMessageBytes at
// every boundary, and the options' typed errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toOtelRecord, type TracerEvent } from '../../lib/otel/attributes.js';
import { decodeBatch } from '../../lib/records/decode.js';
import {
  ARGV_TRUNCATED,
  ATTRIBUTES_TRUNCATED,
  ENV_TRUNCATED,
  cutString,
  fitRecord,
  formatMessage,
  frame,
  MIN_MSG_BYTES,
  syslogTimestamp,
  type HeaderParts,
} from '../../lib/sinks/syslog-format.js';
import { resolveSyslogOptions, SyslogError } from '../../lib/sinks/syslog-options.js';
import { encodeExecFailedRecord, encodeExecRecord, encodeExitRecord } from '../helpers/mock-binding.js';
import { root } from '../helpers/process.js';
import { rsyslogConf } from '../helpers/rsyslog.js';

const clock = { epochOffsetNs: 1_796_602_323_000_000_000n };
const parts: HeaderParts = { facility: 10, hostname: 'host-1', appName: 'exec-tracer', procId: '4242' };

function exec(fields: Parameters<typeof encodeExecRecord>[0] = {}): TracerEvent {
  return decodeBatch(encodeExecRecord({ pid: 1234, ppid: 1, bootNs: 123_456_789_123n, ...fields }), clock, {}).records[0]!;
}

/** The message's MSG parsed back. */
const msgOf = (message: string) =>
  JSON.parse(message.slice(message.indexOf(' - ') + 3)) as { timestamp: string; eventName: string; attributes: Record<string, unknown> };

const bytes = (s: string) => Buffer.byteLength(s);

describe('the RFC 5424 message', () => {
  it('has the header <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - and the record as MSG', () => {
    const event = exec({ argv: ['/bin/echo', 'hi'] });
    const { message, bytes: n } = formatMessage(event, parts, 8096);
    const record = toOtelRecord(event);
    // authpriv (10) * 8 + informational (6)
    expect(message).toBe(`<86>1 ${record.timestamp.slice(0, 26)}Z host-1 exec-tracer 4242 exec_tracer.process.exec - ${JSON.stringify(record)}`);
    expect(message).toMatch(/^<86>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z /);
    expect(n).toBe(bytes(message));
  });

  it('gives failed execs severity notice (5) and the others informational (6), under the facility given', () => {
    const failed = decodeBatch(encodeExecFailedRecord({ pid: 7, errno: 2 }), clock, {}).records[0]!;
    const exit = decodeBatch(encodeExitRecord({ pid: 7 }), clock, {}).records[0]!;
    expect(formatMessage(failed, parts, 8096).message).toMatch(/^<85>1 .* exec_tracer\.process\.exec_failed - \{/);
    expect(formatMessage(exit, parts, 8096).message).toMatch(/^<86>1 .* exec_tracer\.process\.exit - \{/);
    expect(formatMessage(exit, { ...parts, facility: 19 }, 8096).message).toMatch(/^<158>1 /);
    expect(formatMessage(exit, { ...parts, facility: 0 }, 8096).message).toMatch(/^<6>1 /);
  });

  it('cuts the record\'s nanoseconds to the microseconds RFC 5424 allows', () => {
    expect(syslogTimestamp('2026-12-07T00:12:03.123456789Z')).toBe('2026-12-07T00:12:03.123456Z');
    expect(syslogTimestamp('2026-12-07T00:12:03.1Z')).toBe('2026-12-07T00:12:03.100000Z');
    expect(syslogTimestamp('2026-12-07T00:12:03+01:00')).toBe('2026-12-07T00:12:03.000000+01:00');
    expect(syslogTimestamp('bogus')).toBe('-');
  });

  it('frames by octet count (RFC 6587), so newlines and multi-byte text survive', () => {
    const event = exec({ argv: ['printf', 'a\nb', '€😀'] });
    const { message, bytes: n } = formatMessage(event, parts, 8096);
    const framed = frame(message, n);
    const buf = Buffer.from(framed);
    const space = buf.indexOf(0x20);
    const len = Number(buf.subarray(0, space).toString());
    expect(len).toBe(buf.length - space - 1);
    expect(msgOf(buf.subarray(space + 1).toString()).attributes['process.command_args']).toEqual(['printf', 'a\nb', '€😀']);
  });
});

describe('cutting to maxMessageBytes', () => {
  /** An exec whose argv and environment are big; its whole message's size. */
  const big = exec({
    argv: ['/usr/bin/tool', ...Array.from({ length: 40 }, (_, i) => `arg-${i}-${'x€"\n😀'.repeat(i % 7)}`)],
    env: Array.from({ length: 20 }, (_, i) => `VAR_${i}=${'v€'.repeat(i * 3)}`),
  });
  const whole = formatMessage(big, parts, 1 << 20);

  it('leaves a message of exactly the limit alone, and cuts one byte more', () => {
    expect(formatMessage(big, parts, whole.bytes).message).toBe(whole.message);
    const cut = formatMessage(big, parts, whole.bytes - 1);
    expect(cut.bytes).toBeLessThanOrEqual(whole.bytes - 1);
    expect(cut.bytes).toBe(bytes(cut.message));
    const attrs = msgOf(cut.message).attributes;
    // The environment goes last-first; argv was whole.
    expect(attrs[ENV_TRUNCATED]).toBe(true);
    expect(attrs[ARGV_TRUNCATED]).toBe(false);
  });

  it('is at most the limit at every size, with argv a prefix of the real one and the flags right', () => {
    const argv = big.kind === 'exec' ? big.argv : [];
    const env = big.kind === 'exec' ? big.env : {};
    const header = whole.message.indexOf(' - ') + 3;
    for (let limit = whole.bytes; limit >= header + 300; limit -= 7) {
      const { message, bytes: n } = formatMessage(big, parts, limit);
      expect(n, `limit ${limit}`).toBeLessThanOrEqual(limit);
      expect(n).toBe(bytes(message));
      const attrs = msgOf(message).attributes;
      expect(attrs['process.pid']).toBe(1234);
      if (attrs[ATTRIBUTES_TRUNCATED] === true) {
        // Past argv and environment: those are gone, and said so.
        expect(attrs).toMatchObject({ [ARGV_TRUNCATED]: true, [ENV_TRUNCATED]: true });
        continue;
      }
      const kept = attrs['process.command_args'] as string[];
      kept.forEach((arg, i) => (i < kept.length - 1 ? expect(arg).toBe(argv[i]) : expect(argv[i]!.startsWith(arg)).toBe(true)));
      // No half code point: a cut lands between characters, never in a surrogate pair.
      expect(message).not.toMatch(/\ufffd|[\ud800-\udbff](?![\udc00-\udfff])/);
      const envKept = Object.keys(attrs).filter((k) => k.startsWith('process.environment_variable.'));
      for (const k of envKept) expect(attrs[k]).toBe(env[k.slice('process.environment_variable.'.length)]);
      expect(attrs[ENV_TRUNCATED]).toBe(envKept.length < Object.keys(env).length);
      expect(attrs[ARGV_TRUNCATED]).toBe(kept.length < argv.length || kept.at(-1) !== argv[kept.length - 1]);
      // Tight: a cut argument fills the room to within a character (6 bytes: \u0001) and the flags' reserve.
      if (kept.length > 0 && kept.at(-1) !== argv[kept.length - 1]) expect(limit - n, `limit ${limit}`).toBeLessThan(10);
    }
  });

  it('cuts a failed exec\'s exec_tracer.exec.args the same way', () => {
    const failed = decodeBatch(encodeExecFailedRecord({ pid: 7, errno: 2, argv: ['a'.repeat(2000), 'b'.repeat(2000)] }), clock, {}).records[0]!;
    const { message, bytes: n } = formatMessage(failed, parts, 1000);
    expect(n).toBeLessThanOrEqual(1000);
    const attrs = msgOf(message).attributes;
    expect(attrs[ARGV_TRUNCATED]).toBe(true);
    expect((attrs['exec_tracer.exec.args'] as string[])[0]).toMatch(/^a+$/);
  });

  it('cuts the longest other strings when even without argv and environment it is too big, and says so', () => {
    const event = exec({ filename: `/${'d/'.repeat(2000)}x`, exe: `/${'e/'.repeat(2000)}x`, argv: ['x'.repeat(100)] });
    for (const limit of [600, 1000, 4000]) {
      const { message, bytes: n } = formatMessage(event, parts, limit);
      expect(n).toBeLessThanOrEqual(limit);
      const attrs = msgOf(message).attributes;
      expect(attrs[ATTRIBUTES_TRUNCATED]).toBe(true);
      expect(attrs['process.pid']).toBe(1234);
    }
  });

  it('reaches the smallest record when it must, and refuses a limit below it', () => {
    const record = toOtelRecord(exec());
    const many = { ...record, attributes: { ...record.attributes, ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) } };
    const json = fitRecord(many, MIN_MSG_BYTES);
    expect(bytes(json)).toBeLessThanOrEqual(MIN_MSG_BYTES);
    expect(JSON.parse(json).attributes).toMatchObject({ 'process.pid': 1234, [ATTRIBUTES_TRUNCATED]: true });
    expect(() => fitRecord(many, MIN_MSG_BYTES - 1)).toThrow(RangeError);
  });

  it('cuts a string between code points, to the byte', () => {
    const s = 'ab€😀"\n\u0001z';
    for (let max = 0; max <= bytes(JSON.stringify(s)); max++) {
      const cut = cutString(s, max);
      expect(s.startsWith(cut)).toBe(true);
      expect(bytes(JSON.stringify(cut)) <= max || cut === '').toBe(true);
      // The longest such prefix: one more code point would not fit.
      const next = s.slice(0, cut.length + (s.codePointAt(cut.length)! > 0xffff ? 2 : 1));
      if (cut.length < s.length) expect(bytes(JSON.stringify(next))).toBeGreaterThan(max);
    }
  });
});

describe('the options', () => {
  const longHost = 'h'.repeat(255);
  const error = (options: Record<string, unknown>, hostname = 'host') => {
    try {
      resolveSyslogOptions(options as never, hostname);
    } catch (e) {
      expect(e).toBeInstanceOf(SyslogError);
      return e as SyslogError;
    }
    throw new Error('no error');
  };

  it('takes tcp:// and tls:// urls, with defaults', () => {
    expect(resolveSyslogOptions({ url: 'tcp://127.0.0.1:514' }, 'h')).toMatchObject({
      protocol: 'tcp', host: '127.0.0.1', port: 514, maxMessageBytes: 8096, maxQueue: 16_384,
      header: { facility: 10, hostname: 'h', appName: 'exec-tracer', procId: String(process.pid) },
    });
    expect(resolveSyslogOptions({ url: 'tls://[::1]:6514', facility: 'local3', appName: 'et' }, 'h')).toMatchObject({
      protocol: 'tls', host: '::1', port: 6514, header: { facility: 19, appName: 'et' },
    });
    expect(resolveSyslogOptions({ url: 'tcp://h:1', facility: 4 }, 'a b').header).toMatchObject({ facility: 4, hostname: 'a_b' });
  });

  it('refuses udp:// with a reason, and bad urls', () => {
    const udp = error({ url: 'udp://127.0.0.1:514' });
    expect(udp.code).toBe('EUDP');
    expect(udp.message).toMatch(/UDP is not offered[\s\S]*loses messages/);
    for (const url of ['127.0.0.1:514', 'tcp://host', 'tcp://host:0', 'tcp://host:70000', 'http://h:1', 'tcp://:514', 42])
      expect(error({ url }).code, String(url)).toBe('EURL');
  });

  it('refuses bad options with EOPTIONS naming them', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'tcp://h:1', ca: 'x' }, /options\.ca is for TLS/],
      [{ url: 'tls://h:1', cert: 'x' }, /options\.cert without options\.key/],
      [{ url: 'tls://h:1', key: 'x' }, /options\.key without options\.cert/],
      [{ url: 'tls://h:1', ca: 42 }, /options\.ca must be PEM/],
      [{ url: 'tcp://h:1', facility: 'mail2' }, /unknown facility "mail2"/],
      [{ url: 'tcp://h:1', facility: 24 }, /unknown facility 24/],
      [{ url: 'tcp://h:1', appName: 'two words' }, /appName/],
      [{ url: 'tcp://h:1', appName: 'x'.repeat(49) }, /appName/],
      [{ url: 'tcp://h:1', maxMessageBytes: 479 }, /maxMessageBytes must be an integer >= 480/],
      [{ url: 'tcp://h:1', maxMessageBytes: 500, longHost }, /cannot hold a message/],
      [{ url: 'tcp://h:1', maxQueue: 0 }, /maxQueue/],
      [{ url: 'tcp://h:1', maxQueue: 1.5 }, /maxQueue/],
    ];
    for (const [{ longHost: host, ...options }, message] of cases) {
      const e = error(options, host === undefined ? 'host' : longHost);
      expect(e.code, JSON.stringify(options)).toBe('EOPTIONS');
      expect(e.message).toMatch(message);
      expect(e.hint).not.toBe('');
    }
  });

  it('accepts the smallest maxMessageBytes it says it needs', () => {
    const e = error({ url: 'tcp://h:1', maxMessageBytes: 500 }, longHost);
    const needed = Number(/give at least (\d+)/.exec(e.message)![1]);
    expect(needed).toBeGreaterThan(500);
    const { header } = resolveSyslogOptions({ url: 'tcp://h:1', maxMessageBytes: needed }, longHost);
    // And it holds any event: a failed exec (the longest MSGID) with a huge path and argv.
    const failed = decodeBatch(encodeExecFailedRecord({ pid: 4_194_304, filename: `/${'p'.repeat(3000)}`, argv: ['a'.repeat(3000)] }), clock, {}).records[0]!;
    const { message, bytes: n } = formatMessage(failed, header, needed);
    expect(n).toBeLessThanOrEqual(needed);
    expect(msgOf(message).attributes['process.pid']).toBe(4_194_304);
    expect(() => resolveSyslogOptions({ url: 'tcp://h:1', maxMessageBytes: needed - 1 }, longHost)).toThrow(/cannot hold/);
  });
});

describe('docs/syslog.md', () => {
  it('shows the rsyslog configuration the integration tests run', () => {
    const doc = readFileSync(join(root, 'docs', 'syslog.md'), 'utf8');
    const conf = rsyslogConf({
      dir: '/var/spool/rsyslog', address: '0.0.0.0', tcpPort: 514, tlsPort: 6514, file: '/var/log/exec-tracer.log',
      tls: { caFile: '/etc/rsyslog.d/exec-tracer/ca.pem', certFile: '/etc/rsyslog.d/exec-tracer/cert.pem', keyFile: '/etc/rsyslog.d/exec-tracer/key.pem' },
    });
    expect(doc).toContain(`\`\`\`\n${conf}\`\`\``);
  });
});
