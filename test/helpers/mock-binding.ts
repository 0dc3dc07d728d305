// SPDX-License-Identifier: MIT
//
// A NativeBinding without a kernel: it is fed packed records laid out exactly
// as bpf/exec_tracer.h lays them out, so the decoder under test reads the
// same bytes it reads from the real ring buffer.
import type {
  BatchCallback,
  NativeBinding,
  NativeError,
  NativeOpenOptions,
  NativeTracer,
  NativeFilter,
} from '../../types/binding.js';
import { LAYOUT } from '../../lib/records/layout.js';

export interface ExecRecordFields {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  nsPid: number;
  comm: string | Buffer;
  filename: string | Buffer;
  /** Bytes of the filename kept (longer is cut and flagged); default: as many as the kernel program keeps. */
  filenameLimit: number;
  /** Arguments; each is written with its terminating NUL. */
  argv: (string | Buffer)[];
  argc: number;
  /** Bytes of argv kept (cuts the NUL-joined argv); default: all of it. */
  argvLimit: number;
  flags: number;
  bootNs: bigint;
  startBootNs: bigint;
  parentStartBootNs: bigint;
  cgroupId: bigint;
  /** Record type (default: exec). */
  type: number;
  exe: string | Buffer;
  /** Present: an interpreter ran the file (sets the interpreter flag). */
  interpreter: string | Buffer;
  cwd: string | Buffer;
  exeIno: bigint;
  exeCtimeNs: bigint;
  /** The kernel's dev_t: major << 20 | minor. */
  exeDev: number;
  exeMode: number;
  exeNlink: number;
  /** Bits of LAYOUT.context (default: every part). */
  context: number;
  /** Bits of LAYOUT.contextFlags (the interpreter bit is added when `interpreter` is set). */
  contextFlags: number;
  /** Where the variable part begins: LAYOUT.exec.length, or that of an older object (96: no context; 128: no who; 256: no cgroup, env). */
  fixedSize: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
  fsuid: number;
  fsgid: number;
  capInheritable: bigint;
  capPermitted: bigint;
  capEffective: bigint;
  loginUid: number;
  sessionId: number;
  /** Inode numbers by name; missing ones are 0. */
  namespaces: Partial<Record<(typeof LAYOUT.namespaces)[number], number>>;
  /** Bits of LAYOUT.whoFlags (the tty bit is added when `tty` is set). */
  whoFlags: number;
  /** The kernel's tty->name ("pts3"). */
  tty: string;
  /** The cgroup v2 path (in records whose fixed part has cgroup_len). */
  cgroup: string | Buffer;
  /** Environment entries (`NAME=value`), each written with its NUL; present: ET_EXEC_ENV set. */
  env: (string | Buffer)[];
  /** Bytes of the environment kept (cuts the NUL-joined entries); default: all of it. */
  envLimit: number;
  /** The kernel's exec counters of this image and of the parent's. */
  execSeq: bigint;
  parentExecSeq: bigint;
  /** The session's and the process group's leaders. */
  sid: number;
  pgid: number;
}

const bytes = (v: string | Buffer | undefined, fallback: string): Buffer =>
  typeof v === 'string' || v === undefined ? Buffer.from(v ?? fallback) : v;

