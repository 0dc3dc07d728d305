// SPDX-License-Identifier: MIT
//
// Standard output for a tool that must never block its event loop: Node
// writes pipes, files and terminals synchronously on Linux, so a slow
// reader (`| less`, a stopped `ssh`) would stall the tracer until the
// kernel's ring overflowed. Pipes and sockets are written asynchronously
// here instead, lines are batched per tick, and what would grow the queue
// beyond a bound is counted as dropped, never silently.
import { closeSync, constants, createWriteStream, fstatSync, ftruncateSync, openSync, write } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** Bytes queued for a slow reader before further lines are dropped. */
export const OUTPUT_LIMIT_BYTES = 8 << 20;

/** Lines to one file descriptor, batched, bounded, and asynchronous where the kernel allows. */
export class LineWriter implements LineOutput {
  /** Lines dropped because the reader fell more than `limitBytes` behind. */
  dropped = 0;
  /** Lines written (or queued to be). */
  written = 0;
  readonly #stream: Writable;
  readonly #limitBytes: number;
  #pending: string[] = [];
  /** Lines of each chunk the stream has not taken yet, oldest first (callbacks come in order). */
  readonly #inFlight: number[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #closed = false;
  /** end() leaves the stream open (standard error: the summary follows the lines). */
  readonly #keepOpen: boolean;
  /** Called when a write's callback empties #inFlight. */
  #onIdle: (() => void) | undefined;

  /**
   * @param stream Where the lines go (see `LineWriter.forFd`).
   * @param onError Called once when the output fails; EPIPE (the reader is
   *   gone) is how `| head` ends a Unix tool, which then exits quietly.
   * @param limitBytes Queued bytes beyond which lines are dropped.
   * @param keepOpen end() waits for the lines to be written but does not
   *   end the stream: ending a net.Socket on a descriptor closes it.
   */
  constructor(stream: Writable, onError: (error: NodeJS.ErrnoException) => void, limitBytes = OUTPUT_LIMIT_BYTES, keepOpen = false) {
    this.#stream = stream;
    this.#limitBytes = limitBytes;
    this.#keepOpen = keepOpen;
    stream.once('error', (error: NodeJS.ErrnoException) => {
      this.#closed = true;
      onError(error);
    });
    stream.on('error', () => {}); // a second write's error says nothing new
  }

  /**
   * A writer on a file descriptor (1: standard output), asynchronous for
   * pipes and sockets. Standard error (2) stays open after end(): the
   * summary and errors are written to it after the lines.
   */
  static forFd(fd: number, onError: (error: NodeJS.ErrnoException) => void): LineWriter {
    const stat = fstatSync(fd);
    // A net.Socket sets the pipe non-blocking and writes through libuv's
    // loop; a regular file or a device goes through the thread pool.
    const stream =
      stat.isFIFO() || stat.isSocket()
        ? new Socket({ fd, readable: false, writable: true })
        : createWriteStream('', { fd, autoClose: false });
    return new LineWriter(stream, onError, OUTPUT_LIMIT_BYTES, fd === 2);
  }

  /** Lines written but not yet taken by the reader. */
  get queued(): number {
    return this.#pending.length + this.#inFlight.reduce((sum, lines) => sum + lines, 0);
  }

  /** Queues one line (without its newline); false when it was dropped. */
  line(text: string): boolean {
    if (this.#closed) return false;
    if (this.#stream.writableLength + this.#pendingBytes > this.#limitBytes) {
      this.dropped++;
      return false;
    }
    this.#pending.push(text);
    // UTF-16 length: close enough to bytes for a bound, and costs nothing.
    this.#pendingBytes += text.length + 1;
    this.written++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return true;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#closed) return;
    const chunk = `${this.#pending.join('\n')}\n`;
    this.#inFlight.push(this.#pending.length);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#stream.write(chunk, () => {
      this.#inFlight.shift();
      if (this.#inFlight.length === 0) this.#onIdle?.();
    });
  }

  /**
   * Writes what is queued and resolves when the reader has it, or after
   * `timeoutMs`: lines it has not taken by then are counted in `dropped`
   * (a chunk partly taken counts whole), since exiting discards them.
   */
  end(timeoutMs: number): Promise<void> {
    this.#flush();
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const untaken = this.#inFlight.reduce((sum, lines) => sum + lines, 0);
        this.dropped += untaken;
        this.written -= untaken;
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      if (!this.#keepOpen) this.#stream.end(done);
      else if (this.#inFlight.length === 0) done();
      else this.#onIdle = done;
    });
  }
}

/** What the command writes its lines to: standard output (LineWriter) or a file (FileLineWriter). */
export interface LineOutput {
  /** Lines not written: the reader too slow (stdout), or the disk full (a file). */
  readonly dropped: number;
  /** Lines accepted by line(), including those still queued. */
  readonly written: number;
  /** Lines accepted and not yet written (by the reader's or the disk's pace). */
  readonly queued: number;
  line(text: string): boolean;
  end(timeoutMs: number): Promise<void>;
}

