// SPDX-License-Identifier: MIT
//
// The high-rate path: bench/synth writes synthetic exec records into a
// running tracer's own ring at a paced rate, so the real pump, batching,
// decoding and emit are measured where no exec storm on this machine can
// go. The tracer process reads pid, comm and argv of every record.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuNs } from './proc.js';

export interface PathRow {
  /** Records per second asked of the generator, and what it reached. */
  rate: number;
  achieved: number;
  /** Records the synthetic program wrote, and the tracer's listener saw. */
  written: number;
  seen: number;
  /** Records that found the ring full (the tracer's 'lost'). */
  lost: number;
  /** CPU of the tracer process (every thread), per record and as a share of one core. */
  cpuUsPerRecord: number;
  cpuPercentOfCore: number;
}

export interface PathResult {
  rows: PathRow[];
  /** The highest rate tried with nothing lost (and the generator within 5 % of it). */
  sustained: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the bench-only generator (never part of the package's build). */
export function buildSynth(root: string): string {
  execFileSync('cmake', ['--build', join(root, 'build'), '--target', 'synth_load'], { stdio: 'inherit' });
  return join(root, 'build', 'synth_load');
}

/**
 * Measures each of `rates` for `seconds`, after a warm-up (a tracer that
 * runs for hours is past V8's compilation of its hot path), then keeps
 * doubling past the last rate until records are lost or the generator
 * cannot keep up, to find the highest rate sustained with nothing lost.
 */
export async function measurePath(root: string, rates: number[], seconds = 3): Promise<PathResult> {
  const synth = buildSynth(root);
  const proc = spawn(process.execPath, [join(root, 'bench', 'tracer-proc.mjs'), 'synth'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const mark = async (): Promise<{ synth: number; lost: number }> => {
    const lines = out.split('\n').length;
    proc.stdin.write('mark\n');
    while (out.split('\n').length === lines) await sleep(10);
    return JSON.parse(out.trim().split('\n').at(-1)!) as { synth: number; lost: number };
  };
  const run = async (rate: number, runSeconds: number): Promise<PathRow> => {
    const m0 = await mark();
    const c0 = cpuNs(proc.pid!);
    const said = JSON.parse(execFileSync(synth, [String(proc.pid), String(rate), String(runSeconds)], { encoding: 'utf8' })) as {
      calls: number; written: number; elapsed: number;
    };
    await sleep(300); // the last batch
    const m1 = await mark();
    const cpu = cpuNs(proc.pid!) - c0;
    const seen = m1.synth - m0.synth;
    return {
      rate,
      achieved: said.calls / said.elapsed,
      written: said.written,
      seen,
      lost: m1.lost - m0.lost,
      cpuUsPerRecord: cpu / 1000 / Math.max(1, seen),
      cpuPercentOfCore: (cpu / 1e9 / said.elapsed) * 100,
    };
  };
  try {
    while (!out.includes('"ready"')) await sleep(20);
    await run(20_000, 2); // warm-up
    const rows: PathRow[] = [];
    for (const rate of rates) rows.push(await run(rate, seconds));
    const holds = (r: PathRow) => r.lost === 0 && r.seen === r.written && r.achieved >= 0.95 * r.rate;
    let rate = rates.at(-1)!;
    while (rows.at(-1)!.rate === rate && holds(rows.at(-1)!) && rate < 3_200_000) {
      rate *= 2;
      rows.push(await run(rate, seconds));
    }
    const sustained = Math.max(0, ...rows.filter(holds).map((r) => r.rate));
    return { rows, sustained, seconds };
  } finally {
    proc.stdin.write('stop\n');
    await new Promise((r) => proc.once('close', r));
  }
}
