// SPDX-License-Identifier: MIT
//
// The syslog sink's wire format, pure functions only: an event as one
// RFC 5424 message (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`,
// MSG the event's OpenTelemetry record as JSON), cut to a byte limit, and
// framed by RFC 6587 octet counting (`LEN SP MSG`). No sockets here, so
// every byte is unit-tested.
import { otelEventName, toOtelRecord, type OtelRecord, type OtelValue, type TracerEvent } from '../otel/attributes.js';

/** RFC 5424's facility names and numbers (section 6.2.1), as syslog.conf and rsyslog name them. */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, ntp: 12, security: 13, console: 14, 'solaris-cron': 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

/** A facility by name. */
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/**
 * The default facility: `authpriv`. An exec's argv and environment can hold
 * secrets, and the usual receiving configurations (Debian's rsyslog,
 * syslog-ng) file authpriv in a log only root and the adm group read
 * (/var/log/auth.log), away from the world-readable ones; security tools
 * (sshd, sudo, auditd's syslog plugin when so set) log there too.
 */
export const DEFAULT_FACILITY: SyslogFacility = 'authpriv';

/** Informational: exec, exit and fork events. */
export const SEVERITY_INFO = 6;
/** Notice: failed execs, the ones worth a look (a probe of paths, a missing binary, EACCES). */
export const SEVERITY_NOTICE = 5;

/** The default APP-NAME. */
export const DEFAULT_APP_NAME = 'exec-tracer';

/** rsyslog's default maximum message size (`global(maxMessageSize)`), bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 8096;

/** The flag set when `process.command_args` (exec) / `exec_tracer.exec.args` (failed exec) lost arguments (or the end of one) to the size limit. */
export const ARGV_TRUNCATED = 'exec_tracer.argv.truncated';
/** The flag set when environment variables were left out to fit the size limit. */
export const ENV_TRUNCATED = 'exec_tracer.env.truncated';
/**
 * The flag set when even without argv and environment the message was too
 * big, and other strings were cut (longest first), or as a last resort
 * attributes left out.
 */
export const ATTRIBUTES_TRUNCATED = 'exec_tracer.attributes.truncated';

const ARGV_KEYS = ['process.command_args', 'exec_tracer.exec.args'];
const ENV_PREFIX = 'process.environment_variable.';
/** Kept when attributes have to be left out: what identifies the process. */
const CORE_KEYS = new Set(['process.pid', ATTRIBUTES_TRUNCATED, ARGV_TRUNCATED, ENV_TRUNCATED]);

/** RFC 5424 header fields are PRINTUSASCII (33..126): anything else becomes `_`, the empty field `-`. */
export function headerField(value: string, maxLength: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

/** The fixed parts of every message a sink sends. */
export interface HeaderParts {
  /** Facility number, 0..23. */
  facility: number;
  /** HOSTNAME (RFC 5424: at most 255 characters). */
  hostname: string;
  /** APP-NAME (at most 48). */
  appName: string;
  /** PROCID (at most 128). */
  procId: string;
}

/** The `<PRI>` of an event: facility * 8 + its severity. */
export function priority(facility: number, event: TracerEvent): number {
  return facility * 8 + (event.kind === 'execFailed' ? SEVERITY_NOTICE : SEVERITY_INFO);
}

/** RFC 5424 TIMESTAMP with microseconds (its limit: TIME-SECFRAC is 1*6DIGIT) from the record's 9-digit one. */
export function syslogTimestamp(otelTimestamp: string): string {
  // 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ' → 'YYYY-MM-DDTHH:MM:SS.uuuuuuZ'
  if (otelTimestamp.length === 30 && otelTimestamp[19] === '.' && otelTimestamp[29] === 'Z') return `${otelTimestamp.slice(0, 26)}Z`;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(otelTimestamp);
  if (!m) return '-';
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}${m[3]}`;
}

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - ` (the space before MSG included). */
export function syslogHeader(parts: HeaderParts, pri: number, timestamp: string, msgId: string): string {
  return `<${pri}>1 ${timestamp} ${parts.hostname} ${parts.appName} ${parts.procId} ${msgId} - `;
}

/**
 * The longest a header can be with these parts: PRI 3 digits, a timestamp
 * with an offset, the longest MSGID. Used to check at construction that
 * `maxMessageBytes` leaves room for a message.
 */
export function maxHeaderBytes(parts: HeaderParts): number {
  return Buffer.byteLength(syslogHeader(parts, 191, '2026-12-07T00:12:03.123456+14:00', 'x'.repeat(32)));
}

/** The smallest MSG the cutting can always reach: the record's frame, the pid and the flags. */
export const MIN_MSG_BYTES = Buffer.byteLength(
  JSON.stringify({
    timestamp: '2026-12-07T00:12:03.123456789Z',
    eventName: 'exec_tracer.process.exec_failed',
    attributes: { 'process.pid': 4_194_304, [ARGV_TRUNCATED]: false, [ENV_TRUNCATED]: false, [ATTRIBUTES_TRUNCATED]: true },
  }),
);

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * The longest prefix of S whose JSON string (quotes and escapes included)
 * takes at most MAXBYTES as UTF-8, cut between code points (never inside a
 * surrogate pair, so never inside a UTF-8 sequence). '' when not even `""` fits.
 */
export function cutString(s: string, maxBytes: number): string {
  if (jsonBytes(s) <= maxBytes) return s;
  // A length that would end inside a surrogate pair ends before it instead:
  // then the size of the prefix grows with the length (a lone surrogate
  // would be written as a 6-byte escape, more than the pair's 4 bytes).
  const end = (n: number) => {
    const code = s.charCodeAt(n - 1);
    return n > 0 && n < s.length && code >= 0xd800 && code <= 0xdbff ? n - 1 : n;
  };
  let lo = 0;
  let hi = s.length;
  // Invariant: the prefix ending at end(lo) fits, the one at end(hi) does not.
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (jsonBytes(s.slice(0, end(mid))) <= maxBytes) lo = mid;
    else hi = mid;
  }
  return s.slice(0, end(lo));
}

