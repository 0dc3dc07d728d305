// SPDX-License-Identifier: MIT
//
// The tracer where a container without hostPID puts it: in its own pid
// namespace (and mount namespace, with that namespace's /proc), made with
// unshare(1). Events still carry host pids; excludeSelf leaves out the
// tracer by its host pid; what cannot be exact there (descendantsOf by pid,
// the process table) is refused with EPIDNAMESPACE. docs/agent.md says
// the same to users.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsEntryArgs } from '../helpers/ts-entry.js';
import { kernel, patience, root, run, uniqueTag } from './kernel.js';

const driver = join(root, 'test', 'fixtures', 'ns-tracer.ts');

/** A new pid namespace with its own /proc (a container), or one that keeps the host's /proc mounted. */
const NAMESPACES = {
  'own /proc': ['--pid', '--fork', '--kill-child', '--mount', '--mount-proc'],
  "host's /proc": ['--pid', '--fork', '--kill-child'],
} as const;

interface Ready {
  pid: number;
  hostPid: number;
  pidNamespace: string;
  processes: number | null;
}
interface Seen {
  kind: 'exec' | 'exit';
  pid: number;
  nsPid?: number;
  ppid?: number;
  argv?: string[];
}
interface Outcome {
  ready?: Ready;
  error?: { code?: string; message: string };
  events: Seen[];
  /** The pid of the test's own exec outside the namespace. */
  outsidePid?: number;
  /** /proc/<ready.hostPid>/ns/pid as this (host) process reads it while the driver runs. */
  hostPidNamespace?: string;
}

/**
 * Runs the driver under `unshare ARGS` with tracer `options`; once it is
 * tracing, runs `/bin/true TAG-outside` here, in the host's namespaces.
 * `sibling`: the namespace's first process is a shell that also runs
 * `/bin/true TAG-sibling` in a loop, so the tracer is neither pid 1 nor
 * the ancestor of every process in its namespace.
 */
async function traceInNamespace(args: readonly string[], options: object, tag: string, sibling = false): Promise<Outcome> {
  const command = [process.execPath, ...tsEntryArgs(driver), JSON.stringify(options), tag];
  const shell = `(while :; do /bin/true ${tag}-sibling; sleep 0.05; done) & "$@"; kill $!`;
  const proc = spawn('unshare', [...args, ...(sibling ? ['sh', '-c', shell, 'sh'] : []), ...command], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  let buffered = '';
  let wake: (() => void) | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    wake?.();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  const line = async (): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + patience(20_000);
    while (lines.length === 0) {
      const code = await Promise.race([
        exited.then((c) => ({ c })),
        new Promise<undefined>((resolve) => {
          wake = () => resolve(undefined);
          setTimeout(() => resolve(undefined), 200);
        }),
      ]);
      if (lines.length > 0) break;
      if (code !== undefined) throw new Error(`unshare ${args.join(' ')} ended (${code.c}) without a line: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no line from the driver within ${patience(20)} s: ${stderr}`);
    }
    return JSON.parse(lines.shift()!) as Record<string, unknown>;
  };
  try {
    const first = await line();
    if (first.error) return { error: first.error as Outcome['error'], events: [] };
    const ready = first.ready as Ready;
    const hostPidNamespace = readlinkSync(`/proc/${ready.hostPid}/ns/pid`);
    const outside = await run('/bin/true', [`${tag}-outside`]);
    expect(outside.code).toBe(0);
    const outsidePid = outside.pid;
    proc.stdin!.write('stop\n');
    const last = await line();
    return { ready, events: (last.events as Seen[]) ?? [], outsidePid, hostPidNamespace };
  } finally {
    proc.kill();
    await exited;
  }
}

const only = (events: Seen[], kind: string, arg: string): Seen[] =>
  events.filter((e) => e.kind === kind && e.argv?.includes(arg));

