// SPDX-License-Identifier: MIT
//
// What every binding must do for ExecTracer, checked through the public API.
// Run against the mock in test/unit and against the real addon (with real
// execs) in test/integration. The real kernel sees every process on the host,
// so each check looks only at the execs it caused (tagged with a unique arg).
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../types/binding.js';
import { ExecTracer, type ExecEvent, type ExecTracerOptions } from '../../lib/index.js';

export interface ContractDriver {
  /** The binding to inject; absent: the package's own addon, loaded as a user's tracer loads it. */
  binding?: NativeBinding;
  /**
   * Makes `file` exec with `args` (argv[0] is `file`); resolves once the exec
   * has happened (for a real process: once it has exited).
   */
  exec(file: string, args: (string | Buffer)[]): Promise<{ pid: number }>;
  /** Releases what the driver holds; called after each check. */
  cleanup?(): void | Promise<void>;
}

const tagOf = (label: string) => `contract-${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;

export function describeTracerContract(
  name: string,
  makeDriver: () => ContractDriver | Promise<ContractDriver>,
): void {
  describe(`tracer contract: ${name}`, () => {
    let driver: ContractDriver | undefined;
    const tracers: ExecTracer[] = [];

    // A failed check must not leave a program attached for the next one.
    afterEach(async () => {
      await Promise.all(tracers.splice(0).map((t) => t.stop()));
      await driver?.cleanup?.();
      driver = undefined;
    });

    async function setup(options: ExecTracerOptions = {}) {
      driver = await makeDriver();
      const tracer = driver.binding ? new ExecTracer(options, { binding: driver.binding }) : new ExecTracer(options);
      tracers.push(tracer);
      return { driver, tracer };
    }

    it('emits an exec with its pid, comm, filename and argv, before close', async () => {
      const { driver, tracer } = await setup();
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
      const e = seen[0]!;
      expect(e.pid).toBe(pid);
      expect(e.comm).toBe('echo');
      expect(e.filename).toBe('/bin/echo');
      expect(e.argv).toEqual(['/bin/echo', tag, 'two words', '']);
      expect(e.argc).toBe(4);
      expect(e.argvTruncated).toBe(false);
      expect(e.processId).toBe(`${pid}:${e.startBootNs}`);
      expect(e.execId).toMatch(new RegExp(`^${pid}:${e.startBootNs}:[1-9]\\d*$`));
      expect(order).toEqual(['exec', 'close']);
    });

    it('keeps bytes that are not UTF-8', async () => {
      const { driver, tracer } = await setup();
      const tag = tagOf('bytes');
      const seen: ExecEvent[] = [];
      tracer.on('exec', (e) => e.argv.includes(tag) && e.comm === 'echo' && seen.push(e));
      await tracer.start();
      await driver.exec('/bin/echo', [tag, Buffer.from([0xc3, 0x28, 0xff])]);
      await tracer.stop();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.rawArgv[2]).toEqual(Buffer.from([0xc3, 0x28, 0xff]));
      expect(seen[0]!.argv[2]).toBe('\ufffd(\ufffd');
    });

    it('stop() delivers every exec that already happened, then closes', async () => {
      // A latency bound far beyond the test: only stop()'s drain can deliver.
      const { driver, tracer } = await setup({ maxLatencyMs: 10_000 });
      const tag = tagOf('drain');
      const pids: number[] = [];
      tracer.on('exec', (e) => e.argv.includes(tag) && pids.push(e.pid));
      let closedWith: number[] | undefined;
      tracer.on('close', () => (closedWith = [...pids]));
      await tracer.start();
      const expected: number[] = [];
      for (let i = 0; i < 3; i++) expected.push((await driver.exec('/bin/true', [tag, String(i)])).pid);
      await tracer.stop();
      expect(closedWith).toEqual(expected);
    });

    it('yields execs to for await, and ends when the tracer stops', async () => {
      const { driver, tracer } = await setup();
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
      const { driver, tracer } = await setup();
      let closes = 0;
      let events = 0;
      tracer.on('close', () => closes++);
      tracer.on('exec', () => events++);
      await tracer.start();
      await driver.exec('/bin/true', [tagOf('stats')]);
      await Promise.all([tracer.stop(), tracer.stop()]);
      await tracer.stop();
      const stats = tracer.stats();
      expect(stats.events).toBe(events);
      expect(stats.events).toBeGreaterThanOrEqual(1);
      expect(stats.batches).toBeGreaterThanOrEqual(1);
      expect(stats.bytes).toBeGreaterThan(0);
      expect(stats.lost).toBe(0);
      expect(stats.unknownRecords).toBe(0);
      expect(closes).toBe(1);
      await expect(tracer.start()).rejects.toMatchObject({ code: 'ECLOSED' });
    });
  });
}
