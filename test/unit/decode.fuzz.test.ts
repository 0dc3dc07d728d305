// SPDX-License-Identifier: MIT
//
// The decoder against bytes nobody designed: random batches, real records
// truncated at every length, bit-flipped, and records whose fields are
// arbitrary. A record's bytes come from the kernel, but its argv, paths,
// names and environment are whatever a hostile process chose, and a decoder
// that throws inside a listener's process or reads a neighbour's bytes is
// a bug in someone else's program. fast-check prints the seed of a failure;
// FUZZ_RUNS raises the number of runs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, DecodeError } from '../../lib/index.js';
import type { ExecEvent, ExecFailedEvent, ExitEvent, ForkEvent } from '../../lib/index.js';
import { encodeExecFailedRecord, encodeExecRecord, encodeExitRecord, encodeForkRecord } from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 1_700_000_000_000_000_000n };
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
type Decoded = ExecEvent | ExitEvent | ForkEvent | ExecFailedEvent;

const U32 = 0xffff_ffff;
const isU32 = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32;
const isU64 = (n: unknown) => typeof n === 'bigint' && n >= 0n && n < 2n ** 64n;

/** Every getter of an event, as a listener might read it; throws whatever a getter throws. */
function readEverything(event: Decoded): unknown[] {
  const seen: unknown[] = [JSON.stringify(event), event.time.getTime(), event.rawComm];
  if (event.kind === 'exec') {
    seen.push(
      event.rawFilename, event.rawArgv, event.rawExe, event.rawInterpreter, event.rawCwd, event.rawCgroup,
      event.rawEnv, event.env, event.argv, event.namespaces, event.containerId, event.ancestors(), event.parent,
    );
  } else if (event.kind === 'execFailed') {
    seen.push(event.rawFilename, event.rawArgv, event.argv, event.code);
  }
  return seen;
}

/** The documented ranges of the fields every event has, and of the exec event's. */
function checkRanges(event: Decoded): void {
  expect(isU32(event.pid)).toBe(true);
  expect(isU64(event.bootNs)).toBe(true);
  expect(Number.isNaN(event.time.getTime())).toBe(false);
  expect(event.rawComm.length).toBeLessThanOrEqual(16);
  expect(event.rawComm.includes(0)).toBe(false);
  if (event.kind === 'exec') {
    for (const n of [event.tid, event.ppid, event.uid, event.gid, event.nsPid, event.euid, event.argvTotalBytes]) expect(isU32(n)).toBe(true);
    for (const n of [event.cgroupId, event.startBootNs, event.exeInode, event.capEffective]) expect(isU64(n)).toBe(true);
    expect(event.argv.length).toBe(event.rawArgv.length);
    expect(Number.isInteger(event.argc) && event.argc >= 0).toBe(true);
    expect(event.processId).toMatch(/^\d+:\d+$/);
    expect(event.execId).toMatch(/^\d+:\d+:(\d+|@\d+)$/); // @bootNs: a record from before exec_seq
  }
  if (event.kind === 'exit') {
    expect(event.signal === undefined || /^SIG/.test(event.signal)).toBe(true);
    expect(event.exitCode === undefined || (event.exitCode >= 0 && event.exitCode <= 255)).toBe(true);
  }
}

/**
 * Every raw view an event hands out lies inside its own record: a getter
 * never sees the next record's bytes (nor the batch's end).
 */
function checkBounds(event: Decoded, batch: Buffer, starts: number[]): void {
  const views: Buffer[] = [event.rawComm];
  if (event.kind === 'exec') {
    views.push(event.rawFilename, event.rawExe, event.rawCwd, event.rawCgroup, ...event.rawArgv, ...event.rawEnv);
    if (event.rawInterpreter) views.push(event.rawInterpreter);
  } else if (event.kind === 'execFailed') {
    views.push(event.rawFilename, ...event.rawArgv);
  }
  for (const view of views) {
    if (view.length === 0) continue;
    expect(view.buffer).toBe(batch.buffer);
    const from = view.byteOffset - batch.byteOffset;
    const to = from + view.length;
    const start = Math.max(...starts.filter((s) => s <= from));
    const size = batch.readUInt32LE(start + 4);
    expect(to).toBeLessThanOrEqual(start + size);
  }
}

/** A decode that may report an error but never throws, and whose events all read. */
function decodesSafely(batch: Buffer): ReturnType<typeof decodeBatch> {
  const result = decodeBatch(batch, clock, { envNames: undefined });
  if (result.error) {
    expect(result.error).toBeInstanceOf(DecodeError);
    expect(result.error.offset).toBeGreaterThanOrEqual(0);
    expect(result.error.offset).toBeLessThan(batch.length);
  }
  for (const event of result.records) readEverything(event);
  return result;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const nonNul = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a.map((b) => b || 1)));