describe.skipIf(!kernel)('the tracer in a pid namespace of its own (a container without hostPID)', () => {
  describe.each(Object.entries(NAMESPACES))('with %s', (_, args) => {
    it('reports host pids and the in-namespace nsPid, and knows its own host pid', async () => {
      const tag = uniqueTag('nspids');
      const out = await traceInNamespace(args, {}, tag);
      expect(out.error).toBeUndefined();
      const ready = out.ready!;
      // The first process of the namespace, which the host knows by another pid.
      expect(ready.pid).toBe(1);
      expect(ready.hostPid).not.toBe(1);
      expect(ready.pidNamespace).not.toBe(readlinkSync('/proc/self/ns/pid'));
      // The host's /proc names the tracer by hostPid, in that namespace.
      expect(out.hostPidNamespace).toBe(ready.pidNamespace);

      const [inside] = only(out.events, 'exec', `${tag}-inside`);
      expect(inside, JSON.stringify(out.events)).toBeDefined();
      // Its parent is the tracer, by its host pid; its own pid is the host's
      // (nsPid is the namespace's: small, the tracer being 1).
      expect(inside!.ppid).toBe(ready.hostPid);
      expect(inside!.nsPid).toBeGreaterThan(1);
      expect(inside!.nsPid).toBeLessThan(inside!.pid);
      expect(out.events.filter((e) => e.kind === 'exit' && e.pid === inside!.pid)).toHaveLength(1);

      const [outside] = only(out.events, 'exec', `${tag}-outside`);
      expect(outside, JSON.stringify(out.events)).toBeDefined();
      expect(outside!.pid).toBe(out.outsidePid);
      expect(outside!.nsPid).toBe(out.outsidePid);
      expect(outside!.ppid).toBe(process.pid);
    });

    it('excludeSelf leaves out the tracer and its children, by its host pid, and nothing else', async () => {
      const tag = uniqueTag('nsself');
      const out = await traceInNamespace(args, { filter: { excludeSelf: true } }, tag, true);
      expect(out.error).toBeUndefined();
      // Not the namespace's first process: process.pid names a host kernel
      // thread (2, 3...) as a host pid, and excluded no process at all.
      expect(out.ready!.pid).toBeGreaterThan(1);
      expect(out.ready!.hostPid).not.toBe(out.ready!.pid);
      // Its own child is left out...
      expect(only(out.events, 'exec', `${tag}-inside`)).toEqual([]);
      // ...and neither its sibling in the namespace nor the host's processes.
      const siblings = out.events.filter((e) => e.kind === 'exec' && e.argv?.includes(`${tag}-sibling`));
      expect(siblings.length).toBeGreaterThan(0);
      for (const e of siblings) expect(e.nsPid).toBeLessThan(e.pid);
      expect(only(out.events, 'exec', `${tag}-outside`).map((e) => e.pid)).toEqual([out.outsidePid]);
    });

    it.each([
      ['processTable', { processTable: true }, 'processTable'],
      ['descendantsOf', { filter: { descendantsOf: [1] } }, 'filter.descendantsOf'],
      ['exclude.descendantsOf', { filter: { exclude: { descendantsOf: [1] } } }, 'filter.exclude.descendantsOf'],
    ])('refuses %s with EPIDNAMESPACE, saying to run in the host pid namespace', async (_, options, key) => {
      const out = await traceInNamespace(args, options, uniqueTag('nsrefuse'));
      expect(out.ready).toBeUndefined();
      expect(out.error?.code, JSON.stringify(out)).toBe('EPIDNAMESPACE');
      expect(out.error?.message).toContain(`exec-tracer: ${key} needs the host's pid namespace`);
      expect(out.error?.message).toContain('hostPID: true');
    });
  });

  it("keeps processTable and descendantsOf in the host's pid namespace", async () => {
    // The same driver without unshare: what is refused above works here.
    const tag = uniqueTag('hostns');
    const out = await traceInNamespace(['--'], { processTable: true, filter: { descendantsOf: [process.pid] } }, tag);
    expect(out.error).toBeUndefined();
    expect(out.ready!.hostPid).toBe(out.ready!.pid);
    expect(out.ready!.processes).toBeGreaterThan(1);
    // The driver descends from this process: its child is in the subtree.
    expect(only(out.events, 'exec', `${tag}-inside`)).toHaveLength(1);
  });
});
