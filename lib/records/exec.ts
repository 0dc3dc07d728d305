// SPDX-License-Identifier: MIT
//
// One exec record of a batch as an ExecEvent. Each batch is a fresh Buffer
// copied by the addon, so an event keeps a view into it instead of copying:
// the 32-bit ids are read at once (cheap), everything else on first access,
// so a listener that reads only `pid` never decodes argv, paths or BigInts.
//
// Records are in the host's byte order. They are read as little-endian: both
// architectures the addon is built for (x64, arm64) are, and choosing readers
// per event would cost more than the whole numeric decode.
import type { NamespaceName } from '../../types/binding.js';
import type { ExecEvent, ProcessInfo, ProcessTable } from '../../types/index.js';
import { containerIdFromCgroup } from '../container.js';
import type { Redactor } from '../redact.js';
import { RECORD_CLOCK, wallClock, type Clock } from './clock.js';
import { boundedBuffers, boundedStrings, readComm, readRawComm, stringBounds, u64Text } from './fields.js';
import { LAYOUT } from './layout.js';

const X = LAYOUT.exec;
const F = LAYOUT.flags;
const C = LAYOUT.contextFlags;
const W = LAYOUT.whoFlags;
const UNSET_ID = 0xffffffff;
/** The exec record before the context fields: records of an older kernel object. */
export const EXEC_LENGTH_V1 = X.comm + X.commLength;
/** Where the context fields end, and the fields of who ran it: a record whose
 * fixed part is shorter came from an older object and lacks them. */
export const CONTEXT_END = X.contextFlags + 2;
const WHO_END = X.whoFlags + 2;
/** Where the environment's fields end: a record whose fixed part is shorter
 * came from an object without the cgroup path and the environment (it left
 * cgroup_len, then a reserved field, at 0). */
export const WHERE_END = X.envLen + 4;
/** Where the image counters end: a shorter record has none (its execId is made from the exec's time). */
const IMAGE_END = X.parentExecSeq + 8;
/** Where the session and process group end: a shorter record has neither. */
const SESSION_END = X.pgid + 4;
const EMPTY = Buffer.alloc(0);
type PathIndex = 0 | 1 | 2 | 3;
const H = LAYOUT.header;

/** An exec record at `at` in `buf`, decoded on access. */
export class Exec implements ExecEvent {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly nsPid: number;
  readonly argvTruncated: boolean;
  readonly argvTotalBytes: number;
  readonly argvFault: boolean;
  readonly filenameFault: boolean;
  readonly filenameTruncated: boolean;
  readonly #buf: Buffer;
  readonly #at: number;
  readonly #filenameLen: number;
  readonly #argvLen: number;
  readonly #argc: number;
  readonly #argcUnknown: boolean;
  readonly #clock: Clock;
  readonly #envNames: ReadonlySet<string> | undefined;
  readonly #table: ProcessTable | undefined;
  readonly #redactor: Redactor | undefined;
  #processId?: string;
  #parentProcessId?: string;
  #comm?: string;
  #filename?: string;
  #bounds?: number[];
  #argv?: string[];
  #rawArgv?: Buffer[];
  #pathTexts?: string[];
  #namespaces?: Readonly<Record<NamespaceName, number>>;
  #containerId?: string | null;
  #env?: Record<string, string>;
  #rawEnv?: Buffer[];