/** An exec record with arbitrary field values and hostile strings. */
const execRecord = fc
  .record({
    pid: fc.integer({ min: 0, max: U32 }),
    ppid: fc.integer({ min: 0, max: U32 }),
    uid: fc.integer({ min: 0, max: U32 }),
    comm: nonNul(15),
    filename: bytes(300),
    argv: fc.array(nonNul(64), { maxLength: 12 }),
    argvLimit: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
    exe: bytes(200),
    cwd: bytes(200),
    cgroup: bytes(200),
    env: fc.option(fc.array(nonNul(40), { maxLength: 8 }), { nil: undefined }),
    bootNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    startBootNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    cgroupId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    capEffective: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fixedSize: fc.constantFrom(96, 128, 256, undefined),
  })
  .map((f) => {
    const record = encodeExecRecord({ ...f, fixedSize: f.fixedSize });
    sent.set(record, f);
    return record;
  });

/** The fields each generated exec record was made from, to compare with what decodes. */
const sent = new WeakMap<Buffer, { pid: number; ppid: number; uid: number; comm: Buffer; filename: Buffer; argv: Buffer[]; argvLimit?: number; cwd: Buffer; fixedSize?: number }>();

const anyRecord = fc.oneof(
  execRecord,
  fc.record({ pid: fc.integer({ min: 0, max: U32 }), status: fc.integer({ min: 0, max: U32 }), comm: fc.string({ maxLength: 15 }) })
    .map((f) => encodeExitRecord(f)),
  fc.record({ pid: fc.integer({ min: 0, max: U32 }), ppid: fc.integer({ min: 0, max: U32 }) }).map((f) => encodeForkRecord(f)),
  fc.record({ errno: fc.integer({ min: 0, max: 200 }), argv: fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }) })
    .map((f) => encodeExecFailedRecord(f)),
);

/** Records back to back, with where each starts and what each exec record was made of. */
const batchOf = fc.array(anyRecord, { minLength: 1, maxLength: 6 }).map((records) => {
  const starts: number[] = [];
  let at = 0;
  for (const r of records) {
    starts.push(at);
    at += r.length;
  }
  return { batch: Buffer.concat(records), starts, count: records.length, fields: records.map((r) => sent.get(r)) };
});

describe('decodeBatch, fuzzed', () => {
  it('never throws on random bytes: events that read, or a DecodeError', () => {
    fc.assert(fc.property(bytes(4096), (batch) => void decodesSafely(batch)), { numRuns: RUNS });
  });

  it('never throws on random bytes behind a valid header', () => {
    const headed = fc.tuple(fc.constantFrom(1, 3, 4, 6, 9), fc.integer({ min: 0, max: 600 }), bytes(700)).map(([type, fixed, body]) => {
      const b = Buffer.alloc(8 + body.length);
      b.writeUInt16LE(type, 0);
      b.writeUInt16LE(fixed, 2);
      b.writeUInt32LE(b.length, 4);
      body.copy(b, 8);
      return b;
    });
    fc.assert(fc.property(headed, (batch) => void decodesSafely(batch)), { numRuns: RUNS });
  });

  it('gives back every field of arbitrary valid records, each in its range and inside its own record', () => {
    fc.assert(
      fc.property(batchOf, ({ batch, starts, count, fields }) => {
        const { records, error } = decodesSafely(batch);
        expect(error).toBeUndefined();
        expect(records.length).toBe(count);
        records.forEach((event, i) => {
          checkRanges(event);
          checkBounds(event, batch, starts);
          const f = fields[i];
          if (f === undefined || event.kind !== 'exec') return;
          expect([event.pid, event.ppid, event.uid]).toEqual([f.pid, f.ppid, f.uid]);
          expect(event.rawComm).toEqual(f.comm);
          expect(event.rawFilename).toEqual(f.filename);
          // What the kernel kept of argv (argvLimit bytes), argument by argument.
          const whole = Buffer.concat(f.argv.flatMap((a) => [a, Buffer.from([0])]));
          const kept = whole.subarray(0, Math.min(whole.length, f.argvLimit ?? whole.length));
          expect(Buffer.concat(event.rawArgv.flatMap((a) => [a, Buffer.from([0])])).subarray(0, kept.length)).toEqual(kept);
          expect(event.argvTruncated).toBe(kept.length < whole.length);
          if (f.fixedSize === undefined) expect(event.rawCwd).toEqual(f.cwd);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('cut at any length: the whole records before the cut, then an error, never a partial event', () => {
    fc.assert(
      fc.property(batchOf, fc.nat(), ({ batch, starts }, n) => {
        const cut = n % (batch.length + 1);
        const { records, error } = decodesSafely(batch.subarray(0, cut));
        const whole = starts.filter((s, i) => (starts[i + 1] ?? batch.length) <= cut).length;
        expect(records.length).toBe(whole);
        expect(error === undefined).toBe(starts.includes(cut) || cut === batch.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('with bits flipped anywhere: no throw, and no event reads past its record', () => {
    fc.assert(
      fc.property(batchOf, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), ({ batch }, flips) => {
        const bent = Buffer.from(batch);
        for (const f of flips) bent[f % bent.length]! ^= 1 << (f % 8);
        const { records } = decodesSafely(bent);
        // A flipped size moves where the next record starts: bounds are
        // checked against the records as the decoder walked them.
        const walked: number[] = [];
        for (let at = 0; at + 8 <= bent.length; ) {
          const size = bent.readUInt32LE(at + 4);
          if (size < 8 || at + size > bent.length) break;
          walked.push(at);
          at += size;
        }
        for (const event of records) checkBounds(event, bent, walked);
      }),
      { numRuns: RUNS },
    );
  });
});
