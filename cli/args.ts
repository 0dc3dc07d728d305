// SPDX-License-Identifier: MIT
//
// The exec-tracer command's flags: execsnoop's where they mean the same,
// and the ones it adds. Parsing only: nothing here touches the kernel, so
// every flag, bad value and conflict is unit-tested.
import { parseArgs } from 'node:util';
import { parseSyslogUrl, SYSLOG_FACILITIES } from 'exec-tracer/syslog';

/** A command line the command cannot run: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What the command line asked for. */
export interface CliSettings {
  help: boolean;
  /** -T: a clock time column (HH:MM:SS). */
  time: boolean;
  /** -t: seconds since the command started. */
  timestamp: boolean;
  /** -x: failed execs too (RET shows the error). */
  fails: boolean;
  /** -u: only these real uids (in the kernel). */
  uids?: number[];
  /** -n: only task names matching (in JS). */
  name?: RegExp;
  /** -l: only argv lines matching (in JS). */
  line?: RegExp;
  /** -q: quote every argument. */
  quote: boolean;
  /** -c: only this cgroup v2 path and below (in the kernel). */
  cgroups?: string[];
  /** -U: a UID column. */
  printUid: boolean;
  /** --max-args: arguments printed per exec (execsnoop's default: 20). */
  maxArgs: number;
  /** --json: one JSON object per line. */
  json: boolean;
  /** --schema: the fields' names in --json: the events' own, or OpenTelemetry's. */
  schema: JsonSchema;
  /** --exits: exit lines too. */
  exits: boolean;
  /** --tree: each exec with its ancestry. */
  tree: boolean;
  /** --container: only this container (an id or a unique prefix of one). */
  container?: string;
  /** --descendants: only these processes and their subtrees (in the kernel). */
  descendants?: number[];
  /** --env: these environment variables, printed with each exec. */
  env?: string[];
  /** --duration: stop after this many ms. */
  durationMs?: number;
  /** --shutdown-timeout: how long a stop may spend flushing the output and --syslog, in ms (default 5 s). */
  shutdownTimeoutMs: number;
  /** --output: lines appended to this file (created 0600), reopened on SIGHUP. */
  output?: string;
  /** --top: the live "who is spawning?" screen. */
  top: boolean;
  /** --redact: secrets in argv and --env values as `***` (options.redact: true). */
  redact: boolean;
  /** --syslog and its --syslog-* flags: every event shown also sent to this server. */
  syslog?: SyslogSettings;
  /** --metrics [HOST:]PORT: /metrics and /healthz served there (HOST 127.0.0.1 unless given). */
  metrics?: { host: string; port: number };
  /** `-- CMD ARGS…`: run this command and trace it and everything below it, nothing else. */
  command?: string[];
  /** --timeline FILE.html: the run drawn as a self-contained page (with -- CMD). */
  timeline?: string;
  /** --npm: each exec attributed to a package's lifecycle script, and a report at the end (with -- CMD). */
  npm?: boolean;
  /** --report FILE: the --npm report as JSON. */
  report?: string;
  /** --trace-json FILE: the run in Chrome's trace-event format (with -- CMD). */
  traceJson?: string;
}

/** Where --syslog sends, as the command line gave it (files not read yet). */
export interface SyslogSettings {
  /** tcp://HOST:PORT or tls://HOST:PORT. */
  url: string;
  /** --syslog-ca FILE (tls:// only). */
  caFile?: string;
  /** --syslog-cert FILE and --syslog-key FILE (tls:// only, both or neither). */
  certFile?: string;
  keyFile?: string;
  /** --syslog-facility NAME. */
  facility?: keyof typeof SYSLOG_FACILITIES;
}

export const DEFAULT_MAX_ARGS = 20;
/** --shutdown-timeout's default: what systemd's and Kubernetes' stop grace periods leave room for. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/** What --json lines look like: the events' own fields, or OpenTelemetry log records (toOtelRecord). */
export const JSON_SCHEMAS = ['exec-tracer', 'otel'] as const;
export type JsonSchema = (typeof JSON_SCHEMAS)[number];

/** A regular expression from the user, or a UsageError naming the flag. */
function regex(flag: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`${flag}: not a regular expression: ${(error as Error).message}`);
  }
}

/** A list of integers in [min, max], comma-separated or the flag repeated. */
function integers(flag: string, values: string[], min: number, max: number): number[] {
  return values
    .flatMap((v) => v.split(','))
    .map((text) => {
      const n = Number(text);
      if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
        throw new UsageError(`${flag} takes integers between ${min} and ${max}, got "${text}"`);
      return n;
    });
}

