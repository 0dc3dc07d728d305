// SPDX-License-Identifier: MIT
//
// `exec-tracer --npm -- CMD`: which package's lifecycle script ran each exec
// of an install, and what a security reviewer should look at. A package
// manager gives each script it runs `npm_package_name`,
// `npm_package_version` and `npm_lifecycle_event`; the kernel collects them
// with the tracer's `env` allow-list (NPM_ENV), so each exec carries the
// variables of the innermost script above it. A process that clears its
// environment (`env -i`) keeps the attribution of the process it came from:
// NpmRecorder follows forks and execs. Pure logic over tracer events, tested
// on the mock binding.
import { basename } from 'node:path';
import type { ExecEvent, ExecTracer, ExitEvent, ForkEvent } from 'exec-tracer';

/**
 * The variables `--npm` adds to the tracer's `env` allow-list. npm, pnpm,
 * yarn and bun each set all five for a lifecycle script (docs/npm.md says
 * which versions were checked).
 */
export const NPM_ENV: readonly string[] = [
  'npm_package_name',
  'npm_package_version',
  'npm_lifecycle_event',
  'npm_lifecycle_script',
  'npm_config_user_agent',
];

/** The package and lifecycle script an exec ran under. */
export interface NpmAttribution {
  /** The package's name (`npm_package_name`). */
  package: string;
  /** Its version (`npm_package_version`); '' when the package has none. */
  version: string;
  /** The lifecycle event (`npm_lifecycle_event`): 'preinstall', 'install', 'postinstall', a `run` script's name… */
  script: string;
  /** The package manager and its version, from `npm_config_user_agent` ('npm/11.6.2', 'pnpm/10.20.0'); '' when unset. */
  manager: string;
  /** The script's command line (`npm_lifecycle_script`); '' when unset. */
  line: string;
  /**
   * The exec's own environment lacked the variables (it was cleared, or cut
   * by `envLimit`): the attribution is its parent's or its own previous image's.
   */
  inherited?: true;
}

/** The attribution an environment names; undefined without `npm_lifecycle_event` and `npm_package_name`. */
export function attributionFromEnv(env: Readonly<Record<string, string>>): NpmAttribution | undefined {
  const script = env.npm_lifecycle_event;
  const name = env.npm_package_name;
  if (script === undefined || script === '' || name === undefined || name === '') return undefined;
  return {
    package: name,
    version: env.npm_package_version ?? '',
    script,
    manager: env.npm_config_user_agent?.split(' ')[0] ?? '',
    line: env.npm_lifecycle_script ?? '',
  };
}

/** Two attributions name the same script of the same package. */
function sameScript(a: NpmAttribution, b: NpmAttribution): boolean {
  return a.package === b.package && a.version === b.version && a.script === b.script && a.line === b.line && a.manager === b.manager;
}

/** `[evil-dep@1.0.0 postinstall] `: the prefix of an attributed exec line. */
export function attributionPrefix(a: NpmAttribution | undefined): string {
  return a === undefined ? '' : `[${a.package}${a.version === '' ? '' : `@${a.version}`} ${a.script}] `;
}

/** The stable code of a flag: what kind of exec a reviewer should look at. */
export type NpmFlagCode =
  | 'network-tool'
  | 'shell-pipes-download'
  | 'exe-deleted'
  | 'exe-memfd'
  | 'exe-in-node_modules'
  | 'exe-in-tmp'
  | 'setuid';

/** One reason to look at an exec. */
export interface NpmFlag {
  code: NpmFlagCode;
  /** Why, in words, naming what was seen. */
  reason: string;
}

/** Programs that move data over the network (matched on the basename of the path exec'd, argv[0] and the executable). */
export const NETWORK_TOOLS: readonly string[] = [
  'curl', 'wget', 'nc', 'ncat', 'netcat', 'socat', 'telnet', 'ftp', 'tftp', 'ssh', 'scp', 'sftp', 'rsync', 'aria2c', 'http', 'https', 'xh',
];

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox', 'fish']);

