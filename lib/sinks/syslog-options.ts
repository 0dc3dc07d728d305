// SPDX-License-Identifier: MIT
//
// The syslog sink's options and errors: every option checked, with a typed
// error naming it, before a socket is opened.
import { hostname as osHostname } from 'node:os';
import {
  DEFAULT_APP_NAME,
  DEFAULT_FACILITY,
  DEFAULT_MAX_MESSAGE_BYTES,
  MIN_MSG_BYTES,
  SYSLOG_FACILITIES,
  headerField,
  maxHeaderBytes,
  type HeaderParts,
  type SyslogFacility,
} from './syslog-format.js';

/**
 * The `code` of a SyslogError:
 * - `'EURL'`: `url` is not `tcp://HOST:PORT` or `tls://HOST:PORT`.
 * - `'EUDP'`: `url` is `udp://…`, which the sink does not offer (see the message).
 * - `'EOPTIONS'`: another option is wrong (the message names it).
 * - `'ECONNECT'`: connecting to the server failed or the connection broke;
 *   the sink retries with backoff, queueing events meanwhile.
 * - `'ETLS'`: the server's certificate was refused (the message names the
 *   problem, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), or the TLS handshake
 *   failed; retried like ECONNECT.
 * - `'EDROPPED'`: the queue was full and events were dropped (counted in
 *   `stats().dropped`); emitted once each time the queue overflows.
 * - `'ECLOSED'`: `write()` after `close()`: the event was counted as dropped.
 */
export type SyslogErrorCode = 'EURL' | 'EUDP' | 'EOPTIONS' | 'ECONNECT' | 'ETLS' | 'EDROPPED' | 'ECLOSED';

/** Every failure of the syslog sink: a stable `code`, a `hint` that says what to do, and the server's `url` once known. */
export class SyslogError extends Error {
  /** What went wrong, stable across versions: branch on this, not on the message. */
  readonly code: SyslogErrorCode;
  /** What to do about it. */
  readonly hint: string;
  /** The server, as the `url` option gave it (absent for a bad url). */
  readonly url?: string;

