// SPDX-License-Identifier: MIT
//
// The exec-tracer command as a user gets it: the `bin` of the packed and
// installed package (package.test.ts installs it), run as a child process
// against the real kernel, and --top inside a real terminal (tmux).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startCommand, type RunningCommand } from '../helpers/command.js';
import { run } from '../helpers/process.js';
import { eventually, fixture, kernel, uniqueTag } from './kernel.js';

const execFileAsync = promisify(execFile);
const NOBODY = 65534;

export interface Installed {
  /** The project the tarball was installed into. */
  project: string;
  /** The environment of a bare machine: node and npm, nothing else. */
  env: NodeJS.ProcessEnv;
  npmCli: string;
}

/** Spawns `/bin/echo <tag>-<n> …` every `everyMs` until stopped; remembers each pid. */
function spawnEvery(everyMs: number, spawnOne: (n: number) => ChildProcess) {
  const pids = new Map<number, number>();
  let n = 0;
  const timer = setInterval(() => {
    const child = spawnOne(++n);
    pids.set(n, child.pid!);
  }, everyMs);
  return { pids, stop: () => clearInterval(timer) };
}

const echo = (args: string[], options: { uid?: number; gid?: number } = {}) =>
  spawn('/bin/echo', args, { stdio: 'ignore', ...options });

/** Waits for a process to end. */
const ended = (child: ChildProcess) => new Promise<void>((resolve) => child.on('close', () => resolve()));