/** Directories whose executables were written at run time, not installed by the system. */
const TMP_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/'];

/** The fields of an exec the flags look at. */
export type FlagInput = Pick<ExecEvent, 'filename' | 'argv' | 'exe' | 'exeDeleted' | 'exeMemfd' | 'exeMode' | 'uid' | 'euid'>;

/** A network tool's name in a `-c` script, then a pipe into a shell, or a shell running `$(…)`/backticks of one. */
const DOWNLOAD = `(?:${['curl', 'wget', 'nc', 'ncat', 'netcat', 'socat', 'aria2c', 'fetch'].join('|')})`;
const SHELL_NAME = '(?:sudo\\s+)?(?:\\S*/)?(?:ba|da|z|k|mk|a|fi)?sh\\b';
const PIPES_DOWNLOAD = [
  // curl -fsSL URL | sh, wget -O- URL | sudo bash -s
  new RegExp(`\\b${DOWNLOAD}\\b[^|;&]*\\|\\s*${SHELL_NAME}`),
  // sh -c "$(curl URL)", bash -c "`wget -O- URL`", eval "$(curl URL)"
  new RegExp(`(?:\\$\\(|\`)\\s*${DOWNLOAD}\\b`),
  // bash <(curl URL), . <(curl URL)
  new RegExp(`<\\(\\s*${DOWNLOAD}\\b`),
];

/** The script a shell was given with `-c`; undefined when none. */
function shellScript(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length - 1; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    // -c, and clusters that hold it (-ec, -xc).
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(a)) return argv[i + 1];
    if (!a.startsWith('-') && !a.startsWith('+')) return undefined;
  }
  return undefined;
}

/** The exec is a shell (by the basename of its executable, or of the path exec'd). */
function isShell(e: Pick<FlagInput, 'exe' | 'filename' | 'argv'>): boolean {
  return [e.exe, e.filename, e.argv[0] ?? ''].some((p) => p !== '' && SHELLS.has(basename(p)));
}

/**
 * A shell reads its script from stdin: no `-c` and no script file among its
 * arguments (`sh`, `bash -s`, `sh -s -- args`).
 */
export function shellReadsStdin(e: Pick<FlagInput, 'exe' | 'filename' | 'argv'>): boolean {
  if (!isShell(e)) return false;
  for (let i = 1; i < e.argv.length; i++) {
    const a = e.argv[i]!;
    if (a === '-s' || a === '--') return true;
    if (a === '-o' || a === '+o' || a === '-O' || a === '+O') {
      i++;
      continue;
    }
    if (/^[-+][a-zA-Z]*c[a-zA-Z]*$/.test(a)) return false;
    if (!a.startsWith('-') && !a.startsWith('+')) return false;
  }
  return true;
}

/**
 * What is worth a reviewer's look in one exec, by itself: a network tool; a
 * shell whose `-c` script pipes a download into a shell; an executable that
 * is deleted, a memfd, under the project's `node_modules` (`project`: the
 * project's directory; without it, any `node_modules`) or a temporary
 * directory; a setuid or setgid file, or a change of effective uid. (A shell
 * reading stdin beside a download is judged over the run: NpmRecorder.)
 */