  /**
   * `envNames`: the names an allow-list keeps, each as the latin1 string of
   * its UTF-8 bytes (how raw names are compared); undefined keeps them all.
   */
  constructor(buf: Buffer, at: number, clock: Clock, envNames?: ReadonlySet<string>, table?: ProcessTable, redactor?: Redactor) {
    this.#buf = buf;
    this.#at = at;
    this.#clock = clock;
    this.#envNames = envNames;
    this.#table = table;
    this.#redactor = redactor;
    this.pid = buf.readUInt32LE(at + X.pid);
    this.tid = buf.readUInt32LE(at + X.tid);
    this.ppid = buf.readUInt32LE(at + X.ppid);
    this.uid = buf.readUInt32LE(at + X.uid);
    this.gid = buf.readUInt32LE(at + X.gid);
    this.nsPid = buf.readUInt32LE(at + X.nsPid);
    this.argvTotalBytes = buf.readUInt32LE(at + X.argvSize);
    this.#argc = buf.readUInt32LE(at + X.argc);
    this.#argvLen = buf.readUInt32LE(at + X.argvLen);
    this.#filenameLen = buf.readUInt16LE(at + X.filenameLen);
    const flags = buf.readUInt16LE(at + X.flags);
    this.argvTruncated = (flags & F.argvTruncated) !== 0;
    this.argvFault = (flags & F.argvFault) !== 0;
    this.filenameFault = (flags & F.filenameFault) !== 0;
    this.filenameTruncated = (flags & F.filenameTruncated) !== 0;
    this.#argcUnknown = (flags & F.argcUnknown) !== 0;
  }

  // The 64-bit fields are read on access: a BigInt costs more to make than
  // all the 32-bit fields together, and most listeners read none of them.
  get bootNs(): bigint {
    return this.#buf.readBigUInt64LE(this.#at + X.bootNs);
  }

  get startBootNs(): bigint {
    return this.#buf.readBigUInt64LE(this.#at + X.startBootNs);
  }

  get parentStartBootNs(): bigint {
    return this.#buf.readBigUInt64LE(this.#at + X.parentStartBootNs);
  }

  get cgroupId(): bigint {
    return this.#buf.readBigUInt64LE(this.#at + X.cgroupId);
  }

  get comm(): string {
    this.#comm ??= readComm(this.#buf, this.#at + X.comm);
    return this.#comm;
  }

  get rawComm(): Buffer {
    return readRawComm(this.#buf, this.#at + X.comm);
  }

  get rawFilename(): Buffer {
    const start = this.#at + this.#fixedSize();
    return this.#buf.subarray(start, start + this.#filenameLen);
  }

  get filename(): string {
    if (this.#filename === undefined) {
      const start = this.#at + this.#fixedSize();
      this.#filename = this.#buf.toString('utf8', start, start + this.#filenameLen);
    }
    return this.#filename;
  }

  /** Start and end offsets in the batch of each argument, found once. */
  #argBounds(): number[] {
    if (this.#bounds === undefined) {
      const start = this.#at + this.#fixedSize() + this.#filenameLen;
      // Truncation cuts the last argument before its NUL: keep what came.
      this.#bounds = stringBounds(this.#buf, start, start + this.#argvLen);
    }
    return this.#bounds;
  }

  get rawArgv(): Buffer[] {
    if (this.#rawArgv === undefined) {
      const raw = boundedBuffers(this.#buf, this.#argBounds());
      this.#rawArgv = this.#redactor ? raw.map((arg) => this.#redactor!.bytes(arg)) : raw;
    }
    return this.#rawArgv;
  }

  get argv(): string[] {
    if (this.#redactor) return (this.#argv ??= this.rawArgv.map((arg) => arg.toString('utf8')));
    // Buffer#toString decodes straight from the batch (invalid UTF-8 becomes
    // U+FFFD, as with TextDecoder) without a view object per argument.
    this.#argv ??= boundedStrings(this.#buf, this.#argBounds());
    return this.#argv;
  }

  /** Where the context's paths begin; 0 when the record has no context fields. */
  #contextStart(): number {
    const fixed = this.#fixedSize();
    return fixed < CONTEXT_END ? 0 : this.#at + fixed + this.#filenameLen + this.#argvLen;
  }

  /** A context field of the record; 0 for a record written before it existed. */
  #u16(offset: number): number {
    return this.#fixedSize() < CONTEXT_END ? 0 : this.#buf.readUInt16LE(this.#at + offset);
  }

