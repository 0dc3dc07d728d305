// SPDX-License-Identifier: MIT
//
// exec-tracer/syslog against a real rsyslogd (Debian 12's, unpacked into
// deps/rsyslog by scripts/fetch-rsyslog.sh): real tracers, real execs, over
// TCP and TLS; a certificate from another CA refused; rsyslogd killed in a
// storm and started again; a 100 KB argv cut to rsyslog's limit; a 10,000
// exec storm delivered whole; and the exec-tracer command's --syslog.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExecTracer, type ExecEvent } from 'exec-tracer';
import { SyslogSink, type SyslogError, type SyslogSinkOptions, type SyslogSinkStats } from 'exec-tracer/syslog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, type TestCa } from '../helpers/certs.js';
import { startCommand } from '../helpers/command.js';
import { startRsyslog, type FiledMessage, type Rsyslog } from '../helpers/rsyslog.js';
import { eventually, fixture, kernel, root, uniqueTag } from './kernel.js';

const execFileAsync = promisify(execFile);

interface Record5424 {
  timestamp: string;
  eventName: string;
  attributes: Record<string, unknown>;
}

/** The filed messages whose record parses, with it. */
function records(messages: FiledMessage[]): { filed: FiledMessage; record: Record5424 }[] {
  return messages.flatMap((filed) => {
    try {
      return [{ filed, record: JSON.parse(filed.msg) as Record5424 }];
    } catch {
      return [];
    }
  });
}

/** The argv of a filed exec: argv[1] is the tag of each exec these tests make. */
const argvOf = (record: Record5424) => (record.attributes['process.command_args'] as string[] | undefined) ?? [];

/** How many messages carry each argv[1] starting with TAG. */
function tagCounts(rsyslog: Rsyslog, tag: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { record } of records(rsyslog.messages())) {
    const arg = argvOf(record)[1];
    if (arg?.startsWith(tag)) counts.set(arg, (counts.get(arg) ?? 0) + 1);
  }
  return counts;
}

const balanced = (s: SyslogSinkStats) => s.sent + s.queued + s.dropped === s.written;

