// SPDX-License-Identifier: MIT
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ExecTracerError } from '../../lib/errors.js';
import {
  cgroup2MountPoint,
  compileFilter,
  FILTER_LIMITS,
  filterFollows,
  HOST,
  SELF_PID,
  validateFilter,
  type FilterHost,
  type ValidFilter,
} from '../../lib/filter.js';
import { INITIAL_PID_NAMESPACE } from '../../lib/pid-namespace.js';
import { LAYOUT } from '../../lib/records/layout.js';

const F = LAYOUT.filter;
const IN = F.include;
const EX = F.exclude;

/** A host with a cgroup2 mount at /sys/fs/cgroup, a few cgroups and processes 100 and 200. */
function fakeHost(overrides: Partial<FilterHost> = {}): FilterHost {
  const dirs = new Map([
    ['/sys/fs/cgroup', 1n],
    ['/sys/fs/cgroup/system.slice', 50n],
    ['/sys/fs/cgroup/system.slice/docker-ab.scope', 77n],
  ]);
  const ticks = new Map([
    [100, 12_345n],
    [200, 500n],
  ]);
  return {
    cgroupRoot: () => '/sys/fs/cgroup',
    directoryInode: (path) => dirs.get(path),
    processStartTicks: (pid) => ticks.get(pid),
    pidNamespace: () => 4026531836,
    ...overrides,
  };
}

