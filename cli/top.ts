// SPDX-License-Identifier: MIT
//
// `exec-tracer --top`: which processes spawn the most execs? This module only
// counts and lays out lines; the screen, the terminal and the tracer are wired
// elsewhere, so everything here is pure and unit-tested with a fake clock.
//
// record() runs for every exec (100k/s on a busy build host), so it does Map
// lookups and integer arithmetic only: no per-call arrays, no sorting, no
// scans. The work that needs scans (rates, sorting, forgetting) is done by
// rows(), once per screen refresh.
import { escapeArgForTerminal, escapeForTerminal } from 'exec-tracer';

/** A process that called fork+exec: the parent of an exec. */
export interface Spawner {
  /** Identifies one process across pid reuse, e.g. "1234:98765432100" (pid:startBootNs). */
  key: string;
  /** Its process id. */
  pid: number;
  /** Task name (may be hostile: escape when rendering). */
  comm: string;
  /** Its arguments (may be empty when unknown; hostile: escape when rendering). */
  argv: readonly string[];
}

/** How SpawnerTop averages and how much it keeps. */
export interface TopOptions {
  /** The rate is averaged over this window, ms (default 5000). Whole seconds, at least 1000. */
  windowMs?: number;
  /** Distinct child command names kept per spawner; further names are counted under "other" (default 16). */
  maxChildren?: number;
  /** A spawner with no exec for this long is forgotten, ms (default 60000; at least windowMs). */
  forgetMs?: number;
  /** At most this many spawners are kept; the least recently active are forgotten first (default 10000). */
  maxSpawners?: number;
}

/** One spawner as the screen shows it. */
export interface TopRow {
  /** The spawner's process id. */
  pid: number;
  /** Its task name, unescaped (as last seen: a spawner that execs itself changes name). */
  comm: string;
  /** Its arguments, unescaped (as last seen). */
  argv: readonly string[];
  /**
   * Execs per second over the window (or over the time since the first exec
   * seen by this SpawnerTop, if shorter — but never a divisor below 1 s).
   */
  rate: number;
  /** Execs by this spawner since it was first seen (or last forgotten). */
  total: number;
  /**
   * Child command names, most frequent first (ties: name ascending), with
   * counts since first seen. "other" collects names beyond maxChildren.
   */
  children: { comm: string; count: number }[];
}

/** The header facts and terminal size renderTop lays the screen out for. */
export interface TopScreen {
  /** Terminal width, columns. */
  columns: number;
  /** Terminal height, rows. */
  rows: number;
  /** Time since the command started, ms. */
  elapsedMs: number;
  /** All execs per second (SpawnerTop.rate()), execs/s. */
  totalRate: number;
  /** All execs since the command started. */
  total: number;
  /** Events the kernel dropped (the ring buffer was full). */
  lost: number;
  /** Execs the command's filters left out; shown only when not 0. */
  filtered: number;
}

/** The name under which child names beyond maxChildren are counted. */
export const OTHER_CHILDREN = 'other';

const DEFAULTS = { windowMs: 5000, maxChildren: 16, forgetMs: 60_000, maxSpawners: 10_000 } as const;

/**
 * Execs per second, bucketed: one counter per wall second, in a ring as long
 * as the window. A bucket still holding an older second is stale and reset
 * on reuse, so nothing has to sweep the ring as time passes.
 */
class SecondRing {
  private readonly seconds: Float64Array;
  private readonly counts: Float64Array;

  constructor(size: number) {
    this.seconds = new Float64Array(size).fill(-Infinity);
    this.counts = new Float64Array(size);
  }

  add(second: number): void {
    const size = this.seconds.length;
    // ((x % n) + n) % n: a clock that starts below 0 still maps into the ring.
    const i = ((second % size) + size) % size;
    const held = this.seconds[i]!;
    if (held === second) {
      this.counts[i]! += 1;
    } else if (held < second) {
      this.seconds[i] = second;
      this.counts[i] = 1;
    }
    // else: a late exec from a second already out of the window (the bucket
    // holds a newer one): dropped rather than wiping the newer count.
  }

