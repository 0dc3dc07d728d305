// SPDX-License-Identifier: MIT
//
// What every binding must do for ExecTracer, checked through the public API.
// Run against the mock in test/unit and against the real addon (with real
// execs) in test/integration.
import { describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../types/binding.js';
import { ExecTracer, type ExecEvent } from '../../lib/index.js';

export interface ContractDriver {
  binding: NativeBinding;
  /** Makes `file` exec with `args` (after argv[0] = file); resolves once it has happened. */
  exec(file: string, args: (string | Buffer)[]): Promise<{ pid: number }>;
}

const tagOf = (label: string) => `contract-${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;

export function describeTracerContract(name: string, makeDriver: () => ContractDriver): void {
  describe(`tracer contract: ${name}`, () => {
    it('emits an exec with its pid, comm, filename and argv, before close', async () => {
      const driver = makeDriver();
      const tracer = new ExecTracer({}, { binding: driver.binding });
      const seen: ExecEvent[] = [];
      const order: string[] = [];
      const tag = tagOf('exec');
      tracer.on('exec', (e) => {
        if (e.argv.includes(tag)) {
          seen.push(e);
          order.push('exec');
        }
      });
      tracer.on('close', () => order.push('close'));
      await tracer.start();
      const { pid } = await driver.exec('/bin/echo', [tag, 'two words', '']);
      await tracer.stop();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.pid).toBe(pid);
      expect(seen[0]!.comm).toBe('echo');
      expect(seen[0]!.filename).toBe('/bin/echo');
      expect(seen[0]!.argv).toEqual(['/bin/echo', tag, 'two words', '']);
      expect(order).toEqual(['exec', 'close']);
    });

    it('keeps bytes that are not UTF-8', async () => {
      const driver = makeDriver();
      const tracer = new ExecTracer({}, { binding: driver.binding });
      const tag = tagOf('bytes');
      const seen: ExecEvent[] = [];
      tracer.on('exec', (e) => e.argv.includes(tag) && e.comm === 'echo' && seen.push(e));
      await tracer.start();
      await driver.exec('/bin/echo', [tag, Buffer.from([0xc3, 0x28, 0xff])]);
      await tracer.stop();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.rawArgv[2]).toEqual(Buffer.from([0xc3, 0x28, 0xff]));
    });

    it('yields execs to for await, and ends when the tracer stops', async () => {
      const driver = makeDriver();
      const tracer = new ExecTracer({}, { binding: driver.binding });
      const tag = tagOf('iter');
      const iterator = tracer.events();
      await tracer.start();
      const { pid } = await driver.exec('/bin/true', [tag]);
      let found: ExecEvent | undefined;
      for await (const e of iterator) {
        if (e.argv.includes(tag)) {
          found = e;
          void tracer.stop();
        }
      }
      expect(found?.pid).toBe(pid);
    });

    it('counts what it delivered, and close is emitted once however often stop() is called', async () => {
      const driver = makeDriver();
      const tracer = new ExecTracer({}, { binding: driver.binding });
      let closes = 0;
      tracer.on('close', () => closes++);
      await tracer.start();
      await driver.exec('/bin/true', [tagOf('stats')]);
      await Promise.all([tracer.stop(), tracer.stop()]);
      await tracer.stop();
      const stats = tracer.stats();
      expect(stats.events).toBeGreaterThanOrEqual(1);
      expect(stats.batches).toBeGreaterThanOrEqual(1);
      expect(stats.bytes).toBeGreaterThan(0);
      expect(stats.lost).toBe(0);
      expect(closes).toBe(1);
      await expect(tracer.start()).rejects.toMatchObject({ code: 'ECLOSED' });
    });
  });
}
