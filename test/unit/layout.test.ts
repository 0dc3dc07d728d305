// SPDX-License-Identifier: MIT
//
// The record layout is written once, in bpf/exec_tracer.h; the build reads it
// from the compiled object's BTF into lib/records/layout.generated.ts, and
// LAYOUT is derived from that. Three readings of the header must agree: the
// generated file, the built object's BTF read again now, and what the host
// compiler makes of the header (offsetof/sizeof in a program compiled here).
// Needs the build (npm run build:native) and a C compiler; no root, no kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BTF_LAYOUT } from '../../lib/records/layout.generated.js';
import { FILTER_LIMITS } from '../../lib/filter.js';
import { LAYOUT } from '../../lib/records/layout.js';
import { root } from '../helpers/process.js';

interface Layout {
  structs: Record<string, { size: number; members: Record<string, { offset: number; size: number; elements?: number }> }>;
  enums: Record<string, Record<string, number>>;
}
const { readLayout } = createRequire(import.meta.url)('../../scripts/btf-layout.cjs') as {
  readLayout(object: string): Layout;
};

const object = join(root, 'build', 'exec_tracer.bpf.o');
const scratch = mkdtempSync(join(tmpdir(), 'exec-tracer-layout-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What the host compiler says of every struct member, struct and enumerator `layout` names, by "struct.member" etc. */
function hostCompiler(layout: Layout): Map<string, number> {
  const lines = [
    '#include <linux/types.h>',
    '#include <stddef.h>',
    '#include <stdio.h>',
    '#include "exec_tracer.h"',
    'int main(void)',
    '{',
  ];
  for (const [struct, { members }] of Object.entries(layout.structs)) {
    lines.push(`\tprintf("${struct} size %zu\\n", sizeof(struct ${struct}));`);
    for (const member of Object.keys(members)) {
      lines.push(`\tprintf("${struct}.${member} offset %zu\\n", offsetof(struct ${struct}, ${member}));`);
      lines.push(`\tprintf("${struct}.${member} size %zu\\n", sizeof(((struct ${struct} *)0)->${member}));`);
    }
  }
  for (const [name, values] of Object.entries(layout.enums)) {
    for (const value of Object.keys(values)) lines.push(`\tprintf("${name}.${value} value %lld\\n", (long long)${value});`);
  }
  lines.push('\treturn 0;', '}', '');
  const source = join(scratch, 'layout.c');
  const program = join(scratch, 'layout');
  writeFileSync(source, lines.join('\n'));
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Werror', '-I', join(root, 'bpf'), source, '-o', program]);
  const out = new Map<string, number>();
  for (const line of execFileSync(program, { encoding: 'utf8' }).trim().split('\n')) {
    const [name, what, value] = line.split(' ');
    out.set(`${name} ${what}`, Number(value));
  }
  return out;
}

/** The same facts as hostCompiler() gives, from a layout read from BTF. */
function facts(layout: Layout): Map<string, number> {
  const out = new Map<string, number>();
  for (const [struct, { size, members }] of Object.entries(layout.structs)) {
    out.set(`${struct} size`, size);
    for (const [member, m] of Object.entries(members)) {
      out.set(`${struct}.${member} offset`, m.offset);
      out.set(`${struct}.${member} size`, m.size);
    }
  }
  for (const [name, values] of Object.entries(layout.enums)) {
    for (const [value, v] of Object.entries(values)) out.set(`${name}.${value} value`, v);
  }
  return out;
}

/** Every fact on which `b` differs from `a`, or that one of them lacks, as a sentence naming it. */
function differences(a: Map<string, number>, aName: string, b: Map<string, number>, bName: string): string[] {
  const out: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(key) !== b.get(key)) out.push(`${key}: ${a.get(key) ?? 'missing'} in ${aName}, ${b.get(key) ?? 'missing'} from ${bName}`);
  }
  return out;
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe('the record layout', () => {
  const fromObject = existsSync(object) ? readLayout(object) : undefined;

  it('is built: the BPF object exists', () => {
    expect(fromObject, `${object} is missing: run npm run build:native`).toBeDefined();
  });

  it('is generated from the built object: layout.generated.ts says what its BTF says', () => {
    expect(differences(facts(fromObject!), "the object's BTF", facts(BTF_LAYOUT as unknown as Layout), 'layout.generated.ts')).toEqual([]);
  });

  it("is the host compiler's: every offset, size and value in the object's BTF is what offsetof() and sizeof() give", () => {
    const host = hostCompiler(fromObject!);
    expect(differences(facts(fromObject!), "the object's BTF", host, 'the host compiler')).toEqual([]);
    // Every record type and every constant lib/ reads is there to compare.
    for (const struct of ['et_record_header', 'et_exec_record', 'et_exit_record', 'et_fork_record', 'et_task_record', 'et_exec_failed_record'])
      expect(Object.keys(fromObject!.structs)).toContain(struct);
  });

  it('gives LAYOUT each record member at its offset under its camel-cased name, and each record its type and length', () => {
    const host = hostCompiler(fromObject!);
    const records = {
      header: ['et_record_header', undefined],
      exec: ['et_exec_record', 'ET_RECORD_EXEC'],
      exit: ['et_exit_record', 'ET_RECORD_EXIT'],
      fork: ['et_fork_record', 'ET_RECORD_FORK'],
      task: ['et_task_record', 'ET_RECORD_TASK'],
      execFailed: ['et_exec_failed_record', 'ET_RECORD_EXEC_FAILED'],
    } as const;
    const wrong: string[] = [];
    const check = (where: string, actual: unknown, fact: string) => {
      if (actual !== host.get(fact)) wrong.push(`LAYOUT.${where} is ${String(actual)}, ${fact} is ${host.get(fact)} from the host compiler`);
    };
    for (const [key, [struct, type]] of Object.entries(records)) {
      const fields = LAYOUT[key as keyof typeof records] as Record<string, number>;
      for (const [member, m] of Object.entries(fromObject!.structs[struct]!.members)) {
        if (member === 'hdr') continue;
        check(`${key}.${camel(member)}`, fields[camel(member)], `${struct}.${member} offset`);
        if (m.elements !== undefined) check(`${key}.${camel(member)}Length`, fields[`${camel(member)}Length`], `${struct}.${member} size`);
      }
      check(`${key}.length`, fields.length, `${struct} size`);
      if (type) check(`${key}.type`, fields.type, `et_record_type.${type} value`);
    }
    expect(wrong).toEqual([]);
  });

  it('gives LAYOUT the flag bits, kinds and limits of the enums, by the enumerator name camel-cased', () => {
    const host = hostCompiler(fromObject!);
    const value = (name: string) => host.get(`${Object.keys(fromObject!.enums).find((e) => fromObject!.enums[e]![name] !== undefined)}.${name} value`);
    expect(LAYOUT.flags.filenameTruncated).toBe(value('ET_EXEC_FILENAME_TRUNCATED'));
    expect(LAYOUT.task.kernelThread).toBe(value('ET_TASK_KERNEL_THREAD'));
    expect(LAYOUT.execFailed.execveat).toBe(value('ET_FAILED_EXECVEAT'));
    expect(LAYOUT.context.interpreter).toBe(value('ET_CONTEXT_INTERPRETER'));
    expect(LAYOUT.contextFlags.exeDeleted).toBe(value('ET_CTX_EXE_DELETED'));
    expect(LAYOUT.whoFlags.tty).toBe(value('ET_WHO_TTY'));
    expect(LAYOUT.filter.pidNamespace).toBe(value('ET_FILTER_PID_NAMESPACE'));
    expect(LAYOUT.filter.exclude).toBe(value('ET_FILTER_EXCLUDE'));
    expect(LAYOUT.filter.hostOnly).toBe(value('ET_FILTER_HOST_ONLY'));
    expect(LAYOUT.filenameMax).toBe(value('ET_FILENAME_MAX'));
    expect(LAYOUT.argvLimitMax).toBe(value('ET_ARGV_LIMIT_MAX'));
    expect(LAYOUT.filter.prefixMax).toBe(host.get('et_filter_prefix_key.path size')! - 1);
    expect(LAYOUT.filter.commMax).toBe(host.get('et_filter_comm_key.comm size')! - 1);
    // ns_inum[] in enum et_namespace order, as ExecEvent.namespaces names them.
    expect(LAYOUT.namespaces.map((name) => value(`ET_NS_${name.toUpperCase()}`))).toEqual(LAYOUT.namespaces.map((_, i) => i));
    expect(LAYOUT.namespaces).toHaveLength(value('ET_NS_COUNT')!);
    // Nothing the derivation produced is missing or not a number.
    const leaves = (o: object): unknown[] => Object.values(o).flatMap((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v) : [v]));
    expect(leaves({ ...LAYOUT, namespaces: undefined }).filter((v) => v !== undefined && typeof v !== 'number')).toEqual([]);
  });
});

