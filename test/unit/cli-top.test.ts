// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { OTHER_CHILDREN, renderTop, SpawnerTop, type Spawner, type TopRow, type TopScreen } from '../../cli/top.js';

function spawner(pid: number, comm = `p${pid}`, argv: readonly string[] = [comm], start = 1000): Spawner {
  return { key: `${pid}:${start}`, pid, comm, argv };
}

/** `perSecond` execs a second, evenly spaced, from fromMs (inclusive) to toMs (exclusive). */
function steady(top: SpawnerTop, parent: Spawner, perSecond: number, fromMs: number, toMs: number, child = 'sh'): void {
  const step = 1000 / perSecond;
  for (let t = fromMs; t < toMs; t += step) top.record(parent, child, t);
}

const rowOf = (rows: TopRow[], pid: number) => rows.find((r) => r.pid === pid);

describe('SpawnerTop rates', () => {
  it('shows a steady spawner at its rate, whatever the phase of the second', () => {
    const top = new SpawnerTop();
    const make = spawner(100, 'make');
    steady(top, make, 50, 0, 10_000);
    for (const now of [9_990, 10_000]) {
      const [row] = top.rows(now);
      expect(row?.pid).toBe(100);
      expect(row!.rate).toBeGreaterThanOrEqual(45);
      expect(row!.rate).toBeLessThanOrEqual(55);
      expect(top.rate(now)).toBeCloseTo(row!.rate, 9);
    }
    // Mid-second, the partial second counts for what has elapsed of it.
    steady(top, make, 50, 10_000, 10_500);
    expect(top.rows(10_500)[0]!.rate).toBeCloseTo(50, 0);
    expect(top.rows(10_500)[0]!.total).toBe(525);
    expect(top.total).toBe(525);
  });

  it('averages over the time since the first exec while the window fills, but never over less than 1 s', () => {
    const top = new SpawnerTop({ windowMs: 10_000 });
    top.record(spawner(1), 'sh', 0);
    expect(top.rate(0)).toBe(1);
    expect(top.rows(100)[0]!.rate).toBe(1);
    steady(top, spawner(1), 20, 50, 2_000);
    // 40 execs in 2 s, not 40 in the 10 s window.
    expect(top.rate(2_000)).toBeCloseTo(20, 0);
    expect(new SpawnerTop().rate(5_000)).toBe(0);
  });

  it("adds the spawners' rates up to the total rate", () => {
    const top = new SpawnerTop();
    for (let t = 0; t < 10_000; t += 20) {
      top.record(spawner(1), 'sh', t);
      if (t % 100 === 0) top.record(spawner(2), 'sh', t);
    }
    const rows = top.rows(10_000);
    expect(rows.map((r) => r.pid)).toEqual([1, 2]);
    expect(rowOf(rows, 2)!.rate).toBeCloseTo(10, 0);
    expect(top.rate(10_000)).toBeCloseTo(60, 0);
    expect(rows[0]!.rate + rows[1]!.rate).toBeCloseTo(top.rate(10_000), 9);
  });

  it('counts execs reported a little out of order in their own second', () => {
    const top = new SpawnerTop();
    top.record(spawner(1), 'sh', 13_100);
    top.record(spawner(2), 'sh', 13_200);
    top.record(spawner(2), 'sh', 12_900); // late, still in the window
    top.record(spawner(2), 'sh', 8_100); // late, out of the window: must not wipe second 13 (same bucket)
    expect(top.rate(13_500)).toBeCloseTo(3 / 4.5, 9);
    expect(top.rows(13_500).map((r) => [r.pid, r.total, r.rate * 4.5])).toEqual([[2, 3, 2], [1, 1, 1]]);
    expect(top.total).toBe(4);
  });
});

