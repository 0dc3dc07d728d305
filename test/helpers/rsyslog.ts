// SPDX-License-Identifier: MIT
//
// A real rsyslogd for the syslog sink's tests and bench: Debian 12's rsyslog
// unpacked into deps/rsyslog (scripts/fetch-rsyslog.sh, run here when it is
// missing), started on 127.0.0.1 with a plain TCP listener (imptcp) and a
// TLS one (imtcp + gtls), writing each message it receives as one line of a
// file, and stopped (or killed) by the test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { root } from './process.js';

/** Where rsyslogd and its modules are. */
export interface RsyslogInstall {
  rsyslogd: string;
  /** LD_LIBRARY_PATH: the libraries the host lacked (libestr, libfastjson…). */
  libDir: string;
  /** rsyslogd -M: its modules (imptcp, imtcp, lmnsd_gtls…). */
  moduleDir: string;
}

/** deps/rsyslog, fetched first if missing (needs root and Debian's archive). */
export function rsyslogInstall(): RsyslogInstall {
  const dest = join(root, 'deps', 'rsyslog');
  if (!existsSync(join(dest, '.exec-tracer-root'))) {
    execFileSync('bash', [join(root, 'scripts', 'fetch-rsyslog.sh'), dest], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // The multiarch directory (x86_64-linux-gnu, aarch64-linux-gnu): the one holding rsyslog's modules.
  const lib = join(dest, 'usr', 'lib');
  const multiarch = readdirSync(lib).find((d) => existsSync(join(lib, d, 'rsyslog', 'imptcp.so')));
  if (multiarch === undefined) throw new Error(`no rsyslog modules under ${lib}: remove ${dest} and fetch again`);
  return { rsyslogd: join(dest, 'usr', 'sbin', 'rsyslogd'), libDir: join(lib, multiarch), moduleDir: join(lib, multiarch, 'rsyslog') };
}

/** A port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The PEM files of rsyslog's TLS listener. */
export interface RsyslogTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * The configuration the tests run (and docs/syslog.md shows): plain TCP
 * through imptcp and TLS through imtcp with the gtls driver, both reading
 * RFC 6587 octet-counted frames (and newline-ended ones), every message
 * written as a line: rsyslog's view of the header, then MSG as received.
 */
export function rsyslogConf(o: { dir: string; address: string; tcpPort: number; tlsPort: number; tls: RsyslogTls; file: string }): string {
  return `global(
  workDirectory="${o.dir}"
  defaultNetstreamDriverCAFile="${o.tls.caFile}"
  defaultNetstreamDriverCertFile="${o.tls.certFile}"
  defaultNetstreamDriverKeyFile="${o.tls.keyFile}"
)
module(load="imptcp")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")

template(name="fields" type="string"
  string="%syslogfacility-text% %syslogseverity-text% %hostname% %app-name% %procid% %msgid% %structured-data% %msg%\\n")

ruleset(name="exec-tracer") {
  action(type="omfile" file="${o.file}" template="fields")
}
input(type="imptcp" address="${o.address}" port="${o.tcpPort}" ruleset="exec-tracer")
input(type="imtcp" address="${o.address}" port="${o.tlsPort}" ruleset="exec-tracer")
`;
}

/** One message as rsyslog filed it. */
export interface FiledMessage {
  facility: string;
  severity: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  /** MSG as received (the event's record in JSON). */
  msg: string;
}

export interface Rsyslog {
  tcpPort: number;
  tlsPort: number;
  /** The file every message is written to. */
  file: string;
  proc: ChildProcess;
  /** The lines of the file so far. */
  lines(): string[];
  /** Those lines split into fields. */
  messages(): FiledMessage[];
  /** SIGTERM, and wait for it to end. */
  stop(): Promise<void>;
  /** SIGKILL, and wait for it to end. */
  kill(): Promise<void>;
  /** Starts it again with the same configuration and ports. */
  restart(): Promise<void>;
  stderr(): string;
}

/** Whether something accepts connections on 127.0.0.1:PORT. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts rsyslogd with both listeners in DIR; resolves when both accept connections. */
export async function startRsyslog(dir: string, tls: RsyslogTls): Promise<Rsyslog> {
  const install = rsyslogInstall();
  const [tcpPort, tlsPort] = [await freePort(), await freePort()];
  const file = join(dir, 'messages.log');
  const confFile = join(dir, 'rsyslog.conf');
  writeFileSync(confFile, rsyslogConf({ dir, address: '127.0.0.1', tcpPort, tlsPort, tls, file }));
  let proc!: ChildProcess;
  let stderr = '';
  let exited!: Promise<void>;
  const launch = async () => {
    proc = spawn(install.rsyslogd, ['-n', '-M', install.moduleDir, '-f', confFile, '-i', join(dir, 'rsyslogd.pid')], {
      env: { LD_LIBRARY_PATH: install.libDir, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d) => (stderr += d));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const end = Date.now() + 10_000;
    while (!((await accepts(tcpPort)) && (await accepts(tlsPort)))) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`rsyslogd ended at start: ${stderr}`);
      if (Date.now() > end) throw new Error(`rsyslogd did not listen on ${tcpPort} and ${tlsPort} in 10 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    tcpPort,
    tlsPort,
    file,
    get proc() {
      return proc;
    },
    lines,
    messages: () =>
      lines().map((line) => {
        const [facility, severity, hostname, appName, procId, msgId, structuredData, ...rest] = line.split(' ');
        return { facility: facility!, severity: severity!, hostname: hostname!, appName: appName!, procId: procId!, msgId: msgId!, structuredData: structuredData!, msg: rest.join(' ') };
      }),
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: launch,
    stderr: () => stderr,
  };
}