describe.skipIf(!kernel)('exec-tracer/syslog to a real rsyslogd', () => {
  let dir: string;
  let good: TestCa;
  let other: TestCa;
  let rsyslog: Rsyslog;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'et-syslog-'));
    good = makeCa(dir, 'good');
    other = makeCa(dir, 'other');
    rsyslog = await startRsyslog(dir, good);
  });
  afterAll(async () => {
    await rsyslog?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const urls = () => ({
    tcp: { url: `tcp://127.0.0.1:${rsyslog.tcpPort}` },
    tls: { url: `tls://127.0.0.1:${rsyslog.tlsPort}`, ca: readFileSync(good.caFile) },
  });

  /** A tracer of this process's descendants writing every exec to a new sink. */
  async function tracedSink(options: SyslogSinkOptions, tracerOptions = {}) {
    const sink = new SyslogSink(options);
    const errors: SyslogError[] = [];
    sink.on('error', (e) => errors.push(e));
    const tracer = new ExecTracer({ filter: { descendantsOf: [process.pid] }, ...tracerOptions });
    const seen = new Set<string>();
    tracer.on('exec', (event: ExecEvent) => {
      sink.write(event);
      if (event.argv[1] !== undefined) seen.add(event.argv[1]);
    });
    await tracer.start();
    return { sink, tracer, errors, seen };
  }

  for (const transport of ['tcp', 'tls'] as const) {
    it(`delivers each exec exactly once, with its pid and the OpenTelemetry names, over ${transport}`, async () => {
      const tag = uniqueTag(`syslog-${transport}`);
      const { sink, tracer, errors, seen } = await tracedSink(urls()[transport]);
      const pids = new Map<string, number>();
      for (let batch = 0; batch < 5; batch++) {
        const children = Array.from({ length: 10 }, (_, i) => {
          const arg = `${tag}-${batch * 10 + i}`;
          const child = spawn('/bin/echo', [arg], { stdio: 'ignore' });
          pids.set(arg, child.pid!);
          return new Promise((resolve) => child.on('close', resolve));
        });
        await Promise.all(children);
      }
      expect(await eventually(() => seen.size >= 50, 10_000)).toBe(true);
      await tracer.stop();
      const stats = await sink.close();
      expect(stats).toMatchObject({ sent: stats.written, dropped: 0, queued: 0 });
      expect(errors).toEqual([]);
      expect(await eventually(() => tagCounts(rsyslog, tag).size === 50, 10_000)).toBe(true);
      expect([...tagCounts(rsyslog, tag).values()].every((n) => n === 1)).toBe(true);
      const mine = records(rsyslog.messages()).filter(({ record }) => argvOf(record)[1]?.startsWith(tag));
      for (const { filed, record } of mine) {
        // rsyslog parsed the RFC 5424 header as such.
        expect(filed).toMatchObject({
          facility: 'authpriv', severity: 'info', appName: 'exec-tracer', procId: String(process.pid),
          msgId: 'exec_tracer.process.exec', structuredData: '-',
        });
        expect(record.eventName).toBe('exec_tracer.process.exec');
        expect(record.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        expect(record.attributes['process.pid']).toBe(pids.get(argvOf(record)[1]!));
        expect(argvOf(record)[0]).toBe('/bin/echo');
      }
    });
  }

  it('refuses a server certificate from another CA, naming the certificate problem and the url', async () => {
    for (const ca of [readFileSync(other.caFile), undefined]) {
      const url = `tls://127.0.0.1:${rsyslog.tlsPort}`;
      const sink = new SyslogSink({ url, ...(ca ? { ca } : {}) });
      const errors: SyslogError[] = [];
      sink.on('error', (e) => errors.push(e));
      expect(await eventually(() => errors.length > 0, 10_000)).toBe(true);
      expect(errors[0]!.code).toBe('ETLS');
      expect(errors[0]!.message).toContain(`${url}: the server's certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE`);
      expect(errors[0]!.hint).toMatch(/options\.ca/);
      expect((await sink.close({ timeoutMs: 0 })).sent).toBe(0);
    }
  });

  it('rides out rsyslogd killed in a storm and started again: reconnects, and every exec is delivered or counted dropped', async () => {
    const tag = uniqueTag('syslog-kill');
    const { sink, tracer, seen } = await tracedSink({ ...urls().tcp, maxBackoffMs: 1000 });
    const written = 3000;
    // Paced: 2 spawners, one exec every 1.5 ms each, for ~2-4 s.
    const storm = execFileAsync(fixture('storm'), ['2', String(written / 2), tag, '/bin/true', '1500']);
    const samples: boolean[] = [];
    const sampler = setInterval(() => samples.push(balanced(sink.stats())), 5);
    try {
      expect(await eventually(() => sink.stats().sent >= 300, 20_000)).toBe(true);
      await rsyslog.kill();
      const atKill = sink.stats();
      await new Promise((r) => setTimeout(r, 700));
      expect(sink.stats().sent - atKill.sent, 'nothing is confirmed while the server is dead').toBeLessThan(50);
      await rsyslog.restart();
      await storm;
      expect(await eventually(() => [...seen].filter((a) => a.startsWith(tag)).length === written, 20_000)).toBe(true);
      await tracer.stop();
    } finally {
      clearInterval(sampler);
    }
    const stats = await sink.close({ timeoutMs: 20_000 });
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.every(Boolean), 'sent + queued + dropped === written at every sample').toBe(true);
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(stats.queued).toBe(0);
    // Every exec of the storm was written; each one delivered (at least once: the
    // replay after the kill may duplicate) or counted dropped.
    const counts = await (async () => {
      let c = tagCounts(rsyslog, tag);
      await eventually(() => (c = tagCounts(rsyslog, tag)).size >= written - stats.dropped, 10_000);
      return c;
    })();
    expect(counts.size + stats.dropped, JSON.stringify(stats)).toBe(written);
    expect(stats.dropped).toBe(0);
    console.log(`[syslog] kill mid-storm: ${JSON.stringify(stats)}, ${[...counts.values()].filter((n) => n > 1).length} duplicates`);
  });

  it('cuts a 100 KB argv (and a big environment) to rsyslog\'s 8,096 bytes, flagged, so that rsyslog keeps it whole', async () => {
    const tag = uniqueTag('syslog-big');
    const { sink, tracer, seen } = await tracedSink(urls().tls, { argvLimit: 256 * 1024, env: true });
    const huge = 'x'.repeat(100_000);
    const child = spawn('/bin/echo', [tag, huge, 'after'], { stdio: 'ignore', env: { PATH: '/bin', BIG: 'y'.repeat(20_000) } });
    await new Promise((r) => child.on('close', r));
    expect(await eventually(() => seen.has(tag), 10_000)).toBe(true);
    await tracer.stop();
    expect(await sink.close()).toMatchObject({ sent: 1, dropped: 0 });
    let found: { filed: FiledMessage; record: Record5424 } | undefined;
    expect(await eventually(() => (found = records(rsyslog.messages()).find(({ record }) => argvOf(record)[1] === tag)) !== undefined, 10_000)).toBe(true);
    const { filed, record } = found!;
    expect(record.attributes['process.pid']).toBe(child.pid);
    expect(record.attributes['exec_tracer.argv.truncated']).toBe(true);
    expect(record.attributes['exec_tracer.env.truncated']).toBe(true);
    const argv = argvOf(record);
    expect(argv.slice(0, 2)).toEqual(['/bin/echo', tag]);
    expect(huge.startsWith(argv[2]!)).toBe(true);
    // The whole message as sent: header (rebuilt from rsyslog's fields) + MSG.
    const header = `<86>1 ${record.timestamp.slice(0, 26)}Z ${filed.hostname} exec-tracer ${process.pid} exec_tracer.process.exec - `;
    const size = Buffer.byteLength(header) + Buffer.byteLength(filed.msg);
    expect(size).toBeLessThanOrEqual(8096);
    expect(size).toBeGreaterThan(8096 - 16);
  });

  it('delivers a 10,000-exec storm complete with the defaults: 10,000 lines, none dropped', { timeout: 300_000 }, async () => {
    const tag = uniqueTag('syslog-storm');
    const { sink, tracer, seen } = await tracedSink(urls().tcp);
    const total = 10_000;
    const samples: boolean[] = [];
    const sampler = setInterval(() => samples.push(balanced(sink.stats())), 10);
    let maxQueued = 0;
    const watcher = setInterval(() => (maxQueued = Math.max(maxQueued, sink.stats().queued)), 10);
    const started = Date.now();
    try {
      await execFileAsync(fixture('storm'), ['4', String(total / 4), tag, '/bin/true'], { timeout: 240_000 });
      expect(await eventually(() => [...seen].filter((a) => a.startsWith(tag)).length === total, 30_000)).toBe(true);
      await tracer.stop();
    } finally {
      clearInterval(sampler);
      clearInterval(watcher);
    }
    const stats = await sink.close({ timeoutMs: 30_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(samples.every(Boolean)).toBe(true);
    expect(stats).toMatchObject({ dropped: 0, queued: 0, reconnects: 0 });
    let counts = tagCounts(rsyslog, tag);
    expect(await eventually(() => (counts = tagCounts(rsyslog, tag)).size === total, 30_000)).toBe(true);
    expect(rsyslog.lines().filter((l) => l.includes(`"${tag}-`)).length).toBe(total);
    console.log(`[syslog] storm: ${total} execs in ${seconds.toFixed(1)} s, deepest queue ${maxQueued}, ${JSON.stringify(stats)}`);
  });

  it('exec-tracer --syslog tls://… --syslog-ca delivers every exec of a storm and says so in its summary', async () => {
    const tag = uniqueTag('syslog-cli');
    const command = startCommand(process.execPath, [
      join(root, 'dist', 'cli', 'main.js'), '--syslog', `tls://127.0.0.1:${rsyslog.tlsPort}`, '--syslog-ca', good.caFile,
      '--descendants', String(process.pid),
    ], { ...process.env });
    try {
      await command.line((l) => l.startsWith('PCOMM'));
      const pids = new Map<string, number>();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const child = spawn('/bin/echo', [`${tag}-${i}`], { stdio: 'ignore' });
          pids.set(`${tag}-${i}`, child.pid!);
          return new Promise((r) => child.on('close', r));
        }),
      );
      // The terminal lines are still printed.
      await command.line((l) => l.includes(`${tag}-29`));
      for (let i = 0; i < 30; i++) await command.line((l) => l.includes(`${tag}-${i}`));
      command.proc.kill('SIGINT');
      const { code } = await command.exited;
      expect(code, command.stderr()).toBe(0);
      const summary = /exec-tracer: (\d+) execs, 0 lost, \d+ filtered, (\d+) sent, 0 dropped\n$/.exec(command.stderr());
      expect(summary, command.stderr()).not.toBeNull();
      expect(Number(summary![2])).toBe(Number(summary![1]));
      expect(await eventually(() => tagCounts(rsyslog, tag).size === 30, 10_000)).toBe(true);
      for (const { filed, record } of records(rsyslog.messages()).filter(({ record }) => argvOf(record)[1]?.startsWith(tag))) {
        expect(record.attributes['process.pid']).toBe(pids.get(argvOf(record)[1]!));
        expect(filed.procId).toBe(String(command.proc.pid));
        expect(filed.msgId).toBe('exec_tracer.process.exec');
      }
      expect([...tagCounts(rsyslog, tag).values()].every((n) => n === 1)).toBe(true);
    } finally {
      command.proc.kill('SIGKILL');
    }
  });
});