  /** A u32 field of the record; 0 for a record written before it existed. */
  #u32(offset: number): number {
    return this.#fixedSize() < offset + 4 ? 0 : this.#buf.readUInt32LE(this.#at + offset);
  }

  #u64(offset: number): bigint {
    return this.#fixedSize() < offset + 8 ? 0n : this.#buf.readBigUInt64LE(this.#at + offset);
  }

  #whoFlag(bit: number): boolean {
    return this.#fixedSize() >= WHO_END && (this.#buf.readUInt16LE(this.#at + X.whoFlags) & bit) !== 0;
  }

  get euid(): number {
    return this.#u32(X.euid);
  }

  get egid(): number {
    return this.#u32(X.egid);
  }

  get suid(): number {
    return this.#u32(X.suid);
  }

  get sgid(): number {
    return this.#u32(X.sgid);
  }

  get fsuid(): number {
    return this.#u32(X.fsuid);
  }

  get fsgid(): number {
    return this.#u32(X.fsgid);
  }

  get capInheritable(): bigint {
    return this.#u64(X.capInheritable);
  }

  get capPermitted(): bigint {
    return this.#u64(X.capPermitted);
  }

  get capEffective(): bigint {
    return this.#u64(X.capEffective);
  }

  get secureExec(): boolean {
    return this.#whoFlag(W.secureExec);
  }

  get loginUid(): number | undefined {
    const id = this.#u32(X.loginUid);
    return id === UNSET_ID || this.#whoFlag(W.auditUnknown) || this.#fixedSize() < WHO_END ? undefined : id;
  }

  get sessionId(): number | undefined {
    const id = this.#u32(X.sessionId);
    return id === UNSET_ID || this.#whoFlag(W.auditUnknown) || this.#fixedSize() < WHO_END ? undefined : id;
  }

  get tty(): string | undefined {
    if (!this.#whoFlag(W.tty) || this.#fixedSize() < X.tty + X.ttyLength) return undefined;
    const start = this.#at + X.tty;
    let end = this.#buf.indexOf(0, start);
    if (end < 0 || end > start + X.ttyLength) end = start + X.ttyLength;
    const name = this.#buf.toString('latin1', start, end);
    // The kernel names a pseudo-terminal "pts3"; its device is /dev/pts/3.
    const pts = /^pts(\d+)$/.exec(name);
    return pts ? `pts/${pts[1]}` : name;
  }

  get namespaces(): Readonly<Record<NamespaceName, number>> {
    if (this.#namespaces === undefined) {
      const ns = {} as Record<NamespaceName, number>;
      LAYOUT.namespaces.forEach((name, i) => (ns[name] = this.#u32(X.nsInum + 4 * i)));
      this.#namespaces = Object.freeze(ns);
    }
    return this.#namespaces;
  }

  #contextFlag(bit: number): boolean {
    return (this.#u16(X.contextFlags) & bit) !== 0;
  }

  /** The cgroup path's length: 0 for a record written before it existed. */
  #cgroupLen(): number {
    return this.#fixedSize() < WHERE_END ? 0 : this.#buf.readUInt16LE(this.#at + X.cgroupLen);
  }

  /** The bounds of the nth context path: 0 exe, 1 interpreter, 2 cwd, 3 cgroup. */
  #path(n: PathIndex): [number, number] {
    let start = this.#contextStart();
    if (start === 0) return [0, 0];
    const lengths = [this.#u16(X.exeLen), this.#u16(X.interpLen), this.#u16(X.cwdLen), this.#cgroupLen()];
    for (let i = 0; i < n; i++) start += lengths[i]!;
    return [start, start + lengths[n]!];
  }

  #pathBytes(n: PathIndex): Buffer {
    const [start, end] = this.#path(n);
    return start === end ? EMPTY : this.#buf.subarray(start, end);
  }

  /** The nth context path decoded, once. */
  #pathText(n: PathIndex): string {
    const texts = (this.#pathTexts ??= []);
    if (texts[n] === undefined) {
      const [start, end] = this.#path(n);
      texts[n] = this.#buf.toString('utf8', start, end);
    }
    return texts[n];
  }

  get rawExe(): Buffer {
    return this.#pathBytes(0);
  }

  get exe(): string {
    return this.#pathText(0);
  }

  get exeTruncated(): boolean {
    return this.#contextFlag(C.exeTruncated);
  }

  get exeInode(): bigint {
    return this.#fixedSize() < CONTEXT_END ? 0n : this.#buf.readBigUInt64LE(this.#at + X.exeIno);
  }

  get exeDevice(): number {
    if (this.#fixedSize() < CONTEXT_END) return 0;
    // The kernel's dev_t (major << 20 | minor) in stat(2)'s encoding.
    const dev = this.#buf.readUInt32LE(this.#at + X.exeDev);
    const major = dev >>> 20;
    const minor = dev & 0xfffff;
    return (minor & 0xff) + major * 0x100 + (minor - (minor & 0xff)) * 0x1000;
  }

  get exeCtimeNs(): bigint {
    return this.#fixedSize() < CONTEXT_END ? 0n : this.#buf.readBigInt64LE(this.#at + X.exeCtimeNs);
  }

  get exeMode(): number {
    return this.#u16(X.exeMode);
  }

  get exeNlink(): number {
    return this.#fixedSize() < WHERE_END ? 0 : this.#buf.readUInt32LE(this.#at + X.exeNlink);
  }

  get exeDeleted(): boolean {
    return this.#contextFlag(C.exeDeleted);
  }

  get exeMemfd(): boolean {
    return this.#contextFlag(C.exeMemfd);
  }

  get exeUpperLayer(): boolean {
    return this.#contextFlag(C.exeUpperLayer);
  }

  get rawInterpreter(): Buffer | undefined {
    return this.#contextFlag(C.interpreter) ? this.#pathBytes(1) : undefined;
  }

  get interpreter(): string | undefined {
    return this.#contextFlag(C.interpreter) ? this.#pathText(1) : undefined;
  }

  get rawCwd(): Buffer {
    return this.#pathBytes(2);
  }

  get cwd(): string {
    return this.#pathText(2);
  }

  get cwdTruncated(): boolean {
    return this.#contextFlag(C.cwdTruncated);
  }

  get rawCgroup(): Buffer {
    return this.#pathBytes(3);
  }

  get cgroup(): string {
    return this.#pathText(3);
  }

  get cgroupTruncated(): boolean {
    return this.#contextFlag(C.cgroupTruncated);
  }

  get containerId(): string | undefined {
    if (this.#containerId === undefined) this.#containerId = containerIdFromCgroup(this.cgroup) ?? null;
    return this.#containerId ?? undefined;
  }

  #envFlag(bit: number): boolean {
    return this.#fixedSize() >= WHERE_END && (this.#buf.readUInt16LE(this.#at + X.flags) & bit) !== 0;
  }

  get envTruncated(): boolean {
    return this.#envFlag(F.envTruncated);
  }

  get envFault(): boolean {
    return this.#envFlag(F.envFault);
  }

  get envTotalBytes(): number {
    return this.#envFlag(F.env) ? this.#buf.readUInt32LE(this.#at + X.envSize) : 0;
  }

  get rawEnv(): Buffer[] {
    if (this.#rawEnv === undefined) {
      const entries: Buffer[] = [];
      if (this.#envFlag(F.env)) {
        // The environment comes after the last path.
        let from = this.#path(3)[1];
        const end = from + this.#buf.readUInt32LE(this.#at + X.envLen);
        while (from < end) {
          let nul = this.#buf.indexOf(0, from);
          if (nul < 0 || nul >= end) nul = end; // cut short by envLimit
          const entry = this.#buf.subarray(from, nul);
          if (this.#keepEnv(entry)) entries.push(this.#redactor ? this.#redactor.bytes(entry) : entry);
          from = nul + 1;
        }
      }
      this.#rawEnv = entries;
    }
    return this.#rawEnv;
  }

  #keepEnv(entry: Buffer): boolean {
    if (this.#envNames === undefined) return true;
    const eq = entry.indexOf(0x3d);
    return eq > 0 && this.#envNames.has(entry.toString('latin1', 0, eq));
  }

  get env(): Record<string, string> {
    if (this.#env === undefined) {
      const env = Object.create(null) as Record<string, string>;
      for (const entry of this.rawEnv) {
        const eq = entry.indexOf(0x3d);
        if (eq <= 0) continue;
        const name = entry.toString('utf8', 0, eq);
        if (!(name in env)) env[name] = entry.toString('utf8', eq + 1);
      }
      this.#env = env;
    }
    return this.#env;
  }

  get argc(): number {
    return this.#argcUnknown ? this.#argBounds().length / 2 : this.#argc;
  }

  // A new Date per read: Dates are mutable, and a listener that changes one
  // must not change what the next listener sees.
  get time(): Date {
    return wallClock(this.bootNs, this.#clock);
  }

  get kind(): 'exec' {
    return 'exec';
  }

  get [RECORD_CLOCK](): Clock {
    return this.#clock;
  }

  // Made once (the process table and listeners may each ask), and without
  // a BigInt where the value allows (u64Text()).
  get processId(): string {
    return (this.#processId ??= `${this.pid}:${u64Text(this.#buf, this.#at + X.startBootNs)}`);
  }

  get parentProcessId(): string {
    return (this.#parentProcessId ??= `${this.ppid}:${u64Text(this.#buf, this.#at + X.parentStartBootNs)}`);
  }

  get execId(): string {
    if (this.#fixedSize() < IMAGE_END) return `${this.processId}:@${this.bootNs}`;
    return `${this.processId}:${u64Text(this.#buf, this.#at + X.execSeq)}`;
  }

  get parentExecId(): string | undefined {
    if (this.#fixedSize() < IMAGE_END) return undefined;
    return `${this.parentProcessId}:${u64Text(this.#buf, this.#at + X.parentExecSeq)}`;
  }

  get sid(): number {
    return this.#fixedSize() < SESSION_END ? 0 : this.#buf.readUInt32LE(this.#at + X.sid);
  }

  get pgid(): number {
    return this.#fixedSize() < SESSION_END ? 0 : this.#buf.readUInt32LE(this.#at + X.pgid);
  }

  get parent(): ProcessInfo | undefined {
    return this.#table?.byProcessId(this.parentProcessId);
  }

  ancestors(): ProcessInfo[] {
    const parent = this.parent;
    return parent === undefined ? [] : [parent, ...parent.ancestors()];
  }

  #fixedSize(): number {
    return this.#buf.readUInt16LE(this.#at + H.fixedSize);
  }

  /** What console.log and JSON.stringify show: the fields, not the buffer. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind, pid: this.pid, tid: this.tid, ppid: this.ppid, uid: this.uid, gid: this.gid, nsPid: this.nsPid,
      comm: this.comm, filename: this.filename, argv: this.argv, argc: this.argc,
      argvTruncated: this.argvTruncated, argvTotalBytes: this.argvTotalBytes, argvFault: this.argvFault,
      filenameFault: this.filenameFault, filenameTruncated: this.filenameTruncated,
      cgroupId: String(this.cgroupId), bootNs: String(this.bootNs),
      time: this.time.toISOString(), startBootNs: String(this.startBootNs),
      parentStartBootNs: String(this.parentStartBootNs), processId: this.processId,
      parentProcessId: this.parentProcessId, execId: this.execId, parentExecId: this.parentExecId,
      exe: this.exe, exeTruncated: this.exeTruncated, exeInode: String(this.exeInode), exeDevice: this.exeDevice,
      exeCtimeNs: String(this.exeCtimeNs), exeMode: this.exeMode, exeNlink: this.exeNlink, exeDeleted: this.exeDeleted,
      exeMemfd: this.exeMemfd, exeUpperLayer: this.exeUpperLayer, interpreter: this.interpreter,
      cwd: this.cwd, cwdTruncated: this.cwdTruncated,
      euid: this.euid, egid: this.egid, suid: this.suid, sgid: this.sgid, fsuid: this.fsuid, fsgid: this.fsgid,
      capEffective: String(this.capEffective), capPermitted: String(this.capPermitted),
      capInheritable: String(this.capInheritable), secureExec: this.secureExec,
      loginUid: this.loginUid, sessionId: this.sessionId, sid: this.sid, pgid: this.pgid, tty: this.tty, namespaces: this.namespaces,
      cgroup: this.cgroup, cgroupTruncated: this.cgroupTruncated, containerId: this.containerId,
      env: this.env, envTruncated: this.envTruncated, envTotalBytes: this.envTotalBytes, envFault: this.envFault,
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}