export function execFlags(e: FlagInput, project?: string): NpmFlag[] {
  const flags: NpmFlag[] = [];
  const names = new Set([e.filename, e.argv[0] ?? '', e.exe].filter((p) => p !== '').map((p) => basename(p)));
  const tool = [...names].find((n) => NETWORK_TOOLS.includes(n));
  if (tool !== undefined) flags.push({ code: 'network-tool', reason: `${tool} is a network tool` });
  const script = isShell(e) ? shellScript(e.argv) : undefined;
  if (script !== undefined && PIPES_DOWNLOAD.some((re) => re.test(script)))
    flags.push({ code: 'shell-pipes-download', reason: 'its -c script runs a download as shell code' });
  if (e.exeMemfd) flags.push({ code: 'exe-memfd', reason: `the executable is a memfd (${e.exe || 'no path'}): nothing on disk` });
  else if (e.exeDeleted) flags.push({ code: 'exe-deleted', reason: `the executable ${e.exe} was deleted before or as it ran` });
  const modules = project === undefined ? undefined : `${project.replace(/\/+$/, '')}/node_modules/`;
  if (modules === undefined ? e.exe.includes('/node_modules/') : e.exe.startsWith(modules))
    flags.push({ code: 'exe-in-node_modules', reason: `the executable ${e.exe} is a file of an installed package, not a system program` });
  // A project under /tmp (CI often builds there) is said once, as node_modules.
  else if (TMP_DIRS.some((d) => e.exe.startsWith(d)))
    flags.push({ code: 'exe-in-tmp', reason: `the executable ${e.exe} is in a temporary directory: written at run time` });
  if ((e.exeMode & 0o6000) !== 0 || e.euid !== e.uid) {
    const bits = [(e.exeMode & 0o4000) !== 0 && 'setuid', (e.exeMode & 0o2000) !== 0 && 'setgid'].filter(Boolean).join(' and ');
    flags.push({ code: 'setuid', reason: bits !== '' ? `${e.exe || e.filename} is ${bits} (euid ${e.euid}, uid ${e.uid})` : `the effective uid changed to ${e.euid} (uid ${e.uid})` });
  }
  return flags;
}

/** One exec of the run, as the report lists it. */
export interface NpmCommand {
  pid: number;
  /** The path passed to exec. */
  filename: string;
  /** The executable really run (`ExecEvent.exe`). */
  exe: string;
  argv: string[];
  /** When, as an ISO date. */
  time: string;
  /** How it ended: 'exit 0', 'killed by SIGTERM', 'replaced by exec' (the process exec'd again), 'running' (no exit seen). */
  status: string;
  /** The exit code, when it exited. */
  exitCode?: number;
  /** The signal that ended it. */
  signal?: string;
  /** The attribution came from the parent, not the exec's own environment. */
  inherited?: true;
  /** Why to look at it; [] for none. */
  flags: NpmFlag[];
}

/** One lifecycle script of one package. */
export interface NpmScriptReport {
  script: string;
  /** Its command line, as the package manager gave it. */
  line: string;
  /** The package manager that ran it ('npm/11.6.2'). */
  manager: string;
  /** Every exec under it (its own shell first), in the order they ran. */
  commands: NpmCommand[];
}

/** One package, with every script of it that ran. */
export interface NpmPackageReport {
  package: string;
  version: string;
  scripts: NpmScriptReport[];
}

/** What `--report FILE` writes (docs/npm.md). */
export interface NpmReport {
  /** The command traced. */
  command: string[];
  /** The directory it ran in. */
  cwd: string;
  /** Its exit status. */
  exitStatus: number | undefined;
  /** Execs seen in the run, attributed to a script, and flagged. */
  execs: number;
  attributed: number;
  flagged: number;
  /** Records the kernel dropped: the report may miss execs. */
  lost: number;
  /** The packages whose scripts ran, in the order they first ran. */
  packages: NpmPackageReport[];
  /** Flagged execs outside any script (the package manager's own). */
  unattributed: NpmCommand[];
}

interface Recorded {
  command: NpmCommand;
  processId: string;
  parentProcessId: string;
  npm: NpmAttribution | undefined;
}

/**
 * Attributes each exec of a run to a package and lifecycle script, and
 * collects them for the report. Attach it to a tracer built with forks,
 * exits and `env` holding NPM_ENV, before the listeners that print (they
 * read `attributionOf()`).
 */
export class NpmRecorder {
  readonly #tracer: Pick<ExecTracer, 'on' | 'off'>;
  /** Each process's current attribution (null: none), inherited at fork. */
  readonly #current = new Map<string, NpmAttribution | null>();
  readonly #execs: Recorded[] = [];
  readonly #byExecId = new Map<string, Recorded>();
  /** Each process's latest exec, to put its exit on. */
  readonly #lastExec = new Map<string, Recorded>();
  #lost = 0;
  readonly #outer: NpmAttribution | undefined;
  readonly #project: string | undefined;

