// SPDX-License-Identifier: MIT
import { EventEmitter } from 'node:events';
import type { NativeBinding, NativeError, NativeTracer } from '../types/binding.js';
import type {
  ExecEvent,
  ExecEventsOptions,
  ExecTracerDeps,
  ExecTracerOptions,
  ExecTracerStats,
} from '../types/index.js';
import { loadBinding } from './binding.js';
import { decodeBatch, type Clock } from './decode.js';
import { ExecTracerError, abortedError, closedError, fromNative } from './errors.js';
import { LAYOUT } from './layout.js';
import { nativeOptions, resolveOptions, type ResolvedOptions } from './options.js';

/** The events of an ExecTracer and their arguments. */
export interface ExecTracerEvents {
  /** A process called exec successfully. */
  exec: [event: ExecEvent];
  /** This many execs were dropped in the kernel since the last 'lost' (the ring was full). */
  lost: [count: number];
  /** Reading the kernel's ring failed, or a record could not be decoded. */
  error: [error: ExecTracerError];
  /** The tracer stopped; emitted exactly once. */
  close: [];
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'closed';

// Typed overloads for the EventEmitter methods, merged into the class.
export interface ExecTracer {
  on<K extends keyof ExecTracerEvents>(event: K, listener: (...args: ExecTracerEvents[K]) => void): this;
  once<K extends keyof ExecTracerEvents>(event: K, listener: (...args: ExecTracerEvents[K]) => void): this;
  off<K extends keyof ExecTracerEvents>(event: K, listener: (...args: ExecTracerEvents[K]) => void): this;
  addListener<K extends keyof ExecTracerEvents>(event: K, listener: (...args: ExecTracerEvents[K]) => void): this;
  removeListener<K extends keyof ExecTracerEvents>(event: K, listener: (...args: ExecTracerEvents[K]) => void): this;
  emit<K extends keyof ExecTracerEvents>(event: K, ...args: ExecTracerEvents[K]): boolean;
}

/**
 * Emits an `'exec'` event for every successful exec on the host.
 *
 * ```ts
 * const tracer = new ExecTracer({ argvLimit: 16384 });
 * tracer.on('exec', (e) => console.log(e.pid, e.comm, e.argv));
 * await tracer.start();
 * // ...
 * await tracer.stop(); // delivers what the kernel already recorded, then detaches
 * ```
 *
 * Needs Linux >= 5.8 with BTF, and root or CAP_BPF + CAP_PERFMON.
 */
export class ExecTracer extends EventEmitter {
  readonly #options: ResolvedOptions;
  readonly #injected?: NativeBinding;
  #native?: NativeTracer;
  #state: State = 'idle';
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  #abortReason?: unknown;
  #attachKind?: 'tp_btf' | 'tracepoint';
  readonly #stats: ExecTracerStats = { events: 0, lost: 0, batches: 0, bytes: 0 };
  readonly #clock: Clock = { epochOffsetNs: 0n };
  // Consumers that asked the ring to stop being read (async iterators over
  // their high-water mark): reading resumes when none is left.
  readonly #pausers = new Set<object>();
  readonly #onAbort = () => {
    this.#abortReason = this.#options.signal?.reason;
    this.stop().catch((error: unknown) => this.#emitError(fromNative(error)));
  };

