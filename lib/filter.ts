// SPDX-License-Identifier: MIT
//
// The public ExecFilter, checked in two steps: validateFilter() judges its
// shape when the options are (synchronously, nothing looked up), and
// compileFilter() looks up what it names (cgroup paths, processes) when it
// is applied, since those may come and go in between.
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { NativeFilter } from '../types/binding.js';
import type { ExecFilter, ExecFilterKeys } from '../types/index.js';
import { ExecTracerError } from './errors.js';
import { LAYOUT, type RecordLayout } from './records/layout.js';
import { INITIAL_PID_NAMESPACE, ownPidNamespace, pidNamespaceError } from './pid-namespace.js';
import { show } from './show.js';

/**
 * A filter whose shape was checked (nothing looked up yet), frozen: the
 * shape of ExecFilter with the user's values, in copies of the user's lists.
 * Keys given as `undefined` are left out, and so is an `exclude` with no
 * key. It is itself a valid ExecFilter, so validating it again works.
 * compileFilter() trusts it: pass it only what validateFilter() returned.
 */
export interface ValidFilter extends Readonly<Omit<ExecFilter, 'exclude'>> {
  readonly exclude?: Readonly<ExecFilterKeys>;
}

/**
 * How many values each list key takes at most (per side: `exclude` has its
 * own). Sized so the kernel maps (bpf/filter.bpf.h) hold the largest filter
 * twice over, the one in force beside the one replacing it: ids (uids,
 * gids, euids, pidNamespaces, cgroups) 5 kinds × 2 sides × 256 × 2 of the
 * 8192 id slots, comms 256 × 2 × 2 = 1024, prefixes (exe and filename)
 * 64 × 2 × 2 × 2 = 512, and descendantsOf 64 × 2 + excludeSelf of the 256
 * roots (one generation: roots only seed it). test/unit/layout.test.ts
 * checks these sums against the map sizes in the built object's BTF.
 */
export const FILTER_LIMITS = { ids: 256, comms: 256, cgroups: 256, prefixes: 64, descendantsOf: 64 } as const;

/** The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit). */
const PID_MAX = 4_194_304;
/** 4294967295 is (uid_t)-1, "no id": no process has it. */
const ID_MAX = 4_294_967_294;
const U32_MAX = 4_294_967_295;
const U64_MAX = (1n << 64n) - 1n;
/**
 * Nanoseconds per clock tick of /proc/<pid>/stat: USER_HZ is 100 on
 * Linux, and the kernel divides the start time by this (rounding down).
 */
const NS_PER_TICK = 10_000_000n;
const PROCESS_ID = /^(\d+):(\d+)$/;

type ListKey = keyof ExecFilterKeys;
type Kind = 'uid' | 'gid' | 'euid' | 'pidNamespace' | 'comm' | 'cgroup' | 'filenamePrefix' | 'exePrefix' | 'descendant';

/** What a list key holds: its kernel kind, its limit, and the check of one value (`where` names it). */
interface ListSpec {
  kind: Kind;
  limit: number;
  check(value: unknown, where: string, layout: RecordLayout): void;
}

function integer(min: number, max: number): (value: unknown, where: string) => void {
  return (value, where) => {
    const message = `${where} must be an integer between ${min} and ${max}, got ${show(value)}`;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(message);
    if (value < min || value > max) throw new RangeError(message);
  };
}

/** A string the kernel compares byte by byte: not empty, no NUL (it ends a C string), at most `max` bytes. */
function text(value: unknown, where: string, what: string, max: number, why: string): void {
  if (typeof value !== 'string') throw new TypeError(`${where} must be ${what} (a string), got ${show(value)}`);
  if (value === '') throw new TypeError(`${where} must not be empty`);
  if (value.includes('\0')) throw new TypeError(`${where} must not contain a NUL byte`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > max) throw new RangeError(`${where} is ${bytes} bytes in UTF-8 (${show(value)}); ${why}`);
}

