// SPDX-License-Identifier: MIT

/** `exec-tracer --help`. */
export const USAGE = `usage: exec-tracer [options]
       exec-tracer [options] -- CMD [ARGS...]

Prints a line for every exec on this host as it happens, in execsnoop's
columns: PCOMM PID PPID RET ARGS. With -- CMD, runs CMD and traces CMD and
everything it starts, from CMD's own exec, and nothing else: the lines go to
stderr (CMD keeps stdout), a summary follows when CMD ends, and the exit
status is CMD's (128+N when signal N ended it). Ctrl-C goes to CMD.

execsnoop's options:
  -T, --time            a TIME column (HH:MM:SS, local time)
  -t, --timestamp       a TIME(s) column: seconds since the command started
  -x, --fails           failed execs too (RET is -errno, as execsnoop shows it)
  -u, --uid UID         only processes of this real uid (repeat or a,b,c)
  -n, --name REGEX      only task names matching REGEX
  -l, --line REGEX      only argument lines (argv joined by spaces) matching REGEX
  -q, --quote           every argument in double quotes
  -c, --cgroup PATH     only processes in this cgroup v2 or below it (repeatable)
  -U, --print-uid       a UID column
      --max-args N      arguments printed per exec (default 20)

Beyond execsnoop:
      --json            one JSON object per event and line (NDJSON), every field
      --schema otel     with --json: each event as an OpenTelemetry log record
                        (timestamp in ns, eventName, attributes named by the
                        semantic conventions: process.pid, process.command_args...)
      --exits           exit lines too: exit code or signal, and how long it ran
      --tree            each exec with its ancestry: sshd(812) › bash(1201) › cc(1402)
      --top             a live screen of which processes spawn the most execs
      --container ID    only this container's processes (its id, or a unique prefix)
      --descendants PID only this process and its descendants (repeatable)
      --env NAMES       print these environment variables with each exec (a,b,c)
      --duration SECS   stop after SECS seconds
      --redact          secrets in arguments and --env values shown as *** (below)
      --syslog URL      also send each event shown to a syslog server, URL
                        tcp://HOST:PORT or tls://HOST:PORT (RFC 5424 messages,
                        the OpenTelemetry record as JSON; docs/syslog.md); the
                        lines are still printed (> /dev/null for none)
      --syslog-ca FILE  tls://: the CA the server's certificate must chain to
                        (default: Node's bundled CAs; the server is always verified)
      --syslog-cert FILE, --syslog-key FILE
                        tls://: a client certificate and its key, for servers
                        that ask for one
      --syslog-facility NAME
                        the messages' facility (default authpriv)
      --output FILE     the lines (or --json) appended to FILE instead of
                        standard output: created 0600, reopened on SIGHUP
                        (logrotate), a full disk counted as dropped lines
      --metrics [HOST:]PORT
                        serve Prometheus metrics at http://HOST:PORT/metrics and
                        a readiness check at /healthz (200 while tracing, else
                        503); HOST is 127.0.0.1 unless given (0.0.0.0: every
                        interface); docs/agent.md lists the metrics
      --shutdown-timeout SECS
                        on SIGTERM or Ctrl-C, how long to flush the output and
                        --syslog before the summary (default 5); a second
                        signal exits at once
  With -- CMD:
      --tree            the run's whole process tree once CMD has ended, each
                        process with how it ended and how long it lived
      --timeline FILE   the run drawn as a self-contained HTML page: every
                        process a bar from fork to exit, coloured by outcome
      --trace-json FILE the run in Chrome's trace-event format (Perfetto,
                        chrome://tracing)
      --npm             each exec attributed to the package and lifecycle script
                        it ran under ([pkg@1.0.0 postinstall] before the line;
                        an "npm" field with --json), and at the end a report per
                        package and script with execs to review flagged
                        (network tools, curl | sh, executables deleted, memfd,
                        in node_modules or /tmp, setuid); docs/npm.md
      --report FILE     with --npm: the report as JSON too (created 0600)
  -h, --help            this help

Differences from execsnoop:
  - -u, -c and --descendants are applied in the kernel; -n and -l in the
    command, as JavaScript regular expressions (execsnoop's -n is a substring,
    which is a regular expression too unless it holds special characters).
  - -c takes a path under the cgroup v2 mount, or as /proc/PID/cgroup shows it,
    and keeps the whole subtree below it.
  - Arguments holding a space or a quote, and empty ones, are shown in single
    quotes, so the line can be read back; bytes that are control characters or
    not UTF-8 are shown as \\xNN. PID and PPID columns are 7 wide.
  - Every exec is shown, including those of threads and of execveat(2) and
    fexecve(3); ARGS are what the new image got.

--redact looks at each argument (and each --env NAME=value) on its own and
hides, with the name or flag kept:
  - the value joined to a flag that names a password, passwd, pwd, token,
    secret, api-key, access-key, private-key or credentials (--password=S,
    --db-token=S, -secret:S);
  - whatever follows -p in an argument that starts with it (mysql -pS; also
    harmless ones: mkdir -pv shows as -p***);
  - Authorization: and Proxy-Authorization: header values; the S of an
    argument that is a URL with user:S@;
  - NAME=S where NAME holds PASSWORD, SECRET, TOKEN, API_KEY, ACCESS_KEY,
    PRIVATE_KEY or CREDENTIALS; AWS access key ids (AKIA…, ASIA…) anywhere.
  It misses a secret split over two arguments (--password S, mysql -p S,
  curl -u user:S), one inside a longer argument (sh -c 'mysql -pS'), and one
  with no telltale name beside it (a bare token). -l matches the redacted line.

Exit status: 0 after Ctrl-C, SIGTERM, --duration or a closed pipe (130 or 143
after a second Ctrl-C or SIGTERM cut the flush short); 1 when
tracing cannot start (the message says why, and CMD never ran); 2 for a bad
command line; with -- CMD, CMD's status.
Needs root (or CAP_BPF and CAP_PERFMON) and Linux >= 5.8 with BTF.`;