  constructor(code: SyslogErrorCode, message: string, details: { hint: string; url?: string; cause?: unknown }) {
    super(`${message}\nhint: ${details.hint}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SyslogError';
    this.code = code;
    this.hint = details.hint;
    if (details.url !== undefined) this.url = details.url;
  }
}

/** PEM text or bytes, or several (a chain, several CAs). */
export type Pem = string | Buffer | (string | Buffer)[];

/** `new SyslogSink(options)`. */
export interface SyslogSinkOptions {
  /** The server: `tcp://HOST:PORT` or `tls://HOST:PORT` (IPv6 as `tls://[::1]:6514`). */
  url: string;
  /**
   * tls:// only: the CA certificate(s) the server's certificate must chain
   * to, PEM. Default: Node's bundled root CAs. The server is always
   * verified (its name or IP against the certificate too); there is no way
   * to turn that off.
   */
  ca?: Pem;
  /** tls:// only: a client certificate (PEM) for servers that ask for one; needs `key`. */
  cert?: Pem;
  /** tls:// only: the client certificate's private key (PEM); needs `cert`. */
  key?: Pem;
  /** The facility of every message, by name (`'local3'`) or number (0..23). Default `'authpriv'` (see docs/syslog.md). */
  facility?: SyslogFacility | number;
  /** APP-NAME of every message: 1..48 printable ASCII characters. Default `'exec-tracer'`. */
  appName?: string;
  /**
   * The largest message sent, header included, bytes (the frame's length
   * prefix is not counted). Bigger events have their argv and environment
   * cut to fit, with flags saying so; none is split or dropped for its size.
   * Default 8,096 (rsyslog's default `maxMessageSize`); at least 480 and
   * enough for the header.
   */
  maxMessageBytes?: number;
  /**
   * Events held while the server is slow or away (including those written
   * to the socket but not yet confirmed); past it, new events are dropped
   * and counted. Default 16,384.
   */
  maxQueue?: number;
  /** The longest wait between reconnection attempts, ms. Default 5,000 (the first is 100). */
  maxBackoffMs?: number;
}

export const DEFAULT_MAX_QUEUE = 16_384;
export const DEFAULT_MAX_BACKOFF_MS = 5_000;
/** RFC 5424 section 6.1: every receiver must accept messages of 480 octets. */
export const MIN_MAX_MESSAGE_BYTES = 480;

/** The options checked, with their defaults. */
export interface ResolvedSyslogOptions {
  url: string;
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  ca?: Pem;
  cert?: Pem;
  key?: Pem;
  header: HeaderParts;
  maxMessageBytes: number;
  maxQueue: number;
  maxBackoffMs: number;
}

const optionsError = (message: string, hint: string, url?: string) =>
  new SyslogError('EOPTIONS', `exec-tracer/syslog: ${message}`, { hint, ...(url === undefined ? {} : { url }) });

/** Splits `tcp://HOST:PORT` / `tls://HOST:PORT`, or throws EURL / EUDP. */
export function parseSyslogUrl(url: unknown): { protocol: 'tcp' | 'tls'; host: string; port: number } {
  const usage = 'give tcp://HOST:PORT or tls://HOST:PORT (rsyslog listens on 514 for TCP and 6514 for TLS by convention)';
  if (typeof url !== 'string') throw new SyslogError('EURL', `exec-tracer/syslog: options.url must be a string, got ${typeof url}`, { hint: usage });
  const m = /^([a-z]+):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\s[\]@]+):(\d{1,5})\/?$/.exec(url);
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (scheme === 'udp')
    throw new SyslogError('EUDP', `exec-tracer/syslog: ${url}: syslog over UDP is not offered`, {
      hint:
        'UDP loses messages without anyone knowing (no delivery, no backpressure, no error when the server is away) ' +
        'and cuts them at one datagram; exec-tracer counts every event it cannot deliver, which needs a connection: use tcp:// or tls://',
    });
  if (!m || (m[1] !== 'tcp' && m[1] !== 'tls'))
    throw new SyslogError('EURL', `exec-tracer/syslog: not a syslog server url: "${url}"`, { hint: usage });
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) throw new SyslogError('EURL', `exec-tracer/syslog: ${url}: port ${port} is not in 1..65535`, { hint: usage });
  return { protocol: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

function positiveInteger(name: string, value: unknown, fallback: number, min: number, url: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw optionsError(`options.${name} must be an integer >= ${min}, got ${String(value)}`, `leave it out for the default (${fallback})`, url);
  return value;
}

function isPem(value: unknown): value is Pem {
  const one = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  return one(value) || (Array.isArray(value) && value.length > 0 && value.every(one));
}

/** Checks every option; throws SyslogError. HOSTNAME is this host's name unless given (tests). */
export function resolveSyslogOptions(options: SyslogSinkOptions, hostname = osHostname()): ResolvedSyslogOptions {
  if (typeof options !== 'object' || options === null)
    throw new SyslogError('EOPTIONS', 'exec-tracer/syslog: new SyslogSink() takes an options object', {
      hint: "e.g. new SyslogSink({ url: 'tls://collector:6514', ca })",
    });
  const { protocol, host, port } = parseSyslogUrl(options.url);
  const url = options.url;
  for (const name of ['ca', 'cert', 'key'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (protocol !== 'tls')
      throw optionsError(`options.${name} is for TLS, and ${url} is plain TCP`, 'use a tls:// url, or leave out ca, cert and key', url);
    if (!isPem(value)) throw optionsError(`options.${name} must be PEM text or a Buffer (or a list of them)`, 'read the file, e.g. readFileSync(path)', url);
  }
  if ((options.cert === undefined) !== (options.key === undefined))
    throw optionsError(
      options.cert === undefined ? 'options.key without options.cert' : 'options.cert without options.key',
      'a client certificate needs both: the certificate and its private key',
      url,
    );
  let facility: number = SYSLOG_FACILITIES[DEFAULT_FACILITY];
  if (options.facility !== undefined) {
    const f = options.facility;
    if (typeof f === 'number' && Number.isInteger(f) && f >= 0 && f <= 23) facility = f;
    else if (typeof f === 'string' && Object.hasOwn(SYSLOG_FACILITIES, f)) facility = SYSLOG_FACILITIES[f as SyslogFacility];
    else
      throw optionsError(
        `unknown facility ${JSON.stringify(f)}`,
        `one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}, or a number 0..23`,
        url,
      );
  }
  const appName = options.appName ?? DEFAULT_APP_NAME;
  if (typeof appName !== 'string' || !/^[\x21-\x7e]{1,48}$/.test(appName))
    throw optionsError(`options.appName must be 1 to 48 printable ASCII characters without spaces, got ${JSON.stringify(appName)}`, `leave it out for '${DEFAULT_APP_NAME}'`, url);
  const header: HeaderParts = { facility, hostname: headerField(hostname, 255), appName, procId: String(process.pid) };
  const maxMessageBytes = positiveInteger('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, MIN_MAX_MESSAGE_BYTES, url);
  const needed = maxHeaderBytes(header) + MIN_MSG_BYTES;
  if (maxMessageBytes < needed)
    throw optionsError(
      `options.maxMessageBytes ${maxMessageBytes} cannot hold a message: the header takes up to ${maxHeaderBytes(header)} bytes here and the smallest record ${MIN_MSG_BYTES}`,
      `give at least ${needed}; the default is ${DEFAULT_MAX_MESSAGE_BYTES}`,
      url,
    );
  const resolved: ResolvedSyslogOptions = {
    url,
    protocol,
    host,
    port,
    header,
    maxMessageBytes,
    maxQueue: positiveInteger('maxQueue', options.maxQueue, DEFAULT_MAX_QUEUE, 1, url),
    maxBackoffMs: positiveInteger('maxBackoffMs', options.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS, 100, url),
  };
  if (options.ca !== undefined) resolved.ca = options.ca;
  if (options.cert !== undefined) resolved.cert = options.cert;
  if (options.key !== undefined) resolved.key = options.key;
  return resolved;
}
