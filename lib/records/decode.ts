// SPDX-License-Identifier: MIT
//
// Batches of packed records (bpf/exec_tracer.h): each record's sizes are
// checked against the batch and its type, then the record becomes its event
// (exec.ts, exit.ts, fork.ts, exec-failed.ts), which decodes its fields on
// access.
import type { ExecEvent, ExecFailedEvent, ExitEvent, ForkEvent, ProcessTable } from '../../types/index.js';
import type { Redactor } from '../redact.js';
import type { Clock } from './clock.js';
import { CONTEXT_END, EXEC_LENGTH_V1, Exec, WHERE_END } from './exec.js';
import { ExecFailed } from './exec-failed.js';
import { Exit } from './exit.js';
import { Fork } from './fork.js';
import { LAYOUT } from './layout.js';

const H = LAYOUT.header;
const X = LAYOUT.exec;
const F = LAYOUT.execFailed;

/** A record the decoder could not trust. */
export class DecodeError extends Error {
  constructor(
    message: string,
    /** Where in the batch the record that did not fit begins, in bytes. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** What one batch held. */
export interface DecodedBatch {
  /** The exec events, in the order the kernel wrote them. */
  events: ExecEvent[];
  /** Every event (exec, exit, fork, execFailed), in the order the kernel wrote them. */
  records: (ExecEvent | ExitEvent | ForkEvent | ExecFailedEvent)[];
  /** Records of a type this version does not know (from a newer kernel object). */
  unknown: number;
  /** Set when a record did not fit its own sizes: the rest of the batch was not read. */
  error?: DecodeError;
}

/** How events decode what the tracer's options shape. */
export interface DecodeOptions {
  /**
   * The environment variable names to keep (an `env` allow-list); every
   * name when undefined.
   */
  envNames?: readonly string[];
}

/** An allow-list as the decoder compares it: each name as the latin1 string of its UTF-8 bytes. */
export function envNameSet(names: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return names && new Set(names.map((name) => Buffer.from(name, 'utf8').toString('latin1')));
}

/**
 * Decodes a batch of records. Never throws: a malformed record ends the
 * batch and comes back as `error`, with every record before it decoded.
 */
export function decodeBatch(batch: Buffer, clock: Clock, options: DecodeOptions = {}): DecodedBatch {
  return decodeRecords(batch, clock, envNameSet(options.envNames));
}

/** What the tracer gets from a batch: decodeBatch()'s, plus the exits it only counted. */
export interface DecodedRecords extends DecodedBatch {
  /** Exit records counted but not made into events (`exits` false in decodeRecords). */
  countedExits: number;
}

/**
 * decodeBatch() with the allow-list already made (envNameSet()), as the
 * tracer keeps it, and the process table exec events resolve parents in.
 * With `exits` false, exit records are checked and counted but no event is
 * made of them: nobody would see it (no 'exit' listener, no table), and in a
 * storm they are half the records.
 */
export function decodeRecords(
  batch: Buffer,
  clock: Clock,
  envNames: ReadonlySet<string> | undefined,
  table?: ProcessTable,
  exits = true,
  redactor?: Redactor,
): DecodedRecords {
  const events: ExecEvent[] = [];
  const records: DecodedBatch['records'] = [];
  let unknown = 0;
  let countedExits = 0;
  let at = 0;
  while (at < batch.length) {
    if (batch.length - at < H.length) return decoded(events, records, unknown, countedExits, malformed('a truncated header', at));
    const size = batch.readUInt32LE(at + H.size);
    const fixed = batch.readUInt16LE(at + H.fixedSize);
    if (size < H.length || at + size > batch.length || fixed > size)
      return decoded(events, records, unknown, countedExits, malformed(`sizes that do not fit (size ${size}, fixed ${fixed})`, at));
    const type = batch.readUInt16LE(at + H.type);
    if (type === X.type) {
      if (fixed < EXEC_LENGTH_V1) return decoded(events, records, unknown, countedExits, malformed(`a short exec record (${fixed})`, at));
      let variable = batch.readUInt16LE(at + X.filenameLen) + batch.readUInt32LE(at + X.argvLen);
      if (fixed >= CONTEXT_END)
        variable +=
          batch.readUInt16LE(at + X.exeLen) + batch.readUInt16LE(at + X.interpLen) + batch.readUInt16LE(at + X.cwdLen);
      if (fixed >= WHERE_END) variable += batch.readUInt16LE(at + X.cgroupLen) + batch.readUInt32LE(at + X.envLen);
      if (fixed + variable > size) return decoded(events, records, unknown, countedExits, malformed(`lengths past the record's end (${variable})`, at));
      const exec = new Exec(batch, at, clock, envNames, table, redactor);
      events.push(exec);
      records.push(exec);
    } else if (type === LAYOUT.exit.type || type === LAYOUT.fork.type) {
      // Fixed-size records: a newer object may append fields, never shrink them.
      const length = type === LAYOUT.exit.type ? LAYOUT.exit.length : LAYOUT.fork.length;
      if (fixed < length) return decoded(events, records, unknown, countedExits, malformed(`a short ${type === LAYOUT.exit.type ? 'exit' : 'fork'} record (${fixed})`, at));
      if (type === LAYOUT.fork.type) records.push(new Fork(batch, at, clock));
      else if (exits) records.push(new Exit(batch, at, clock));
      else countedExits++;
    } else if (type === F.type) {
      if (fixed < F.length) return decoded(events, records, unknown, countedExits, malformed(`a short failed-exec record (${fixed})`, at));
      const variable = batch.readUInt16LE(at + F.filenameLen) + batch.readUInt32LE(at + F.argvLen);
      if (fixed + variable > size) return decoded(events, records, unknown, countedExits, malformed(`lengths past the record's end (${variable})`, at));
      records.push(new ExecFailed(batch, at, clock, redactor));
    } else {
      unknown++;
    }
    at += size;
  }
  return decoded(events, records, unknown, countedExits);
}

/** A batch's result (a plain object: one with a getter slowed every caller's loop by a third). */
function decoded(
  events: ExecEvent[],
  records: DecodedBatch['records'],
  unknown: number,
  countedExits: number,
  error?: DecodeError,
): DecodedRecords {
  return error ? { events, records, unknown, countedExits, error } : { events, records, unknown, countedExits };
}

function malformed(what: string, offset: number): DecodeError {
  return new DecodeError(`malformed record at byte ${offset} of a batch: ${what}`, offset);
}