  /**
   * @param options validated here: a bad one throws a TypeError or RangeError naming it.
   * @param deps `binding` replaces the native addon (tests, unsupported platforms).
   */
  constructor(options?: ExecTracerOptions, deps: ExecTracerDeps = {}) {
    super();
    const binding = deps.binding;
    this.#options = resolveOptions(options, binding?.pageSize, binding?.layout ?? LAYOUT);
    if (binding) this.#injected = binding;
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Which kernel hook is attached ('tp_btf' or 'tracepoint'), once started. */
  get attachKind(): 'tp_btf' | 'tracepoint' | undefined {
    return this.#attachKind;
  }

  /**
   * Loads and attaches the kernel program; resolves once execs are being
   * recorded. Calling it again returns the same promise. Rejects with an
   * ExecTracerError (EPERM, ENOBTF, ENOTRACEFS, EKERNEL, ENOADDON, EABORTED,
   * ECLOSED) and then leaves nothing loaded.
   */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'closed') return Promise.reject(closedError());
    if (this.#starting) return this.#starting;
    this.#state = 'starting';
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      this.#abortReason = signal.reason;
      this.#finish();
      throw abortedError(this.#abortReason);
    }
    let native: NativeTracer;
    try {
      const binding = this.#injected ?? loadBinding();
      // The real page size is known only now for the default binding.
      if (!this.#injected) resolveOptions(this.#publicOptions(), binding.pageSize, binding.layout);
      this.#clock.epochOffsetNs = BigInt(Date.now()) * 1_000_000n - binding.bootTimeNs();
      native = await binding.open(nativeOptions(this.#options));
    } catch (error) {
      this.#finish();
      throw error instanceof ExecTracerError || error instanceof RangeError ? error : fromNative(error);
    }
    if (this.#state !== 'starting') {
      // stop() (or the signal) came while loading: release at once.
      native.close();
      throw this.#abortReason !== undefined ? abortedError(this.#abortReason) : closedError();
    }
    this.#native = native;
    this.#attachKind = native.attachKind;
    native.start(
      (batch, droppedTotal) => this.#onBatch(batch, droppedTotal),
      (error) => this.#onNativeError(error),
    );
    if (this.#pausers.size > 0) native.pause();
    this.#state = 'running';
  }

  /**
   * Detaches from the kernel after delivering every exec already recorded,
   * then emits 'close' (once). Idempotent; safe before start() and while it
   * is still loading.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const previous = this.#state;
    this.#state = 'stopping';
    if (previous === 'starting') await this.#starting?.catch(() => {});
    const native = this.#native;
    this.#native = undefined;
    try {
      // Synchronously hands the rest of the ring to #onBatch, so 'exec'
      // events for it come before 'close'.
      native?.close();
    } finally {
      this.#finish();
    }
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopping ??= Promise.resolve();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.emit('close');
  }

  /** Counters since start: events emitted, execs lost in the kernel, batches, bytes. */
  stats(): ExecTracerStats {
    return { ...this.#stats };
  }

  #onBatch(batch: Buffer, droppedTotal: number): void {
    this.#stats.batches++;
    this.#stats.bytes += batch.length;
    const { events, error } = decodeBatch(batch, this.#clock);
    for (const event of events) {
      this.#stats.events++;
      this.emit('exec', event);
    }
    if (droppedTotal > this.#stats.lost) {
      const lost = droppedTotal - this.#stats.lost;
      this.#stats.lost = droppedTotal;
      this.emit('lost', lost);
    }
    if (error) {
      this.#emitError(
        new ExecTracerError('EDECODE', `exec-tracer: ${error.message}`, {
          operation: 'decode',
          hint: 'the addon and the JavaScript layer disagree on the record layout: reinstall exec-tracer',
          cause: error,
        }),
      );
    }
  }

  #onNativeError(error: NativeError): void {
    this.#emitError(fromNative(error));
    this.stop().catch(() => {});
  }

  #emitError(error: ExecTracerError): void {
    // Like any EventEmitter: without an 'error' listener this throws, which
    // from the addon's callback becomes an uncaught exception.
    this.emit('error', error);
  }

  #publicOptions(): ExecTracerOptions {
    const { signal: _signal, ...rest } = this.#options;
    return rest;
  }

  #pause(who: object): void {
    if (this.#pausers.has(who)) return;
    this.#pausers.add(who);
    this.#native?.pause();
  }

  #resume(who: object): void {
    if (!this.#pausers.delete(who) || this.#pausers.size > 0) return;
    this.#native?.resume();
  }

  /**
   * Exec events as an async iterator, starting the tracer if needed. Events
   * queue while the loop body runs; past `highWaterMark` the tracer stops
   * reading the kernel's ring (which then fills and counts what it drops as
   * 'lost'), so memory stays bounded. Ends when the tracer stops or `signal`
   * aborts; throws the tracer's 'error'. Breaking out of the loop detaches the
   * iterator but leaves the tracer running.
   */
  events(options: ExecEventsOptions = {}): AsyncIterableIterator<ExecEvent> {
    const highWaterMark = options.highWaterMark ?? 1024;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1)
      throw new RangeError(`options.highWaterMark must be a positive integer, got ${String(highWaterMark)}`);
    const token = {};
    const queue: ExecEvent[] = [];
    let failure: unknown;
    let done = false;
    let waiting: { resolve: (r: IteratorResult<ExecEvent>) => void; reject: (e: unknown) => void } | undefined;

    const settle = () => {
      if (!waiting) return;
      const w = waiting;
      if (queue.length > 0) {
        waiting = undefined;
        w.resolve({ value: take(), done: false });
      } else if (failure !== undefined) {
        waiting = undefined;
        const f = failure;
        failure = undefined;
        finish();
        w.reject(f);
      } else if (done) {
        waiting = undefined;
        w.resolve({ value: undefined, done: true });
      }
    };
    const take = (): ExecEvent => {
      const event = queue.shift()!;
      if (queue.length <= highWaterMark / 2) this.#resume(token);
      return event;
    };
    const onExec = (event: ExecEvent) => {
      queue.push(event);
      if (queue.length >= highWaterMark) this.#pause(token);
      settle();
    };
    // A failed start emits 'close' before its rejection can be seen: end
    // the iteration only once the start's outcome is known, so it throws.
    let started: Promise<void> = Promise.resolve();
    const onClose = () => {
      started.then(
        () => {
          done = true;
        },
        (error: unknown) => {
          failure ??= error;
        },
      ).finally(() => {
        detach();
        if (failure === undefined) done = true;
        settle();
      });
    };
    const onError = (error: ExecTracerError) => {
      failure = error;
      settle();
    };
    const onAbort = () => {
      queue.length = 0;
      finish();
      settle();
    };
    const detach = () => {
      this.off('exec', onExec);
      this.off('close', onClose);
      this.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      this.#resume(token);
    };
    const finish = () => {
      done = true;
      detach();
    };

    if (options.signal?.aborted) done = true;
    else {
      this.on('exec', onExec);
      this.on('close', onClose);
      this.on('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#state === 'idle' || this.#state === 'starting') {
        started = this.start();
        started.catch(() => {}); // observed through onClose
      } else if (this.#state === 'closed') done = true;
    }

    const iterator: AsyncIterableIterator<ExecEvent> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: take(), done: false });
        return new Promise<IteratorResult<ExecEvent>>((resolve, reject) => {
          waiting = { resolve, reject };
          settle();
        });
      },
      return: () => {
        queue.length = 0;
        finish();
        settle();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** `for await (const event of tracer)`: see events(). */
  [Symbol.asyncIterator](): AsyncIterableIterator<ExecEvent> {
    return this.events();
  }

  /** `await using tracer = new ExecTracer()` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
