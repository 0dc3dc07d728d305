// SPDX-License-Identifier: MIT
//
// The exec-tracer side of the benchmark, as a user's process would run it:
// plain JavaScript importing the built package (no TypeScript loader in the
// process, so its RSS compares fairly with a bare `node`). Modes:
//   storm TAG [OPTIONS [LISTENER]]
//                          trace with defaults (or the JSON OPTIONS, if
//                          given); count TAG-tagged execs. LISTENER "tag"
//                          (default) reads argv[1] only; "full" reads pid,
//                          comm and the whole argv too; "full+exit" also
//                          listens to 'exit' (and does nothing); "syslog" is
//                          "tag" plus a SyslogSink (exec-tracer/syslog, the
//                          defaults) to $EXEC_TRACER_BENCH_SYSLOG that each
//                          exec is written to; "otel" is "tag" plus
//                          JSON.stringify(toOtelRecord(e)) of each exec
//                          (the record alone, no sink). Each "mark" on
//                          stdin answers {"mark":n,...} with the filter's
//                          counters then, so a window can be cut exactly
//   synth [OPTIONS]        trace; count the synthetic records bench/synth
//                          writes (comm "synth"), reading pid, comm and
//                          argv of each, as the "full" listener does. Each
//                          "mark" answers {"mark":n,"synth":count,"lost":n}
//   latency TAG MAXLAT     record kernel-timestamp -> listener latency
//   startup N              N start/stop cycles; time from start() to attached
//   idle SECONDS           CPU used while nothing execs (after 12 s: V8 start-up GCs)
//   seed N                 N starts with processTable: time from start() to
//                          attached and seeded, the table's size, and the
//                          heap and RSS it held (the last one's, against the
//                          settled process after it stopped; --expose-gc)
// Prints {"ready":true,...} once attached, then one JSON line of results
// after "stop" arrives on stdin (storm, latency) or when done (startup, idle).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ExecTracer, toOtelRecord } from '../dist/lib/index.js';
import { SyslogSink } from '../dist/lib/sinks/syslog.js';

const [mode, arg1, arg2, arg3] = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));
// The boot clock of the records, read the same way the tracer reads it.
const binding = createRequire(import.meta.url)('node-gyp-build')(root);
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function whenStopRequested() {
  return new Promise((resolve) => {
    process.stdin.on('data', (d) => d.toString().includes('stop') && resolve());
  });
}

