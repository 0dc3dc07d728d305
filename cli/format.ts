// SPDX-License-Identifier: MIT
//
// What the command prints: execsnoop's columns, exit and ancestry lines, and
// NDJSON. Pure functions of an event, so every byte a hostile process can
// choose is unit-tested on its way to a terminal or a pipeline.
import { isUtf8 } from 'node:buffer';
import { styleText } from 'node:util';
import {
  escapeArgForTerminal,
  escapeBytesForTerminal,
  escapeForTerminal,
  type ExecEvent,
  type ExecFailedEvent,
  type ExitEvent,
  type ProcessInfo,
} from 'exec-tracer';

/** How lines look: the column flags and the terminal's abilities. */
export interface LineStyle {
  /** -T: a clock-time column (HH:MM:SS, local time). */
  time: boolean;
  /** -t: seconds since `startMs`, three decimals. */
  timestamp: boolean;
  /** When the command started (ms since the epoch), for -t. */
  startMs: number;
  /** -U: a UID column. */
  printUid: boolean;
  /** -q: every argument in double quotes. */
  quote: boolean;
  /** Arguments printed per exec; more are cut with " ...". */
  maxArgs: number;
  /** --env: the variables shown after the arguments. */
  env?: readonly string[];
  /** Colour (only on a TTY, never with NO_COLOR). */
  color: boolean;
}