describe('SpawnerTop ordering', () => {
  it('orders by rate, then total, then pid', () => {
    const top = new SpawnerTop();
    // pid 5 and 6: same rate, 6 has more execs from before the window.
    top.record(spawner(6), 'sh', 0);
    top.record(spawner(6), 'sh', 0);
    for (const pid of [9, 5, 6, 7, 3]) top.record(spawner(pid), 'sh', 20_000);
    top.record(spawner(3), 'sh', 20_100); // 3 fastest
    top.record(spawner(3), 'sh', 20_200);
    const rows = top.rows(20_500);
    expect(rows.map((r) => r.pid)).toEqual([3, 6, 5, 7, 9]);
    expect(rows.map((r) => r.total)).toEqual([3, 3, 1, 1, 1]);
  });

  it('keeps two processes with the same pid apart (pid reuse)', () => {
    const top = new SpawnerTop();
    top.record(spawner(42, 'old', ['old'], 1_000), 'sh', 100);
    top.record(spawner(42, 'new', ['new'], 2_000), 'cc', 200);
    top.record(spawner(42, 'new', ['new'], 2_000), 'cc', 300);
    const rows = top.rows(400);
    expect(top.size).toBe(2);
    expect(rows.map((r) => [r.pid, r.comm, r.total])).toEqual([[42, 'new', 2], [42, 'old', 1]]);
  });

  it("shows a spawner's latest name and arguments (it may exec itself)", () => {
    const top = new SpawnerTop();
    top.record({ key: '7:1', pid: 7, comm: 'bash', argv: ['bash'] }, 'sh', 0);
    top.record({ key: '7:1', pid: 7, comm: 'make', argv: ['make', 'all'] }, 'cc', 10);
    expect(top.rows(20)).toMatchObject([{ pid: 7, comm: 'make', argv: ['make', 'all'], total: 2 }]);
  });
});

describe('SpawnerTop expiry and memory', () => {
  it('leaves out a spawner with no exec in the window, but keeps counting it', () => {
    const top = new SpawnerTop({ windowMs: 5_000 });
    steady(top, spawner(1), 50, 0, 10_000);
    steady(top, spawner(2), 10, 0, 16_000);
    const rows = top.rows(16_000);
    expect(rows.map((r) => r.pid)).toEqual([2]);
    expect(top.size).toBe(2);
    // It comes back with its total intact.
    top.record(spawner(1), 'sh', 16_100);
    expect(rowOf(top.rows(16_200), 1)!.total).toBe(501);
  });

  it('forgets a spawner idle for forgetMs', () => {
    const top = new SpawnerTop();
    steady(top, spawner(1), 50, 0, 10_000);
    steady(top, spawner(2), 1, 0, 12_000);
    top.prune(69_000);
    expect(top.size).toBe(2);
    top.prune(70_980); // pid 1 last exec'd at 9 980 ms: idle 61 s
    expect(top.size).toBe(1);
    expect(top.rows(71_001)).toEqual([]);
    expect(top.size).toBe(0);
    // Back after being forgotten: counted afresh.
    top.record(spawner(1), 'sh', 72_000);
    expect(top.rows(72_000)).toMatchObject([{ pid: 1, total: 1 }]);
    expect(top.total).toBe(500 + 12 + 1);
  });

  it('forgets idle spawners even behind a busier one from the same second', () => {
    const top = new SpawnerTop({ forgetMs: 10_000 });
    top.record(spawner(1), 'sh', 1_900);
    top.record(spawner(2), 'sh', 1_100);
    top.record(spawner(1), 'sh', 1_950); // same second: 1 stays ahead of 2 in the order
    top.prune(11_500);
    expect(top.size).toBe(1);
    expect(top.rows(11_500).map((r) => r.pid)).toEqual([]);
    top.prune(11_950);
    expect(top.size).toBe(0);
  });

  it('counts child names beyond maxChildren under "other"', () => {
    const top = new SpawnerTop({ maxChildren: 3 });
    const p = spawner(1);
    for (const child of ['sh', 'sh', 'sh', 'curl', 'awk', 'sed', 'grep', 'sh', 'tr', 'curl']) top.record(p, child, 100);
    const [row] = top.rows(200);
    expect(row!.children).toEqual([
      { comm: 'sh', count: 4 },
      { comm: OTHER_CHILDREN, count: 3 },
      { comm: 'curl', count: 2 },
      { comm: 'awk', count: 1 },
    ]);
    expect(OTHER_CHILDREN).toBe('other');
  });

  it('sorts children with equal counts by name', () => {
    const top = new SpawnerTop();
    for (const child of ['zz', 'b', 'a', 'b', 'zz', 'c']) top.record(spawner(1), child, 0);
    expect(top.rows(0)[0]!.children.map((c) => `${c.comm}${c.count}`)).toEqual(['b2', 'zz2', 'a1', 'c1']);
  });

  it('evicts the least recently active spawner beyond maxSpawners', () => {
    const top = new SpawnerTop({ maxSpawners: 3 });
    top.record(spawner(1), 'sh', 0);
    top.record(spawner(2), 'sh', 100);
    top.record(spawner(3), 'sh', 200);
    top.record(spawner(1), 'sh', 1_000); // 1 active again: 2 is now the oldest
    top.record(spawner(4), 'sh', 1_100);
    expect(top.size).toBe(3);
    expect(top.rows(1_200).map((r) => r.pid).sort()).toEqual([1, 3, 4]);
    for (let pid = 100; pid < 1_100; pid++) top.record(spawner(pid), 'sh', 2_000);
    expect(top.size).toBe(3);
    expect(top.rows(2_000).map((r) => r.pid).sort()).toEqual([1097, 1098, 1099]);
    expect(top.total).toBe(1_005);
  });

  it('rejects options out of range', () => {
    expect(() => new SpawnerTop({ windowMs: 1_500 })).toThrow(RangeError);
    expect(() => new SpawnerTop({ windowMs: 0 })).toThrow(RangeError);
    expect(() => new SpawnerTop({ maxChildren: -1 })).toThrow(RangeError);
    expect(() => new SpawnerTop({ maxSpawners: 0 })).toThrow(RangeError);
    expect(() => new SpawnerTop({ windowMs: 10_000, forgetMs: 5_000 })).toThrow(RangeError);
    expect(() => new SpawnerTop({ forgetMs: Number.NaN })).toThrow(RangeError);
    expect(() => new SpawnerTop({ windowMs: 1_000, maxChildren: 0, forgetMs: 1_000, maxSpawners: 1 })).not.toThrow();
  });
});

