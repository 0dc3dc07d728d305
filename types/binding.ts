// SPDX-License-Identifier: MIT
//
// The one contract between the native addon (native/) and the TypeScript
// layer (lib/). The real addon and every mock implement `NativeBinding`.
// Native applies no policy: lib/ validates and defaults every option before
// anything here is called.

/** How the kernel program is attached. */
export type AttachMode = 'auto' | 'tp_btf' | 'tracepoint';

/** What wakes the native pump: NativeOpenOptions.pump. */
export type PumpKind = 'loop' | 'thread';

/** Options handed to the addon, already validated and defaulted by lib/. */
export interface NativeOpenOptions {
  /** argv bytes copied per exec (the rest is counted, not copied). */
  argvLimit: number;
  /** BPF ring buffer size in bytes: a power of two, at least one page. */
  ringBufferSize: number;
  /**
   * Ring fill level in bytes above which the kernel wakes the consumer at
   * once. 0 means the kernel's default: a wakeup whenever the consumer has
   * caught up, i.e. close to one per record (lowest latency, highest cost).
   */
  wakeupBytes: number;
  /** Period of the timer drain in ms (bounds latency when no wakeup comes). */
  drainIntervalMs: number;
  /** Most bytes of records handed to JS in one batch. */
  batchBytes: number;
  /**
   * What wakes the pump (native/ring_watch.h). 'loop': a uv_poll and timers
   * on the environment's libuv loop, no thread. 'thread': a thread waiting on
   * the ring that asks the JS thread to drain through a thread-safe function,
   * for runtimes without libuv's uv_poll and uv_timer (Bun). The ring is
   * consumed on the JS thread either way.
   */
  pump: PumpKind;
  attach: AttachMode;
  /** Bits of `LAYOUT.context` (lib/records/layout.ts): the parts of the context to collect. */
  context: number;
  /** Whether to read each new process's environment at all (opt-in). */
  env: boolean;
  /** Environment bytes copied per exec when `env` is on (the rest is counted). */
  envLimit: number;
  /** Attach the exit program: a record when each process ends. */
  exits: boolean;
  /** Attach the fork program (tp_btf only): a record per new process. */
  forks: boolean;
  /** Attach the failed-exec program (tp_btf/sys_exit only): a record per exec that returns an error. */
  failedExecs: boolean;
  /**
   * After attaching, read every live process once (task iterator, argv and
   * exe from /proc): the seed takeSeed() hands over.
   */
  seed: boolean;
  /** The filter in force from the first record (absent: none). */
  filter?: NativeFilter;
}

/**
 * Called once per batch. `batch` holds whole records back to back, each
 * starting with the record header (see bpf/exec_tracer.h); `droppedTotal` is
 * the kernel's count of records that could not be written to the ring since
 * this tracer was loaded (cumulative, never reset).
 */
export type BatchCallback = (batch: Buffer, droppedTotal: number) => void;

/** One loaded and attached tracer. */
export interface NativeTracer {
  /** Which program got attached. */
  readonly attachKind: 'tp_btf' | 'tracepoint';
  /**
   * This process's pid in the initial pid namespace: getpid() there, else
   * what the kernel reported (bpf/self.bpf.h). A filter entry naming pid 0
   * (lib/filter.ts SELF_PID, excludeSelf) names this pid.
   */
  readonly hostPid: number;
  /**
   * Starts watching the ring buffer on the event loop; `onBatch` is called
   * from the loop (via MakeCallback) for every batch. Called at most once.
   * `onError` is called if watching the ring fails later (operation 'poll'
   * or 'ringbuf'); the tracer keeps its kernel objects until close().
   * Throws a TypeError unless given two functions, and a plain Error (not a
   * NativeError: no errno is involved) once closed or if already started;
   * lib/ does neither.
   */
  start(onBatch: BatchCallback, onError: (error: NativeError) => void): void;
  /**
   * Detaches the program, then hands every record still in the ring to the
   * batch callback synchronously (as many batches as needed), then frees
   * every kernel object. Idempotent; after it, nothing calls back.
   */
  close(): void;
  /** The kernel's cumulative drop count, read now. */
  dropped(): number;
  /**
   * Stops consuming the ring (backpressure): records wait in the kernel and,
   * once it is full, are dropped and counted there. Idempotent.
   */
  pause(): void;
  /** Undoes pause() and drains at once. Idempotent. */
  resume(): void;
  /**
   * With `seed`: the live processes at start, task records (LAYOUT.task)
   * back to back, each followed by argv_len bytes of argv and exe_len bytes of
   * exe. Returned once (then undefined), so its memory goes with the caller.
   */
  takeSeed(): Buffer | undefined;
  /**
   * Puts a compiled filter in force, atomically (records are judged by the
   * old one or the new one, never a mix). Throws a NativeError (operation
   * 'filter') and leaves the old one in force if it cannot.
   */
  setFilter(filter: NativeFilter): void;
  /**
   * What the filter dropped since load: [execs, exits, forks, failed execs,
   * processes it could not follow]. After close(), the final counts.
   */
  filtered(): number[];
}

