// SPDX-License-Identifier: MIT
//
// npm run soak -- --minutes N [--rate EXECS_PER_S]
//
// A steady exec load for N minutes against one tracer whose listener does
// real work (each exec serialised to JSON, the last 1,000 command lines
// kept, per-parent counts, the process table on), sampling every 10 s the
// tracer's RSS, V8 heap, open fds, events and loss. Writes
// bench/out/soak.json, bench/out/soak.md and bench/out/soak.svg (the curve).
// A script, not a test: it takes minutes, and what it shows is a trend.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  seconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  fds: number;
  events: number;
  lost: number;
  tableSize: number;
}

/** The tracer process: plain JavaScript on the built package, as a user runs it. */
const TRACER = `
import { ExecTracer } from ${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))};
import { readdirSync } from 'node:fs';
const tracer = new ExecTracer({ processTable: true });
const recent = [];
const perParent = new Map();
let bytes = 0;
tracer.on('exec', (e) => {
  bytes += JSON.stringify(e).length;
  recent.push(e.argv.join(' '));
  if (recent.length > 1000) recent.shift();
  const key = e.parent?.comm ?? '?';
  perParent.set(key, (perParent.get(key) ?? 0) + 1);
});
await tracer.start();
const sample = () => {
  const s = tracer.stats();
  const m = process.memoryUsage();
  process.stdout.write(JSON.stringify({
    rss: m.rss, heapUsed: m.heapUsed, fds: readdirSync('/proc/self/fd').length,
    events: s.events, lost: s.lost, tableSize: tracer.processes.size, bytes,
  }) + '\\n');
};
process.stdin.on('data', (d) => (d.toString().includes('stop') ? tracer.stop().then(() => process.exit(0)) : sample()));
process.stdout.write('{"ready":true}\\n');
`;

/** A shell loop exec'ing short commands at about `rate` per second (in bursts every 100 ms). */
function load(rate: number) {
  const perTick = Math.max(1, Math.round(rate / 10));
  const script = `while :; do i=0; while [ $i -lt ${perTick} ]; do /bin/true soak-$i; i=$((i+1)); done; sleep 0.1; done`;
  return spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
}

function svg(samples: Sample[]): string {
  const w = 640;
  const h = 240;
  const pad = 40;
  const maxT = Math.max(1, ...samples.map((s) => s.seconds));
  const series = [
    { key: 'rssMiB' as const, colour: '#c0392b', label: 'RSS MiB' },
    { key: 'heapUsedMiB' as const, colour: '#2471a3', label: 'V8 heap used MiB' },
    { key: 'fds' as const, colour: '#229954', label: 'open fds' },
  ];
  const maxY = Math.max(1, ...samples.flatMap((s) => series.map((x) => s[x.key]))) * 1.1;
  const px = (t: number) => pad + ((w - 2 * pad) * t) / maxT;
  const py = (y: number) => h - pad - ((h - 2 * pad) * y) / maxY;
  const lines = series.map(
    (x) => `<polyline fill="none" stroke="${x.colour}" stroke-width="1.5" points="${samples.map((s) => `${px(s.seconds).toFixed(1)},${py(s[x.key]).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = series.map((x, i) => `<text x="${pad + 10 + i * 170}" y="20" fill="${x.colour}" font-size="12">${x.label}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#444"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#444"/>`,
    `<text x="${w / 2}" y="${h - 8}" font-size="12" text-anchor="middle">minutes (0–${(maxT / 60).toFixed(0)})</text>`,
    `<text x="4" y="${pad}" font-size="11">${maxY.toFixed(0)}</text><text x="4" y="${h - pad}" font-size="11">0</text>`,
    ...legend,
    ...lines,
    '</svg>',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '200' } } });
  const minutes = Number(values.minutes);
  const rate = Number(values.rate);
  if (!(minutes > 0) || !(rate > 0)) throw new Error('usage: npm run soak -- --minutes N [--rate EXECS_PER_S]');
  if (process.getuid?.() !== 0) throw new Error('the soak loads BPF programs: run it as root');
  const tracer = spawn(process.execPath, ['--input-type=module', '-e', TRACER], { stdio: ['pipe', 'pipe', 'inherit'] });
  let said = '';
  tracer.stdout.on('data', (d) => (said += d));
  const next = async () => {
    const lines = said.split('\n').length;
    tracer.stdin.write('sample\n');
    while (said.split('\n').length === lines) await sleep(20);
    return JSON.parse(said.trim().split('\n').at(-1)!) as Record<string, number>;
  };
  while (!said.includes('"ready"')) await sleep(50);
  const loader = load(rate);
  const started = Date.now();
  const samples: Sample[] = [];
  try {
    for (;;) {
      const s = await next();
      const seconds = (Date.now() - started) / 1000;
      samples.push({
        seconds, rssMiB: s.rss! / 2 ** 20, heapUsedMiB: s.heapUsed! / 2 ** 20, fds: s.fds!,
        events: s.events!, lost: s.lost!, tableSize: s.tableSize!,
      });
      console.log(`${(seconds / 60).toFixed(1)} min: RSS ${(s.rss! / 2 ** 20).toFixed(1)} MiB, heap ${(s.heapUsed! / 2 ** 20).toFixed(1)} MiB, fds ${s.fds}, events ${s.events}, lost ${s.lost}, table ${s.tableSize}`);
      if (seconds >= minutes * 60) break;
      await sleep(10_000);
    }
  } finally {
    loader.kill('SIGKILL');
    tracer.stdin.write('stop\n');
    await new Promise((r) => tracer.once('close', r));
  }
  // Growth: the last third's mean against the second third's (the first is warm-up).
  const third = (i: number) => samples.slice(Math.floor((samples.length * i) / 3), Math.floor((samples.length * (i + 1)) / 3));
  const mean = (xs: Sample[], k: keyof Sample) => xs.reduce((a, s) => a + s[k], 0) / Math.max(1, xs.length);
  const last = samples.at(-1)!;
  const md = [
    `Soak ${new Date().toISOString()}: ${minutes} min, ~${rate} execs/s (${last.events} events, ${last.lost} lost), listener serialising every event, processTable on.`,
    '',
    '| measure | second third (mean) | last third (mean) | min | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...(['rssMiB', 'heapUsedMiB', 'fds', 'tableSize'] as const).map((k) =>
      `| ${k} | ${mean(third(1), k).toFixed(2)} | ${mean(third(2), k).toFixed(2)} | ${Math.min(...samples.map((s) => s[k])).toFixed(2)} | ${Math.max(...samples.map((s) => s[k])).toFixed(2)} |`),
    '',
  ];
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'soak.json'), JSON.stringify({ minutes, rate, samples }, null, 1));
  writeFileSync(join(out, 'soak.md'), md.join('\n'));
  writeFileSync(join(out, 'soak.svg'), svg(samples));
  console.log(md.join('\n'));
  console.log('(written to bench/out/soak.md, soak.json and soak.svg)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