/**
 * The record as JSON in at most MAXBYTES (UTF-8), cutting in this order:
 * 1. arguments, from the last back (the one that straddles the limit is cut
 *    short), with `exec_tracer.argv.truncated: true`;
 * 2. environment variables, from the last back, with
 *    `exec_tracer.env.truncated: true`;
 * 3. the longest remaining strings (a huge path), one at a time, then, if
 *    need be, every attribute but `process.pid` and the flags, with
 *    `exec_tracer.attributes.truncated: true`.
 * A record that fits is returned as `JSON.stringify(record)`. Throws only if
 * MAXBYTES is below MIN_MSG_BYTES (the sink checks that at construction).
 */
export function fitRecord(record: OtelRecord, maxBytes: number): string {
  const whole = JSON.stringify(record);
  // At most 3 bytes of UTF-8 per UTF-16 unit: most records are known to fit without counting.
  if (whole.length * 3 <= maxBytes || Buffer.byteLength(whole) <= maxBytes) return whole;
  if (maxBytes < MIN_MSG_BYTES) throw new RangeError(`a record cannot be cut below ${MIN_MSG_BYTES} bytes, got ${maxBytes}`);

  const attrs = record.attributes;
  const argvKey = ARGV_KEYS.find((k) => Array.isArray(attrs[k]));
  const argv = argvKey === undefined ? [] : (attrs[argvKey] as string[]);
  const envKeys = Object.keys(attrs).filter((k) => k.startsWith(ENV_PREFIX));
  const hasEnv = envKeys.length > 0;

  // The record with no arguments and no environment, the flags already
  // `true`. A flag that ends up keeping its original value is at most one
  // byte longer ("false"): those bytes are kept in reserve.
  const bare: Record<string, OtelValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (!k.startsWith(ENV_PREFIX)) bare[k] = v;
  if (argvKey !== undefined) {
    bare[argvKey] = [];
    bare[ARGV_TRUNCATED] = true;
  }
  if (hasEnv) bare[ENV_TRUNCATED] = true;
  const reserve = (argvKey !== undefined ? 1 : 0) + (hasEnv ? 1 : 0);
  let room = maxBytes - reserve - jsonBytes({ ...record, attributes: bare });
  if (room < 0) return fitOthers({ ...record, attributes: bare }, maxBytes);

  // 1. Arguments in order while they fit; the first that does not is cut.
  const kept: string[] = [];
  let argvCut = false;
  for (const arg of argv) {
    const comma = kept.length > 0 ? 1 : 0;
    const size = jsonBytes(arg) + comma;
    if (size <= room) {
      kept.push(arg);
      room -= size;
      continue;
    }
    argvCut = true;
    if (room - comma >= 2) {
      const part = cutString(arg, room - comma);
      kept.push(part);
      room -= jsonBytes(part) + comma;
    }
    break;
  }
  // 2. Environment variables in order while they fit.
  const env: Record<string, string> = {};
  let envCut = false;
  for (const k of envKeys) {
    const size = jsonBytes(k) + 1 + jsonBytes(attrs[k]) + 1; // "k":"v",
    if (size > room) {
      envCut = true;
      break;
    }
    env[k] = attrs[k] as string;
    room -= size;
  }
  const out: Record<string, OtelValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (!k.startsWith(ENV_PREFIX) && k !== ARGV_TRUNCATED && k !== ENV_TRUNCATED) out[k] = v;
  if (argvKey !== undefined) {
    out[argvKey] = kept;
    out[ARGV_TRUNCATED] = argvCut || attrs[ARGV_TRUNCATED] === true;
  } else if (ARGV_TRUNCATED in attrs) out[ARGV_TRUNCATED] = attrs[ARGV_TRUNCATED]!;
  Object.assign(out, env);
  if (hasEnv) out[ENV_TRUNCATED] = envCut || attrs[ENV_TRUNCATED] === true;
  else if (ENV_TRUNCATED in attrs) out[ENV_TRUNCATED] = attrs[ENV_TRUNCATED]!;
  const result = JSON.stringify({ ...record, attributes: out });
  // The arithmetic above is exact but for the reserve; this is the proof.
  return Buffer.byteLength(result) <= maxBytes ? result : fitOthers({ ...record, attributes: bare }, maxBytes);
}