/** Each map's max_entries, as the object's BTF declares it (`__uint(max_entries, N)` is an array of N). */
function mapSizes(): Map<string, number> {
  type BtfType = { id: number; kind: string; name?: string; type_id?: number; nr_elems?: number; members?: { name: string; type_id: number }[] };
  const { types } = JSON.parse(execFileSync('bpftool', ['btf', 'dump', 'file', object, '-j'], { encoding: 'utf8' })) as { types: BtfType[] };
  const byId = new Map(types.map((t) => [t.id, t]));
  const sizes = new Map<string, number>();
  for (const v of types.filter((t) => t.kind === 'VAR')) {
    const field = byId.get(v.type_id!)?.members?.find((m) => m.name === 'max_entries');
    const array = field && byId.get(byId.get(field.type_id)?.type_id ?? -1);
    if (array?.kind === 'ARRAY') sizes.set(v.name!, array.nr_elems!);
  }
  return sizes;
}

describe("the filter's capacities against the kernel's maps", () => {
  it('hold the largest filter twice over, the one in force beside the one replacing it', () => {
    const maps = mapSizes();
    const L = FILTER_LIMITS;
    const sides = 2;
    const generations = 2;
    // uids, gids, euids and pidNamespaces take `ids` each, cgroups its own.
    expect((4 * L.ids + L.cgroups) * sides * generations).toBeLessThanOrEqual(maps.get('filter_ids')!);
    expect(L.comms * sides * generations).toBeLessThanOrEqual(maps.get('filter_comms')!);
    // exePrefixes and filenamePrefixes.
    expect(2 * L.prefixes * sides * generations).toBeLessThanOrEqual(maps.get('filter_prefixes')!);
    // Roots only seed the tracked set: one generation, plus excludeSelf's.
    expect(L.descendantsOf * sides + 1).toBeLessThanOrEqual(maps.get('filter_roots')!);
  });
});
