// SPDX-License-Identifier: MIT
import { EventEmitter } from 'node:events';
import type { NativeBinding, NativeError, NativeTracer } from '../types/binding.js';
import type {
  ExecEvent,
  ExecEventsOptions,
  ExecFailedEvent,
  ExecFilter,
  ExecTracerDeps,
  ExecTracerOptions,
  ExecTracerStats,
  ExitEvent,
  ForkEvent,
  ProcessTable,
  TracerEvent,
  TracerEventKind,
  TracerEventOf,
} from '../types/index.js';
import { loadBinding } from './binding.js';
import type { Clock } from './records/clock.js';
import { decodeRecords, envNameSet } from './records/decode.js';
import { ExecTracerError, abortedError, closedError, fromNative } from './errors.js';
import { compileFilter, validateFilter, type ValidFilter } from './filter.js';
import { LAYOUT } from './records/layout.js';
import {
  checkRingPageSize, nativeOptions, resolveEventsOptions, resolveOptions, type ResolvedOptions,
} from './options.js';
import { INITIAL_PID_NAMESPACE, ownPidNamespace, pidNamespaceError } from './pid-namespace.js';
import { Processes } from './process-table.js';
import { decodeSeed } from './records/seed.js';

/** The events of an ExecTracer and their arguments. */
export interface ExecTracerEvents {
  /** A process called exec successfully. */
  exec: [event: ExecEvent];
  /** A process ended (options.exits, on by default). */
  exit: [event: ExitEvent];
  /** A process was created (options.forks, off by default). */
  fork: [event: ForkEvent];
  /** An exec returned an error (options.failedExecs, off by default). */
  execFailed: [event: ExecFailedEvent];
  /** This many records (execs, exits, forks) were dropped in the kernel since the last 'lost' (the ring was full). */
  lost: [count: number];
  /** Reading the kernel's ring failed, or a record could not be decoded. */
  error: [error: ExecTracerError];
  /** The tracer stopped; emitted exactly once. */
  close: [];
}

/**
 * Where a tracer is in its life: `'idle'` before start(), `'starting'` while
 * it loads, `'running'` once attached, `'stopping'` from stop() until the
 * ring is drained, `'closed'` after (also after a failed start()).
 */