/** One record, byte for byte as the kernel program writes it. */
export function encodeExecRecord(fields: Partial<ExecRecordFields> = {}): Buffer {
  const X = LAYOUT.exec;
  const argv = (fields.argv ?? ['/bin/true']).map((a) => (typeof a === 'string' ? Buffer.from(a) : a));
  const fullArgv = Buffer.concat(argv.flatMap((a) => [a, Buffer.from([0])]));
  const kept = fullArgv.subarray(0, Math.min(fullArgv.length, fields.argvLimit ?? fullArgv.length));
  const fullFilename = bytes(fields.filename, '/bin/true');
  const filename = fullFilename.subarray(0, fields.filenameLimit ?? LAYOUT.filenameMax - 1);
  const comm = bytes(fields.comm, 'true');
  let flags = fields.flags ?? 0;
  if (kept.length < fullArgv.length) flags |= LAYOUT.flags.argvTruncated;
  if (filename.length < fullFilename.length) flags |= LAYOUT.flags.filenameTruncated;
  const fixed = fields.fixedSize ?? X.length;
  const withContext = fixed >= X.contextFlags + 2;
  const exe = withContext ? bytes(fields.exe, '/usr/bin/true') : Buffer.alloc(0);
  const interpreter = withContext && fields.interpreter !== undefined ? bytes(fields.interpreter, '') : Buffer.alloc(0);
  const cwd = withContext ? bytes(fields.cwd, '/') : Buffer.alloc(0);
  const withWhere = fixed >= X.envLen + 4;
  const cgroup = withWhere ? bytes(fields.cgroup, '/') : Buffer.alloc(0);
  const withEnv = withWhere && fields.env !== undefined;
  const fullEnv = Buffer.concat((withEnv ? fields.env! : []).flatMap((e) => [bytes(e, ''), Buffer.from([0])]));
  const env = fullEnv.subarray(0, Math.min(fullEnv.length, fields.envLimit ?? fullEnv.length));
  if (withEnv) flags |= LAYOUT.flags.env | (env.length < fullEnv.length ? LAYOUT.flags.envTruncated : 0);
  let contextFlags = fields.contextFlags ?? 0;
  if (fields.interpreter !== undefined) contextFlags |= LAYOUT.contextFlags.interpreter;

  const size = fixed + filename.length + kept.length + exe.length + interpreter.length + cwd.length + cgroup.length + env.length;
  const b = Buffer.alloc(size);
  b.writeUInt16LE(fields.type ?? X.type, LAYOUT.header.type);
  b.writeUInt16LE(fixed, LAYOUT.header.fixedSize);
  b.writeUInt32LE(size, LAYOUT.header.size);
  b.writeBigUInt64LE(fields.bootNs ?? 1_000_000_000n, X.bootNs);
  b.writeBigUInt64LE(fields.startBootNs ?? 900_000_000n, X.startBootNs);
  b.writeBigUInt64LE(fields.parentStartBootNs ?? 100_000_000n, X.parentStartBootNs);
  b.writeBigUInt64LE(fields.cgroupId ?? 1234n, X.cgroupId);
  b.writeUInt32LE(fields.pid ?? 4242, X.pid);
  b.writeUInt32LE(fields.tid ?? fields.pid ?? 4242, X.tid);
  b.writeUInt32LE(fields.ppid ?? 1, X.ppid);
  b.writeUInt32LE(fields.uid ?? 0, X.uid);
  b.writeUInt32LE(fields.gid ?? 0, X.gid);
  b.writeUInt32LE(fields.nsPid ?? fields.pid ?? 4242, X.nsPid);
  b.writeUInt32LE(fields.argc ?? argv.length, X.argc);
  b.writeUInt32LE(fullArgv.length, X.argvSize);
  b.writeUInt32LE(kept.length, X.argvLen);
  b.writeUInt16LE(filename.length, X.filenameLen);
  b.writeUInt16LE(flags, X.flags);
  comm.copy(b, X.comm, 0, Math.min(comm.length, X.commLength - 1));
  if (withContext) {
    const C = LAYOUT.context;
    b.writeBigUInt64LE(fields.exeIno ?? 260958n, X.exeIno);
    b.writeBigInt64LE(fields.exeCtimeNs ?? 1_663_687_647_000_000_000n, X.exeCtimeNs);
    b.writeUInt32LE(fields.exeDev ?? 254 << 20, X.exeDev);
    b.writeUInt16LE(fields.exeMode ?? 0o100755, X.exeMode);
    b.writeUInt16LE(exe.length, X.exeLen);
    b.writeUInt16LE(interpreter.length, X.interpLen);
    b.writeUInt16LE(cwd.length, X.cwdLen);
    b.writeUInt16LE(fields.context ?? C.exe | C.file | C.interpreter | C.cwd | C.cgroup, X.context);
    b.writeUInt16LE(contextFlags, X.contextFlags);
  }
  if (fixed >= X.whoFlags + 2) {
    b.writeUInt32LE(fields.euid ?? fields.uid ?? 0, X.euid);
    b.writeUInt32LE(fields.egid ?? fields.gid ?? 0, X.egid);
    b.writeUInt32LE(fields.suid ?? fields.uid ?? 0, X.suid);
    b.writeUInt32LE(fields.sgid ?? fields.gid ?? 0, X.sgid);
    b.writeUInt32LE(fields.fsuid ?? fields.uid ?? 0, X.fsuid);
    b.writeUInt32LE(fields.fsgid ?? fields.gid ?? 0, X.fsgid);
    b.writeBigUInt64LE(fields.capInheritable ?? 0n, X.capInheritable);
    b.writeBigUInt64LE(fields.capPermitted ?? 0n, X.capPermitted);
    b.writeBigUInt64LE(fields.capEffective ?? 0n, X.capEffective);
    b.writeUInt32LE(fields.loginUid ?? 0xffffffff, X.loginUid);
    b.writeUInt32LE(fields.sessionId ?? 0xffffffff, X.sessionId);
    LAYOUT.namespaces.forEach((name, i) => b.writeUInt32LE(fields.namespaces?.[name] ?? 0, X.nsInum + 4 * i));
    b.writeUInt16LE((fields.whoFlags ?? 0) | (fields.tty === undefined ? 0 : LAYOUT.whoFlags.tty), X.whoFlags);
  }
  if (fixed >= X.tty + X.ttyLength && fields.tty !== undefined) b.write(fields.tty.slice(0, X.ttyLength - 1), X.tty, 'latin1');
  if (withWhere) {
    b.writeUInt16LE(cgroup.length, X.cgroupLen);
    b.writeUInt32LE(fields.exeNlink ?? 1, X.exeNlink);
  }
  if (fixed >= X.parentExecSeq + 8) {
    b.writeBigUInt64LE(fields.execSeq ?? 2n, X.execSeq);
    b.writeBigUInt64LE(fields.parentExecSeq ?? 1n, X.parentExecSeq);
  }
  if (fixed >= X.pgid + 4) {
    b.writeUInt32LE(fields.sid ?? 0, X.sid);
    b.writeUInt32LE(fields.pgid ?? 0, X.pgid);
  }
  if (withEnv) {
    b.writeUInt32LE(fullEnv.length, X.envSize);
    b.writeUInt32LE(env.length, X.envLen);
  }
  Buffer.concat([filename, kept, exe, interpreter, cwd, cgroup, env]).copy(b, fixed);
  return b;
}