/** Step 3 of fitRecord: a record already without argv and environment. */
function fitOthers(record: OtelRecord, maxBytes: number): string {
  const attrs: Record<string, OtelValue> = { ...record.attributes, [ATTRIBUTES_TRUNCATED]: true };
  const candidate = { ...record, attributes: attrs };
  let size = jsonBytes(candidate);
  // The longest string first, cut by what is over (plus a little for escapes), until it fits.
  while (size > maxBytes) {
    let longestKey: string | undefined;
    let longestIndex = -1;
    let longest = 0;
    for (const [k, v] of Object.entries(attrs)) {
      if (typeof v === 'string' && v.length > longest) [longestKey, longestIndex, longest] = [k, -1, v.length];
      else if (Array.isArray(v))
        v.forEach((s, i) => {
          if (s.length > longest) [longestKey, longestIndex, longest] = [k, i, s.length];
        });
    }
    if (longestKey === undefined) break;
    const value = longestIndex < 0 ? (attrs[longestKey] as string) : (attrs[longestKey] as string[])[longestIndex]!;
    const cut = cutString(value, Math.max(2, jsonBytes(value) - (size - maxBytes)));
    if (longestIndex < 0) attrs[longestKey] = cut;
    else attrs[longestKey] = (attrs[longestKey] as string[]).map((s, i) => (i === longestIndex ? cut : s));
    size = jsonBytes(candidate);
  }
  // Only names and numbers left and still too big: leave attributes out, biggest first.
  const bySize = Object.keys(attrs)
    .filter((k) => !CORE_KEYS.has(k))
    .sort((a, b) => jsonBytes({ [b]: attrs[b] }) - jsonBytes({ [a]: attrs[a] }));
  for (const k of bySize) {
    if (size <= maxBytes) break;
    delete attrs[k];
    size = jsonBytes(candidate);
  }
  return JSON.stringify(candidate);
}

/**
 * One event as an RFC 5424 message in at most MAXMESSAGEBYTES (header
 * included), and its length in bytes.
 */
export function formatMessage(event: TracerEvent, parts: HeaderParts, maxMessageBytes: number): { message: string; bytes: number } {
  const record = toOtelRecord(event);
  const header = syslogHeader(parts, priority(parts.facility, event), syslogTimestamp(record.timestamp), otelEventName(event));
  const headerBytes = header.length; // PRINTUSASCII only: one byte per character
  const msg = fitRecord(record, maxMessageBytes - headerBytes);
  const message = header + msg;
  return { message, bytes: headerBytes + Buffer.byteLength(msg) };
}

/** RFC 6587 octet-counted framing: `LEN SP SYSLOG-MSG`. */
export function frame(message: string, bytes: number): string {
  return `${bytes} ${message}`;
}