/**
 * Lines appended to a file that log shippers tail (`--output FILE`),
 * reopened by path on `reopen()` (SIGHUP, after logrotate has moved it).
 * Whole lines only: each write is a batch of complete lines, one write in
 * flight at a time, and a reopen waits for it, so no line is split across
 * the old file and the new one, or lost between them. The file is created
 * 0600 (command lines hold secrets). A write that fails (ENOSPC, EDQUOT,
 * EIO) drops its lines, counted, and the next batch is tried: a full disk
 * is not fatal, and lines flow again once there is room.
 */
export class FileLineWriter implements LineOutput {
  dropped = 0;
  written = 0;
  readonly path: string;
  readonly #limitBytes: number;
  readonly #onDropped: (lines: number, error: NodeJS.ErrnoException) => void;
  #fd: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #writing = false;
  /** Lines of the write in flight. */
  #inFlight = 0;
  #reopenWanted = false;
  #closed = false;
  #idle: (() => void)[] = [];

  /**
   * @param onDropped Told of each failed write: how many lines it dropped, and why.
   * @param limitBytes Queued bytes beyond which lines are dropped (a stalled disk).
   */
  constructor(path: string, onDropped: (lines: number, error: NodeJS.ErrnoException) => void, limitBytes = OUTPUT_LIMIT_BYTES) {
    this.path = path;
    this.#onDropped = onDropped;
    this.#limitBytes = limitBytes;
    this.#fd = FileLineWriter.#open(path);
  }

  static #open(path: string): number {
    // O_APPEND: a line lands whole at the end even if another writer shares the file.
    return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  }

  line(text: string): boolean {
    if (this.#closed) return false;
    if (this.#pendingBytes > this.#limitBytes) {
      this.dropped++;
      return false;
    }
    this.#pending.push(text);
    this.#pendingBytes += text.length + 1;
    this.written++;
    if (!this.#writing) {
      this.#writing = true;
      setImmediate(() => this.#next());
    }
    return true;
  }

  /** Lines accepted and not yet in the file. */
  get queued(): number {
    return this.#pending.length + this.#inFlight;
  }

  /** Opens the path again once the write in flight is done: the file logrotate moved away keeps every line written before. */
  reopen(): void {
    this.#reopenWanted = true;
    if (!this.#writing) this.#next();
  }

  #next(): void {
    if (this.#reopenWanted) {
      this.#reopenWanted = false;
      const old = this.#fd;
      try {
        this.#fd = FileLineWriter.#open(this.path);
        closeSync(old);
      } catch (error) {
        // The old file stays in use; the next SIGHUP tries again.
        this.#onDropped(0, error as NodeJS.ErrnoException);
      }
    }
    if (this.#pending.length === 0) {
      this.#writing = false;
      for (const wake of this.#idle.splice(0)) wake();
      return;
    }
    this.#writing = true;
    const lines = this.#pending.length;
    const chunk = Buffer.from(`${this.#pending.join('\n')}\n`);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#inFlight = lines;
    this.#writeAll(chunk, 0, lines);
  }

  #writeAll(chunk: Buffer, offset: number, lines: number): void {
    write(this.#fd, chunk, offset, chunk.length - offset, null, (error, bytes) => {
      if (error) {
        // The lines the failure cut are dropped, counted from the first one
        // not written whole; a part of one already written is cut off again
        // (the file is ours: O_APPEND only guards against other writers), so
        // the file never holds a split line.
        const whole = offset === 0 ? 0 : chunk.lastIndexOf(0x0a, offset - 1) + 1;
        if (whole < offset) {
          try {
            ftruncateSync(this.#fd, fstatSync(this.#fd).size - (offset - whole));
          } catch {
            // The part stays: one malformed line, rather than stopping.
          }
        }
        const done = chunk.subarray(0, whole).toString().split('\n').length - 1;
        this.dropped += lines - done;
        this.written -= lines - done;
        this.#onDropped(lines - done, error);
      } else if (offset + bytes < chunk.length) {
        this.#writeAll(chunk, offset + bytes, lines);
        return;
      }
      this.#inFlight = 0;
      this.#next();
    });
  }

  /** Writes what is queued, then closes the file; lines still queued after `timeoutMs` are counted as dropped. */
  end(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const untaken = this.#pending.length;
        this.dropped += untaken;
        this.written -= untaken;
        this.#pending = [];
        resolve();
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        closeSync(this.#fd);
        resolve();
      };
      if (!this.#writing && this.#pending.length === 0) finish();
      else {
        this.#idle.push(finish);
        if (!this.#writing) {
          this.#writing = true;
          this.#next();
        }
      }
    });
  }
}
