// SPDX-License-Identifier: MIT
//
// Many tracers at once: two in this process and one in each of
// four worker threads, all started together. Each has its own programs,
// ring and counters in the kernel, so each must see every exec of a storm
// exactly once, keep exact counts of its own when another stops, and leave
// nothing behind when all have stopped.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ExecTracer } from '../../lib/index.js';
import { fixture, kernel, ourPrograms, root, scaled, settledKernelObjects } from './kernel.js';

const WORKERS = 4;

/** A worker's tracer, driven by messages (test/fixtures/many-worker.mjs). */
function startWorker() {
  const worker = new Worker(join(root, 'test', 'fixtures', 'many-worker.mjs'));
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, next };
}

/** A tracer in this process counting the storm's tags. */
function localTracer() {
  const tracer = new ExecTracer({ exits: false });
  const counts = new Map<string, number>();
  tracer.on('exec', (e) => {
    const a = e.argv[1];
    if (a?.startsWith('et-many-')) counts.set(a, (counts.get(a) ?? 0) + 1);
  });
  return { tracer, counts };
}

/** Every tag of a storm seen exactly once, nothing else of it. */
function exactlyOnce(counts: Iterable<[string, number]>, tag: string, expected: number) {
  const mine = [...counts].filter(([k]) => k.startsWith(`${tag}-`));
  expect(mine.length).toBe(expected);
  expect(mine.every(([, n]) => n === 1)).toBe(true);
}

describe.skipIf(!kernel)('many tracers at once, on the real kernel', () => {
  it('two here and one in each of four workers: each sees every exec once, stops alone, and leaves nothing', async () => {
    const before = await settledKernelObjects();
    const storm = fixture('storm');
    const stamp = `${process.pid}-${Date.now().toString(36)}`;
    const first = `et-many-a${stamp}`;
    const second = `et-many-b${stamp}`;
    // Smaller inside the kernel matrix's emulated guests (testScale).
    const perFirst = scaled(250, 10);
    const perSecond = scaled(150, 10);

    const workers = Array.from({ length: WORKERS }, startWorker);
    try {
      await Promise.all(workers.map((w) => w.next())); // loaded
      const local = [localTracer(), localTracer()];
      const started = workers.map((w) => w.next());
      for (const w of workers) w.worker.postMessage('start');
      await Promise.all([...local.map((l) => l.tracer.start()), ...started]);
      expect(ourPrograms()).toBe(local.length + WORKERS); // one exec program each (exits: false)

      execFileSync(storm, ['4', String(perFirst), first]);
      // The first local tracer stops; every other keeps its exact count.
      await local[0]!.tracer.stop();
      execFileSync(storm, ['2', String(perSecond), second]);

      const stopped = workers.map((w) => w.next());
      for (const w of workers) w.worker.postMessage('stop');
      await local[1]!.tracer.stop();
      const results = (await Promise.all(stopped)) as { counts: [string, number][]; stats: { events: number; lost: number } }[];

      exactlyOnce(local[0]!.counts, first, 4 * perFirst);
      exactlyOnce(local[0]!.counts, second, 0);
      for (const counts of [local[1]!.counts, ...results.map((r) => r.counts)]) {
        exactlyOnce(counts, first, 4 * perFirst);
        exactlyOnce(counts, second, 2 * perSecond);
      }
      // Counters are each tracer's own: the stopped one's froze at its stop.
      const events = [local[0]!.tracer.stats().events, local[1]!.tracer.stats().events, ...results.map((r) => r.stats.events)];
      expect(events[0]).toBeLessThan(events[1]!);
      for (const r of results) expect(r.stats.lost).toBe(0);
      expect(local.map((l) => l.tracer.stats().lost)).toEqual([0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    }
    const after = await settledKernelObjects();
    expect(after).toEqual(before);
    expect(ourPrograms()).toBe(0);
  }, 120_000);
});
