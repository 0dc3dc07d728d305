// SPDX-License-Identifier: MIT
//
// What test/check/leaks.kernel.test.ts runs in a process of its own, against
// the check build (ASan + UBSan + fault injection), with LeakSanitizer on.
// LeakSanitizer judges a process at exit, and only a natural exit (the event
// loop empty, the environment torn down) frees what the JavaScript heap
// owns; test runners end their workers with SIGTERM, so the paths worth
// checking for leaks run here, and the process then ends by itself:
//
//   cycles   start and stop with every program, the seed, a filter, env and context
//   storm    a storm with a listener that reads every field
//   overflow a ring too small for a storm while the loop is blocked: drops counted
//   worker   a worker thread that ends without stop()
//   faults   every call of start() and of a setFilter() that loads more, failing
//            in turn (native/faults.h): a typed error, nothing left behind
//
// Prints one line, `RESULT <json>`: { problems: string[], ... }.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExecTracer, ExecTracerError, type ExecTracerOptions } from '../../lib/index.js';
import { eventually, fixture, kernelObjectIds, realBinding, root, run, settledKernelObjects, uniqueTag } from '../integration/kernel.js';

// The programs this process runs (the storms, bpftool) need no ASan: it is
// loaded here already, and would only slow them down and judge their leaks.
delete process.env.LD_PRELOAD;

const binding = realBinding();
const faults = binding.faults;
if (faults === undefined || binding.sanitizers === undefined)
  throw new Error('the check driver needs the check build (EXEC_TRACER_PREBUILD=build-check, npm run test:check)');
const { ENOMEM, EPERM } = constants.errno;

const problems: string[] = [];
function check(ok: boolean, message: string): void {
  if (!ok) problems.push(message);
}

/** A start that reaches every fault point: every program, the seed, a filter that follows processes. */
const EVERYTHING: ExecTracerOptions = {
  forks: true,
  failedExecs: true,
  processTable: true,
  env: true,
  redact: true,
  filter: { descendantsOf: [process.pid] },
};

/** What this process holds of the kernel's: BPF, BTF, perf and epoll fds (with the object's id), libbpf's placeholder memfds, mappings of BPF maps. */
function held(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    let info: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // readdir's own fd, closed by now
    }
    if (!/^(anon_inode:(bpf|btf|\[perf_event\]|\[eventpoll\])|\/memfd:libbpf)/.test(target)) continue;
    const id = /^(map_id|prog_id|link_id|btf_id):\s*(\d+)$/m.exec(info);
    out.push(`fd ${fd} ${target}${id ? ` ${id[1]} ${id[2]}` : ''}`);
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n'))
    if (line.endsWith('anon_inode:bpf-map')) out.push(`mapping ${line}`);
  return out.sort();
}

interface Baseline {
  held: string[];
  kernel: string[];
}

async function baseline(): Promise<Baseline> {
  await settledKernelObjects();
  return { kernel: kernelObjectIds(), held: held() };
}

/** What `now` has that `before` lacks, and what it lost. */
function difference(before: string[], now: string[]): string | undefined {
  const extra = now.filter((x) => !before.includes(x));
  const gone = before.filter((x) => !now.includes(x));
  return extra.length || gone.length ? `left ${JSON.stringify(extra)}, lost ${JSON.stringify(gone)}` : undefined;
}

/**
 * Nothing of the tracer's is left here or in the kernel: the same fds and
 * mappings as before, and the very same programs, maps and links (by id)
 * once the kernel has freed what was closed (after RCU grace periods).
 */
async function nothingLeft(before: Baseline, what: string): Promise<void> {
  const fds = difference(before.held, held());
  check(fds === undefined, `${what}: this process ${fds}`);
  let kernel: string | undefined;
  await eventually(() => (kernel = difference(before.kernel, kernelObjectIds())) === undefined, 10_000);
  check(kernel === undefined, `${what}: the kernel ${kernel} (after 10 s)`);
}

