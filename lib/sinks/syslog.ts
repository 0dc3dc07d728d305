// SPDX-License-Identifier: MIT
//
// exec-tracer/syslog: events sent to a syslog server as RFC 5424 messages
// over TCP or TLS (RFC 6587 octet-counted frames), through a bounded queue
// that counts every event it could not deliver. The wire format is in
// syslog-format.ts, the options and errors in syslog-options.ts.
import { EventEmitter } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TracerEvent } from '../otel/attributes.js';
import { formatMessage, frame } from './syslog-format.js';
import { resolveSyslogOptions, SyslogError, type ResolvedSyslogOptions, type SyslogErrorCode, type SyslogSinkOptions } from './syslog-options.js';

export {
  SYSLOG_FACILITIES,
  DEFAULT_FACILITY,
  DEFAULT_APP_NAME,
  DEFAULT_MAX_MESSAGE_BYTES,
  SEVERITY_INFO,
  SEVERITY_NOTICE,
  ARGV_TRUNCATED,
  ENV_TRUNCATED,
  ATTRIBUTES_TRUNCATED,
  formatMessage,
  fitRecord,
  frame,
  type SyslogFacility,
  type HeaderParts,
} from './syslog-format.js';
export {
  SyslogError,
  parseSyslogUrl,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAX_BACKOFF_MS,
  type SyslogErrorCode,
  type SyslogSinkOptions,
  type Pem,
} from './syslog-options.js';

/** What a sink did; at every moment `sent + queued + dropped === written`. */
export interface SyslogSinkStats {
  /** Events passed to `write()`. */
  written: number;
  /** Events whose message the kernel accepted into the connection (the socket's write completed). */
  sent: number;
  /** Events dropped: the queue was full, `write()` came after `close()`, or `close()`'s deadline passed first. */
  dropped: number;
  /** Events waiting, including those written to the socket and not yet confirmed. */
  queued: number;
  /** Connections made again after one was lost. */
  reconnects: number;
  /** Messages sent again after a lost connection (the replay window): duplicates, when the server had them. */
  replayed: number;
}

/** `sink.close(options)`. */
export interface SyslogCloseOptions {
  /** How long to wait for the queue to reach the server, ms; what is left then is counted as dropped. Default 5,000. */
  timeoutMs?: number;
}

/** The events of a SyslogSink. */
export interface SyslogSinkEvents {
  /** A connection failed or broke, a certificate was refused, events were dropped: the sink goes on. */
  error: [error: SyslogError];
  /** A connection to the server is up (after the TLS handshake, for tls://). */
  connect: [];
}

const FIRST_BACKOFF_MS = 100;
/**
 * How long a message may wait for others to share its socket write. A write
 * to a loopback or LAN peer costs tens of µs of the tracer's CPU (on
 * loopback the kernel runs the receiver's TCP side in the sender's call):
 * one per tracer batch (every 10 ms) cost more than formatting the
 * messages; one per 50 ms or per 64 KiB, whichever comes first, does not.
 */
const FLUSH_DELAY_MS = 50;
/** The bytes joined into one socket write: enough to amortise the syscall, small enough not to hog the loop. */
const BATCH_CHARS = 64 * 1024;
/**
 * Messages the kernel accepted are not yet the server's: when a connection
 * breaks, what sat in the two kernels' buffers and in the server's memory is
 * lost without a word from TCP. The last REPLAY_CHARS of confirmed messages
 * are therefore sent again on the next connection (at-least-once: the
 * server may get duplicates).
 */
const REPLAY_CHARS = 256 * 1024;

/** Frames written to the socket in one write. */
interface Batch {
  data: string;
  messages: number;
}

/** A list with a moving head: shift() without copying. */
class Fifo {
  items: string[] = [];
  head = 0;
  chars = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: string): void {
    this.items.push(item);
    this.chars += item.length;
  }
  at(i: number): string {
    return this.items[this.head + i]!;
  }
  /** Removes the first N items. */
  drop(n: number): void {
    for (let i = 0; i < n; i++) this.chars -= this.items[this.head + i]!.length;
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  clear(): string[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.chars = 0;
    return rest;
  }
}