function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (mode === 'storm') {
  const tag = `${arg1}-`;
  const counts = new Map();
  const tracer = new ExecTracer(arg2 === undefined ? {} : JSON.parse(arg2));
  let checksum = 0;
  // "full+exit" adds an exit listener that does nothing: the tracer then
  // makes an event of every exit record (bench A/B of counting them).
  if (arg3 === 'full+exit') tracer.on('exit', () => {});
  const sink = arg3 === 'syslog' ? new SyslogSink({ url: process.env.EXEC_TRACER_BENCH_SYSLOG }) : undefined;
  sink?.on('error', (e) => process.stderr.write(`${e.message}\n`));
  tracer.on('exec', sink || arg3 === 'otel'
    ? (e) => {
        if (sink) sink.write(e);
        else checksum += JSON.stringify(toOtelRecord(e)).length;
        const a = e.argv[1];
        if (a !== undefined && a.startsWith(tag)) counts.set(a, (counts.get(a) ?? 0) + 1);
      }
    : arg3?.startsWith('full')
    ? (e) => {
        const argv = e.argv;
        checksum += e.pid + e.comm.length + argv.length;
        const a = argv[1];
        if (a !== undefined && a.startsWith(tag)) counts.set(a, (counts.get(a) ?? 0) + 1);
      }
    : (e) => {
        const a = e.argv[1];
        if (a !== undefined && a.startsWith(tag)) counts.set(a, (counts.get(a) ?? 0) + 1);
      });
  await tracer.start();
  let marks = 0;
  process.stdin.on('data', (d) => {
    if (!d.toString().includes('mark')) return;
    const { filtered, filteredExits } = tracer.stats();
    say({ mark: ++marks, filtered, filteredExits });
  });
  say({ ready: true, pid: process.pid });
  await whenStopRequested();
  await tracer.stop();
  const syslog = await sink?.close();
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  const stats = tracer.stats();
  say({
    seen: counts.size, duplicates, lost: stats.lost, checksum,
    filtered: stats.filtered, filteredExits: stats.filteredExits, stats, syslog,
  });
} else if (mode === 'synth') {
  const tracer = new ExecTracer(arg1 === undefined ? {} : JSON.parse(arg1));
  let synth = 0;
  let checksum = 0;
  tracer.on('exec', (e) => {
    const argv = e.argv;
    checksum += e.pid + argv.length;
    if (e.comm === 'synth') synth++;
  });
  await tracer.start();
  let marks = 0;
  process.stdin.on('data', (d) => {
    if (d.toString().includes('mark')) say({ mark: ++marks, synth, lost: tracer.stats().lost });
  });
  say({ ready: true, pid: process.pid });
  await whenStopRequested();
  await tracer.stop();
  say({ synth, checksum, stats: tracer.stats() });
} else if (mode === 'latency') {
  const tag = `${arg1}-`;
  const latenciesNs = [];
  const tracer = new ExecTracer({ maxLatencyMs: Number(arg2) });
  tracer.on('exec', (e) => {
    const now = binding.bootTimeNs();
    if (e.argv[1]?.startsWith(tag)) latenciesNs.push(Number(now - e.bootNs));
  });
  await tracer.start();
  say({ ready: true, pid: process.pid });
  await whenStopRequested();
  await tracer.stop();
  latenciesNs.sort((a, b) => a - b);
  const ms = (ns) => (ns === null ? null : ns / 1e6);
  say({
    count: latenciesNs.length,
    p50Ms: ms(percentile(latenciesNs, 50)),
    p99Ms: ms(percentile(latenciesNs, 99)),
    maxMs: ms(latenciesNs.at(-1) ?? null),
  });
} else if (mode === 'startup') {
  const times = [];
  for (let i = 0; i < Number(arg1); i++) {
    const tracer = new ExecTracer();
    const t0 = process.hrtime.bigint();
    await tracer.start();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await tracer.stop();
  }
  times.sort((a, b) => a - b);
  say({ medianMs: percentile(times, 50), minMs: times[0], maxMs: times.at(-1) });
} else if (mode === 'seed') {
  // One tracer in a function of its own, so nothing here holds it once it
  // stopped: the heap it held is the difference with a later, settled heap.
  const once = async () => {
    const tracer = new ExecTracer({ processTable: true });
    const t0 = process.hrtime.bigint();
    await tracer.start();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    globalThis.gc();
    const held = process.memoryUsage();
    const size = tracer.processes.size;
    await tracer.stop();
    return { ms, held, size };
  };
  const times = [];
  let last;
  for (let i = 0; i < Number(arg1); i++) {
    last = await once();
    times.push(last.ms);
  }
  await new Promise((r) => setTimeout(r, 200));
  globalThis.gc();
  const settled = process.memoryUsage();
  times.sort((a, b) => a - b);
  say({
    medianMs: percentile(times, 50), minMs: times[0], maxMs: times.at(-1), size: last.size,
    heapBytes: last.held.heapUsed - settled.heapUsed, rssBytes: last.held.rss - settled.rss,
  });
} else if (mode === 'idle') {
  const tracer = new ExecTracer();
  await tracer.start();
  say({ ready: true, pid: process.pid });
  // V8's memory reducer runs a few full GCs 8-9 s after start-up (40 ms
  // of CPU here, once): let it pass, so the window shows the steady state.
  await new Promise((r) => setTimeout(r, 12_000));
  const wallNs0 = process.hrtime.bigint();
  const cpu0 = cpuNs();
  await new Promise((r) => setTimeout(r, Number(arg1) * 1000));
  const cpu = cpuNs() - cpu0;
  const wall = Number(process.hrtime.bigint() - wallNs0);
  await tracer.stop();
  say({ cpuPercentOfCore: (100 * cpu) / wall, seconds: wall / 1e9, events: tracer.stats().events });
} else {
  throw new Error(`unknown mode ${mode}`);
}

// stdin stays open (it carries "stop"); nothing else is left to do.
process.exit(0);