export interface ExitRecordFields {
  pid: number;
  tid: number;
  ppid: number;
  /** wait(2)'s status: code << 8 | 0x80 core | signal. */
  status: number;
  comm: string;
  bootNs: bigint;
  startBootNs: bigint;
  execSeq: bigint;
  /** Where the record ends its fixed part (default: the current length). */
  fixedSize: number;
}

/** One exit record, byte for byte as bpf/exit.bpf.h writes it. */
export function encodeExitRecord(fields: Partial<ExitRecordFields> = {}): Buffer {
  const X = LAYOUT.exit;
  const fixed = fields.fixedSize ?? X.length;
  const b = Buffer.alloc(Math.max(fixed, X.length));
  b.writeUInt16LE(X.type, LAYOUT.header.type);
  b.writeUInt16LE(fixed, LAYOUT.header.fixedSize);
  b.writeUInt32LE(b.length, LAYOUT.header.size);
  b.writeBigUInt64LE(fields.bootNs ?? 3_000_000_000n, X.bootNs);
  b.writeBigUInt64LE(fields.startBootNs ?? 900_000_000n, X.startBootNs);
  b.writeBigUInt64LE(fields.execSeq ?? 2n, X.execSeq);
  b.writeUInt32LE(fields.pid ?? 4242, X.pid);
  b.writeUInt32LE(fields.tid ?? fields.pid ?? 4242, X.tid);
  b.writeUInt32LE(fields.ppid ?? 1, X.ppid);
  b.writeUInt32LE(fields.status ?? 0, X.status);
  b.write((fields.comm ?? 'true').slice(0, 15), X.comm);
  return b;
}

export interface ForkRecordFields {
  pid: number;
  ppid: number;
  comm: string;
  bootNs: bigint;
  startBootNs: bigint;
  parentStartBootNs: bigint;
  execSeq: bigint;
}

/** One fork record, byte for byte as bpf/fork.bpf.h writes it. */
export function encodeForkRecord(fields: Partial<ForkRecordFields> = {}): Buffer {
  const X = LAYOUT.fork;
  const b = Buffer.alloc(X.length);
  b.writeUInt16LE(X.type, LAYOUT.header.type);
  b.writeUInt16LE(X.length, LAYOUT.header.fixedSize);
  b.writeUInt32LE(X.length, LAYOUT.header.size);
  b.writeBigUInt64LE(fields.bootNs ?? 800_000_000n, X.bootNs);
  b.writeBigUInt64LE(fields.startBootNs ?? fields.bootNs ?? 800_000_000n, X.startBootNs);
  b.writeBigUInt64LE(fields.parentStartBootNs ?? 100_000_000n, X.parentStartBootNs);
  b.writeBigUInt64LE(fields.execSeq ?? 1n, X.execSeq);
  b.writeUInt32LE(fields.pid ?? 4242, X.pid);
  b.writeUInt32LE(fields.ppid ?? 1, X.ppid);
  b.write((fields.comm ?? 'sh').slice(0, 15), X.comm);
  return b;
}