/**
 * Sends each event written to it to a syslog server, as one RFC 5424
 * message whose MSG is the event's OpenTelemetry record in JSON:
 *
 * ```ts
 * const sink = new SyslogSink({ url: 'tls://collector:6514', ca: readFileSync('ca.pem') });
 * tracer.on('exec', (event) => sink.write(event));
 * // ...
 * await tracer.stop();
 * await sink.close(); // flushes, up to 5 s
 * ```
 *
 * `write()` never throws and never blocks: it formats the message and
 * queues it; the queue is written to the socket in batches (up to 64 KiB,
 * at most 50 ms after a message came), one write at a time.
 * Problems (a connection refused or lost, a certificate refused, drops) are
 * `'error'` events, and the sink goes on: it reconnects with exponential
 * backoff and jitter (100 ms up to `maxBackoffMs`), holding events in the
 * queue meanwhile. With no `'error'` listener each kind of problem is
 * printed once as a process warning instead of throwing. See docs/syslog.md.
 */
export class SyslogSink extends EventEmitter<SyslogSinkEvents> {
  /** The server, as given. */
  readonly url: string;
  readonly #options: ResolvedSyslogOptions;
  readonly #queue = new Fifo();
  /**
   * The last confirmed writes, kept for a replay (REPLAY_CHARS): whole
   * batches (the string the socket flattened), not each message, so the
   * garbage collector moves a few big strings instead of hundreds of small.
   */
  #window: Batch[] = [];
  #windowChars = 0;
  /** Batches to send again before the queue, after a lost connection. */
  #replay: Batch[] = [];
  #written = 0;
  #sent = 0;
  #dropped = 0;
  #reconnects = 0;
  #replayed = 0;
  #socket: Socket | undefined;
  #connected = false;
  #everConnected = false;
  /** Messages of the queue's head in the write under way (0: none); -1: a replay write. */
  #inFlight = 0;
  /** Bumped when a socket goes: a write callback of an older one is ignored. */
  #generation = 0;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #overflowing = false;
  #closed = false;
  #closedReported = false;
  #closing: Promise<SyslogSinkStats> | undefined;
  #onIdle: (() => void) | undefined;
  readonly #warned = new Set<SyslogErrorCode>();

  /** Checks the options (a SyslogError with code EURL, EUDP or EOPTIONS) and starts connecting. */
  constructor(options: SyslogSinkOptions) {
    super();
    this.#options = resolveSyslogOptions(options);
    this.url = this.#options.url;
    this.#connect();
  }