const valid = (filter: unknown): ValidFilter => validateFilter(filter, 'filter')!;
const compile = (filter: unknown, host = fakeHost()) => compileFilter(valid(filter), LAYOUT, host);
const bytes = (s: string) => Buffer.from(s, 'utf8');

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('validateFilter', () => {
  it('returns undefined for undefined', () => {
    expect(validateFilter(undefined, 'options.filter')).toBeUndefined();
  });

  it('returns a frozen copy of the user values, without undefined keys or an empty exclude', () => {
    const uids = [0, 1000];
    const result = valid({ uids, comms: undefined, excludeSelf: false, exclude: { gids: [5], uids: undefined } });
    expect(result).toEqual({ uids: [0, 1000], excludeSelf: false, exclude: { gids: [5] } });
    expect(Object.keys(result)).toEqual(['uids', 'excludeSelf', 'exclude']);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.uids)).toBe(true);
    expect(Object.isFrozen(result.exclude)).toBe(true);
    expect(Object.isFrozen(result.exclude!.gids)).toBe(true);
    uids.push(7);
    expect(result.uids).toEqual([0, 1000]);
    expect(valid({ exclude: {} })).toEqual({});
    expect(valid({ exclude: undefined })).toEqual({});
  });

  it('accepts its own output again', () => {
    const filter = {
      uids: [0], gids: [1], euids: [2], comms: ['sh'], exePrefixes: ['/usr/'], filenamePrefixes: ['./'],
      cgroups: ['/system.slice', 5, 6n], pidNamespaces: [4026531836], descendantsOf: [1, '1:5'],
      containersOnly: true, hostOnly: false, excludeSelf: true, exclude: { comms: ['bash'], descendantsOf: [2] },
    };
    const once = valid(filter);
    expect(once).toEqual(filter);
    expect(valid(once)).toEqual(once);
  });

  it('accepts the boundaries', () => {
    expect(() =>
      valid({
        uids: [0, 4294967294], pidNamespaces: [1, 4294967295], comms: ['a'.repeat(15), 'éééééééa'],
        exePrefixes: ['/', `/${'x'.repeat(251)}`], filenamePrefixes: ['x'.repeat(252)],
        cgroups: [1, Number.MAX_SAFE_INTEGER, 1n, (1n << 64n) - 1n, '/', 'a'],
        descendantsOf: [1, 4194304, '4194304:18446744073709551615', '1:1'],
      }),
    ).not.toThrow();
    const full = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
    expect(() =>
      valid({
        uids: full(FILTER_LIMITS.ids, (i) => i), comms: full(FILTER_LIMITS.comms, (i) => `c${i}`),
        cgroups: full(FILTER_LIMITS.cgroups, (i) => i + 1), exePrefixes: full(FILTER_LIMITS.prefixes, (i) => `/${i}`),
        descendantsOf: full(FILTER_LIMITS.descendantsOf, (i) => i + 1),
        exclude: { pidNamespaces: full(FILTER_LIMITS.ids, (i) => i + 1) },
      }),
    ).not.toThrow();
  });

  const many = (n: number, value: unknown) => Array.from({ length: n }, () => value);

  it.each([
    // The filter itself
    [null, TypeError, 'filter must be an object, got null'],
    [[], TypeError, 'filter must be an object, got an array'],
    [7, TypeError, 'filter must be an object, got 7'],
    [{ uid: [0] }, TypeError, /^filter\.uid is not a filter key \(known: uids, gids, euids, comms, .*descendantsOf, containersOnly, hostOnly, excludeSelf, exclude\)$/],
    // A list's shape
    [{ uids: 0 }, TypeError, 'filter.uids must be an array, got 0'],
    [{ comms: 'sh' }, TypeError, 'filter.comms must be an array, got "sh"'],
    [{ uids: [] }, RangeError, 'filter.uids is an empty list, which would match nothing: omit the key to not filter by it'],
    [{ exclude: { comms: [] } }, RangeError, /^filter\.exclude\.comms is an empty list.*: omit the key to exclude nothing by it$/],
    [{ gids: many(257, 1) }, RangeError, 'filter.gids has 257 values; at most 256'],
    [{ comms: many(300, 'sh') }, RangeError, 'filter.comms has 300 values; at most 256'],
    [{ cgroups: many(257, 1) }, RangeError, 'filter.cgroups has 257 values; at most 256'],
    [{ exePrefixes: many(65, '/') }, RangeError, 'filter.exePrefixes has 65 values; at most 64'],
    [{ exclude: { filenamePrefixes: many(65, 'a') } }, RangeError, 'filter.exclude.filenamePrefixes has 65 values; at most 64'],
    [{ descendantsOf: many(65, 1) }, RangeError, 'filter.descendantsOf has 65 values; at most 64'],
    [{ pidNamespaces: many(257, 1) }, RangeError, 'filter.pidNamespaces has 257 values; at most 256'],
    // Ids
    [{ uids: [0, 1, -1] }, RangeError, 'filter.uids[2] must be an integer between 0 and 4294967294, got -1'],
    [{ euids: [4294967295] }, RangeError, 'filter.euids[0] must be an integer between 0 and 4294967294, got 4294967295'],
    [{ gids: [1.5] }, TypeError, 'filter.gids[0] must be an integer between 0 and 4294967294, got 1.5'],
    [{ uids: ['0'] }, TypeError, 'filter.uids[0] must be an integer between 0 and 4294967294, got "0"'],
    [{ uids: [0n] }, TypeError, 'filter.uids[0] must be an integer between 0 and 4294967294, got 0n'],
    [{ uids: [1, , 2] }, TypeError, 'filter.uids[1] must be an integer between 0 and 4294967294, got undefined'],
    [{ pidNamespaces: [0] }, RangeError, 'filter.pidNamespaces[0] must be an integer between 1 and 4294967295, got 0'],
    [{ pidNamespaces: [2 ** 32] }, RangeError, 'filter.pidNamespaces[0] must be an integer between 1 and 4294967295, got 4294967296'],
    // Task names
    [{ comms: [1] }, TypeError, 'filter.comms[0] must be a task name (a string), got 1'],
    [{ comms: ['sh', ''] }, TypeError, 'filter.comms[1] must not be empty'],
    [{ comms: ['a\0b'] }, TypeError, 'filter.comms[0] must not contain a NUL byte'],
    [{ comms: ['a'.repeat(16)] }, RangeError, /^filter\.comms\[0\] is 16 bytes in UTF-8 .*the kernel keeps 15 bytes of a task name, so a longer one could never match$/],
    [{ comms: ['ééééééééé'] }, RangeError, 'filter.comms[0] is 18 bytes in UTF-8 ("ééééééééé"); the kernel keeps 15 bytes'],
    // Path prefixes
    [{ exePrefixes: ['usr/bin/'] }, TypeError, 'filter.exePrefixes[0] must be an absolute path (the exe path always is), got "usr/bin/"'],
    [{ exePrefixes: [''] }, TypeError, 'filter.exePrefixes[0] must not be empty'],
    [{ exePrefixes: ['/bin\0'] }, TypeError, 'filter.exePrefixes[0] must not contain a NUL byte'],
    [{ exePrefixes: [`/${'é'.repeat(126)}`] }, RangeError, /^filter\.exePrefixes\[0\] is 253 bytes in UTF-8 .*at most 252 bytes of a path prefix$/],
    [{ filenamePrefixes: [/bin/] }, TypeError, 'filter.filenamePrefixes[0] must be a path prefix (a string), got an object'],
    [{ exclude: { filenamePrefixes: ['x'.repeat(253)] } }, RangeError, /^filter\.exclude\.filenamePrefixes\[0\] is 253 bytes/],
    // Cgroups
    [{ cgroups: ['/system.slice/../x'] }, TypeError, `filter.cgroups[0] must not contain '..', got "/system.slice/../x"`],
    [{ cgroups: ['..'] }, TypeError, `filter.cgroups[0] must not contain '..'`],
    [{ cgroups: [''] }, TypeError, 'filter.cgroups[0] must not be empty'],
    [{ cgroups: ['a\0'] }, TypeError, 'filter.cgroups[0] must not contain a NUL byte'],
    [{ cgroups: [0] }, RangeError, 'filter.cgroups[0] must be a cgroup id between 1 and 9007199254740991 (a bigint beyond), got 0'],
    [{ cgroups: [2 ** 53] }, RangeError, 'filter.cgroups[0] must be a cgroup id between 1 and 9007199254740991'],
    [{ cgroups: [1.5] }, TypeError, 'filter.cgroups[0] must be an integer cgroup id, got 1.5'],
    [{ cgroups: [1n << 64n] }, RangeError, 'filter.cgroups[0] must be a cgroup id between 1n and 18446744073709551615n, got 18446744073709551616n'],
    [{ cgroups: [0n] }, RangeError, 'filter.cgroups[0] must be a cgroup id between 1n'],
    [{ cgroups: [true] }, TypeError, 'filter.cgroups[0] must be a cgroup path (a string) or id (a number or a bigint), got true'],
    // Processes
    [{ descendantsOf: [0] }, RangeError, 'filter.descendantsOf[0] must be an integer between 1 and 4194304, got 0'],
    [{ descendantsOf: [4194305] }, RangeError, 'filter.descendantsOf[0] must be an integer between 1 and 4194304, got 4194305'],
    [{ descendantsOf: [1.5] }, TypeError, 'filter.descendantsOf[0] must be an integer between 1 and 4194304, got 1.5'],
    [{ descendantsOf: [1, '12'] }, TypeError, 'filter.descendantsOf[1] must be a pid or a processId ("<pid>:<startBootNs>"), got "12"'],
    [{ descendantsOf: ['12:34:5'] }, TypeError, 'filter.descendantsOf[0] must be a pid or a processId'],
    [{ descendantsOf: ['-1:5'] }, TypeError, 'filter.descendantsOf[0] must be a pid or a processId'],
    [{ descendantsOf: [12n] }, TypeError, 'filter.descendantsOf[0] must be a pid or a processId ("<pid>:<startBootNs>"), got 12n'],
    [{ descendantsOf: ['0:5'] }, RangeError, 'filter.descendantsOf[0] must have a pid between 1 and 4194304, got "0:5"'],
    [{ descendantsOf: ['4194305:5'] }, RangeError, 'filter.descendantsOf[0] must have a pid between 1 and 4194304'],
    [{ descendantsOf: ['5:0'] }, RangeError, 'filter.descendantsOf[0] must have a startBootNs between 1 and 18446744073709551615, got "5:0"'],
    [{ descendantsOf: ['5:18446744073709551616'] }, RangeError, 'filter.descendantsOf[0] must have a startBootNs between 1'],
    // Flags
    [{ containersOnly: 'yes' }, TypeError, 'filter.containersOnly must be a boolean, got "yes"'],
    [{ hostOnly: 1 }, TypeError, 'filter.hostOnly must be a boolean, got 1'],
    [{ excludeSelf: null }, TypeError, 'filter.excludeSelf must be a boolean, got null'],
    [{ containersOnly: true, hostOnly: true }, TypeError, /^filter\.containersOnly and filter\.hostOnly contradict each other/],
    // Exclude
    [{ exclude: [] }, TypeError, 'filter.exclude must be an object, got an array'],
    [{ exclude: null }, TypeError, 'filter.exclude must be an object, got null'],
    [{ exclude: { containersOnly: true } }, TypeError, /^filter\.exclude\.containersOnly is not a key of exclude \(known: uids, gids, euids, comms, exePrefixes, filenamePrefixes, cgroups, pidNamespaces, descendantsOf\)$/],
    [{ exclude: { excludeSelf: true } }, TypeError, 'filter.exclude.excludeSelf is not a key of exclude'],
    [{ exclude: { exclude: {} } }, TypeError, 'filter.exclude.exclude is not a key of exclude'],
    [{ exclude: { uids: [1, 2, -3] } }, RangeError, 'filter.exclude.uids[2] must be an integer between 0 and 4294967294, got -3'],
    [{ exclude: { cgroups: ['a/../b'] } }, TypeError, `filter.exclude.cgroups[0] must not contain '..'`],
  ])('rejects %o', (filter, type, message) => {
    const check = () => validateFilter(filter, 'filter');
    expect(check).toThrow(type);
    expect(check).toThrow(message);
  });

  it('names the filter as the caller does', () => {
    expect(() => validateFilter({ uids: [0, 1, -1] }, 'options.filter')).toThrow(
      'options.filter.uids[2] must be an integer between 0 and 4294967294, got -1',
    );
    expect(() => validateFilter({ exclude: { comms: ['sh', 7] } }, 'options.filter')).toThrow(
      'options.filter.exclude.comms[1] must be a task name',
    );
  });

  it("takes its byte limits from the layout", () => {
    const layout = { ...LAYOUT, filter: { ...LAYOUT.filter, commMax: 3, prefixMax: 4 } };
    expect(() => validateFilter({ comms: ['abc'], exePrefixes: ['/abc'] }, 'filter', layout)).not.toThrow();
    expect(() => validateFilter({ comms: ['abcd'] }, 'filter', layout)).toThrow('the kernel keeps 3 bytes of a task name');
    expect(() => validateFilter({ filenamePrefixes: ['abcde'] }, 'filter', layout)).toThrow('at most 4 bytes');
  });
});