const SCREEN: TopScreen = { columns: 80, rows: 24, elapsedMs: 12_400, totalRate: 523.4, total: 6284, lost: 0, filtered: 0 };

function row(pid: number, extra: Partial<TopRow> = {}): TopRow {
  return { pid, comm: `p${pid}`, argv: [`p${pid}`, '--flag'], rate: 10, total: 100, children: [{ comm: 'sh', count: 100 }], ...extra };
}

const HOSTILE = row(666, {
  comm: 'x\x1b[2Jy',
  argv: ['evil\n', '', 'two words', "it's", '\u202eabc', '\x1b]0;pwned\x07'],
  children: [{ comm: '\x1b[31mred', count: 3 }, { comm: 'a\rb', count: 2 }],
});

/** Terminal columns, wide characters as two (the test's own table: CJK and emoji only). */
function cells(line: string): number {
  let n = 0;
  for (const ch of line) {
    const c = ch.codePointAt(0)!;
    n += (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x1f300 && c <= 0x1faff) || (c >= 0xff00 && c <= 0xff60) ? 2 : 1;
  }
  return n;
}

describe('renderTop', () => {
  it('lays out the header, the titles and one line per row', () => {
    const rows = [
      row(1234, { comm: 'make', argv: ['make', '-j8'], rate: 52.34, total: 6284, children: [
        { comm: 'sh', count: 120 }, { comm: 'curl', count: 40 }, { comm: 'cc1', count: 3 }, { comm: 'ld', count: 1 },
      ] }),
      row(7, { comm: 'bash', argv: [], rate: 0.2, total: 12_345_678, children: [] }),
    ];
    const lines = renderTop(rows, { ...SCREEN, columns: 200 });
    expect(lines).toEqual([
      'exec-tracer --top   up 12s   523 execs/s   6284 execs   0 lost   q: quit',
      '',
      '    PID COMM               EXECS/S   TOTAL  TOP CHILDREN                    ARGS',
      '   1234 make                  52.3    6284  sh×120 curl×40 cc1×3            make -j8',
      '      7 bash                   0.2   12.3M',
    ]);
  });

  it('shows lost and filtered execs and longer uptimes in the header', () => {
    const [header] = renderTop([], { ...SCREEN, columns: 200, elapsedMs: 3_723_000, totalRate: 0.25, total: 1, lost: 17, filtered: 4 });
    expect(header).toBe('exec-tracer --top   up 1h02m   0.3 execs/s   1 execs   17 lost   4 filtered   q: quit');
    expect(renderTop([], { ...SCREEN, columns: 200, elapsedMs: 187_999 })[0]).toContain(' up 3m07s ');
  });

  it('says it is waiting when there is nothing to show', () => {
    const lines = renderTop([], SCREEN);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('waiting for execs…');
  });

  it('says so when the terminal is too small', () => {
    expect(renderTop([row(1)], { ...SCREEN, columns: 39 })).toEqual(['terminal too small']);
    expect(renderTop([row(1)], { ...SCREEN, rows: 4 })).toEqual(['terminal too small']);
    expect(renderTop([row(1)], { ...SCREEN, columns: 10, rows: 2 })).toEqual(['terminal…']);
    expect(renderTop([row(1)], { ...SCREEN, columns: 12, rows: 2 })).toEqual(['terminal to…']);
    expect(renderTop([row(1)], { ...SCREEN, columns: Number.NaN })).toHaveLength(1);
    expect(renderTop([], { ...SCREEN, columns: 40, rows: 5 })).toHaveLength(4);
  });

  for (const columns of [40, 80, 200]) {
    it(`fits every line in ${columns} columns and the screen's rows`, () => {
      const rows = [HOSTILE];
      for (let pid = 1; pid < 100; pid++) {
        rows.push(row(pid, { argv: ['/usr/bin/a-rather-long-command-name', '--with', 'many arguments'.repeat(pid % 20)] }));
      }
      rows.push(row(4_194_304, { comm: '中文中文中文中文中文', argv: ['🚀🚀🚀🚀🚀🚀🚀🚀'.repeat(30)], children: [{ comm: '中文中文中文中文中文中文中文', count: 1 }] }));
      for (const height of [5, 24, 200]) {
        const lines = renderTop(rows, { ...SCREEN, columns, rows: height, lost: 123_456_789, filtered: 987_654_321 });
        expect(lines).toHaveLength(Math.min(height, rows.length + 3));
        for (const line of lines) {
          expect(line).not.toContain('\n');
          expect(cells(line)).toBeLessThanOrEqual(columns);
          if ([...line].length === columns) expect(line.endsWith('…') || !line.includes('…')).toBe(true);
        }
        if (columns < 100) expect(lines[0]!.endsWith('…')).toBe(true); // the header is cut to the width
      }
    });
  }

  it('escapes hostile names and arguments', () => {
    for (const columns of [40, 80, 200]) {
      for (const line of renderTop([HOSTILE], { ...SCREEN, columns })) {
        // C0, DEL, C1, bidi controls: none reaches the terminal raw.
        expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      }
    }
    const line = renderTop([HOSTILE], { ...SCREEN, columns: 200 })[3]!;
    expect(line).toContain(' x\\x1b[2Jy ');
    expect(line).toContain('\\x1b[31mred×3 a\\rb×2');
    expect(line.endsWith("evil\\n '' 'two words' 'it\\'s' \\u{202e}abc \\x1b]0;pwned\\x07")).toBe(true);
  });

  it('cuts a long name and the children to their columns, keeping the columns aligned', () => {
    const long = row(1, {
      comm: 'a-very-long-task-name',
      children: [{ comm: 'first-child-name', count: 1000 }, { comm: 'second-child-name', count: 999 }],
    });
    const line = renderTop([long, row(2)], { ...SCREEN, columns: 200 })[3]!;
    expect(line.slice(8, 25)).toBe('a-very-long-tas… ');
    expect(line.slice(44, 76)).toBe('first-child-name×1000 second-…  ');
    expect(line.slice(76)).toBe('p1 --flag');
    const other = renderTop([long, row(2)], { ...SCREEN, columns: 200 })[4]!;
    expect(other.indexOf('p2 --flag')).toBe(76);
  });

  it('cuts lines with "…" only where they were too long', () => {
    const lines = renderTop([row(1, { argv: ['x'.repeat(100)] })], { ...SCREEN, columns: 80 });
    expect(lines[3]).toHaveLength(80);
    expect(lines[3]!.endsWith('xxx…')).toBe(true);
    expect(lines[2]).toBe('    PID COMM               EXECS/S   TOTAL  TOP CHILDREN                    ARGS');
  });
});