  /**
   * Queues EVENT's message (cut to `maxMessageBytes` if need be). Never
   * throws: a full queue, or a sink already closed, drops it and counts it
   * in `stats().dropped` (with an `'error'` event: EDROPPED once per
   * overflow, ECLOSED once).
   */
  write(event: TracerEvent): void {
    this.#written++;
    if (this.#closed) {
      this.#dropped++;
      if (this.#closedReported) return;
      this.#closedReported = true;
      this.#report('ECLOSED', 'write() after close(): the event was dropped', 'close the sink after the tracer has stopped');
      return;
    }
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#dropped++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#report(
          'EDROPPED',
          `the queue is full (${this.#options.maxQueue} messages): events are being dropped`,
          'the server is away or slower than the events come: see stats().dropped; raise maxQueue to ride out longer outages',
        );
      }
      return;
    }
    let message: { message: string; bytes: number };
    try {
      message = formatMessage(event, this.#options.header, this.#options.maxMessageBytes);
    } catch (error) {
      // Not expected (the format is total over events): counted, never thrown into the tracer.
      this.#dropped++;
      this.#report('EOPTIONS', `an event could not be formatted: ${(error as Error).message}`, 'please report this as a bug', error);
      return;
    }
    this.#queue.push(frame(message.message, message.bytes));
    this.#scheduleFlush();
  }

  /** The counters; `sent + queued + dropped === written` at every moment. */
  stats(): SyslogSinkStats {
    return {
      written: this.#written,
      sent: this.#sent,
      dropped: this.#dropped,
      queued: this.#queue.length,
      reconnects: this.#reconnects,
      replayed: this.#replayed,
    };
  }

  /**
   * Stops taking events and sends what is queued, waiting up to `timeoutMs`
   * (default 5,000) for the server, connected or not; what is still queued
   * then is counted as dropped. Closes the connection and resolves with the
   * final counters, all within `timeoutMs`. Idempotent.
   */
  close(options: SyslogCloseOptions = {}): Promise<SyslogSinkStats> {
    this.#closing ??= this.#close(options.timeoutMs ?? 5_000);
    return this.#closing.then(() => this.stats());
  }

  async #close(timeoutMs: number): Promise<SyslogSinkStats> {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
      throw new SyslogError('EOPTIONS', `exec-tracer/syslog: close(): timeoutMs must be a number >= 0, got ${String(timeoutMs)}`, {
        hint: 'leave it out for 5,000 ms',
        url: this.url,
      });
    this.#closed = true;
    const deadline = Date.now() + timeoutMs;
    if (!this.#idle()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish() {
          clearTimeout(timer);
          resolve();
        }
        this.#onIdle = finish;
        this.#flush();
      });
    }
    this.#onIdle = undefined;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // What the deadline left: dropped, and said so; a late write callback is ignored.
    this.#generation++;
    this.#dropped += this.#queue.clear().length;
    this.#inFlight = 0;
    this.#replay = [];
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    if (socket !== undefined) {
      // A clean close (the server's FIN) within what the deadline leaves, at
      // most 1 s; a stalled server gets none, and the socket is destroyed:
      // close() resolves within timeoutMs, which a service manager's stop
      // timeout counts on. What the kernel accepted still goes out after.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => socket.destroy(), Math.min(1000, Math.max(0, deadline - Date.now())));
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
    return this.stats();
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#replay.length === 0 && this.#inFlight === 0;
  }

  #report(code: SyslogErrorCode, message: string, hint: string, cause?: unknown): void {
    const error = new SyslogError(code, `exec-tracer/syslog: ${this.url}: ${message}`, { hint, url: this.url, cause });
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else if (!this.#warned.has(code)) {
      // No listener: an emit would throw into the caller (the tracer's
      // listener, or a socket callback). Said once per kind instead.
      this.#warned.add(code);
      process.emitWarning(error);
    }
  }

  #connect(): void {
    const { protocol, host, port, ca, cert, key } = this.#options;
    const generation = ++this.#generation;
    const socket =
      protocol === 'tls'
        ? tlsConnect({ host, port, ca, cert, key, ...(isIP(host) === 0 ? { servername: host } : {}) })
        : netConnect({ host, port });
    this.#socket = socket;
    let failure: Error | undefined;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      if (generation !== this.#generation) return;
      this.#connected = true;
      this.#attempt = 0;
      if (this.#everConnected) this.#reconnects++;
      this.#everConnected = true;
      this.emit('connect');
      this.#flush();
    });
    // A syslog server sends nothing; whatever comes is read and thrown away.
    socket.on('data', () => {});
    socket.on('error', (error) => (failure = error));
    socket.on('close', () => {
      if (generation !== this.#generation) return;
      this.#lost(failure);
    });
  }

  /** The connection went (or never came): replay what it may have lost, and try again later. */
  #lost(failure: Error | undefined): void {
    const wasConnected = this.#connected;
    this.#generation++;
    this.#socket = undefined;
    this.#connected = false;
    // A write under way was not confirmed: its messages are still at the queue's head.
    this.#inFlight = 0;
    if (wasConnected && this.#window.length > 0) {
      this.#replay = [...this.#window, ...this.#replay];
      this.#window = [];
      this.#windowChars = 0;
    }
    if (this.#closing !== undefined && this.#idle()) {
      this.#onIdle?.();
      return;
    }
    this.#reportFailure(failure, wasConnected);
    const base = Math.min(this.#options.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    // Equal jitter: half fixed, half random, so reconnecting sinks spread out.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, base / 2 + Math.random() * (base / 2));
  }

  #reportFailure(failure: Error | undefined, wasConnected: boolean): void {
    const code = (failure as NodeJS.ErrnoException | undefined)?.code;
    const pending = `; ${this.#queue.length} events wait in the queue`;
    if (this.#options.protocol === 'tls' && code !== undefined && isCertificateProblem(code)) {
      this.#report(
        'ETLS',
        `the server's certificate is not trusted: ${code} (${failure!.message})${pending}`,
        "give the CA that signed the server's certificate as options.ca (--syslog-ca FILE), and a certificate whose names include the host of the url",
        failure,
      );
    } else if (wasConnected) {
      this.#report('ECONNECT', `the connection was lost${failure ? `: ${failure.message}` : ''}${pending}`, 'reconnecting with backoff', failure);
    } else {
      this.#report(
        'ECONNECT',
        `cannot connect${failure ? `: ${failure.message}` : ' (closed during the handshake)'}${pending}`,
        'is the server listening there? retrying with backoff',
        failure,
      );
    }
  }

  /**
   * Writes soon: at once (next turn) when a batch is full, something is to
   * be replayed or the sink is closing; otherwise within FLUSH_DELAY_MS.
   */
  #scheduleFlush(): void {
    if (!this.#connected || this.#inFlight !== 0 || this.#flushScheduled) return;
    if (this.#closed || this.#replay.length > 0 || this.#queue.chars >= BATCH_CHARS) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    } else if (this.#flushTimer === undefined && this.#queue.length > 0) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#flush();
      }, FLUSH_DELAY_MS);
    }
  }

  /** Writes the next batch (replays first) if connected and no write is under way. */
  #flush(): void {
    if (!this.#connected || this.#inFlight !== 0 || this.#socket === undefined) return;
    if (this.#idle()) {
      this.#onIdle?.();
      return;
    }
    const socket = this.#socket;
    const generation = this.#generation;
    if (this.#replay.length > 0) {
      const batch = this.#replay[0]!;
      this.#inFlight = -1;
      socket.write(batch.data, (error) => {
        if (generation !== this.#generation || error) return;
        this.#inFlight = 0;
        this.#replay.shift();
        this.#replayed += batch.messages;
        this.#remember(batch);
        this.#scheduleFlush();
      });
      return;
    }
    const queue = this.#queue;
    let chars = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || chars + queue.at(n).length <= BATCH_CHARS)) chars += queue.at(n++).length;
    let data = '';
    for (let i = 0; i < n; i++) data += queue.at(i);
    this.#inFlight = n;
    socket.write(data, (error) => {
      if (generation !== this.#generation || error) return;
      this.#inFlight = 0;
      this.#remember({ data, messages: n });
      queue.drop(n);
      this.#sent += n;
      if (queue.length < this.#options.maxQueue) this.#overflowing = false;
      if (this.#closed) this.#flush();
      else this.#scheduleFlush();
    });
  }

  /** Keeps a confirmed batch in the replay window, and forgets the oldest past REPLAY_CHARS. */
  #remember(batch: Batch): void {
    this.#window.push(batch);
    this.#windowChars += batch.data.length;
    while (this.#windowChars > REPLAY_CHARS && this.#window.length > 0) this.#windowChars -= this.#window.shift()!.data.length;
  }
}

/** Node's (OpenSSL's) codes for a server certificate that does not verify. */
function isCertificateProblem(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_CERT') ||
    /CERT|SIGNATURE|SELF_SIGNED|ISSUER|VERIFY|CHAIN|EXPIRED|NOT_YET_VALID|REVOKED|UNTRUSTED|REJECTED|HOSTNAME/.test(code)
  );
}
