// SPDX-License-Identifier: MIT
//
// Reads the shipped systemd unit (examples/deploy/exec-tracer.service) the
// way systemd does for the few settings the tests act out: sections, Key=
// lines, comments. What the tests run is taken from the unit itself, so a
// change to the unit changes what is tested.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './process.js';

/** The shipped unit. */
export const UNIT_FILE = join(root, 'examples', 'deploy', 'exec-tracer.service');

export interface SystemdUnit {
  /** The value of KEY in SECTION (the last one given, as systemd takes it for single-valued keys). */
  get(section: string, key: string): string | undefined;
  /** Every value of KEY in SECTION, in order (list-valued keys). */
  all(section: string, key: string): string[];
  /** The keys SECTION sets, each once, in order. */
  keys(section: string): string[];
}

/** Parses a unit file's text; anything this reader does not handle (a continued line, quoting) is an error. */
export function parseUnit(text: string): SystemdUnit {
  const entries: { section: string; key: string; value: string }[] = [];
  let section = '';
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) throw new Error(`unit line ${i + 1}: continued lines are not read here`);
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!entry || section === '') throw new Error(`unit line ${i + 1}: not a Key=value in a section: ${raw}`);
    entries.push({ section, key: entry[1]!, value: entry[2]!.trim() });
  }
  const all = (s: string, k: string) => entries.filter((e) => e.section === s && e.key === k).map((e) => e.value);
  const keys = (s: string) => [...new Set(entries.filter((e) => e.section === s).map((e) => e.key))];
  return { all, keys, get: (s, k) => all(s, k).at(-1) };
}

/** The shipped unit, parsed. */
export function shippedUnit(): SystemdUnit {
  return parseUnit(readFileSync(UNIT_FILE, 'utf8'));
}

/** A space-separated capability list (`CAP_BPF CAP_PERFMON`) as setpriv names them (`bpf`, `perfmon`). */
export function capabilityNames(value: string | undefined): string[] {
  if (value === undefined) throw new Error('no capability list in the unit');
  return value.split(/\s+/).filter((c) => c !== '').map((c) => {
    if (!/^CAP_[A-Z_]+$/.test(c)) throw new Error(`not a capability name: ${c}`);
    return c.slice(4).toLowerCase();
  });
}

/** ExecStart's program and arguments (no quoting or specifiers are used in the unit; either is an error). */
export function execStart(unit: SystemdUnit): { program: string; args: string[] } {
  const value = unit.get('Service', 'ExecStart');
  if (value === undefined) throw new Error('the unit has no ExecStart');
  if (/["'%$\\]/.test(value)) throw new Error(`ExecStart uses quoting or specifiers this reader does not expand: ${value}`);
  const [program, ...args] = value.split(/\s+/);
  return { program: program!, args };
}