export type ExecTracerState = 'idle' | 'starting' | 'running' | 'stopping' | 'closed';
type State = ExecTracerState;

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
 * Emits an `'exec'` event for every successful exec on the host, an
 * `'exit'` event when each process ends (`exits`, on by default) and, when
 * asked, a `'fork'` event for each new process (`forks: true`) and an
 * `'execFailed'` event for each exec that returns an error
 * (`failedExecs: true`), in the order the kernel wrote them. With
 * `processTable: true`, `processes` is a live table of every process on the
 * host and `event.ancestors()` answers "who started this?".
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
  #hostPid?: number;
  readonly #stats: ExecTracerStats = {
    events: 0, exits: 0, forks: 0, failedExecs: 0, lost: 0, batches: 0, bytes: 0, unknownRecords: 0,
    filtered: 0, filteredExits: 0, filteredForks: 0, filteredFailedExecs: 0, filterMisses: 0,
  };
  /** The filter in force (or that start() will apply). */
  #filter?: ValidFilter;
  readonly #clock: Clock = { epochOffsetNs: 0n };
  /** The env allow-list as the decoder compares it, made once (not per batch). */
  readonly #envNames: ReadonlySet<string> | undefined;
  /** options.processTable: seeded at start(), kept by the records in ring order. */
  readonly #processes: Processes | undefined;
  // Consumers that asked the ring to stop being read (async iterators over
  // their high-water mark): reading resumes when none is left.
  readonly #pausers = new Set<object>();
  readonly #onAbort = () => {
    this.#abortReason = this.#options.signal?.reason;
    this.stop().catch((error: unknown) => this.#emitError(fromNative(error)));
  };

  /**
   * @param options validated here: a bad one throws a TypeError or RangeError naming it.
   *   The addon is not loaded here (the constructor works where it cannot load), so
   *   `ringBufferSize` is checked against the smallest page (4096 bytes) now and against
   *   the binding's real page size in start(), which then rejects with the RangeError.
   * @param deps `binding` replaces the native addon (tests, unsupported platforms).
   * @throws TypeError | RangeError for a bad option.
   */
  constructor(options?: ExecTracerOptions, deps: ExecTracerDeps = {}) {
    super();
    const binding = deps.binding;
    // Resolved once, here, for every binding; start() adds only what needs
    // the loaded addon (its page size), the same way for an injected one.
    this.#options = resolveOptions(options, LAYOUT);
    this.#filter = this.#options.filter;
    const env = this.#options.env;
    this.#envNames = typeof env === 'boolean' ? undefined : envNameSet(env);
    if (this.#options.processTable) this.#processes = new Processes({ graceMs: this.#options.exitGraceMs, clock: this.#clock });
    if (binding) this.#injected = binding;
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /**
   * Every live process on the host, by pid (`options.processTable`; else
   * `undefined`): seeded at start(), then kept current by the records as
   * they are delivered, so inside a listener it shows the host as of that
   * event. Read-only.
   */
  get processes(): ProcessTable | undefined {
    return this.#processes;
  }

  /**
   * This process's pid as the kernel and every event name it (the host's,
   * initial pid namespace's), once started; `undefined` before. It is
   * `process.pid` on the host, and another number in a container without
   * `hostPID`, where `process.pid` is the pid in the container's namespace.
   * `filter.excludeSelf` excludes the process with this pid.
   */
  get hostPid(): number | undefined {
    return this.#hostPid;
  }

  /** Where the tracer is in its life; `'running'` exactly while execs are being recorded (a readiness check). */
  get state(): ExecTracerState {
    return this.#state;
  }

  /** Which kernel hook is attached ('tp_btf' or 'tracepoint'), once started. */
  get attachKind(): 'tp_btf' | 'tracepoint' | undefined {
    return this.#attachKind;
  }

  /**
   * Loads and attaches the kernel programs; resolves once execs are being
   * recorded (and, with `processTable`, once the table is seeded). Calling
   * it again returns the same promise. Rejects with an ExecTracerError
   * (EPERM, ENOBTF, ENOTRACEFS, EVERIFIER, EKERNEL, EUNSUPPORTED, EBUSY,
   * ENOADDON, EABORTED, ECLOSED; EFILTER for the filter; EPIDNAMESPACE for
   * `processTable` or `descendantsOf` outside the host's pid namespace) and
   * then leaves nothing loaded; 'close' is emitted.
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
      if (this.#processes) {
        // The kernel's task iterator shows a process only the tasks of its
        // own pid namespace: in a container the seed would hold the
        // container, and the table would miss the host's processes.
        const ns = ownPidNamespace();
        if (ns !== INITIAL_PID_NAMESPACE)
          throw pidNamespaceError(
            'processTable',
            "the kernel lists for the seed only the processes of this process's namespace, so the table would miss " +
              "every other process on the host (and /proc here does not show them, nor their argv or exe)",
            ns,
            'seed',
          );
      }
      const binding = this.#injected ?? loadBinding();
      checkRingPageSize(this.#options, binding.pageSize);
      this.#clock.epochOffsetNs = BigInt(Date.now()) * 1_000_000n - binding.bootTimeNs();
      // What the filter names (cgroups, processes) is looked up now, as
      // close to the load as can be.
      const filter = this.#filter && compileFilter(this.#filter, LAYOUT);
      native = await binding.open(nativeOptions(this.#options, LAYOUT, filter));
    } catch (error) {
      this.#finish();
      throw error instanceof ExecTracerError || error instanceof RangeError ? error : fromNative(error);
    }
    if (this.#state !== 'starting') {
      // stop() (or the signal) came while loading: release at once.
      native.close();
      throw this.#abortReason !== undefined ? abortedError(this.#abortReason) : closedError();
    }
    if (this.#processes) {
      // Before the first batch: the ring holds what happened since the
      // iterator ran, and applies on top of it.
      const seed = native.takeSeed();
      if (seed) this.#processes.seed(decodeSeed(seed, this.#options.redactor));
    }
    try {
      native.start(
        (batch, droppedTotal) => this.#onBatch(batch, droppedTotal),
        (error) => this.#onNativeError(error),
      );
    } catch (error) {
      // Watching the ring failed: nothing may stay attached behind a rejection.
      native.close();
      this.#finish();
      throw fromNative(error);
    }
    this.#native = native;
    this.#attachKind = native.attachKind;
    this.#hostPid = native.hostPid;
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
      if (native) this.#readFiltered(native);
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

  /**
   * Counters since start: events emitted, records lost in the kernel,
   * records the filter dropped, batches, bytes, skipped records.
   */
  stats(): ExecTracerStats {
    if (this.#native) this.#readFiltered(this.#native);
    return { ...this.#stats };
  }

  #readFiltered(native: NativeTracer): void {
    const [execs = 0, exits = 0, forks = 0, failed = 0, misses = 0] = native.filtered();
    const s = this.#stats;
    s.filtered = execs;
    s.filteredExits = exits;
    s.filteredForks = forks;
    s.filteredFailedExecs = failed;
    s.filterMisses = misses;
  }

  /**
   * Replaces the filter (`options.filter`), atomically: every record is
   * judged by the old filter or by the new one, never by a mix, and none
   * by neither. Resolves once the new one is in force in the kernel;
   * before start() it is kept for start(). `{}` removes the filter.
   * Processes below `descendantsOf` roots are looked up again, so the
   * subtree is whole from the moment the filter is in force.
   * @throws TypeError | RangeError for a bad filter (naming the key);
   *   ExecTracerError EFILTER when what it names does not exist, ECLOSED
   *   once stopped, EUNSUPPORTED where the kernel cannot follow processes.
   *   On any error the filter in force stays.
   */
  async setFilter(filter: ExecFilter): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'closed') throw closedError();
    // undefined, like {}, removes the filter.
    const valid = validateFilter(filter ?? {}, 'filter', LAYOUT)!;
    if (this.#state === 'starting') await this.#starting;
    const native = this.#native;
    if (this.#state !== 'running' || !native) {
      if (this.#state !== 'idle') throw closedError();
      // Looked up now so a bad name fails here, and again at start().
      compileFilter(valid, LAYOUT);
      this.#filter = valid;
      return;
    }
    const compiled = compileFilter(valid, LAYOUT);
    try {
      native.setFilter(compiled);
    } catch (error) {
      throw fromNative(error);
    }
    this.#filter = valid;
  }

  /** The filter in force, as validated (undefined: none). */
  get filter(): ExecFilter | undefined {
    return this.#filter;
  }

  #onBatch(batch: Buffer, droppedTotal: number): void {
    this.#stats.batches++;
    this.#stats.bytes += batch.length;
    const table = this.#processes;
    table?.prune();
    // Read per batch: a listener added later gets every exit from then on.
    const exits = table !== undefined || this.listenerCount('exit') > 0;
    const { records, unknown, countedExits, error } = decodeRecords(batch, this.#clock, this.#envNames, table, exits, this.#options.redactor);
    this.#stats.unknownRecords += unknown;
    this.#stats.exits += countedExits;
    // No try/catch around emit: a throwing listener must reach the addon's
    // MakeCallback and become an uncaught exception, as with any emitter.
    // In the kernel's order: a process's exec comes before its exit. The
    // table takes each record before listeners see it.
    for (const record of records) {
      if (record.kind === 'exec') {
        table?.exec(record);
        this.#stats.events++;
        this.emit('exec', record);
      } else if (record.kind === 'exit') {
        table?.exit(record);
        this.#stats.exits++;
        this.emit('exit', record);
      } else if (record.kind === 'fork') {
        table?.fork(record);
        // Fork records also flow for the table alone.
        if (!this.#options.forks) continue;
        this.#stats.forks++;
        this.emit('fork', record);
      } else {
        this.#stats.failedExecs++;
        this.emit('execFailed', record);
      }
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
    try {
      this.#emitError(fromNative(error));
    } finally {
      // Even when 'error' has no listener (and so throws), the tracer stops.
      this.stop().catch(() => {});
    }
  }

  #emitError(error: ExecTracerError): void {
    // Like any EventEmitter: without an 'error' listener this throws, which
    // from the addon's callback becomes an uncaught exception.
    this.emit('error', error);
  }

  #pause(who: object): void {
    if (this.#pausers.has(who)) return;
    this.#pausers.add(who);
    if (this.#pausers.size === 1) this.#native?.pause();
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
   * iterator but leaves the tracer running. On a stopped tracer it ends at once.
   * @throws TypeError | RangeError for a bad option (highWaterMark: an integer >= 1).
   */
  events(options?: ExecEventsOptions<'exec'>): AsyncIterableIterator<ExecEvent>;
  events<K extends TracerEventKind>(options: ExecEventsOptions<K> & { kinds: readonly K[] }): AsyncIterableIterator<TracerEventOf<K>>;
  events(options?: ExecEventsOptions<TracerEventKind>): AsyncIterableIterator<TracerEvent> {
    const { highWaterMark, signal, kinds } = resolveEventsOptions(options);
    for (const [kind, option] of [['exit', 'exits'], ['fork', 'forks'], ['execFailed', 'failedExecs']] as const)
      if (kinds.has(kind) && !this.#options[option])
        throw new TypeError(`events({ kinds: ['${kind}'] }) needs the tracer's option ${option}: true`);
    const token = {};
    const queue: TracerEvent[] = [];
    // Pending next() calls, served in order (a caller may call next() again
    // before the previous promise settles).
    const waiters: { resolve: (r: IteratorResult<TracerEvent>) => void; reject: (e: unknown) => void }[] = [];
    let failure: unknown;
    let done = false;

    const take = (): TracerEvent => {
      const event = queue.shift()!;
      if (queue.length <= highWaterMark / 2) this.#resume(token);
      return event;
    };
    const settle = () => {
      while (waiters.length > 0) {
        if (queue.length > 0) {
          // The waiter is removed before take(): resuming may deliver a batch
          // (and re-enter here) at once.
          const waiter = waiters.shift()!;
          waiter.resolve({ value: take(), done: false });
        } else if (failure !== undefined) {
          const f = failure;
          failure = undefined;
          finish();
          waiters.shift()!.reject(f);
        } else if (done) {
          waiters.shift()!.resolve({ value: undefined, done: true });
        } else return;
      }
    };
    const onEvent = (event: TracerEvent) => {
      queue.push(event);
      if (queue.length >= highWaterMark) this.#pause(token);
      settle();
    };
    // A failed start emits 'close' before its rejection can be seen: end
    // the iteration only once the start's outcome is known, so it throws.
    let started: Promise<void> = Promise.resolve();
    const onClose = () => {
      started
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          detach();
          if (failure === undefined) done = true;
          settle();
        });
    };
    const onError = (error: ExecTracerError) => {
      failure ??= error;
      settle();
    };
    const onAbort = () => {
      queue.length = 0;
      finish();
      settle();
    };
    const detach = () => {
      for (const kind of kinds) this.off(kind, onEvent);
      this.off('close', onClose);
      this.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      this.#resume(token);
    };
    const finish = () => {
      done = true;
      detach();
    };

    if (signal?.aborted || this.#state === 'closed') done = true;
    else {
      for (const kind of kinds) this.on(kind, onEvent);
      this.on('close', onClose);
      this.on('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#state === 'idle' || this.#state === 'starting') {
        started = this.start();
        started.catch(() => {}); // observed through onClose
      }
    }

    const iterator: AsyncIterableIterator<TracerEvent> = {
      next: () => {
        if (queue.length > 0 && waiters.length === 0) return Promise.resolve({ value: take(), done: false });
        return new Promise<IteratorResult<TracerEvent>>((resolve, reject) => {
          waiters.push({ resolve, reject });
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