/** Whether colour may be used on a stream: a TTY, and NO_COLOR unset or empty (no-color.org). */
export function colorAllowed(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** Width of the PID and PPID columns: pid_max can be 4194304. */
const PID_WIDTH = 7;
/** Width of the PCOMM column: TASK_COMM_LEN - 1 bytes, plus one. */
const COMM_WIDTH = 16;

function paint(style: LineStyle, format: 'bold' | 'red' | 'gray', text: string): string {
  return style.color ? styleText(format, text, { validateStream: false }) : text;
}

/** The columns before PCOMM, as the header names them. */
function leadTitles(style: LineStyle): string {
  let out = '';
  if (style.time) out += 'TIME     ';
  if (style.timestamp) out += 'TIME(s)  ';
  if (style.printUid) out += 'UID    ';
  return out;
}

function leadColumns(style: LineStyle, at: Date, uid: number | undefined): string {
  let out = '';
  if (style.time) {
    const two = (n: number) => String(n).padStart(2, '0');
    out += `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} `;
  }
  if (style.timestamp) out += `${((at.getTime() - style.startMs) / 1000).toFixed(3).padEnd(8)} `;
  if (style.printUid) out += `${(uid === undefined ? '-' : String(uid)).padEnd(6)} `;
  return out;
}

/** The header line of the default output (execsnoop's titles). */
export function headerLine(style: LineStyle): string {
  const titles = `${leadTitles(style)}${'PCOMM'.padEnd(COMM_WIDTH)} ${'PID'.padEnd(PID_WIDTH)} ${'PPID'.padEnd(PID_WIDTH)} RET ARGS`;
  return paint(style, 'bold', titles);
}

/** The header line of the --tree output. */
export function treeHeaderLine(style: LineStyle): string {
  return paint(style, 'bold', `${leadTitles(style)}ANCESTRY › PROCESS(PID)  ARGS`);
}

/**
 * One argument as shown: in double quotes with `"` escaped under -q
 * (execsnoop's form), otherwise as escapeArgForTerminal shows it.
 */
export function formatArg(raw: Uint8Array, quote: boolean): string {
  if (quote) return `"${escapeBytesForTerminal(raw).replaceAll('"', '\\"')}"`;
  return escapeArgForTerminal(raw);
}

/** The ARGS column: at most maxArgs arguments, " ..." when some were cut. */
export function formatArgs(rawArgv: readonly Uint8Array[], truncated: boolean, style: LineStyle): string {
  const shown = rawArgv.length > style.maxArgs ? rawArgv.slice(0, style.maxArgs) : rawArgv;
  let out = shown.map((arg) => formatArg(arg, style.quote)).join(' ');
  if (truncated || shown.length < rawArgv.length) out += ' ...';
  return out;
}

/** `NAME=value` for each --env variable the process had, in its environment's order. */
function formatEnv(event: ExecEvent, style: LineStyle): string {
  if (!style.env || style.env.length === 0) return '';
  const wanted = new Set(style.env);
  const shown: string[] = [];
  for (const entry of event.rawEnv) {
    const eq = entry.indexOf(0x3d);
    if (eq > 0 && wanted.has(entry.toString('utf8', 0, eq))) shown.push(formatArg(entry, style.quote));
  }
  return shown.length === 0 ? '' : `  ${shown.join(' ')}`;
}

function isFailed(event: ExecEvent | ExecFailedEvent): event is ExecFailedEvent {
  return event.kind === 'execFailed';
}

/**
 * One exec as execsnoop prints it: `[TIME] [UID] PCOMM PID PPID RET ARGS`.
 * RET is 0, or for a failed exec (-x) the negative errno as execsnoop shows it.
 */
export function execLine(event: ExecEvent | ExecFailedEvent, style: LineStyle): string {
  const failed = isFailed(event);
  const ret = failed ? paint(style, 'red', String(-event.errno).padStart(3)) : '  0';
  let line =
    `${leadColumns(style, event.time, event.uid)}${escapeBytesForTerminal(event.rawComm).padEnd(COMM_WIDTH)} ` +
    `${String(event.pid).padEnd(PID_WIDTH)} ${String(event.ppid).padEnd(PID_WIDTH)} ${ret} ` +
    formatArgs(event.rawArgv, event.argvTruncated, style);
  if (!failed) line += formatEnv(event, style);
  return line;
}

/** A duration as people read it: 850µs, 12.3ms, 4.21s, 3m02s, 5h07m. */
export function formatDuration(ns: bigint): string {
  const us = Number(ns / 1000n);
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  const s = us / 1e6;
  if (s < 60) return `${s.toFixed(2)}s`;
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${two((s % 3600) / 60)}m`;
}

/** How a process ended, in words: `exit 0`, `killed by SIGKILL (core dumped)`. */
export function formatEnding(event: ExitEvent): string {
  if (event.signal !== undefined) return `killed by ${event.signal}${event.coreDumped ? ' (core dumped)' : ''}`;
  return `exit ${event.exitCode}`;
}

/** An exit (--exits), in the exec columns: RET is `-`, ARGS says how and after how long. */
export function exitLine(event: ExitEvent, style: LineStyle): string {
  const text =
    `${leadColumns(style, event.time, undefined)}${escapeBytesForTerminal(event.rawComm).padEnd(COMM_WIDTH)} ` +
    `${String(event.pid).padEnd(PID_WIDTH)} ${String(event.ppid).padEnd(PID_WIDTH)}   - ` +
    `[${formatEnding(event)} after ${formatDuration(event.durationNs)}]`;
  return paint(style, 'gray', text);
}

/** `comm(pid)`, escaped. */
function node(comm: string, pid: number): string {
  return `${escapeForTerminal(comm)}(${pid})`;
}

/**
 * The ancestry of a process, root first, ending with the process itself:
 * `sshd(812) › bash(1201) › make(1390) › cc(1402)`. init and kthreadd (pids
 * 1 and 2) at the root are left out: every chain would start with them.
 */
export function formatChain(ancestors: readonly ProcessInfo[], comm: string, pid: number): string {
  const chain = [...ancestors].reverse();
  while (chain.length > 0 && (chain[0]!.pid === 1 || chain[0]!.pid === 2)) chain.shift();
  return [...chain.map((p) => node(p.comm, p.pid)), node(comm, pid)].join(' › ');
}

/**
 * One exec (--tree) with its ancestry and its arguments. `self` is the
 * process table's entry for a failed exec's process (it still runs its old
 * image), whose ancestors are then the chain.
 */
export function treeLine(event: ExecEvent | ExecFailedEvent, style: LineStyle, self?: ProcessInfo): string {
  const failed = isFailed(event);
  const ancestors = failed ? (self?.ancestors() ?? []) : event.ancestors();
  let line =
    `${leadColumns(style, event.time, event.uid)}${formatChain(ancestors, event.comm, event.pid)}  ` +
    formatArgs(event.rawArgv, event.argvTruncated, style);
  if (failed) line += `  ${paint(style, 'red', `[failed: ${event.code}]`)}`;
  else line += formatEnv(event, style);
  return line;
}

/** An exit (--tree --exits): the process's chain, and how and after how long it ended. */
export function treeExitLine(event: ExitEvent, style: LineStyle, self?: ProcessInfo): string {
  const text =
    `${leadColumns(style, event.time, undefined)}${formatChain(self?.ancestors() ?? [], event.comm, event.pid)}  ` +
    `[${formatEnding(event)} after ${formatDuration(event.durationNs)}]`;
  return paint(style, 'gray', text);
}

/** Base64 of each part, when any of them is not valid UTF-8 (its text then holds U+FFFD). */
function base64IfInvalid(parts: readonly Buffer[]): string[] | undefined {
  return parts.some((part) => !isUtf8(part)) ? parts.map((part) => part.toString('base64')) : undefined;
}

/**
 * One event as a line of NDJSON: every field of the event (`toJSON()`:
 * 64-bit numbers as decimal strings), and, for each text field whose bytes
 * are not valid UTF-8, the exact bytes in base64 beside it: `commBase64`,
 * `filenameBase64`, `exeBase64`, `interpreterBase64`, `cwdBase64`,
 * `cgroupBase64` (strings), `argvBase64` and `envBase64` (arrays holding
 * every argument or `NAME=value` entry, so one array decodes them all).
 */
export function jsonLine(event: ExecEvent | ExecFailedEvent | ExitEvent): string {
  const fields = event.toJSON() as Record<string, unknown>;
  const one = (name: string, raw: Buffer | undefined) => {
    if (raw !== undefined && !isUtf8(raw)) fields[`${name}Base64`] = raw.toString('base64');
  };
  const many = (name: string, raw: readonly Buffer[]) => {
    const encoded = base64IfInvalid(raw);
    if (encoded !== undefined) fields[`${name}Base64`] = encoded;
  };
  one('comm', event.rawComm);
  if (event.kind !== 'exit') {
    one('filename', event.rawFilename);
    many('argv', event.rawArgv);
  }
  if (event.kind === 'exec') {
    one('exe', event.rawExe);
    one('interpreter', event.rawInterpreter);
    one('cwd', event.rawCwd);
    one('cgroup', event.rawCgroup);
    many('env', event.rawEnv);
  }
  return JSON.stringify(fields);
}
