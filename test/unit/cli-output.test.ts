// SPDX-License-Identifier: MIT
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroup2Mount, findContainers } from '../../cli/container.js';
import { LineWriter } from '../../cli/output.js';

const tick = () => new Promise((r) => setImmediate(r));

/** A reader that takes every chunk and acknowledges none until released: a stalled pipe. */
function stalledReader() {
  const chunks: string[] = [];
  const pending: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      pending.push(callback);
    },
  });
  return { stream, chunks, release: () => pending.splice(0).forEach((cb) => cb()) };
}

describe('LineWriter', () => {
  it('batches the lines of a tick into one write', async () => {
    const reader = stalledReader();
    const writer = new LineWriter(reader.stream, () => {});
    writer.line('a');
    writer.line('b');
    await tick();
    expect(reader.chunks).toEqual(['a\nb\n']);
  });

  it('keepOpen (standard error): end() waits for the lines to be taken, and leaves the stream open for the summary', async () => {
    const reader = stalledReader();
    const writer = new LineWriter(reader.stream, () => {}, 10_000, true);
    writer.line('a');
    let ended = false;
    const ending = writer.end(5000).then(() => (ended = true));
    await tick();
    expect(reader.chunks).toEqual(['a\n']);
    expect(ended).toBe(false);
    reader.release();
    await ending;
    expect(reader.stream.writableEnded).toBe(false);
    expect(writer.dropped).toBe(0);
    // Without keepOpen, end() ends the stream (and a socket on a descriptor closes it).
    const other = stalledReader();
    const closing = new LineWriter(other.stream, () => {}).end(5000);
    await tick();
    other.release();
    await closing;
    expect(other.stream.writableEnded).toBe(true);
  });

  it('drops and counts lines once a slow reader is a bound behind, and takes them again when it catches up', async () => {
    const reader = stalledReader();
    const writer = new LineWriter(reader.stream, () => {}, 10_000);
    const line = 'x'.repeat(99);
    for (let i = 0; i < 300; i++) {
      writer.line(line);
      if (i % 10 === 9) await tick();
    }
    await tick();
    expect(writer.dropped).toBeGreaterThan(150);
    expect(writer.written + writer.dropped).toBe(300);
    const queued = reader.chunks.join('').length;
    expect(queued).toBeLessThanOrEqual(10_000 + 1000 + 100);
    reader.release();
    await tick();
    expect(writer.line(line)).toBe(true);
  });

  it('reports the first error once and writes nothing after it', async () => {
    const reader = stalledReader();
    const errors: string[] = [];
    const writer = new LineWriter(reader.stream, (error) => errors.push(error.code!));
    reader.stream.emit('error', Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
    reader.stream.emit('error', Object.assign(new Error('broken pipe'), { code: 'EPIPE' }));
    expect(errors).toEqual(['EPIPE']);
    expect(writer.line('late')).toBe(false);
    await expect(writer.end(100)).resolves.toBeUndefined();
  });

  it('end() resolves when the reader has everything, or after its timeout', async () => {
    const quick = new Writable({ write: (_c, _e, cb) => cb() });
    const writer = new LineWriter(quick, () => {});
    writer.line('last');
    await expect(writer.end(5000)).resolves.toBeUndefined();
    const stalled = new LineWriter(stalledReader().stream, () => {});
    stalled.line('taken by nobody');
    await tick();
    stalled.line('never read');
    stalled.line('nor this');
    const started = Date.now();
    await stalled.end(50);
    expect(Date.now() - started).toBeLessThan(1000);
    // Exiting now would discard them: they are counted, not lost silently.
    expect(stalled.dropped).toBe(3);
    expect(stalled.written).toBe(0);
  });
});

describe('--container', () => {
  const tree = mkdtempSync(join(tmpdir(), 'exec-tracer-cgroups-'));
  afterAll(() => rmSync(tree, { recursive: true, force: true }));
  const a = 'ab'.repeat(32);
  const b = 'ac'.repeat(32);
  const c = 'cd'.repeat(32);
  for (const dir of [
    `system.slice/docker-${a}.scope/init.scope`,
    `system.slice/docker-${b}.scope`,
    `kubepods/besteffort/pod1234/${c}`,
    'user.slice/user-0.slice',
  ])
    mkdirSync(join(tree, dir), { recursive: true });

  it('finds a running container by a unique prefix of its id, with its top cgroup', () => {
    expect(findContainers('abab', tree)).toEqual([{ id: a, cgroup: `/system.slice/docker-${a}.scope` }]);
    expect(findContainers(c.slice(0, 12), tree)).toEqual([{ id: c, cgroup: `/kubepods/besteffort/pod1234/${c}` }]);
  });

  it('returns every container a short prefix names, and none for an unknown one', () => {
    expect(findContainers('a', tree).map((x) => x.id).sort()).toEqual([a, b]);
    expect(findContainers('ff', tree)).toEqual([]);
  });

  it('reads the cgroup2 mount from mountinfo, octal escapes included', () => {
    const mountinfo = [
      '22 1 0:21 / /proc rw,nosuid - proc proc rw',
      '30 25 0:26 / /sys/fs/cgroup/my\\040cgroups rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate',
    ].join('\n');
    expect(cgroup2Mount(mountinfo)).toBe('/sys/fs/cgroup/my cgroups');
    expect(cgroup2Mount('22 1 0:21 / /proc rw - proc proc rw')).toBeUndefined();
  });
});