export interface TaskRecordFields {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  startBootNs: bigint;
  parentStartBootNs: bigint;
  execSeq: bigint;
  parentExecSeq: bigint;
  kernelThread: boolean;
  /** What the addon read from /proc (undefined: it could not). */
  argv: string[] | undefined;
  exe: string;
}

/** One seed record, as the task iterator writes it and the addon completes it from /proc. */
export function encodeTaskRecord(fields: Partial<TaskRecordFields> = {}): Buffer {
  const T = LAYOUT.task;
  const argv = fields.argv === undefined ? Buffer.alloc(0) : Buffer.from(fields.argv.map((a) => `${a}\0`).join(''));
  const exe = Buffer.from(fields.argv === undefined ? '' : (fields.exe ?? ''));
  const b = Buffer.alloc(T.length + argv.length + exe.length);
  b.writeUInt16LE(T.type, LAYOUT.header.type);
  b.writeUInt16LE(T.length, LAYOUT.header.fixedSize);
  b.writeUInt32LE(b.length, LAYOUT.header.size);
  b.writeBigUInt64LE(fields.startBootNs ?? 500_000_000n, T.startBootNs);
  b.writeBigUInt64LE(fields.parentStartBootNs ?? 100_000_000n, T.parentStartBootNs);
  b.writeBigUInt64LE(fields.execSeq ?? 1n, T.execSeq);
  b.writeBigUInt64LE(fields.parentExecSeq ?? 1n, T.parentExecSeq);
  b.writeUInt32LE(fields.pid ?? 4242, T.pid);
  b.writeUInt32LE(fields.ppid ?? 1, T.ppid);
  b.writeUInt32LE(fields.uid ?? 0, T.uid);
  const flags = (fields.kernelThread ? T.kernelThread : 0) | (fields.argv !== undefined ? T.fromProc : 0);
  b.writeUInt16LE(flags, T.flags);
  b.writeUInt16LE(exe.length, T.exeLen);
  b.writeUInt32LE(argv.length, T.argvLen);
  b.write((fields.comm ?? 'sh').slice(0, 15), T.comm);
  Buffer.concat([argv, exe]).copy(b, T.length);
  return b;
}

export interface ExecFailedRecordFields {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  errno: number;
  comm: string;
  filename: string;
  /** Bytes of the path kept (longer is cut and flagged); default: as many as the kernel program keeps. */
  filenameLimit: number;
  argv: string[];
  flags: number;
  bootNs: bigint;
  startBootNs: bigint;
  parentStartBootNs: bigint;
  execSeq: bigint;
}

/** One failed-exec record, byte for byte as bpf/failed.bpf.h writes it. */
export function encodeExecFailedRecord(fields: Partial<ExecFailedRecordFields> = {}): Buffer {
  const X = LAYOUT.execFailed;
  const fullFilename = Buffer.from(fields.filename ?? '/nonexistent');
  const filename = fullFilename.subarray(0, fields.filenameLimit ?? LAYOUT.filenameMax - 1);
  const flags = (fields.flags ?? 0) | (filename.length < fullFilename.length ? X.filenameTruncated : 0);
  const argvList = fields.argv ?? ['/nonexistent'];
  const argv = Buffer.from(argvList.map((a) => `${a}\0`).join(''));
  const b = Buffer.alloc(X.length + filename.length + argv.length);
  b.writeUInt16LE(X.type, LAYOUT.header.type);
  b.writeUInt16LE(X.length, LAYOUT.header.fixedSize);
  b.writeUInt32LE(b.length, LAYOUT.header.size);
  b.writeBigUInt64LE(fields.bootNs ?? 3_000_000_000n, X.bootNs);
  b.writeBigUInt64LE(fields.startBootNs ?? 900_000_000n, X.startBootNs);
  b.writeBigUInt64LE(fields.parentStartBootNs ?? 100_000_000n, X.parentStartBootNs);
  b.writeBigUInt64LE(fields.execSeq ?? 1n, X.execSeq);
  b.writeUInt32LE(fields.pid ?? 4242, X.pid);
  b.writeUInt32LE(fields.tid ?? fields.pid ?? 4242, X.tid);
  b.writeUInt32LE(fields.ppid ?? 1, X.ppid);
  b.writeUInt32LE(fields.uid ?? 0, X.uid);
  b.writeInt32LE(fields.errno ?? 2, X.error);
  b.writeUInt32LE(argvList.length, X.argc);
  b.writeUInt32LE(argv.length, X.argvLen);
  b.writeUInt16LE(filename.length, X.filenameLen);
  b.writeUInt16LE(flags, X.flags);
  b.write((fields.comm ?? 'sh').slice(0, 15), X.comm);
  Buffer.concat([filename, argv]).copy(b, X.length);
  return b;
}