/**
 * A filter as lib/filter.ts compiles it for the kernel: `flags` of
 * `LAYOUT.filter` (containersOnly, hostOnly; lib/records/layout.ts) and one
 * entry per listed value: `[kind, side, value]`, kind and side from `LAYOUT.filter`,
 * value a number (an id, a pid), a bigint (a cgroup id) or a Buffer (a task
 * name, a path prefix); a descendant root adds its start (`startBootNs`,
 * 0n for any process with that pid).
 */
export interface NativeFilter {
  flags: number;
  entries: (readonly [kind: number, side: number, value: number | bigint | Buffer, startBootNs?: bigint])[];
}

/**
 * The error every native failure throws or rejects with. `code` is the errno
 * name (e.g. 'EPERM'); lib/ turns it into an ExecTracerError with a hint.
 */
export interface NativeError extends Error {
  code: string;
  /** Positive errno value. */
  errno: number;
  /**
   * Which step failed: 'btf' (finding kernel BTF), 'open' (parsing the
   * embedded object), 'load' (verifier), 'tracefs' (classic tracepoint
   * needs tracefs, which is not mounted), 'attach', 'ringbuf', 'poll'.
   */
  operation: string;
  /** What libbpf printed during the failing step (verifier log included). */
  log: string;
}

/** A namespace an exec event names (`ExecEvent.namespaces`). */
export type NamespaceName = 'pid' | 'mnt' | 'net' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

export interface NativeBinding {
  /** Opens, loads and attaches off the main thread; resolves once attached. */
  open(options: NativeOpenOptions): Promise<NativeTracer>;
  /** The kernel's page size in bytes (the ring buffer's size unit). */
  readonly pageSize: number;
  /** CLOCK_BOOTTIME now, in ns: the clock of every record's `bootNs`. */
  bootTimeNs(): bigint;
  /** Test builds only (EXEC_TRACER_FAULTS): the fault injector; absent from releases. */
  readonly faults?: NativeFaults;
  /** Test builds only (EXEC_TRACER_SANITIZE): the sanitizers compiled in, 'address,undefined'. */
  readonly sanitizers?: string;
}

/**
 * Makes one call the addon makes (or libbpf makes for it) fail, to test the
 * failure paths (native/faults.h). Process-wide; one fault armed at a time.
 */
export interface NativeFaults {
  /** 'open', 'load', 'attach', 'seed', 'ringbuf' (calls into libbpf); 'bpf', 'epoll', 'mmap', 'fd' (system calls libbpf makes; 'fd' is memfd_create and dup3). */
  readonly points: readonly string[];
  /** The `nth` call to `point` from now on fails with `errno`; every other call goes through. */
  arm(point: string, nth: number, errno: number): void;
  /** Disarms; returns whether the armed fault fired. Counting starts again. */
  disarm(): boolean;
  /** How often each point was reached since the last arm() or disarm(). */
  calls(): Record<string, number>;
}