  readonly #onFork = (e: ForkEvent) => {
    const parent = this.#current.get(e.parentProcessId);
    if (parent !== undefined) this.#current.set(e.processId, parent);
  };

  readonly #onExec = (e: ExecEvent) => {
    let npm = attributionFromEnv(e.env);
    // The script that ran the tracer itself (`npm run trace`): not one of CMD's.
    if (npm !== undefined && this.#outer !== undefined && sameScript(npm, this.#outer)) npm = undefined;
    if (npm === undefined) {
      // No variables: the environment was cleared (or cut). The process's
      // own attribution (from its fork or previous image), else its parent's.
      const from = this.#current.get(e.processId) ?? this.#current.get(e.parentProcessId);
      if (from) npm = { ...from, inherited: true };
    }
    this.#current.set(e.processId, npm ?? null);
    const previous = this.#lastExec.get(e.processId);
    if (previous !== undefined && previous.command.status === 'running') previous.command.status = 'replaced by exec';
    const command: NpmCommand = {
      pid: e.pid,
      filename: e.filename,
      exe: e.exe,
      argv: e.argv,
      time: e.time.toISOString(),
      status: 'running',
      flags: execFlags(e, this.#project),
    };
    if (npm?.inherited) command.inherited = true;
    const r: Recorded = { command, processId: e.processId, parentProcessId: e.parentProcessId, npm };
    this.#execs.push(r);
    this.#byExecId.set(e.execId, r);
    this.#lastExec.set(e.processId, r);
  };

  readonly #onExit = (e: ExitEvent) => {
    const r = this.#lastExec.get(e.processId);
    if (r === undefined || r.command.status !== 'running') return;
    if (e.signal !== undefined) {
      r.command.status = `killed by ${e.signal}`;
      r.command.signal = e.signal;
    } else {
      r.command.status = `exit ${e.exitCode}`;
      r.command.exitCode = e.exitCode;
    }
  };

  readonly #onLost = (n: number) => {
    this.#lost += n;
  };

  /**
   * @param tracer The tracer to listen to, not started yet.
   * @param options `outer`: the attribution of the environment CMD was
   *   started with (`attributionFromEnv(process.env)`) when the tracer
   *   itself runs in a script: execs that carry only it are CMD's own, in
   *   no script of CMD's. `project`: the directory CMD installs in, whose
   *   `node_modules` holds the packages' files (default: any `node_modules`).
   */
  constructor(tracer: Pick<ExecTracer, 'on' | 'off'>, options: { outer?: NpmAttribution; project?: string } = {}) {
    this.#tracer = tracer;
    this.#outer = options.outer;
    this.#project = options.project;
    tracer.on('fork', this.#onFork);
    tracer.on('exec', this.#onExec);
    tracer.on('exit', this.#onExit);
    tracer.on('lost', this.#onLost);
  }

  /** The attribution of an exec seen (by `ExecEvent.execId`); undefined outside any script. */
  attributionOf(execId: string): NpmAttribution | undefined {
    return this.#byExecId.get(execId)?.npm;
  }

  /** A process's attribution now (by `processId`): its last exec's, or the one it inherited at its fork. */
  attributionOfProcess(processId: string): NpmAttribution | undefined {
    return this.#current.get(processId) ?? undefined;
  }

  /** Stops listening (idempotent). */
  detach(): void {
    this.#tracer.off('fork', this.#onFork);
    this.#tracer.off('exec', this.#onExec);
    this.#tracer.off('exit', this.#onExit);
    this.#tracer.off('lost', this.#onLost);
  }

  /** The report of the run so far. */
  report(command: readonly string[], cwd: string, exitStatus?: number): NpmReport {
    this.#flagStdinShells();
    const packages = new Map<string, NpmPackageReport>();
    const scripts = new Map<string, NpmScriptReport>();
    const unattributed: NpmCommand[] = [];
    let attributed = 0;
    let flagged = 0;
    for (const r of this.#execs) {
      if (r.command.flags.length > 0) flagged++;
      if (r.npm === undefined) {
        if (r.command.flags.length > 0) unattributed.push(r.command);
        continue;
      }
      attributed++;
      const pkgKey = `${r.npm.package}@${r.npm.version}`;
      let pkg = packages.get(pkgKey);
      if (pkg === undefined) packages.set(pkgKey, (pkg = { package: r.npm.package, version: r.npm.version, scripts: [] }));
      const scriptKey = `${pkgKey}\0${r.npm.script}\0${r.npm.line}`;
      let script = scripts.get(scriptKey);
      if (script === undefined) {
        scripts.set(scriptKey, (script = { script: r.npm.script, line: r.npm.line, manager: r.npm.manager, commands: [] }));
        pkg.scripts.push(script);
      }
      script.commands.push(r.command);
    }
    return {
      command: [...command],
      cwd,
      exitStatus,
      execs: this.#execs.length,
      attributed,
      flagged,
      lost: this.#lost,
      packages: [...packages.values()],
      unattributed,
    };
  }

  /**
   * `curl URL | sh`: the shell reads its script from stdin while a sibling
   * (a process of the same parent) runs a network tool.
   */
  #flagStdinShells(): void {
    const downloaders = new Map<string, string>();
    for (const r of this.#execs)
      if (r.command.flags.some((f) => f.code === 'network-tool')) downloaders.set(r.parentProcessId, basename(r.command.argv[0] ?? r.command.filename));
    for (const r of this.#execs) {
      const tool = downloaders.get(r.parentProcessId);
      if (tool === undefined || r.command.flags.some((f) => f.code === 'shell-pipes-download')) continue;
      if (shellReadsStdin(r.command))
        r.command.flags.push({ code: 'shell-pipes-download', reason: `it reads its script from stdin beside ${tool} (a download piped into a shell)` });
    }
  }
}

/**
 * The report as printed on stderr at the end of the run: each package, its
 * scripts, their commands with how they ended, and the flags under each.
 * `quoteArg` shows one argument, `quoteText` any other text (both make
 * control bytes visible: a package chooses its name and its scripts).
 */
export function npmReportLines(report: NpmReport, maxArgs: number, quoteArg: (arg: string) => string, quoteText: (text: string) => string): string[] {
  const lines: string[] = [];
  const show = (c: NpmCommand, indent: string) => {
    const args = c.argv.slice(0, maxArgs).map(quoteArg).join(' ') + (c.argv.length > maxArgs ? ' ...' : '');
    lines.push(`${indent}${args}  [${c.status}]`);
    for (const f of c.flags) lines.push(`${indent}  ! ${f.code}: ${quoteText(f.reason)}`);
  };
  lines.push(
    `exec-tracer: npm lifecycle scripts: ${report.packages.length} ${report.packages.length === 1 ? 'package' : 'packages'}, ` +
      `${report.attributed} of ${report.execs} execs in scripts, ${report.flagged} flagged`,
  );
  for (const pkg of report.packages) {
    lines.push(`${quoteText(pkg.package)}${pkg.version === '' ? '' : `@${quoteText(pkg.version)}`}`);
    for (const s of pkg.scripts) {
      lines.push(`  ${quoteText(s.script)}${s.line === '' ? '' : `: ${quoteText(s.line)}`}${s.manager === '' ? '' : `  (${quoteText(s.manager)})`}`);
      for (const c of s.commands) show(c, '    ');
    }
  }
  if (report.unattributed.length > 0) {
    lines.push('flagged outside any script:');
    for (const c of report.unattributed) show(c, '    ');
  }
  if (report.lost > 0) lines.push(`${report.lost} records lost: the report may miss execs`);
  return lines;
}
