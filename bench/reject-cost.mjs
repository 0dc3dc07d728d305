// SPDX-License-Identifier: MIT
//
// The exec program's BPF time per exec under a filter, exec-tracer alone:
// the harness behind the reject-path figures in bench/RESULTS.md (A/B
// builds compared in alternation, where the storms beside execsnoop in
// run.ts are too noisy for differences of 100 ns). As root, after
// `npm run build` and one `npm run bench` (which compiles the storm):
//   node bench/reject-cost.mjs '{"uids":[4242]}' [ROUNDS]
// Turns bpf_stats on for its storms and back off.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecTracer } from '../dist/lib/index.js';

const filter = JSON.parse(process.argv[2] ?? '{}');
const rounds = Number(process.argv[3] ?? 6);
const storm = fileURLToPath(new URL('./out/storm', import.meta.url));
const stats = '/proc/sys/kernel/bpf_stats_enabled';

/** Our exec program's total run time and runs, from bpftool. */
function execProgram() {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }));
  return progs
    .filter((p) => p.name === 'handle_exec_btf')
    .reduce((a, p) => ({ ns: a.ns + (p.run_time_ns ?? 0), runs: a.runs + (p.run_cnt ?? 0) }), { ns: 0, runs: 0 });
}

const was = readFileSync(stats, 'utf8').trim();
writeFileSync(stats, '1');
try {
  const perExec = [];
  for (let r = 0; r < rounds; r++) {
    const tracer = new ExecTracer(Object.keys(filter).length > 0 ? { filter } : {});
    await tracer.start();
    const before = execProgram();
    execFileSync(storm, ['2', '2500', 'reject']);
    const after = execProgram();
    await tracer.stop();
    perExec.push(Math.round((after.ns - before.ns) / (after.runs - before.runs)));
  }
  console.log(`${JSON.stringify(filter)}: exec program ns per exec, ${rounds} storms of 5,000: ${perExec.join(' ')}`);
} finally {
  writeFileSync(stats, was);
}