/** Whether an exec now reaches `tracer` (started). */
async function sees(tracer: ExecTracer): Promise<boolean> {
  const tag = uniqueTag('check');
  const seen = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    tracer.on('exec', (e) => {
      if (e.argv[1] === tag) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  execFileSync('/bin/echo', [tag], { stdio: 'ignore' });
  return seen;
}

/** Whether `error` is the ExecTracerError an injected errno must come out as; a problem if not. */
function typed(error: unknown, errno: number, what: string): boolean {
  const e = error as ExecTracerError;
  const wanted = errno === EPERM ? 'EPERM' : 'EKERNEL';
  const ok = error instanceof ExecTracerError && e.code === wanted && e.errno === errno;
  check(ok, `${what}: wanted ExecTracerError ${wanted} errno ${errno}, got ${error instanceof ExecTracerError ? `${e.code} errno ${e.errno}` : String(error)}: ${(error as Error)?.message}`);
  return ok;
}

/** How often each fault point is reached by `step` on a tracer `prepare` readied; the tracer is stopped after. */
async function callsDuring(prepare: () => Promise<ExecTracer>, step: (tracer: ExecTracer) => Promise<void>) {
  const tracer = await prepare();
  faults!.disarm();
  await step(tracer);
  const calls = faults!.calls();
  await tracer.stop();
  return calls;
}

async function cycles(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const tracer = new ExecTracer(EVERYTHING);
    await tracer.start();
    check(await sees(tracer), `cycle ${i}: an exec arrives`);
    await tracer.stop();
  }
}

async function storm(): Promise<number> {
  const tag = uniqueTag('storm');
  // A roomy ring: this listener is slow under ASan, and loss is not what this checks.
  const tracer = new ExecTracer({ ...EVERYTHING, filter: undefined, ringBufferSize: 8 << 20 });
  let seen = 0;
  tracer.on('exec', (e) => {
    JSON.stringify(e); // every field, through toJSON()
    if (e.argv[1]?.startsWith(`${tag}-`)) seen++;
  });
  tracer.on('exit', (e) => JSON.stringify(e));
  await tracer.start();
  const out = await run(fixture('storm'), ['2', '500', tag]); // the loop keeps draining meanwhile
  await tracer.stop();
  check(out.stdout.includes('spawned=1000 failed=0'), `storm: ${out.stdout}`);
  check(seen === 1000 && tracer.stats().lost === 0, `storm: saw ${seen} of 1000, lost ${tracer.stats().lost}`);
  return seen;
}

async function overflow(): Promise<number> {
  const tag = `${uniqueTag('overflow')}-${'o'.repeat(800)}`;
  const tracer = new ExecTracer({ argvLimit: 1024, ringBufferSize: 32768, context: false });
  let seen = 0;
  tracer.on('exec', (e) => {
    if (e.argv[1]?.startsWith(`${tag}-`)) seen++;
  });
  await tracer.start();
  spawnSync(fixture('storm'), ['2', '500', tag]); // blocks the loop: nothing drains
  await tracer.stop();
  const { lost } = tracer.stats();
  check(lost > 0 && seen + lost >= 1000, `overflow: saw ${seen}, lost ${lost} of 1000`);
  return lost;
}

async function workerTeardown(): Promise<void> {
  const worker = new Worker(join(root, 'test', 'fixtures', 'many-worker.mjs'));
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next(); // loaded
  worker.postMessage('start');
  await next(); // started
  // Busy when it goes: execs flowing, the pump's timer running.
  spawnSync(fixture('storm'), ['1', '200', uniqueTag('worker')]);
  await worker.terminate();
}

async function startFaults(before: Baseline) {
  const calls = await callsDuring(
    async () => new ExecTracer(EVERYTHING),
    (tracer) => tracer.start(),
  );
  for (const point of faults!.points) check((calls[point] ?? 0) > 0, `start() never reaches fault point ${point}`);
  const runs: [string, number, number][] = [];
  for (const point of faults!.points) {
    for (let nth = 1; nth <= (calls[point] ?? 0); nth++) runs.push([point, nth, ENOMEM]);
    // The addon's own calls also with EPERM, which must come out as EPERM
    // (and stops the fallback to the classic tracepoint).
    if (!['bpf', 'epoll', 'mmap', 'fd'].includes(point)) for (let nth = 1; nth <= (calls[point] ?? 0); nth++) runs.push([point, nth, EPERM]);
  }
  let errors = 0;
  const recovered: string[] = [];
  for (const [point, nth, errno] of runs) {
    const what = `start(): ${point} #${nth} failing with ${errno === EPERM ? 'EPERM' : 'ENOMEM'}`;
    const tracer = new ExecTracer(EVERYTHING);
    faults!.arm(point, nth, errno);
    const error = await tracer.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    check(faults!.disarm(), `${what}: the fault did not fire`);
    if (error === undefined) {
      // libbpf got over it (a retry, or a part it can do without).
      recovered.push(`${point} #${nth}`);
      check(await sees(tracer), `${what}: recovered, but the tracer sees nothing`);
      await tracer.stop();
    } else if (typed(error, errno, what)) {
      errors++;
    }
    await nothingLeft(before, what);
  }
  return { calls, runs: runs.length, errors, recovered };
}

async function filterFaults(before: Baseline) {
  // Started without a filter that follows processes: setFilter() must load
  // the fork program, attach it and seed the subtree.
  const follow = { descendantsOf: [process.pid] };
  const started = async () => {
    const tracer = new ExecTracer({});
    await tracer.start();
    return tracer;
  };
  const calls = await callsDuring(started, (tracer) => tracer.setFilter(follow));
  check((calls.load ?? 0) > 0, 'setFilter() did not load the programs that follow processes');
  let runs = 0;
  let errors = 0;
  const recovered: string[] = [];
  for (const point of faults!.points) {
    for (let nth = 1; nth <= (calls[point] ?? 0); nth++) {
      runs++;
      const what = `setFilter(): ${point} #${nth} failing with ENOMEM`;
      const tracer = await started();
      faults!.arm(point, nth, ENOMEM);
      const error = await tracer.setFilter(follow).then(
        () => undefined,
        (e: unknown) => e,
      );
      check(faults!.disarm(), `${what}: the fault did not fire`);
      if (error === undefined) {
        recovered.push(`${point} #${nth}`);
      } else if (typed(error, ENOMEM, what)) {
        errors++;
        check(tracer.filter === undefined, `${what}: the filter changed`);
        // No filter in force: a process outside the subtree is still seen.
        check(await sees(tracer), `${what}: execs stopped arriving`);
      }
      await tracer.stop();
      await nothingLeft(before, what);
    }
  }
  return { calls, runs, errors, recovered };
}

async function main(): Promise<void> {
  // libbpf probes the kernel's features once per process: before the baseline.
  const warm = new ExecTracer(EVERYTHING);
  await warm.start();
  await warm.stop();
  const before = await baseline();
  const result: Record<string, unknown> = { sanitizers: binding.sanitizers };
  const phases = (process.argv[2] ?? 'cycles,storm,overflow,worker,faults').split(',');
  for (const phase of phases) {
    const t0 = Date.now();
    if (phase === 'cycles') await cycles();
    else if (phase === 'storm') result.storm = await storm();
    else if (phase === 'overflow') result.overflowLost = await overflow();
    else if (phase === 'worker') await workerTeardown();
    else if (phase === 'faults') {
      result.startFaults = await startFaults(before);
      result.filterFaults = await filterFaults(before);
    } else throw new Error(`unknown phase ${phase}`);
    await nothingLeft(before, `after ${phase}`);
    console.error(`[check] ${phase}: ${Date.now() - t0} ms, ${problems.length} problems so far`);
  }
  result.problems = problems;
  console.log(`RESULT ${JSON.stringify(result)}`);
}

await main();
