// SPDX-License-Identifier: MIT
//
// The record layout the decoders read, derived from bpf/exec_tracer.h and
// never written down here: the build reads the compiled BPF object's BTF into
// ./layout.generated.ts (scripts/btf-layout.cjs), and this module gives it
// the shape lib/ uses, by one rule: a C name camel-cased is the JS name
// (`argv_len` is `argvLen`, `ET_CTX_EXE_DELETED` is `exeDeleted`).
// test/unit/layout.test.ts holds it against the object and the host compiler.
import type { NamespaceName } from '../../types/binding.js';
import { BTF_LAYOUT } from './layout.generated.js';

type Structs = typeof BTF_LAYOUT.structs;
type Enums = typeof BTF_LAYOUT.enums;
type Struct = {
  readonly size: number;
  readonly members: { readonly [name: string]: { readonly offset: number; readonly size: number; readonly elements?: number } };
};

/** snake_case to camelCase, as a type: 'argv_len' -> 'argvLen'. */
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** A record: each member's byte offset; each array's byte length as `<name>Length`; `length` (sizeof). */
type Offsets<S extends Struct> = {
  -readonly [K in keyof S['members'] & string as K extends 'hdr' ? never : Camel<K>]: number;
} & {
  -readonly [K in keyof S['members'] & string as S['members'][K] extends { readonly elements: number } ? `${Camel<K>}Length` : never]: number;
} & { length: number };

/** An enum's values, by the enumerator's name after `P`, camel-cased: ET_EXEC_ARGV_FAULT -> argvFault. */
type Values<E, P extends string> = {
  -readonly [K in keyof E & string as K extends `${P}${infer Rest}` ? Camel<Lowercase<Rest>> : never]: number;
};

/** Byte offsets and sizes of the ring-buffer records, and the constants lib/ needs, as bpf/exec_tracer.h defines them. */
export interface RecordLayout {
  header: Offsets<Structs['et_record_header']>;
  exec: Offsets<Structs['et_exec_record']> & { type: number };
  /** struct et_exit_record: the end of a process. */
  exit: Offsets<Structs['et_exit_record']> & { type: number };
  /** struct et_fork_record: a new process. */
  fork: Offsets<Structs['et_fork_record']> & { type: number };
  /** struct et_task_record: a live process at start (the seed; never in the ring), and its flag bits. */
  task: Offsets<Structs['et_task_record']> & { type: number } & Values<Enums['et_task_flags'], 'ET_TASK_'>;
  /** struct et_exec_failed_record: an exec that returned an error, and its flag bits. */
  execFailed: Offsets<Structs['et_exec_failed_record']> & { type: number } & Values<Enums['et_failed_flags'], 'ET_FAILED_'>;
  /** Bits of an exec record's `flags` (enum et_exec_flags). */
  flags: Values<Enums['et_exec_flags'], 'ET_EXEC_'>;
  /** Bits of `context` (enum et_context): the parts a record carries. */
  context: Values<Enums['et_context'], 'ET_CONTEXT_'>;
  /** Bits of `context_flags` (enum et_context_flags). */
  contextFlags: Values<Enums['et_context_flags'], 'ET_CTX_'>;
  /** Bits of `who_flags` (enum et_who_flags). */
  whoFlags: Values<Enums['et_who_flags'], 'ET_WHO_'>;
  /** The namespaces of ns_inum[], in its order (enum et_namespace). */
  namespaces: NamespaceName[];
  /**
   * Longest stored exec filename plus its NUL, in bytes: PATH_MAX and room
   * for the `/dev/fd/<dirfd>/` the kernel puts before a path relative to a dirfd.
   */
  filenameMax: number;
  /** Longest stored path plus its NUL (PATH_MAX), in bytes. */
  pathMax: number;
  /** Steps of a path walk (components and mount crossings) before it is cut. */
  pathDepth: number;
  /** Levels of the cgroup tree a cgroup path keeps before it is cut. */
  cgroupDepth: number;
  /** Upper bound accepted for `argvLimit`, in bytes. */
  argvLimitMax: number;
  /** Upper bound accepted for `envLimit`, in bytes. */
  envLimitMax: number;
  /** The kernel filter's kinds, sides and flags, and its limits. */
  filter: Values<Enums['et_filter_kind'] & Enums['et_filter_side'] & Enums['et_filter_flags'], 'ET_FILTER_'> & {
    /** Bytes of a path prefix the kernel compares. */
    prefixMax: number;
    /** Bytes of a task name (comm) the kernel keeps, without its NUL. */
    commMax: number;
  };
}