export function describeCommand(installed: () => Installed): void {
  describe.skipIf(!kernel)('the exec-tracer command, from the packed install', () => {
    const bin = () => join(installed().project, 'node_modules', '.bin', 'exec-tracer');
    const running: RunningCommand[] = [];
    const start = (args: string[]) => {
      const command = startCommand(bin(), args, installed().env, installed().project);
      running.push(command);
      return command;
    };
    /** What a test that times out leaves running: vitest runs no finally then, but does run afterEach. */
    const cleanups: (() => void)[] = [];
    afterEach(() => {
      for (const command of running.splice(0)) command.proc.kill('SIGKILL');
      for (const cleanup of cleanups.splice(0)) cleanup();
    });

    /** Stops the command as Ctrl-C does and returns its summary line. */
    async function interrupt(command: RunningCommand): Promise<string> {
      command.proc.kill('SIGINT');
      const { code } = await command.exited;
      expect(code, command.stderr()).toBe(0);
      return command.stderr();
    }

    it('answers npx exec-tracer --help, and refuses bad command lines with the usage and exit code 2', async () => {
      const { project, env, npmCli } = installed();
      const npx = join(dirname(npmCli), 'npx-cli.js');
      const help = execFileSync(process.execPath, [npx, '--no-install', 'exec-tracer', '--help'], { cwd: project, env, encoding: 'utf8' });
      expect(help).toMatch(/^usage: exec-tracer \[options\]/);
      expect(help).toContain('Differences from execsnoop');
      for (const args of [['--bogus'], ['--max-args', '0'], ['-u', 'root'], ['--top', '--json'], ['-n', '(']]) {
        const result = await run(bin(), args, { env, cwd: project });
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(/^exec-tracer: .+\n\nusage: exec-tracer/);
        expect(result.stdout).toBe('');
      }
    });

    it("prints execsnoop's columns for each exec, and a summary on SIGINT", async () => {
      const tag = uniqueTag('cli-lines');
      const command = start(['-U']);
      const header = await command.line((l) => l.startsWith('UID'));
      expect(header).toBe('UID    PCOMM            PID     PPID    RET ARGS');
      const spawner = spawnEvery(100, (n) => echo([`${tag}-${n}`, 'a b', '']));
      const line = await command.line((l) => l.includes(tag)).finally(spawner.stop);
      const n = Number(/-(\d+) /.exec(line.slice(line.indexOf(tag)))![1]);
      expect(line).toBe(
        `${'0'.padEnd(6)} ${'echo'.padEnd(16)} ${String(spawner.pids.get(n)).padEnd(7)} ${String(process.pid).padEnd(7)}   0 /bin/echo ${tag}-${n} 'a b' ''`,
      );
      const summary = await interrupt(command);
      const [, execs] = /^exec-tracer: (\d+) execs, 0 lost, 0 filtered\n$/.exec(summary) ?? [];
      expect(Number(execs), summary).toBeGreaterThanOrEqual(n);
    });

    it('--json: every line is a JSON object, and the tagged exec carries its pid and exact argv', async () => {
      const tag = uniqueTag('cli-json');
      const command = start(['--json', '--exits']);
      const spawner = spawnEvery(100, (n) => echo([`${tag}-${n}`, Buffer.from([0x66, 0xff]).toString('latin1')]));
      const line = await command.line((l) => l.includes(tag)).finally(spawner.stop);
      const { processId } = JSON.parse(line) as { processId: string };
      // The exec line can be read before its process has exited: wait for the exit before SIGINT ends the run.
      await command.line((l) => l.includes('"kind":"exit"') && (JSON.parse(l) as { processId: string }).processId === processId);
      await interrupt(command);
      const objects = command.lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(objects.length).toBe(command.lines.filter((l) => l !== '').length);
      const event = JSON.parse(line) as { pid: number; ppid: number; argv: string[]; kind: string; processId: string };
      const n = Number(event.argv[1]!.slice(tag.length + 1));
      expect(event).toMatchObject({ kind: 'exec', pid: spawner.pids.get(n), ppid: process.pid });
      expect(event.argv[0]).toBe('/bin/echo');
      // The argument Node passed as latin1 "fÿ" reached the kernel as UTF-8 "fÃ¿": valid, so no base64.
      expect(event.argv[2]).toBe('f\u00ff');
      expect(objects.some((o) => o.kind === 'exit' && o.processId === event.processId)).toBe(true);
    });

    it('--json --schema otel: each event as an OpenTelemetry log record, with nanosecond time and semconv names', async () => {
      const tag = uniqueTag('cli-otel');
      const command = start(['--json', '--schema', 'otel', '--exits']);
      const spawner = spawnEvery(100, (n) => echo([`${tag}-${n}`]));
      const line = await command.line((l) => l.includes(tag)).finally(spawner.stop);
      const record = JSON.parse(line) as { timestamp: string; eventName: string; attributes: Record<string, unknown> };
      const processId = record.attributes['exec_tracer.process_id'];
      await command.line((l) => l.includes('"exec_tracer.process.exit"') && (JSON.parse(l) as typeof record).attributes['exec_tracer.process_id'] === processId);
      await interrupt(command);
      const n = Number((record.attributes['process.command_args'] as string[])[1]!.slice(tag.length + 1));
      expect(record.eventName).toBe('exec_tracer.process.exec');
      expect(record.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(Math.abs(Date.parse(record.timestamp) - Date.now())).toBeLessThan(60_000);
      expect(record.attributes).toMatchObject({
        'process.pid': spawner.pids.get(n),
        'process.parent_pid': process.pid,
        'process.executable.path': realpathSync('/bin/echo'),
        'process.command': '/bin/echo',
        'process.command_args': ['/bin/echo', `${tag}-${n}`],
        'process.args_count': 2,
        'process.working_directory': realpathSync(process.cwd()),
        'host.name': hostname(),
      });
      // The events' own field names are not there: this is the other schema.
      expect(record).not.toHaveProperty('pid');
      const exit = command.lines
        .filter((l) => l.includes('"exec_tracer.process.exit"'))
        .map((l) => JSON.parse(l) as typeof record)
        .find((r) => r.attributes['exec_tracer.process_id'] === processId)!;
      expect(exit.attributes).toMatchObject({ 'process.pid': spawner.pids.get(n), 'process.exit.code': 0 });
    });

    it('--output FILE: created 0600; rotated with SIGHUP three times in a storm, the files hold every exec once', async () => {
      const tag = uniqueTag('cli-output');
      const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-output-'));
      try {
        const file = join(dir, 'execs.json');
        const command = start(['--json', '--output', file, '--descendants', String(process.pid)]);
        // Attached once a probe's exec is in the file; the counted storm starts after.
        const probe = spawnEvery(50, (n) => echo([`probe-${tag}-${n}`]));
        const ready = await eventually(() => existsSync(file) && readFileSync(file, 'utf8').includes(`probe-${tag}`), 20_000);
        probe.stop();
        expect(ready, command.stderr()).toBe(true);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const spawner = spawnEvery(2, (n) => echo([`${tag}-${n}`]));
        for (let rotation = 1; rotation <= 3; rotation++) {
          await new Promise((resolve) => setTimeout(resolve, 700));
          // What logrotate does: move the file, then postrotate's kill -HUP.
          renameSync(file, `${file}.${rotation}`);
          command.proc.kill('SIGHUP');
        }
        await new Promise((resolve) => setTimeout(resolve, 700));
        spawner.stop();
        const last = spawner.pids.size;
        const tagged = () =>
          [file, `${file}.1`, `${file}.2`, `${file}.3`]
            .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
            .filter((l) => l.includes(tag) && !l.includes(`probe-${tag}`))
            .map((l) => JSON.parse(l) as { argv: string[]; pid: number });
        expect(await eventually(() => tagged().some((e) => e.argv[1] === `${tag}-${last}`), 20_000)).toBe(true);
        const summary = await interrupt(command);
        expect(summary).toMatch(/^exec-tracer: \d+ execs, 0 lost/);
        expect(summary).not.toContain('dropped');
        const seen = tagged().map((e) => e.argv[1]!);
        // Every exec once: none lost or doubled across the three reopens.
        expect(seen.length).toBe(last);
        expect(new Set(seen)).toEqual(new Set([...spawner.pids.keys()].map((n) => `${tag}-${n}`)));
        for (const rotation of [2, 3]) expect(readFileSync(`${file}.${rotation}`, 'utf8')).toContain(`"${tag}-`);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const perFile = [`${file}.1`, `${file}.2`, `${file}.3`, file].map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.includes(`"${tag}-`)).length);
        console.log(`[output] rotated 3 times in a storm of ${last} execs: ${perFile.join(' + ')} lines in the 4 files, each exec once`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('--redact: secrets in argv and --env values never reach the output, in lines or --json', async () => {
      const tag = uniqueTag('cli-redact');
      // Unique, so that no other process on the host can print it.
      const secret = uniqueTag('hunter');
      const env = { PATH: '/usr/bin:/bin', DB_PASSWORD: secret };
      for (const json of [false, true]) {
        const command = start(['--redact', '--env', 'DB_PASSWORD', ...(json ? ['--json'] : [])]);
        const spawner = spawnEvery(100, () => spawn('/bin/echo', [tag, `--password=${secret}`, `-p${secret}`], { stdio: 'ignore', env }));
        const line = await command.line((l) => l.includes(tag)).finally(spawner.stop);
        await interrupt(command);
        expect(`${command.lines.join('\n')}${command.stderr()}`).not.toContain(secret);
        if (json) {
          const event = JSON.parse(line) as { argv: string[]; env: Record<string, string> };
          expect(event.argv).toEqual(['/bin/echo', tag, '--password=***', '-p***']);
          expect(event.env).toEqual({ DB_PASSWORD: '***' });
        } else {
          expect(line).toMatch(new RegExp(`^echo .* /bin/echo ${tag} --password=\\*\\*\\* -p\\*\\*\\*  DB_PASSWORD=\\*\\*\\*$`));
        }
      }
    });

    it('-u (in the kernel), -n and -l (regexes here) keep only what they name', async () => {
      const tag = uniqueTag('cli-filters');
      const cases: { args: string[]; dropped: () => ChildProcess; kept: () => ChildProcess }[] = [
        { args: ['-u', String(NOBODY)], dropped: () => echo([`${tag}-u`]), kept: () => echo([`${tag}-u`], { uid: NOBODY, gid: NOBODY }) },
        { args: ['-n', '^ech'], dropped: () => spawn('/bin/true', [`${tag}-n`]), kept: () => echo([`${tag}-n`]) },
        { args: ['-l', `${tag}-l-keep$`], dropped: () => echo([`${tag}-l-drop`]), kept: () => echo([`${tag}-l-keep`]) },
      ];
      for (const { args, dropped, kept } of cases) {
        const command = start(args);
        await command.line((l) => l.startsWith('PCOMM'));
        // The dropped exec runs to its end first: had the filter let it
        // through, its line would come before the kept one's.
        await ended(dropped());
        let keptPid = 0;
        const spawner = spawnEvery(100, () => {
          const child = kept();
          keptPid ||= child.pid!;
          return child;
        });
        const line = await command.line((l) => l.includes(tag)).finally(spawner.stop);
        const summary = await interrupt(command);
        const tagged = command.lines.filter((l) => l.includes(tag));
        expect(tagged.length, `${args.join(' ')}: ${tagged.join('\n')}`).toBeGreaterThan(0);
        expect(line, args.join(' ')).toMatch(/^echo /);
        expect(tagged.every((l) => !l.includes('-drop') && !/^true /.test(l)), tagged.join('\n')).toBe(true);
        if (args[0] === '-u') expect(tagged.every((l) => [...spawner.pids.values()].some((pid) => l.includes(` ${pid} `)))).toBe(true);
        expect(Number(/(\d+) filtered/.exec(summary)![1]), summary).toBeGreaterThan(0);
      }
    });

    it('--tree shows the true chain of a nested shell tree', async () => {
      const tag = uniqueTag('cli-tree');
      const command = start(['--tree']);
      await command.line((l) => l.startsWith('ANCESTRY'));
      // dash forks for a command that is not the script's last.
      const outer: number[] = [];
      const spawner = spawnEvery(200, () => {
        const child = spawn('/bin/sh', ['-c', `/bin/sh -c "/bin/echo ${tag}; true"; true`], { stdio: 'ignore' });
        outer.push(child.pid!);
        return child;
      });
      const line = await command.line((l) => l.endsWith(`/bin/echo ${tag}`)).finally(spawner.stop);
      await interrupt(command);
      const chain = / › sh\((\d+)\) › sh\((\d+)\) › echo\((\d+)\) {2}\/bin\/echo /.exec(line);
      expect(chain, line).not.toBeNull();
      expect(outer).toContain(Number(chain![1]));
      expect(line).toContain(`(${process.pid}) › sh(${chain![1]})`);
      // The middle shell is the outer one's child, as its own exec line says.
      const middle = command.lines.find((l) => l.includes(`sh(${chain![1]}) › sh(${chain![2]})  /bin/sh -c`));
      expect(middle, command.lines.join('\n')).toBeDefined();
    });

    it('exits 0 at once, quietly, when the reader of its output goes away (| head -1)', async () => {
      const spawner = spawnEvery(50, (n) => echo([`head-${n}`]));
      try {
        const started = Date.now();
        const { stdout, stderr } = await execFileAsync('/bin/bash', ['-o', 'pipefail', '-c', '"$0" --json | /usr/bin/head -1', bin()], {
          env: installed().env,
          cwd: installed().project,
          timeout: 20_000,
        });
        expect(stderr).toBe('');
        expect(JSON.parse(stdout)).toHaveProperty('kind');
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        spawner.stop();
      }
    });

    it('a stalled reader does not stall the tracer: lines past the bound are dropped and counted', async () => {
      // 6,000 execs with 2 kB arguments: about 15 MiB of NDJSON, while the
      // reader does not read until the command has ended. Written
      // synchronously (as Node writes pipes), the event loop would block on
      // the full pipe and the kernel's ring would overflow: thousands lost,
      // and the command deaf to SIGTERM. The command is ended by SIGTERM once
      // the storm is over (a storm's length varies too much on 2 cores for a
      // fixed --duration), and the reader starts once the summary is written.
      const storm = fixture('storm');
      const tag = `${uniqueTag('slow')}-${'x'.repeat(2000)}`;
      const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-slow-'));
      const [stderr, go, pidFile] = ['stderr', 'go', 'pid'].map((f) => join(dir, f)) as [string, string, string];
      try {
        const command = execFileAsync(
          '/bin/bash',
          [
            '-c',
            '{ "$0" --json 2>"$1" & echo $! >"$3"; wait; } | (until [ -e "$2" ]; do /bin/sleep 0.1; done; /usr/bin/wc -l)',
            bin(), stderr, go, pidFile,
          ],
          { env: installed().env, cwd: installed().project, timeout: 60_000 },
        );
        // Should the test time out: the command killed, and the reader let go.
        cleanups.push(() => {
          try {
            process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
          } catch {
            // Not started, or already ended.
          }
          try {
            writeFileSync(go, '');
          } catch {
            // The directory is gone: the test ended by itself.
          }
        });
        await new Promise((r) => setTimeout(r, 2500));
        await execFileAsync(storm, ['2', '3000', tag]);
        await new Promise((r) => setTimeout(r, 500)); // the last batch
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
        expect(await eventually(() => readFileSync(stderr, 'utf8').endsWith('\n'), 15_000)).toBe(true);
        writeFileSync(go, '');
        const received = Number((await command).stdout.trim());
        const summary = readFileSync(stderr, 'utf8');
        const match = /^exec-tracer: (\d+) execs, (\d+) lost, 0 filtered, (\d+) lines dropped \(the output was too slow\)\n$/.exec(summary);
        expect(match, summary).not.toBeNull();
        const [execs, lost, dropped] = match!.slice(1).map(Number) as [number, number, number];
        expect(execs + lost, summary).toBeGreaterThanOrEqual(6000);
        expect(lost, summary).toBeLessThan(300);
        expect(dropped, summary).toBeGreaterThan(0);
        expect(received, summary).toBeGreaterThan(0);
        // Every exec is a line the reader got or one the summary counts.
        expect(received + dropped, summary).toBeGreaterThanOrEqual(execs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('without privileges, exits 1 with the reason and what to do', async () => {
      // The consumer project sits in a private temporary directory.
      chmodSync(dirname(installed().project), 0o755);
      const result = await run(
        '/usr/bin/setpriv',
        [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, realpathSync(bin())],
        { env: installed().env, cwd: '/' },
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/^exec-tracer: .*CAP_BPF/s);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    });

    it('--top: the spawner is on top with a plausible rate; q quits and restores the terminal', async () => {
      const socket = `exec-tracer-${process.pid}`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      // About 50 execs a second, from one parent with a name to find.
      const tag = uniqueTag('top');
      const spawner = spawn(
        process.execPath,
        ['-e', "setInterval(() => require('child_process').spawnSync('/bin/true'), 20)", tag],
        { stdio: 'ignore' },
      );
      try {
        tmux('new-session', '-d', '-s', 'top', '-x', '220', '-y', '30', '/bin/sh', '-c', '"$0" --top; echo "EXITED:$?"; stty -a; sleep 600', bin());
        const pane = () => tmux('capture-pane', '-p', '-t', 'top');
        const row = new RegExp(`^\\s*${spawner.pid} +node +(\\d+\\.\\d) +(\\d+) +true×(\\d+)`);
        let screen = '';
        let rate = 0;
        const deadline = Date.now() + 20_000;
        // The rate averages over 5 s: wait until it covers at least 3.
        while (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          screen = pane();
          const lines = screen.split('\n');
          const first = lines.findIndex((l) => /^\s+PID COMM/.test(l));
          const match = first >= 0 ? row.exec(lines[first + 1] ?? '') : null;
          if (match && Number(match[2]) >= 150) {
            rate = Number(match[1]);
            break;
          }
        }
        expect(rate, screen).toBeGreaterThan(15);
        expect(rate, screen).toBeLessThan(100);
        expect(screen).toContain(tag); // the spawner's argv
        expect(tmux('display', '-p', '-t', 'top', '#{alternate_on}').trim()).toBe('1');

        tmux('send-keys', '-t', 'top', 'q');
        let after = '';
        for (let i = 0; i < 40 && !after.includes('EXITED:'); i++) {
          await new Promise((r) => setTimeout(r, 250));
          after = pane();
        }
        expect(after).toContain('EXITED:0');
        expect(tmux('display', '-p', '-t', 'top', '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
        // The line discipline is back: canonical input and echo.
        expect(after).toMatch(/(^|\s)icanon(\s|$)/m);
        expect(after).toMatch(/(^|\s)echo(\s|$)/m);
        expect(after).toMatch(/exec-tracer: \d+ execs, 0 lost, 0 filtered/);
      } finally {
        spawner.kill('SIGKILL');
        try {
          tmux('kill-server');
        } catch {
          // already gone
        }
      }
    });
  });
}