function prefix(value: unknown, where: string, layout: RecordLayout): void {
  const max = layout.filter.prefixMax;
  text(value, where, 'a path prefix', max, `the kernel compares at most ${max} bytes of a path prefix`);
}

function cgroup(value: unknown, where: string): void {
  if (typeof value === 'string') {
    if (value === '') throw new TypeError(`${where} must not be empty`);
    if (value.includes('\0')) throw new TypeError(`${where} must not contain a NUL byte`);
    // A path is looked up under the cgroup2 mount: '..' could leave it.
    if (value.split('/').includes('..')) throw new TypeError(`${where} must not contain '..', got ${show(value)}`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`${where} must be an integer cgroup id, got ${value}`);
    if (value < 1 || value > Number.MAX_SAFE_INTEGER)
      throw new RangeError(
        `${where} must be a cgroup id between 1 and ${Number.MAX_SAFE_INTEGER} (a bigint beyond), got ${value}`,
      );
    return;
  }
  if (typeof value === 'bigint') {
    if (value < 1n || value > U64_MAX) throw new RangeError(`${where} must be a cgroup id between 1n and ${U64_MAX}n, got ${value}n`);
    return;
  }
  throw new TypeError(`${where} must be a cgroup path (a string) or id (a number or a bigint), got ${show(value)}`);
}

function descendant(value: unknown, where: string): void {
  if (typeof value === 'number') {
    integer(1, PID_MAX)(value, where);
    return;
  }
  const m = typeof value === 'string' ? PROCESS_ID.exec(value) : null;
  if (m === null)
    throw new TypeError(`${where} must be a pid or a processId ("<pid>:<startBootNs>"), got ${show(value)}`);
  const pid = Number(m[1]);
  if (pid < 1 || pid > PID_MAX) throw new RangeError(`${where} must have a pid between 1 and ${PID_MAX}, got ${show(value)}`);
  // 0 would tell the kernel "whichever process has the pid".
  const start = BigInt(m[2]!);
  if (start < 1n || start > U64_MAX)
    throw new RangeError(`${where} must have a startBootNs between 1 and ${U64_MAX}, got ${show(value)}`);
}

const LISTS: Record<ListKey, ListSpec> = {
  uids: { kind: 'uid', limit: FILTER_LIMITS.ids, check: integer(0, ID_MAX) },
  gids: { kind: 'gid', limit: FILTER_LIMITS.ids, check: integer(0, ID_MAX) },
  euids: { kind: 'euid', limit: FILTER_LIMITS.ids, check: integer(0, ID_MAX) },
  comms: {
    kind: 'comm',
    limit: FILTER_LIMITS.comms,
    check(value, where, layout) {
      const max = layout.filter.commMax;
      text(value, where, 'a task name', max, `the kernel keeps ${max} bytes of a task name, so a longer one could never match`);
    },
  },
  exePrefixes: {
    kind: 'exePrefix',
    limit: FILTER_LIMITS.prefixes,
    check(value, where, layout) {
      prefix(value, where, layout);
      if (!(value as string).startsWith('/'))
        throw new TypeError(`${where} must be an absolute path (the exe path always is), got ${show(value)}`);
    },
  },
  filenamePrefixes: { kind: 'filenamePrefix', limit: FILTER_LIMITS.prefixes, check: prefix },
  cgroups: { kind: 'cgroup', limit: FILTER_LIMITS.cgroups, check: cgroup },
  pidNamespaces: { kind: 'pidNamespace', limit: FILTER_LIMITS.ids, check: integer(1, U32_MAX) },
  descendantsOf: { kind: 'descendant', limit: FILTER_LIMITS.descendantsOf, check: descendant },
};
const LIST_KEYS = Object.keys(LISTS) as ListKey[];
const FLAG_KEYS = ['containersOnly', 'hostOnly', 'excludeSelf'] as const;
const FILTER_KEYS = new Set<string>([...LIST_KEYS, ...FLAG_KEYS, 'exclude']);
const EXCLUDE_KEYS = new Set<string>(LIST_KEYS);