// The namespace names of enum et_namespace must be the public NamespaceName,
// both ways: a namespace added to one and not the other fails to compile.
type BtfNamespace = Exclude<keyof Values<Enums['et_namespace'], 'ET_NS_'>, 'count'>;
const sameNamespaces: [BtfNamespace, NamespaceName] extends [NamespaceName, BtfNamespace] ? true : never = true;
void sameNamespaces;

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Merges named numbers into one object, refusing a name twice (two C names meaning one JS name). */
function merge(into: Record<string, number>, from: Record<string, number>, where: string): Record<string, number> {
  for (const [name, value] of Object.entries(from)) {
    if (name in into) throw new Error(`exec-tracer: layout.generated.ts: two values named ${where}.${name}`);
    into[name] = value;
  }
  return into;
}

function offsets(struct: Struct, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, member] of Object.entries(struct.members)) {
    if (name === 'hdr') continue; // laid out by LAYOUT.header
    merge(out, { [camel(name)]: member.offset }, where);
    if (member.elements !== undefined) merge(out, { [`${camel(name)}Length`]: member.size }, where);
  }
  return merge(out, { length: struct.size }, where);
}

function values(values: Readonly<Record<string, number>>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name.startsWith(prefix)) out[camel(name.slice(prefix.length).toLowerCase())] = value;
  }
  return out;
}

const S = BTF_LAYOUT.structs;
const E = BTF_LAYOUT.enums;
const TYPES = E.et_record_type;

function record(struct: Struct, type: number, where: string): Record<string, number> {
  return merge(offsets(struct, where), { type }, where);
}

/** Byte offsets of the ring-buffer records, as laid out by bpf/exec_tracer.h. */
export const LAYOUT = {
  header: offsets(S.et_record_header, 'header'),
  exec: record(S.et_exec_record, TYPES.ET_RECORD_EXEC, 'exec'),
  exit: record(S.et_exit_record, TYPES.ET_RECORD_EXIT, 'exit'),
  fork: record(S.et_fork_record, TYPES.ET_RECORD_FORK, 'fork'),
  task: merge(record(S.et_task_record, TYPES.ET_RECORD_TASK, 'task'), values(E.et_task_flags, 'ET_TASK_'), 'task'),
  execFailed: merge(
    record(S.et_exec_failed_record, TYPES.ET_RECORD_EXEC_FAILED, 'execFailed'),
    values(E.et_failed_flags, 'ET_FAILED_'),
    'execFailed',
  ),
  flags: values(E.et_exec_flags, 'ET_EXEC_'),
  context: values(E.et_context, 'ET_CONTEXT_'),
  contextFlags: values(E.et_context_flags, 'ET_CTX_'),
  whoFlags: values(E.et_who_flags, 'ET_WHO_'),
  namespaces: Object.entries(E.et_namespace)
    .filter(([name]) => name !== 'ET_NS_COUNT')
    .sort(([, a], [, b]) => a - b)
    .map(([name]) => name.slice('ET_NS_'.length).toLowerCase()),
  ...values(E.et_limits, 'ET_'),
  filter: merge(
    merge(values(E.et_filter_kind, 'ET_FILTER_'), values(E.et_filter_side, 'ET_FILTER_'), 'filter'),
    merge(values(E.et_filter_flags, 'ET_FILTER_'), {
      prefixMax: S.et_filter_prefix_key.members.path.size - 1,
      commMax: S.et_filter_comm_key.members.comm.size - 1,
    }, 'filter'),
    'filter',
  ),
} as unknown as RecordLayout;