/** Parses the command line (without node and the script); throws UsageError. */
export function parseCliArgs(argv: string[]): CliSettings {
  // `-- CMD ARGS…`: everything after the first `--` is the command, as
  // strace and perf take it.
  const split = argv.indexOf('--');
  const command = split === -1 ? undefined : argv.slice(split + 1);
  const options = split === -1 ? argv : argv.slice(0, split);
  let values;
  try {
    ({ values } = parseArgs({
      args: options,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        time: { type: 'boolean', short: 'T' },
        timestamp: { type: 'boolean', short: 't' },
        fails: { type: 'boolean', short: 'x' },
        uid: { type: 'string', short: 'u', multiple: true },
        name: { type: 'string', short: 'n' },
        line: { type: 'string', short: 'l' },
        quote: { type: 'boolean', short: 'q' },
        cgroup: { type: 'string', short: 'c', multiple: true },
        'print-uid': { type: 'boolean', short: 'U' },
        'max-args': { type: 'string' },
        json: { type: 'boolean' },
        schema: { type: 'string' },
        exits: { type: 'boolean' },
        tree: { type: 'boolean' },
        container: { type: 'string' },
        descendants: { type: 'string', multiple: true },
        env: { type: 'string', multiple: true },
        duration: { type: 'string' },
        top: { type: 'boolean' },
        redact: { type: 'boolean' },
        syslog: { type: 'string' },
        'syslog-ca': { type: 'string' },
        'syslog-cert': { type: 'string' },
        'syslog-key': { type: 'string' },
        'syslog-facility': { type: 'string' },
        output: { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        metrics: { type: 'string' },
        timeline: { type: 'string' },
        'trace-json': { type: 'string' },
        npm: { type: 'boolean' },
        report: { type: 'string' },
      },
    }));
  } catch (error) {
    // node:util names the flag and what was wrong with it.
    throw new UsageError((error as Error).message);
  }
  const s: CliSettings = {
    help: values.help === true,
    time: values.time === true,
    timestamp: values.timestamp === true,
    fails: values.fails === true,
    quote: values.quote === true,
    printUid: values['print-uid'] === true,
    maxArgs: DEFAULT_MAX_ARGS,
    json: values.json === true,
    schema: 'exec-tracer',
    exits: values.exits === true,
    tree: values.tree === true,
    top: values.top === true,
    redact: values.redact === true,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
  if (values.schema !== undefined) {
    if (!(JSON_SCHEMAS as readonly string[]).includes(values.schema))
      throw new UsageError(`--schema takes ${JSON_SCHEMAS.join(' or ')}, got "${values.schema}"`);
    if (!s.json) throw new UsageError('--schema names the fields of --json lines: give --json too');
    s.schema = values.schema as JsonSchema;
  }
  if (values.uid) s.uids = integers('-u/--uid', values.uid, 0, 4_294_967_294);
  if (values.name !== undefined) s.name = regex('-n/--name', values.name);
  if (values.line !== undefined) s.line = regex('-l/--line', values.line);
  if (values.cgroup) {
    if (values.cgroup.some((c) => c === '')) throw new UsageError('-c/--cgroup takes a cgroup v2 path');
    s.cgroups = values.cgroup;
  }
  if (values['max-args'] !== undefined) s.maxArgs = integers('--max-args', [values['max-args']], 1, 65_536)[0]!;
  if (values.container !== undefined) {
    if (!/^[0-9a-f]{1,64}$/.test(values.container))
      throw new UsageError(`--container takes a container id (hex, or a prefix of one), got "${values.container}"`);
    s.container = values.container;
  }
  if (values.descendants) s.descendants = integers('--descendants', values.descendants, 1, 4_194_304);
  if (values.env) {
    const names = values.env.flatMap((v) => v.split(','));
    for (const n of names)
      if (n === '' || n.includes('=')) throw new UsageError(`--env takes variable names, got "${n}"`);
    s.env = names;
  }
  if (values.duration !== undefined) {
    const seconds = Number(values.duration);
    if (values.duration.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError(`--duration takes a positive number of seconds, got "${values.duration}"`);
    s.durationMs = seconds * 1000;
  }
  const syslog = syslogSettings(values);
  if (syslog !== undefined) s.syslog = syslog;
  // One output at a time: the screen, the lines, or JSON.
  const outputs = [s.top && '--top', s.json && '--json', s.tree && '--tree'].filter(Boolean);
  if (outputs.length > 1) throw new UsageError(`${outputs.join(' and ')} cannot be combined: choose one output`);
  if (s.top && (s.time || s.timestamp || s.quote || s.printUid || s.exits))
    throw new UsageError('--top is a screen of its own: -T, -t, -q, -U and --exits do not apply to it');
  if (values['shutdown-timeout'] !== undefined) {
    const text = values['shutdown-timeout'];
    const seconds = Number(text);
    if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600)
      throw new UsageError(`--shutdown-timeout takes seconds between 0 and 3600, got "${text}"`);
    s.shutdownTimeoutMs = seconds * 1000;
  }
  if (values.output !== undefined) {
    if (values.output === '') throw new UsageError('--output takes a file name');
    if (s.top) throw new UsageError('--top is a screen of its own: --output does not apply to it');
    s.output = values.output;
  }
  if (s.top && s.syslog) throw new UsageError('--top is a screen of its own: --syslog does not apply to it');
  if (values.metrics !== undefined) s.metrics = metricsAddress(values.metrics);
  if (command !== undefined) {
    if (command.length === 0 || command[0] === '') throw new UsageError('-- takes the command to run: exec-tracer [options] -- CMD [ARGS...]');
    // The command is the tree's root: what would choose other processes, or end the run early, does not apply.
    const clash = [s.top && '--top', s.descendants && '--descendants', s.durationMs !== undefined && '--duration'].filter(Boolean);
    if (clash.length > 0) throw new UsageError(`${clash.join(' and ')} cannot be combined with -- CMD: the run traces CMD's tree until CMD exits`);
    s.command = command;
  }
  for (const [flag, file] of [['--timeline', values.timeline], ['--trace-json', values['trace-json']]] as const) {
    if (file === undefined) continue;
    if (file === '') throw new UsageError(`${flag} takes a file name`);
    if (s.command === undefined) throw new UsageError(`${flag} draws one command's run: exec-tracer ${flag} FILE -- CMD [ARGS...]`);
  }
  if (values.timeline !== undefined) s.timeline = values.timeline;
  if (values['trace-json'] !== undefined) s.traceJson = values['trace-json'];
  if (values.npm === true) {
    // The report is one install's: host-wide there is no end to report at.
    if (s.command === undefined) throw new UsageError('--npm attributes one command\'s execs to package scripts: exec-tracer --npm -- npm ci');
    s.npm = true;
  }
  if (values.report !== undefined) {
    if (values.report === '') throw new UsageError('--report takes a file name');
    if (!s.npm) throw new UsageError('--report writes the --npm report: exec-tracer --npm --report FILE -- CMD');
    s.report = values.report;
  }
  return s;
}

/** --metrics [HOST:]PORT, HOST an IPv4 address, a name, or an IPv6 address in brackets ([::]:9464). */
export function metricsAddress(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65_535)
    throw new UsageError(`--metrics takes [HOST:]PORT (9464, 0.0.0.0:9464, [::1]:9464; port 0 picks a free one), got "${text}"`);
  const host = match[1] === undefined ? '127.0.0.1' : match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** --syslog's flags checked together; undefined without --syslog. */
function syslogSettings(values: Partial<Record<'syslog' | 'syslog-ca' | 'syslog-cert' | 'syslog-key' | 'syslog-facility', string>>): SyslogSettings | undefined {
  const { syslog: url, 'syslog-ca': caFile, 'syslog-cert': certFile, 'syslog-key': keyFile, 'syslog-facility': facility } = values;
  const given = Object.keys(values).filter((k) => k.startsWith('syslog-') && values[k as keyof typeof values] !== undefined);
  if (url === undefined) {
    if (given.length > 0) throw new UsageError(`--${given[0]} needs --syslog tcp://HOST:PORT or tls://HOST:PORT`);
    return undefined;
  }
  let protocol: string;
  try {
    ({ protocol } = parseSyslogUrl(url));
  } catch (error) {
    // The library's message says what is wrong (and why not UDP); its hint is for the API.
    throw new UsageError(`--syslog: ${(error as Error).message.split('\n')[0]!.replace(/^exec-tracer\/syslog: /, '')}`);
  }
  const settings: SyslogSettings = { url };
  for (const [flag, file] of [['--syslog-ca', caFile], ['--syslog-cert', certFile], ['--syslog-key', keyFile]] as const) {
    if (file === undefined) continue;
    if (protocol !== 'tls') throw new UsageError(`${flag} is for TLS, and ${url} is plain TCP: use tls://`);
    if (file === '') throw new UsageError(`${flag} takes a PEM file`);
  }
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError(certFile === undefined ? '--syslog-key needs --syslog-cert' : '--syslog-cert needs --syslog-key');
  if (caFile !== undefined) settings.caFile = caFile;
  if (certFile !== undefined) settings.certFile = certFile;
  if (keyFile !== undefined) settings.keyFile = keyFile;
  if (facility !== undefined) {
    if (!Object.hasOwn(SYSLOG_FACILITIES, facility))
      throw new UsageError(`--syslog-facility takes one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}, got "${facility}"`);
    settings.facility = facility as keyof typeof SYSLOG_FACILITIES;
  }
  return settings;
}