  /** Execs in the seconds (nowSecond - size, nowSecond]. */
  sum(nowSecond: number): number {
    const oldest = nowSecond - this.seconds.length;
    let sum = 0;
    for (let i = 0; i < this.seconds.length; i++) {
      const s = this.seconds[i]!;
      if (s > oldest && s <= nowSecond) sum += this.counts[i]!;
    }
    return sum;
  }
}

/** What SpawnerTop keeps per spawner. */
interface SpawnerState {
  pid: number;
  comm: string;
  argv: readonly string[];
  total: number;
  /** Last exec, ms, and its second: the Map order is by lastSecond. */
  lastMs: number;
  lastSecond: number;
  ring: SecondRing;
  children: Map<string, number>;
  otherChildren: number;
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Counts execs per spawner (the exec'd process's parent) and answers, once
 * per screen refresh, which spawners exec the most per second.
 *
 * Clocks are monotonic ms (performance.now() or the events' boot time).
 * Execs reported a little out of order (events from different CPUs) are
 * counted in their own second while it is in the window; older ones still
 * count in the totals but not in the rates. Memory is bounded by maxSpawners ×
 * (window seconds + maxChildren).
 */
export class SpawnerTop {
  private readonly windowSeconds: number;
  private readonly maxChildren: number;
  private readonly forgetMs: number;
  private readonly maxSpawners: number;
  /**
   * Spawners, least recently active first: a spawner is moved to the end when
   * it execs in a new second (not on every exec: once a second is enough for
   * forgetting and eviction, and spares a delete+set per exec).
   */
  private readonly spawners = new Map<string, SpawnerState>();
  private readonly ring: SecondRing;
  private firstMs: number | undefined;
  private recorded = 0;

  /** @throws RangeError for an option out of range (see TopOptions). */
  constructor(options: TopOptions = {}) {
    const windowMs = checkInteger('windowMs', options.windowMs ?? DEFAULTS.windowMs, 1000);
    if (windowMs % 1000 !== 0) throw new RangeError(`windowMs must be whole seconds, got ${windowMs}`);
    this.windowSeconds = windowMs / 1000;
    this.maxChildren = checkInteger('maxChildren', options.maxChildren ?? DEFAULTS.maxChildren, 0);
    // A spawner forgotten while it still has execs in the window would vanish
    // from rows() too early.
    this.forgetMs = checkInteger('forgetMs', options.forgetMs ?? DEFAULTS.forgetMs, windowMs);
    this.maxSpawners = checkInteger('maxSpawners', options.maxSpawners ?? DEFAULTS.maxSpawners, 1);
    this.ring = new SecondRing(this.windowSeconds);
  }

  /** Execs recorded since construction (forgotten spawners' included). */
  get total(): number {
    return this.recorded;
  }

  /** Spawners currently kept (at most maxSpawners). */
  get size(): number {
    return this.spawners.size;
  }

  /**
   * One exec whose parent is `parent`; `childComm` is the exec'd task's name;
   * `nowMs` a monotonic clock, ms. The parent's comm and argv are kept as
   * given (not copied) and replace earlier ones: a spawner that execs itself
   * keeps its key but changes name.
   */
  record(parent: Spawner, childComm: string, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (this.firstMs === undefined || nowMs < this.firstMs) this.firstMs = nowMs;
    this.recorded += 1;
    this.ring.add(second);

    let state = this.spawners.get(parent.key);
    if (state === undefined) {
      if (this.spawners.size >= this.maxSpawners) {
        // The first key is the least recently active (to the second).
        this.spawners.delete(this.spawners.keys().next().value!);
      }
      state = {
        pid: parent.pid, comm: parent.comm, argv: parent.argv, total: 0, lastMs: nowMs, lastSecond: second,
        ring: new SecondRing(this.windowSeconds), children: new Map(), otherChildren: 0,
      };
      this.spawners.set(parent.key, state);
    } else if (second > state.lastSecond) {
      this.spawners.delete(parent.key);
      this.spawners.set(parent.key, state);
    }
    state.comm = parent.comm;
    state.argv = parent.argv;
    state.total += 1;
    if (nowMs > state.lastMs) {
      state.lastMs = nowMs;
      state.lastSecond = second;
    }
    state.ring.add(second);

    const count = state.children.get(childComm);
    if (count !== undefined) state.children.set(childComm, count + 1);
    else if (state.children.size < this.maxChildren) state.children.set(childComm, 1);
    else state.otherChildren += 1;
  }

  /** Forgets spawners with no exec for forgetMs or longer before `nowMs` (ms); rows() calls it too. */
  prune(nowMs: number): void {
    const cutoffMs = nowMs - this.forgetMs;
    const cutoffSecond = Math.floor(cutoffMs / 1000);
    // The Map is ordered by last second, not last ms: within the cutoff's
    // second an idle spawner can follow a busy one, so only a later second
    // ends the scan.
    for (const [key, state] of this.spawners) {
      if (state.lastMs <= cutoffMs) this.spawners.delete(key);
      else if (state.lastSecond > cutoffSecond) break;
    }
  }

  /**
   * Spawners with at least one exec in the window, by rate descending, then
   * total descending, then pid ascending. Prunes first (see prune()).
   */
  rows(nowMs: number): TopRow[] {
    this.prune(nowMs);
    const second = Math.floor(nowMs / 1000);
    const divisor = this.divisor(nowMs);
    const rows: TopRow[] = [];
    for (const state of this.spawners.values()) {
      const inWindow = state.ring.sum(second);
      if (inWindow === 0) continue;
      rows.push({
        pid: state.pid, comm: state.comm, argv: state.argv, rate: inWindow / divisor, total: state.total,
        children: childrenOf(state),
      });
    }
    // Every row shares the divisor, so comparing rates compares window counts.
    rows.sort((a, b) => b.rate - a.rate || b.total - a.total || a.pid - b.pid);
    return rows;
  }

  /** All execs per second over the window, all spawners together (forgotten ones included), execs/s. */
  rate(nowMs: number): number {
    if (this.firstMs === undefined) return 0;
    return this.ring.sum(Math.floor(nowMs / 1000)) / this.divisor(nowMs);
  }

  /**
   * The seconds the window's buckets cover, s: the window's full seconds
   * before the current one plus the elapsed part of the current one (dividing
   * by the whole window would under-report by up to a second's worth just
   * after each second starts), no more than the time since the first exec
   * (the window is not full yet just after start), and at least 1 (so one
   * exec just after start does not read as thousands per second). The same
   * for every spawner, so the rows' rates add up to rate().
   */
  private divisor(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    const covered = this.windowSeconds - 1 + (nowMs - second * 1000) / 1000;
    const sinceFirst = (nowMs - (this.firstMs ?? nowMs)) / 1000;
    return Math.max(1, Math.min(covered, sinceFirst));
  }
}

function childrenOf(state: SpawnerState): { comm: string; count: number }[] {
  const children: { comm: string; count: number }[] = [];
  let other = state.otherChildren;
  for (const [comm, count] of state.children) {
    // A child really named "other" is merged with the overflow: on screen the
    // two could not be told apart anyway.
    if (comm === OTHER_CHILDREN) other += count;
    else children.push({ comm, count });
  }
  if (other > 0) children.push({ comm: OTHER_CHILDREN, count: other });
  children.sort((a, b) => b.count - a.count || (a.comm < b.comm ? -1 : a.comm > b.comm ? 1 : 0));
  return children;
}

// ---------------------------------------------------------------------------
// Rendering

/**
 * Terminal columns a code point takes, erring wide: East Asian wide and
 * fullwidth characters and emoji take two, and a hostile name made of them
 * must not wrap a line and scroll the screen. Over-counting only leaves a
 * line a little short; zero-width characters are counted as one for the
 * same reason.
 */
function cellWidth(code: number): number {
  return (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x231a && code <= 0x23ff) ||
    (code >= 0x2600 && code <= 0x27bf) ||
    (code >= 0x2b00 && code <= 0x2bff) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe10 && code <= 0xfe19) ||
    (code >= 0xfe30 && code <= 0xfe6f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f000 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
    ? 2
    : 1;
}

function widthOf(text: string): number {
  let width = 0;
  for (const ch of text) width += cellWidth(ch.codePointAt(0)!);
  return width;
}

/** `text` in at most `width` columns, ending in "…" when cut. */
function cut(text: string, width: number): string {
  if (widthOf(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = cellWidth(ch.codePointAt(0)!);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  // "terminal…", not "terminal …": a cut at a space reads as a cut word.
  return `${out.trimEnd()}…`;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - widthOf(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - widthOf(text))) + text;
}

/** A count in `width` columns: exact when it fits, else 12.3k/M/G/T (a number is never cut). */
function formatCount(n: number, width: number): string {
  const exact = String(n);
  if (exact.length <= width) return exact;
  let value = n;
  for (const unit of ['k', 'M', 'G', 'T']) {
    value /= 1000;
    if (value < 999.95 || unit === 'T') return `${value.toFixed(1)}${unit}`;
  }
  return exact;
}

function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
}

/** A rate for the header, execs/s: a decimal only where it says something. */
function formatRate(rate: number): string {
  return rate < 10 ? rate.toFixed(1) : String(Math.round(rate));
}

/** Column widths, columns; the separators between them are part of the layout below. */
const PID = 7;
const COMM = 16;
const RATE = 9;
const TOTAL = 7;
const CHILDREN = 30;
const CHILDREN_SHOWN = 3;

function layout(pid: string, comm: string, rate: string, total: string, children: string, args: string): string {
  return `${padStart(pid, PID)} ${padEnd(comm, COMM)} ${padStart(rate, RATE)} ${padStart(total, TOTAL)}  ${padEnd(children, CHILDREN)}  ${args}`.trimEnd();
}

function renderRow(row: TopRow): string {
  const children = row.children
    .slice(0, CHILDREN_SHOWN)
    .map((c) => `${escapeForTerminal(c.comm)}×${c.count}`)
    .join(' ');
  return layout(
    String(row.pid),
    cut(escapeForTerminal(row.comm), COMM),
    row.rate.toFixed(1),
    formatCount(row.total, TOTAL),
    cut(children, CHILDREN),
    row.argv.map((arg) => escapeArgForTerminal(arg)).join(' '),
  );
}

/**
 * The screen as lines: no newlines inside and no ANSI escapes (the caller
 * adds colour and clearing; every process-supplied text is escaped with
 * escapeForTerminal). At most `screen.rows` lines, each at most
 * `screen.columns` columns wide (cut, with "…" as the last character when
 * cut; East Asian wide characters and emoji count as two columns).
 *
 * Line 1 is the header (uptime, total rate, total execs, lost events,
 * filtered execs when not 0, "q: quit"); line 2 is blank; line 3 the column
 * titles (PID, COMM, EXECS/S, TOTAL, TOP CHILDREN, ARGS); then one line per
 * row, in the order given, until the screen is full, or "waiting for execs…"
 * when there are none. A terminal under 40 columns or 5 rows gets the single
 * line "terminal too small" (cut to the width).
 */
export function renderTop(rows: readonly TopRow[], screen: TopScreen): string[] {
  const columns = Math.floor(screen.columns);
  const height = Math.floor(screen.rows);
  // `!(x >= n)` also catches NaN from a terminal that reports no size.
  if (!(columns >= 40) || !(height >= 5)) return [cut('terminal too small', Math.max(0, columns || 0))];

  let header =
    `exec-tracer --top   up ${formatUptime(screen.elapsedMs)}   ${formatRate(screen.totalRate)} execs/s` +
    `   ${screen.total} execs   ${screen.lost} lost`;
  if (screen.filtered !== 0) header += `   ${screen.filtered} filtered`;
  header += '   q: quit';

  const lines = [header, '', layout('PID', 'COMM', 'EXECS/S', 'TOTAL', 'TOP CHILDREN', 'ARGS')];
  if (rows.length === 0) lines.push('waiting for execs…');
  for (const row of rows) {
    if (lines.length >= height) break;
    lines.push(renderRow(row));
  }
  return lines.map((line) => cut(line, columns));
}