function record(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${name} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

/** The list keys of `o` (named `name`), checked and copied into `out`. */
function lists(o: Record<string, unknown>, name: string, exclude: boolean, layout: RecordLayout, out: Record<string, unknown>): void {
  for (const key of LIST_KEYS) {
    const list = o[key];
    if (list === undefined) continue;
    const at = `${name}.${key}`;
    if (!Array.isArray(list)) throw new TypeError(`${at} must be an array, got ${show(list)}`);
    if (list.length === 0)
      throw new RangeError(
        exclude
          ? `${at} is an empty list: omit the key to exclude nothing by it`
          : `${at} is an empty list, which would match nothing: omit the key to not filter by it`,
      );
    const { limit, check } = LISTS[key];
    if (list.length > limit) throw new RangeError(`${at} has ${list.length} values; at most ${limit}`);
    // Indexed, not mapped: a hole is a value too (undefined), and is refused.
    const copy: unknown[] = [];
    for (let i = 0; i < list.length; i++) {
      check(list[i], `${at}[${i}]`, layout);
      copy.push(list[i]);
    }
    out[key] = Object.freeze(copy);
  }
}

/**
 * Checks a filter's shape synchronously; `name` is how errors name it
 * (`'options.filter'` or `'filter'`). Returns undefined for undefined.
 * Throws a TypeError (a wrong type, an unknown key) or a RangeError (an
 * empty or too long list, a value out of range) naming the exact key and
 * index, e.g. `options.filter.uids[2] must be an integer between 0 and
 * 4294967294, got -1`.
 */
export function validateFilter(value: unknown, name: string, layout: RecordLayout = LAYOUT): ValidFilter | undefined {
  if (value === undefined) return undefined;
  const o = record(value, name);
  for (const key of Object.keys(o)) {
    if (!FILTER_KEYS.has(key)) throw new TypeError(`${name}.${key} is not a filter key (known: ${[...FILTER_KEYS].join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  lists(o, name, false, layout, out);
  for (const key of FLAG_KEYS) {
    const on = o[key];
    if (on === undefined) continue;
    if (typeof on !== 'boolean') throw new TypeError(`${name}.${key} must be a boolean, got ${show(on)}`);
    out[key] = on;
  }
  if (o.containersOnly === true && o.hostOnly === true)
    throw new TypeError(
      `${name}.containersOnly and ${name}.hostOnly contradict each other: a process is in the host's pid namespace or it is not`,
    );
  if (o.exclude !== undefined) {
    const e = record(o.exclude, `${name}.exclude`);
    for (const key of Object.keys(e)) {
      if (!EXCLUDE_KEYS.has(key))
        throw new TypeError(`${name}.exclude.${key} is not a key of exclude (known: ${[...EXCLUDE_KEYS].join(', ')})`);
    }
    const exclude: Record<string, unknown> = {};
    lists(e, `${name}.exclude`, true, layout, exclude);
    if (Object.keys(exclude).length > 0) out.exclude = Object.freeze(exclude);
  }
  return Object.freeze(out) as ValidFilter;
}

/** What resolving a filter needs from the host: injectable for unit tests. */
export interface FilterHost {
  /** The cgroup v2 mount point (from /proc/self/mountinfo, fstype cgroup2), or undefined if none. */
  cgroupRoot(): string | undefined;
  /** The inode number (= cgroup id) of a directory, or undefined if it does not exist / is not a directory. */
  directoryInode(path: string): bigint | undefined;
  /** The start time of a live process in clock ticks (field 22 of /proc/<pid>/stat), or undefined if no such process. */
  processStartTicks(pid: number): bigint | undefined;
  /** This process's pid namespace (inode number), or undefined if /proc does not show it. */
  pidNamespace(): number | undefined;
}

/**
 * The pid a compiled filter names the tracer itself by (excludeSelf): the
 * addon puts its host pid there, which only the kernel knows inside a pid
 * namespace. No process has pid 0.
 */
export const SELF_PID = 0;

/**
 * The mount point of the first cgroup2 mount in `mountinfo` (the text of
 * /proc/self/mountinfo), or undefined if there is none.
 */
export function cgroup2MountPoint(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    // Optional fields come before ' - ', so the fstype is found from it.
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const mountPoint = line.slice(0, separator).split(' ')[4];
    const fstype = line.slice(separator + 3).split(' ')[0];
    // The kernel writes space, tab, newline and backslash as \ooo.
    if (fstype === 'cgroup2' && mountPoint !== undefined)
      return mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  }
  return undefined;
}

/** The real host: reads /proc and the filesystem synchronously. */
export const HOST: FilterHost = {
  cgroupRoot() {
    try {
      return cgroup2MountPoint(readFileSync('/proc/self/mountinfo', 'utf8'));
    } catch {
      return undefined;
    }
  },
  directoryInode(path) {
    try {
      const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
      return stats?.isDirectory() ? stats.ino : undefined;
    } catch {
      // ENOTDIR, EACCES: no cgroup this process can name there.
      return undefined;
    }
  },
  processStartTicks(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The task name (field 2, in parentheses) may hold spaces and ')':
      // the fields after the last ')' start at field 3.
      const close = stat.lastIndexOf(')');
      if (close < 0) return undefined;
      const ticks = stat.slice(close + 2).split(' ')[19];
      return ticks !== undefined && /^\d+$/.test(ticks) ? BigInt(ticks) : undefined;
    } catch {
      return undefined;
    }
  },
  pidNamespace: ownPidNamespace,
};

