// SPDX-License-Identifier: MIT
//
// --output FILE's writer: created 0600, whole lines only, reopened by path
// without losing or splitting a line, and a failing write counted rather
// than fatal.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLineWriter } from '../../cli/output.js';

const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('FileLineWriter', () => {
  it('creates the file 0600 whatever the umask, and appends to one that exists', async () => {
    const file = join(dir, 'new.json');
    const old = process.umask(0);
    try {
      const writer = new FileLineWriter(file, () => {});
      writer.line('one');
      await writer.end(1000);
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = new FileLineWriter(file, () => {});
    again.line('two');
    await again.end(1000);
    expect(lines(file)).toEqual(['one', 'two']);
  });

  it('reopens by path: every line is in the moved file or the new one, once and whole', async () => {
    const file = join(dir, 'rotated.json');
    const writer = new FileLineWriter(file, () => {});
    const written: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5000; i++) {
        const text = `{"round":${round},"i":${i},"pad":"${'x'.repeat(i % 300)}"}`;
        writer.line(text);
        written.push(text);
        // Rotate mid-stream, while a write may be in flight.
        if (i === 2500 && round < 3) {
          renameSync(file, `${file}.${round}`);
          writer.reopen();
        }
        if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await writer.end(5000);
    const all = [0, 1, 2].flatMap((n) => lines(`${file}.${n}`)).concat(lines(file));
    expect(all.length).toBe(written.length);
    expect(new Set(all)).toEqual(new Set(written));
    for (const line of all) expect(() => JSON.parse(line)).not.toThrow();
    expect(writer.dropped).toBe(0);
  });

  it('keeps writing to the open file when the path cannot be opened again, and says so', async () => {
    const sub = join(dir, 'gone');
    mkdirSync(sub);
    const file = join(sub, 'out.json');
    const problems: [number, string | undefined][] = [];
    const writer = new FileLineWriter(file, (n, error) => problems.push([n, error.code]));
    writer.line('before');
    renameSync(sub, `${sub}-moved`);
    writer.reopen();
    writer.line('after');
    await writer.end(1000);
    expect(problems).toEqual([[0, 'ENOENT']]);
    expect(lines(join(`${sub}-moved`, 'out.json'))).toEqual(['before', 'after']);
  });

  it.skipIf(process.getuid?.() !== 0)('counts the lines a full disk refused, never leaves a split line, and goes on when there is room', async () => {
    // A 64 KiB tmpfs: a real ENOSPC.
    const mount = join(dir, 'small');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      const file = join(mount, 'out.json');
      const problems: string[] = [];
      const writer = new FileLineWriter(file, (_, error) => problems.push(error.code ?? ''));
      const line = (i: number) => `{"i":${i},"pad":"${'y'.repeat(200)}"}`;
      for (let i = 0; i < 1000; i++) writer.line(line(i));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(problems[0]).toBe('ENOSPC');
      const kept = lines(file);
      // Whole lines only, and the counts add up.
      for (const l of kept) expect(() => JSON.parse(l)).not.toThrow();
      expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
      expect(kept.length + writer.dropped).toBe(1000);
      // Room again: lines flow.
      writeFileSync(file, '');
      writer.line(line(1000));
      await writer.end(1000);
      expect(lines(file)).toEqual([line(1000)]);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