/** A NativeError as the addon makes them: "<operation>: <what>: <strerror>". */
export function nativeError(code: string, errno: number, operation: string, log = ''): NativeError {
  return Object.assign(new Error(`${operation}: the mock was told to fail: error ${errno}`), {
    code,
    errno,
    operation,
    log,
  });
}

export class MockTracer implements NativeTracer {
  attachKind: 'tp_btf' | 'tracepoint' = 'tp_btf';
  hostPid = process.pid;
  droppedTotal = 0;
  started = false;
  closed = false;
  paused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  #pending: Buffer[] = [];
  /** The seed open() was asked for (options.seed), handed out once by takeSeed(). */
  seed?: Buffer;
  #onBatch?: BatchCallback;
  #onError?: (error: NativeError) => void;

  /** When set, start() throws it (the addon failing to watch the ring). */
  startError?: NativeError;

  start(onBatch: BatchCallback, onError: (error: NativeError) => void): void {
    if (this.started) throw new Error('started twice');
    if (this.startError) throw this.startError;
    this.started = true;
    this.#onBatch = onBatch;
    this.#onError = onError;
  }

  /** Records written by the "kernel"; delivered as one batch unless paused. */
  push(...records: Buffer[]): void {
    if (this.closed) return;
    this.#pending.push(...records);
    if (this.started && !this.paused) this.flush();
  }

  /** Hands every pending record to the batch callback, as one batch. */
  flush(): void {
    if (!this.#onBatch) return;
    const batch = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#onBatch(batch, this.droppedTotal);
  }

  /**
   * Delivers records from a later turn of the event loop, the way the addon
   * does (not from inside the caller's stack): an exception thrown by a
   * listener then has no caller to land in.
   */
  pushLater(...records: Buffer[]): void {
    setImmediate(() => this.push(...records));
  }

  /** Makes the addon's later failure (a broken ring or poll) happen. */
  fail(error: NativeError): void {
    this.#onError?.(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#onBatch && (this.#pending.length > 0 || this.droppedTotal > 0)) this.flush();
    this.#onBatch = undefined;
    this.#onError = undefined;
  }

  dropped(): number {
    return this.droppedTotal;
  }

  pause(): void {
    this.pauseCalls++;
    this.paused = true;
  }

  resume(): void {
    this.resumeCalls++;
    this.paused = false;
    if (this.#pending.length > 0) this.flush();
  }

  takeSeed(): Buffer | undefined {
    const seed = this.seed;
    this.seed = undefined;
    return seed;
  }

  /** The filters put in force, in order (open()'s first, when it had one). */
  readonly filters: NativeFilter[] = [];
  /** What filtered() reports: [execs, exits, forks, failed execs, misses]. */
  filteredCounts = [0, 0, 0, 0, 0];
  /** When set, setFilter() throws it (the kernel refusing the filter). */
  filterError?: NativeError;

  setFilter(filter: NativeFilter): void {
    if (this.closed) throw nativeError('EBADF', 9, 'filter');
    if (this.filterError) throw this.filterError;
    this.filters.push(filter);
  }

  filtered(): number[] {
    return [...this.filteredCounts];
  }
}

export class MockBinding implements NativeBinding {
  readonly pageSize = 4096;
  bootNow = 2_000_000_000n;
  openError?: NativeError;
  /** When set, the tracers open() makes throw it from start(). */
  startError?: NativeError;
  /** When set, open() waits for it. */
  openGate?: Promise<void>;
  readonly opened: MockTracer[] = [];
  lastOptions?: NativeOpenOptions;
  /** Seed records a tracer opened with options.seed hands over. */
  seedRecords: Buffer[] = [];

  bootTimeNs(): bigint {
    return this.bootNow;
  }

  async open(options: NativeOpenOptions): Promise<NativeTracer> {
    this.lastOptions = options;
    await this.openGate;
    if (this.openError) throw this.openError;
    const tracer = new MockTracer();
    if (options.seed) tracer.seed = Buffer.concat(this.seedRecords);
    if (options.filter) tracer.filters.push(options.filter);
    if (this.startError) tracer.startError = this.startError;
    this.opened.push(tracer);
    return tracer;
  }

  /** The tracer of the latest open(). */
  get current(): MockTracer {
    const t = this.opened.at(-1);
    if (!t) throw new Error('nothing opened yet');
    return t;
  }
}