type Entry = NativeFilter['entries'][number];

function filterError(where: string, message: string, hint: string): ExecTracerError {
  return new ExecTracerError('EFILTER', `exec-tracer: ${where}: ${message}`, { operation: 'filter', hint });
}

const PROCESS_HINT =
  'descendantsOf names processes that are running when the filter is applied: list a live pid or processId';

/**
 * Looks up what the filter names (cgroup paths, processes) and compiles it
 * for the kernel, identical entries once. Throws an ExecTracerError with
 * code 'EFILTER' (operation 'filter') naming the key and index, e.g.
 * `exec-tracer: filter.cgroups[0]: no cgroup at /sys/fs/cgroup/nope` or
 * `exec-tracer: filter.descendantsOf[1]: no process has pid 99999`;
 * with code 'EPIDNAMESPACE' for descendantsOf when this process is not in
 * the host's pid namespace.
 */
export function compileFilter(filter: ValidFilter, layout: RecordLayout = LAYOUT, host: FilterHost = HOST): NativeFilter {
  const f = layout.filter;
  let flags = 0;
  if (filter.containersOnly) flags |= f.containersOnly;
  if (filter.hostOnly) flags |= f.hostOnly;

  const entries = new Map<string, Entry>();
  const add = (entry: Entry): void => {
    const [kind, side, value, start] = entry;
    const key = `${kind} ${side} ${Buffer.isBuffer(value) ? value.toString('hex') : String(value)} ${start ?? ''}`;
    if (!entries.has(key)) entries.set(key, entry);
  };
  // Looked up once, and only if a cgroup is named by path.
  let root: string | undefined | null = null;

  const compile = (keys: Readonly<ExecFilterKeys>, side: number, name: string): void => {
    for (const key of LIST_KEYS) {
      const kind = f[LISTS[key].kind];
      const values: readonly unknown[] = keys[key] ?? [];
      for (const [i, value] of values.entries()) {
        const where = `${name}.${key}[${i}]`;
        switch (key) {
          case 'comms':
          case 'exePrefixes':
          case 'filenamePrefixes':
            add([kind, side, Buffer.from(value as string, 'utf8')]);
            break;
          case 'cgroups':
            add([kind, side, cgroupId(value as string | number | bigint, where)]);
            break;
          case 'descendantsOf':
            add([kind, side, ...liveProcess(value as number | string, where)]);
            break;
          default:
            add([kind, side, value as number]);
        }
      }
    }
  };

  const cgroupId = (value: string | number | bigint, where: string): bigint => {
    if (typeof value !== 'string') return BigInt(value);
    if (root === null) root = host.cgroupRoot();
    if (root === undefined)
      throw filterError(
        where,
        'no cgroup v2 hierarchy is mounted',
        'mount one (mount -t cgroup2 none /sys/fs/cgroup), or list the cgroup by id (event.cgroupId)',
      );
    // A path under the mount is taken as is; any other is relative to the
    // hierarchy's root, as event.cgroup shows it. Normalized (no '.', no
    // trailing '/') so the error names the directory plainly.
    const path = value === root || value.startsWith(`${root}/`) ? value : posix.join(root, value);
    const dir = posix.normalize(path).replace(/(.)\/+$/, '$1');
    const id = host.directoryInode(dir);
    if (id === undefined)
      throw filterError(
        where,
        `no cgroup at ${dir}`,
        `list a cgroup that exists when the filter is applied: a path as event.cgroup shows it (relative to ${root}), a path under ${root}, or an id (event.cgroupId)`,
      );
    return id;
  };

  const liveProcess = (value: number | string, where: string): [pid: number, startBootNs: bigint] => {
    if (typeof value === 'number') {
      if (host.processStartTicks(value) === undefined) throw filterError(where, `no process has pid ${value}`, PROCESS_HINT);
      return [value, 0n];
    }
    const [, pid, start] = PROCESS_ID.exec(value)!;
    const startBootNs = BigInt(start!);
    // /proc gives the start in ticks: a pid whose start falls in the same
    // tick is the process the processId names (a pid is not reused that fast).
    const ticks = host.processStartTicks(Number(pid));
    if (ticks !== startBootNs / NS_PER_TICK)
      throw filterError(
        where,
        `no live process has processId ${value}: pid ${pid} ${ticks === undefined ? 'has exited' : 'is now another process'}`,
        PROCESS_HINT,
      );
    return [Number(pid), startBootNs];
  };

  // Before anything is looked up by pid: /proc/<pid> would name another process.
  if (filter.descendantsOf !== undefined || filter.exclude?.descendantsOf !== undefined) {
    const ns = host.pidNamespace();
    if (ns !== INITIAL_PID_NAMESPACE)
      throw pidNamespaceError(
        `${filter.descendantsOf !== undefined ? 'filter' : 'filter.exclude'}.descendantsOf`,
        'the kernel knows processes by their host pids, while the pids and /proc this process sees are its ' +
          "namespace's, so a listed pid could name another process (excludeSelf, cgroups and pidNamespaces work in any namespace)",
        ns,
        'filter',
      );
  }
  compile(filter, f.include, 'filter');
  if (filter.exclude) compile(filter.exclude, f.exclude, 'filter.exclude');
  if (filter.excludeSelf) add([f.descendant, f.exclude, SELF_PID, 0n]);
  return { flags, entries: [...entries.values()] };
}

/**
 * Whether the filter needs the kernel to follow processes through forks
 * (descendantsOf, excludeSelf, exePrefixes, filenamePrefixes, on either
 * side): that needs the BTF fork tracepoint.
 */
export function filterFollows(filter: ValidFilter): boolean {
  const follows = (keys: Readonly<ExecFilterKeys> | undefined): boolean =>
    keys?.descendantsOf !== undefined || keys?.exePrefixes !== undefined || keys?.filenamePrefixes !== undefined;
  return filter.excludeSelf === true || follows(filter) || follows(filter.exclude);
}
