// SPDX-License-Identifier: MIT
//
// Standard output for a tool that must never block its event loop: Node
// writes pipes, files and terminals synchronously on Linux, so a slow
// reader (`| less`, a stopped `ssh`) would stall the tracer until the
// kernel's ring overflowed. Pipes and sockets are written asynchronously
// here instead, lines are batched per tick, and what would grow the queue
// beyond a bound is counted as dropped, never silently.
import { createWriteStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** Bytes queued for a slow reader before further lines are dropped. */
export const OUTPUT_LIMIT_BYTES = 8 << 20;

/** Lines to one file descriptor, batched, bounded, and asynchronous where the kernel allows. */
export class LineWriter {
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

  /**
   * @param stream Where the lines go (see `LineWriter.forFd`).
   * @param onError Called once when the output fails; EPIPE (the reader is
   *   gone) is how `| head` ends a Unix tool, which then exits quietly.
   * @param limitBytes Queued bytes beyond which lines are dropped.
   */
  constructor(stream: Writable, onError: (error: NodeJS.ErrnoException) => void, limitBytes = OUTPUT_LIMIT_BYTES) {
    this.#stream = stream;
    this.#limitBytes = limitBytes;
    stream.once('error', (error: NodeJS.ErrnoException) => {
      this.#closed = true;
      onError(error);
    });
    stream.on('error', () => {}); // a second write's error says nothing new
  }

  /** A writer on a file descriptor (1: standard output), asynchronous for pipes and sockets. */
  static forFd(fd: number, onError: (error: NodeJS.ErrnoException) => void): LineWriter {
    const stat = fstatSync(fd);
    // A net.Socket sets the pipe non-blocking and writes through libuv's
    // loop; a regular file or a device goes through the thread pool.
    const stream =
      stat.isFIFO() || stat.isSocket()
        ? new Socket({ fd, readable: false, writable: true })
        : createWriteStream('', { fd, autoClose: false });
    return new LineWriter(stream, onError);
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
    this.#stream.write(chunk, () => this.#inFlight.shift());
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
      this.#stream.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