describe('compileFilter', () => {
  it('compiles no keys to no filter', () => {
    expect(compile({})).toEqual({ flags: 0, entries: [] });
    expect(compile({ containersOnly: false, hostOnly: false, excludeSelf: false, exclude: {} })).toEqual({ flags: 0, entries: [] });
  });

  it('compiles every key to its kind, with the include side', () => {
    const filter = {
      uids: [0, 1000], gids: [100], euids: [0], comms: ['sh', 'é'], exePrefixes: ['/usr/bin/'], filenamePrefixes: ['./'],
      cgroups: [5, 6n, '/system.slice'], pidNamespaces: [4026531836], descendantsOf: [100, '200:5000000000'],
    };
    expect(compile(filter)).toEqual({
      flags: 0,
      entries: [
        [F.uid, IN, 0], [F.uid, IN, 1000],
        [F.gid, IN, 100],
        [F.euid, IN, 0],
        [F.comm, IN, bytes('sh')], [F.comm, IN, Buffer.from([0xc3, 0xa9])],
        [F.exePrefix, IN, bytes('/usr/bin/')],
        [F.filenamePrefix, IN, bytes('./')],
        [F.cgroup, IN, 5n], [F.cgroup, IN, 6n], [F.cgroup, IN, 50n],
        [F.pidNamespace, IN, 4026531836],
        [F.descendant, IN, 100, 0n], [F.descendant, IN, 200, 5_000_000_000n],
      ],
    });
    // The layout's numbers, as bpf/exec_tracer.h has them.
    expect([F.uid, F.gid, F.euid, F.pidNamespace, F.comm, F.cgroup, F.filenamePrefix, F.exePrefix, F.descendant]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('compiles the keys of exclude with the exclude side, after the included ones', () => {
    const result = compile({
      comms: ['make'],
      exclude: {
        uids: [0], gids: [1], euids: [2], comms: ['sh'], exePrefixes: ['/bin/'], filenamePrefixes: ['/tmp/'],
        cgroups: ['system.slice/docker-ab.scope'], pidNamespaces: [9], descendantsOf: [100],
      },
    });
    expect(result.entries).toEqual([
      [F.comm, IN, bytes('make')],
      [F.uid, EX, 0],
      [F.gid, EX, 1],
      [F.euid, EX, 2],
      [F.comm, EX, bytes('sh')],
      [F.exePrefix, EX, bytes('/bin/')],
      [F.filenamePrefix, EX, bytes('/tmp/')],
      [F.cgroup, EX, 77n],
      [F.pidNamespace, EX, 9],
      [F.descendant, EX, 100, 0n],
    ]);
  });

  it('keeps each identical entry once, on each side', () => {
    const result = compile({
      uids: [0, 0, 1, 0],
      comms: ['sh', 'sh'],
      // One cgroup by number, bigint and path (id 50).
      cgroups: [50, 50n, '/system.slice', 'system.slice', '/sys/fs/cgroup/system.slice'],
      descendantsOf: [100, 100, '200:5000000000', '200:5000000000', 200],
      exclude: { uids: [0, 0], comms: ['sh'] },
    });
    expect(result.entries).toEqual([
      [F.uid, IN, 0], [F.uid, IN, 1],
      [F.comm, IN, bytes('sh')],
      [F.cgroup, IN, 50n],
      [F.descendant, IN, 100, 0n], [F.descendant, IN, 200, 5_000_000_000n], [F.descendant, IN, 200, 0n],
      [F.uid, EX, 0],
      [F.comm, EX, bytes('sh')],
    ]);
  });

  it('sets the flags', () => {
    expect(compile({ containersOnly: true }).flags).toBe(F.containersOnly);
    expect(compile({ hostOnly: true }).flags).toBe(F.hostOnly);
    expect(compile({ containersOnly: true, hostOnly: false }).flags).toBe(1);
    expect(compile({ hostOnly: true, containersOnly: false }).flags).toBe(2);
  });

  it('excludes this process as a root of descent, with any start, by the pid the addon knows it by', () => {
    // Pid 0: the addon puts the tracer's host pid there (process.pid is
    // another number in a pid namespace).
    expect(SELF_PID).toBe(0);
    expect(compile({ excludeSelf: true })).toEqual({ flags: 0, entries: [[F.descendant, EX, SELF_PID, 0n]] });
    expect(compile({ excludeSelf: true, descendantsOf: [4242] }, fakeHost({ processStartTicks: () => 1n })).entries).toEqual([
      [F.descendant, IN, 4242, 0n],
      [F.descendant, EX, SELF_PID, 0n],
    ]);
    // excludeSelf works in any pid namespace: nothing is looked up for it.
    const elsewhere = fakeHost({ pidNamespace: () => 4026532174, processStartTicks: () => undefined });
    expect(compile({ excludeSelf: true }, elsewhere).entries).toEqual([[F.descendant, EX, SELF_PID, 0n]]);
  });

  it.each([
    [{ descendantsOf: [100] }, 4026532174, 'filter.descendantsOf', "in pid namespace 4026532174, not the host's (4026531836)"],
    [{ exclude: { descendantsOf: [100] } }, 4026532174, 'filter.exclude.descendantsOf', 'in pid namespace 4026532174'],
    [{ descendantsOf: ['100:123450000000'] }, undefined, 'filter.descendantsOf', '/proc/self/ns/pid is unreadable'],
  ])('refuses descendantsOf outside the host pid namespace: %j in %s', (filter, ns, key, where) => {
    const e = thrown(() => compile(filter, fakeHost({ pidNamespace: () => ns })));
    expect(e).toBeInstanceOf(ExecTracerError);
    expect(e).toMatchObject({ code: 'EPIDNAMESPACE', operation: 'filter' });
    expect((e as Error).message).toContain(`exec-tracer: ${key} needs the host's pid namespace`);
    expect((e as Error).message).toContain(where);
    expect((e as ExecTracerError).hint).toMatch(/hostPID: true.*--pid=host/);
  });

  it('leaves the validated filter as it was', () => {
    const filter = valid({ comms: ['sh'], cgroups: ['/system.slice'] });
    compileFilter(filter, LAYOUT, fakeHost());
    expect(filter).toEqual({ comms: ['sh'], cgroups: ['/system.slice'] });
  });
});

describe('compileFilter: cgroups', () => {
  const cgroupOf = (path: string, host = fakeHost()) => compile({ cgroups: [path] }, host).entries[0]![2];

  it('finds a path under the mount, an event.cgroup path and a relative one', () => {
    expect(cgroupOf('/sys/fs/cgroup/system.slice/docker-ab.scope')).toBe(77n);
    expect(cgroupOf('/system.slice/docker-ab.scope')).toBe(77n);
    expect(cgroupOf('system.slice/docker-ab.scope')).toBe(77n);
    expect(cgroupOf('/system.slice/./docker-ab.scope/')).toBe(77n);
    expect(cgroupOf('/sys/fs/cgroup')).toBe(1n);
    expect(cgroupOf('/')).toBe(1n);
  });

  it('tries a path outside the mount below it', () => {
    const tried: string[] = [];
    const host = fakeHost({ directoryInode: (path) => (tried.push(path), undefined) });
    expect(() => cgroupOf('/sys/fs/cgroupx/a', host)).toThrow(ExecTracerError);
    expect(tried).toEqual(['/sys/fs/cgroup/sys/fs/cgroupx/a']);
  });

  it('uses ids as they are, without looking for the mount', () => {
    const cgroupRoot = vi.fn(() => undefined);
    expect(compile({ cgroups: [9, 10n] }, fakeHost({ cgroupRoot })).entries).toEqual([
      [F.cgroup, IN, 9n],
      [F.cgroup, IN, 10n],
    ]);
    expect(cgroupRoot).not.toHaveBeenCalled();
  });

  it('looks for the mount once per compile', () => {
    const cgroupRoot = vi.fn(() => '/sys/fs/cgroup');
    compile({ cgroups: ['/system.slice', 'system.slice/docker-ab.scope'], exclude: { cgroups: ['/'] } }, fakeHost({ cgroupRoot }));
    expect(cgroupRoot).toHaveBeenCalledTimes(1);
  });

  it('names the key, the index and the directory of a missing cgroup', () => {
    const error = thrown(() => compile({ cgroups: ['/system.slice', '/nope'] }));
    expect(error).toBeInstanceOf(ExecTracerError);
    expect(error).toMatchObject({ code: 'EFILTER', operation: 'filter' });
    expect((error as ExecTracerError).message).toMatch(/^exec-tracer: filter\.cgroups\[1\]: no cgroup at \/sys\/fs\/cgroup\/nope\nhint: /);
    expect((error as ExecTracerError).hint).toMatch(/exists when the filter is applied/);
    expect(() => compile({ exclude: { cgroups: ['gone.scope'] } })).toThrow(
      'exec-tracer: filter.exclude.cgroups[0]: no cgroup at /sys/fs/cgroup/gone.scope',
    );
  });

  it('says so when no cgroup2 hierarchy is mounted', () => {
    const error = thrown(() => compile({ cgroups: [5, 'system.slice'] }, fakeHost({ cgroupRoot: () => undefined })));
    expect(error).toBeInstanceOf(ExecTracerError);
    expect(error).toMatchObject({ code: 'EFILTER', operation: 'filter' });
    expect((error as ExecTracerError).message).toMatch(/^exec-tracer: filter\.cgroups\[1\]: no cgroup v2 hierarchy is mounted\n/);
    expect((error as ExecTracerError).hint).toMatch(/mount -t cgroup2.*event\.cgroupId/);
  });
});

describe('compileFilter: descendantsOf', () => {
  it('needs a live process for a pid', () => {
    const error = thrown(() => compile({ descendantsOf: [100, 99999] }));
    expect(error).toBeInstanceOf(ExecTracerError);
    expect(error).toMatchObject({ code: 'EFILTER', operation: 'filter' });
    expect((error as ExecTracerError).message).toMatch(/^exec-tracer: filter\.descendantsOf\[1\]: no process has pid 99999\n/);
    expect(() => compile({ exclude: { descendantsOf: [7] } })).toThrow('exec-tracer: filter.exclude.descendantsOf[0]: no process has pid 7');
  });

  it('takes a processId whose start falls in the tick /proc gives', () => {
    // 500 ticks of 10 ms: [5 s, 5.01 s).
    expect(compile({ descendantsOf: ['200:5000000000'] }).entries).toEqual([[F.descendant, IN, 200, 5_000_000_000n]]);
    expect(compile({ descendantsOf: ['200:5009999999'] }).entries).toEqual([[F.descendant, IN, 200, 5_009_999_999n]]);
  });

  it('refuses a processId whose pid was reused or is gone', () => {
    for (const id of ['200:4999999999', '200:5010000000']) {
      const error = thrown(() => compile({ descendantsOf: [id] }));
      expect(error).toMatchObject({ code: 'EFILTER', operation: 'filter' });
      expect((error as ExecTracerError).message).toMatch(
        new RegExp(`^exec-tracer: filter\\.descendantsOf\\[0\\]: no live process has processId ${id}: pid 200 is now another process\\n`),
      );
    }
    expect(() => compile({ descendantsOf: [100, '300:5000000000'] })).toThrow(
      'exec-tracer: filter.descendantsOf[1]: no live process has processId 300:5000000000: pid 300 has exited',
    );
  });
});

describe('filterFollows', () => {
  it.each([
    [{}, false],
    [{ uids: [0], comms: ['sh'], cgroups: [1], pidNamespaces: [1], containersOnly: true, exclude: { gids: [0] } }, false],
    [{ excludeSelf: false }, false],
    [{ excludeSelf: true }, true],
    [{ descendantsOf: [1] }, true],
    [{ exePrefixes: ['/'] }, true],
    [{ filenamePrefixes: ['/'] }, true],
    [{ exclude: { descendantsOf: [1] } }, true],
    [{ exclude: { exePrefixes: ['/'] } }, true],
    [{ exclude: { filenamePrefixes: ['a'] } }, true],
  ])('%o: %s', (filter, follows) => {
    expect(filterFollows(valid(filter))).toBe(follows);
  });
});

describe('the host', () => {
  it('finds the first cgroup2 mount in mountinfo, unescaped', () => {
    const mountinfo = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '41 31 0:38 / /sys/fs/my\\040cgroup\\134x rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw,nsdelegate',
      '42 31 0:39 / /other rw - cgroup2 cgroup2 rw',
      '',
    ].join('\n');
    expect(cgroup2MountPoint(mountinfo)).toBe('/sys/fs/my cgroup\\x');
    expect(cgroup2MountPoint('25 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n')).toBe('/sys/fs/cgroup');
    expect(cgroup2MountPoint(mountinfo.split('\n').slice(0, 3).join('\n'))).toBeUndefined();
    expect(cgroup2MountPoint('')).toBeUndefined();
  });

  const cgroup2 = readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup2 ');

  it.skipIf(!cgroup2)("finds this machine's cgroup2 mount, a directory whose inode it reads", () => {
    const root = HOST.cgroupRoot();
    expect(typeof root).toBe('string');
    expect(statSync(root!).isDirectory()).toBe(true);
    expect(HOST.directoryInode(root!)).toBe(statSync(root!, { bigint: true }).ino);
  });

  it('reads a directory inode, and nothing for a file or a missing path', () => {
    expect(HOST.directoryInode('/proc')).toBe(statSync('/proc', { bigint: true }).ino);
    expect(HOST.directoryInode('/proc/self/stat')).toBeUndefined();
    expect(HOST.directoryInode('/proc/self/stat/x')).toBeUndefined();
    expect(HOST.directoryInode('/nonexistent-exec-tracer-dir')).toBeUndefined();
  });

  it("reads a live process's start ticks, and nothing for a missing one", () => {
    const ticks = HOST.processStartTicks(process.pid);
    expect(typeof ticks).toBe('bigint');
    expect(ticks).toBeGreaterThan(0n);
    // The start of this process does not change; its parent started no later.
    expect(HOST.processStartTicks(process.pid)).toBe(ticks);
    expect(HOST.processStartTicks(process.ppid)! <= ticks!).toBe(true);
    expect(HOST.processStartTicks(4194305)).toBeUndefined();
    expect(HOST.pidNamespace()).toBe(INITIAL_PID_NAMESPACE);
  });
});
