// SPDX-License-Identifier: MIT
//
// The exec-tracer command as a service manager stops it (issue 29, part 4):
// SIGTERM in a storm of execs with --json --syslog to a real rsyslogd stops
// tracing, flushes the sink and exits 0 with the summary, every line printed
// having reached rsyslog; with the server stalled (SIGSTOPped: it accepts
// nothing more) or gone, --shutdown-timeout bounds the flush and the summary
// counts what was not sent as dropped; a second SIGTERM (SIGINT) while the
// flush waits exits at once with 143 (130).
//
// Not a *.kernel.test.ts: the kernel matrix's guests have no rsyslogd (it
// is unpacked into the host's deps/). The command is the built bin,
// dist/cli/main.js, run by node as its shebang runs it.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCa } from '../helpers/certs.js';
import { startCommand, type RunningCommand } from '../helpers/command.js';
import { freePort, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { eventually, fixture, kernel, root, run, uniqueTag } from './kernel.js';

const execFileAsync = promisify(execFile);
const bin = join(root, 'dist', 'cli', 'main.js');

/** The summary line with --syslog: `N execs, N lost, N filtered, N sent, N dropped`. */
const SUMMARY = /^exec-tracer: (\d+) execs, (\d+) lost, \d+ filtered, (\d+) sent, (\d+) dropped\n$/m;

function summaryOf(stderr: string) {
  const match = SUMMARY.exec(stderr);
  expect(match, stderr).not.toBeNull();
  const [execs, lost, sent, dropped] = match!.slice(1).map(Number) as [number, number, number, number];
  return { execs, lost, sent, dropped };
}

/** Sends SIGNAL and resolves with the exit and the milliseconds from the signal to the end. */
async function signalled(command: RunningCommand, signal: NodeJS.Signals) {
  const sent = performance.now();
  command.proc.kill(signal);
  const exit = await command.exited;
  return { ...exit, ms: performance.now() - sent };
}

/** The argv[1] of each --json exec line carrying TAG. */
const printed = (command: RunningCommand, tag: string) =>
  command.lines
    .filter((l) => l.includes(tag))
    .map((l) => JSON.parse(l) as { kind: string; argv: string[] })
    .filter((e) => e.kind === 'exec')
    .map((e) => e.argv[1]!);

/**
 * The argv[1] of each exec rsyslog filed carrying TAG (its MSG is the
 * OpenTelemetry record). A message cut short, the last of a connection
 * destroyed at the deadline, is not one (it was counted as dropped).
 */
const filed = (rsyslog: Rsyslog, tag: string) =>
  rsyslog
    .messages()
    .filter((m) => m.msg.includes(tag))
    .flatMap((m) => {
      try {
        return [(JSON.parse(m.msg) as { attributes: Record<string, unknown> }).attributes['process.command_args'] as string[]];
      } catch {
        return [];
      }
    })
    .map((argv) => argv[1]!);

describe('exec-tracer --shutdown-timeout on the command line', () => {
  it('refuses a bad value with the usage and exit code 2, before tracing', async () => {
    for (const value of ['-1', 'soon', '', '3601']) {
      const result = await run(process.execPath, [bin, '--json', `--shutdown-timeout=${value}`]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^exec-tracer: --shutdown-timeout takes seconds between 0 and 3600, got "${value}"\\n\\nusage: exec-tracer`));
      expect(result.stdout).toBe('');
    }
  });
});

describe.skipIf(!kernel)('exec-tracer stopped as a service: SIGTERM, --shutdown-timeout, a second signal', () => {
  let dir: string;
  let rsyslog: Rsyslog;
  const running: RunningCommand[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'et-service-'));
    rsyslog = await startRsyslog(dir, makeCa(dir, 'ca'));
  });
  afterEach(() => {
    rsyslog.proc.kill('SIGCONT');
    for (const command of running.splice(0)) command.proc.kill('SIGKILL');
  });
  afterAll(async () => {
    await rsyslog?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The command with --json --syslog URL, tracing this process's descendants only. */
  function start(url: string, args: string[] = []): RunningCommand {
    const command = startCommand(process.execPath, [bin, '--json', '--syslog', url, '--descendants', String(process.pid), ...args], {
      ...process.env,
    });
    running.push(command);
    return command;
  }

  /** Execs PROBE until the command prints its line: then it traces. */
  async function attached(command: RunningCommand, probe: string): Promise<void> {
    const timer = setInterval(() => spawn('/bin/true', [probe], { stdio: 'ignore' }), 100);
    try {
      await command.line((l) => l.includes(probe), 20_000);
    } finally {
      clearInterval(timer);
    }
  }

  it('SIGTERM in a storm: exits 0 with the summary, and rsyslog got every exec line printed', async () => {
    const tag = uniqueTag('sigterm');
    const command = start(`tcp://127.0.0.1:${rsyslog.tcpPort}`);
    await attached(command, `${tag}-probe`);
    // 2 spawners, an exec every ms each: still going when SIGTERM comes.
    const storm = spawn(fixture('storm'), ['2', '10000', `${tag}-storm`, '/bin/true', '1000'], { stdio: 'ignore' });
    try {
      await command.line((l) => l.includes(`${tag}-storm-1-500"`), 20_000);
      // The storm goes on past the signal.
      expect(storm.exitCode).toBeNull();
      const { code, ms } = await signalled(command, 'SIGTERM');
      expect(code, command.stderr()).toBe(0);
      const summary = summaryOf(command.stderr());
      const lines = printed(command, `${tag}-storm`);
      expect(lines.length).toBeGreaterThan(500);
      expect(summary.dropped).toBe(0);
      expect(summary.sent).toBe(summary.execs);
      // Every exec the command printed was sent, and only those (the probes too).
      expect(summary.execs).toBe(command.lines.filter((l) => l !== '').length);
      let got: string[] = [];
      expect(await eventually(() => (got = filed(rsyslog, `${tag}-storm`)).length >= lines.length, 10_000), `${got.length} of ${lines.length}`).toBe(true);
      expect(got.length).toBe(lines.length);
      expect(new Set(got)).toEqual(new Set(lines));
      console.log(`[service] SIGTERM in a storm of ${lines.length} execs: exited 0 in ${ms.toFixed(0)} ms, ${JSON.stringify(summary)}`);
    } finally {
      storm.kill('SIGKILL');
    }
  });

  for (const server of ['stalled', 'gone'] as const) {
    it(`--shutdown-timeout 1 with the server ${server}: exits 0 about 1 s after SIGTERM, the unsent counted as dropped`, async () => {
      const tag = uniqueTag(`deadline-${server}`);
      // Stalled: rsyslogd stopped before the command connects; the kernel
      // still completes the handshake and buffers a few MB, then nothing
      // moves. Gone: nothing listens on the port.
      const url = `tcp://127.0.0.1:${server === 'stalled' ? rsyslog.tcpPort : await freePort()}`;
      if (server === 'stalled') rsyslog.proc.kill('SIGSTOP');
      const command = start(url, ['--shutdown-timeout', '1']);
      await attached(command, `${tag}-probe`);
      // Stalled: 1,200 execs of 3.5 kB arguments, about 4.5 MB of messages,
      // more than the two kernels' socket buffers take (about 3 MB here).
      // Gone: any event queued will do.
      const perSpawner = server === 'stalled' ? 600 : 100;
      const big = `${tag}-${'x'.repeat(3500)}`;
      await execFileAsync(fixture('storm'), ['2', String(perSpawner), big, '/bin/true', '500'], { timeout: 120_000 });
      await command.line((l) => l.includes(`${big}-1-${perSpawner - 1}"`), 20_000);
      const { code, ms } = await signalled(command, 'SIGTERM');
      expect(code, command.stderr()).toBe(0);
      const summary = summaryOf(command.stderr());
      const lines = printed(command, big);
      expect(lines.length + summary.lost).toBeGreaterThanOrEqual(2 * perSpawner);
      // Each exec printed was sent or counted dropped.
      expect(summary.execs).toBe(command.lines.filter((l) => l !== '').length);
      expect(summary.sent + summary.dropped).toBe(summary.execs);
      if (server === 'stalled') expect(summary.dropped).toBeGreaterThan(200);
      else expect(summary).toMatchObject({ sent: 0, dropped: summary.execs });
      // The deadline, and a margin for a loaded machine (measured 1.02-1.26
      // s on 2 busy cores); the sink's wait for a stalled server's FIN, once
      // on top of it, made it 2.06 s.
      expect(ms).toBeGreaterThan(900);
      expect(ms).toBeLessThan(1000 + 750);
      console.log(`[service] --shutdown-timeout 1, server ${server}: exited 0 in ${ms.toFixed(0)} ms after SIGTERM, ${JSON.stringify(summary)}`);
      if (server === 'stalled') {
        // What was counted as sent had reached the kernel: rsyslogd, let go,
        // files all of it, after the command has gone. A few more at most:
        // the messages of the one write (64 KiB) under way at the deadline,
        // counted as dropped, that the kernel had partly taken. (Every
        // message of this command counts: the probes' and the storm's own.)
        rsyslog.proc.kill('SIGCONT');
        const fromCommand = () =>
          rsyslog.messages().filter((m) => {
            if (m.procId !== String(command.proc.pid)) return false;
            try {
              JSON.parse(m.msg);
              return true;
            } catch {
              return false; // the last, cut short
            }
          });
        await eventually(() => fromCommand().length >= summary.sent, 10_000);
        await new Promise((r) => setTimeout(r, 500));
        const got = fromCommand().map((m) => m.msg);
        expect(got.length, `${got.length} filed, ${summary.sent} sent`).toBeGreaterThanOrEqual(summary.sent);
        expect(got.length, `${got.length} filed, ${summary.sent} sent`).toBeLessThanOrEqual(summary.sent + Math.ceil(65_536 / 3500));
        expect(new Set(got).size).toBe(got.length);
        console.log(`[service] the stalled rsyslogd, let go, filed ${got.length} of the ${summary.sent} sent`);
      }
    }, 120_000);
  }

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`a second ${signal} while the flush waits exits at once with ${code}`, async () => {
      const tag = uniqueTag(`twice-${signal}`);
      // Nothing listens: the flush would wait all of --shutdown-timeout 60.
      const command = start(`tcp://127.0.0.1:${await freePort()}`, ['--shutdown-timeout', '60']);
      await attached(command, `${tag}-probe`);
      command.proc.kill(signal);
      await new Promise((r) => setTimeout(r, 500));
      expect(command.proc.exitCode, command.stderr()).toBeNull();
      const second = await signalled(command, signal);
      expect(second.code, command.stderr()).toBe(code);
      expect(second.ms).toBeLessThan(500);
      expect(command.stderr()).toContain(`exec-tracer: ${signal} again: exiting without waiting for the output\n`);
      expect(command.stderr()).not.toMatch(SUMMARY);
      console.log(`[service] a second ${signal}: exited ${second.code} in ${second.ms.toFixed(0)} ms`);
    });
  }
});
