// SPDX-License-Identifier: MIT
//
// The kernel matrix: boots the kernels Debian 11, 12 and 13 install, on
// x86-64 and arm64, under qemu's software CPU (TCG; KVM is not used: this
// machine kind's /dev/kvm hangs stock kernels), and runs the real-kernel
// suites inside each as root. Prints one line per kernel and exits non-zero
// when any test failed, skipped, or a guest did not finish in time.
//
//   npm run test:kernels                       every kernel (test/kernels/matrix.ts)
//   npm run test:kernels -- --kernel 6.1-amd64 [--kernel ...] [--jobs N] [--smp N]
//                           [--timeout SECONDS] [--summary FILE.json] [TEST_FILE...]
//
// A single kernel streams its console; otherwise each console goes to
// deps/kernels/logs/<id>.log, and is printed when that kernel fails.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TS_BUNDLES_IN_GUEST, buildInitrd, type Layers } from './layers.js';
import { NO_REPORT, readReport, withoutReport } from './report.js';
import { ARCHES, matrix, type Arch, type KernelSpec } from './matrix.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = join(root, 'deps', 'kernels');
const logs = join(cache, 'logs');
const execFileAsync = promisify(execFile);

/**
 * The share of each storm and cycle count the suites run (test/integration/
 * kernel.ts): an exec of /bin/true costs ~50-100 ms under TCG against ~0.5 ms
 * on this machine. The counts stop at their floors: a storm of 40 execs from 4
 * spawners, an overflow of 80 execs into a ring that holds ~30, 10 start/stop
 * cycles; each still shows, on that kernel, what the full count shows here.
 */
const TEST_SCALE = 0.02;
/** Per test, and per hook: generous, since one guest may wait for the other's CPU. */
const TEST_TIMEOUT_MS = 300_000;
/** Per guest, boot to power-off (a run takes ~2 min); one that overruns is killed and its console printed. */
const GUEST_TIMEOUT_S = 900;
const GUEST_MEMORY_MB = 2048;

interface Options {
  kernels: KernelSpec[];
  jobs: number;
  smp: number;
  timeoutS: number;
  files: string[];
  summary?: string;
}

function usage(message: string): never {
  console.error(`test:kernels: ${message}`);
  console.error('usage: npm run test:kernels -- [--kernel ID]... [--jobs N] [--smp N] [--timeout SECONDS] [--summary FILE.json] [TEST_FILE...]');
  console.error(`kernels: ${matrix(root).map((k) => k.id).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const all = matrix(root);
  const ids: string[] = [];
  const files: string[] = [];
  // One guest per host core, one CPU each: two guests of two CPUs on this
  // 2-core machine took 3 min 12 s per x86-64 kernel, two of one CPU 1 min
  // 37 s (with half the storm: 100 execs, not 200). qemu's multi-threaded
  // TCG then has no more threads than the host has cores. The program on
  // several CPUs at once is tested on the host's kernel.
  let jobs = availableParallelism();
  let smp = 1;
  let summary: string | undefined;
  let timeoutS = GUEST_TIMEOUT_S;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--kernel') ids.push(value());
    else if (arg === '--jobs') jobs = Number(value());
    else if (arg === '--smp') smp = Number(value());
    else if (arg === '--summary') summary = value();
    else if (arg === '--timeout') timeoutS = Number(value());
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else files.push(arg);
  }
  if (!(Number.isInteger(jobs) && jobs >= 1)) usage('--jobs must be a positive integer');
  if (!(Number.isInteger(smp) && smp >= 1 && smp <= 8)) usage('--smp must be an integer from 1 to 8');
  if (!(timeoutS > 0)) usage('--timeout must be a positive number of seconds');
  for (const id of ids) if (!all.some((k) => k.id === id)) usage(`no kernel '${id}'`);
  const kernels = ids.length > 0 ? all.filter((k) => ids.includes(k.id)) : all;
  for (const file of files) if (!existsSync(join(root, file))) usage(`no test file ${file}`);
  return { kernels, jobs, smp, timeoutS, files, ...(summary === undefined ? {} : { summary }) };
}

/** Every host tool the matrix needs, or exit naming what is missing. */
function checkTools(kernels: KernelSpec[]): void {
  const arches = new Set(kernels.map((k) => k.arch));
  const tools = ['cpio', 'npm', 'tar', 'dpkg-deb', 'apt-get', ...[...arches].flatMap((a) => [ARCHES[a].qemu, ARCHES[a].cc, ARCHES[a].strip])];
  const missing = tools.filter((t) => execFileSync('sh', ['-c', `command -v ${t} || true`], { encoding: 'utf8' }).trim() === '');
  if (missing.length > 0) {
    console.error(`test:kernels: missing ${missing.join(', ')}; bash scripts/setup-debian.sh installs them`);
    process.exit(1);
  }
}

interface Result {
  kernel: KernelSpec;
  release: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  problems: string[];
  log: string;
}

function boot(kernel: KernelSpec, vmlinuz: string, initrd: string, options: Options, stream: boolean): Promise<Result> {
  const spec = ARCHES[kernel.arch];
  const log = join(logs, `${kernel.id}.log`);
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio',
    ...spec.machine, '-accel', 'tcg', '-smp', String(options.smp), '-m', String(GUEST_MEMORY_MB), '-no-reboot',
    '-kernel', vmlinuz, '-initrd', initrd,
    // panic=-1: a panic reboots at once, which -no-reboot turns into an exit.
    '-append', `console=${spec.console} panic=-1 quiet`,
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const qemu = spawn(spec.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(log);
    let text = '';
    const take = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      file.write(chunk);
      if (stream) process.stdout.write(chunk);
    };
    qemu.stdout.on('data', take);
    qemu.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGKILL');
    }, options.timeoutS * 1000);
    qemu.on('close', (code, signal) => {
      clearTimeout(timer);
      file.end();
      const seconds = Math.round((Date.now() - started) / 1000);
      const release = /exec-tracer-guest: Linux (\S+)/.exec(text)?.[1] ?? '(did not boot)';
      const result: Result = { kernel, release, passed: 0, failed: 0, skipped: 0, seconds, problems: [], log };
      if (timedOut) result.problems.push(`timed out after ${options.timeoutS} s: killed`);
      else if (code !== 0) result.problems.push(`qemu exited with ${code ?? signal}`);
      const parsed = readReport(text);
      Object.assign(result, parsed.counts);
      result.problems.push(...parsed.problems.filter((p) => !(timedOut && p === NO_REPORT)));
      resolve(result);
    });
  });
}

/** The kernel's directory (vmlinuz, modules.cpio), fetched or found in the cache, in the background. */
async function fetchKernel(kernel: KernelSpec): Promise<string> {
  const script = join(root, 'test', 'kernels', 'fetch-kernel.sh');
  const { stdout } = await execFileAsync('bash', [script, join(cache, 'linux'), kernel.suite, kernel.arch], { encoding: 'utf8' });
  return stdout.trim();
}

/**
 * The guest's initramfs with this kernel's modules appended: the kernel
 * unpacks concatenated newc archives in order. Written for the boot and
 * removed after it (the shared part is large).
 */
function kernelInitrd(kernel: KernelSpec, kernelDir: string, layers: Layers): string {
  const file = join(cache, 'stage', `initrd-${kernel.id}.cpio`);
  mkdirSync(dirname(file), { recursive: true });
  execFileSync('sh', ['-c', `cat '${layers.initrd}' '${join(kernelDir, 'modules.cpio')}' > '${file}'`]);
  return file;
}

/** Runs `task` over `items`, `jobs` at a time, keeping the items' order in the results. */
async function pool<T, R>(items: T[], jobs: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return results;
}

function minutes(seconds: number): string {
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  checkTools(options.kernels);
  if (process.getuid?.() !== 0) console.warn('test:kernels: not root; fetching and unpacking may fail (the guests themselves run as root)');
  mkdirSync(logs, { recursive: true });
  const started = Date.now();
  const say = (line: string) => console.log(`test:kernels: ${line}`);

  // Kernels download while the guest images are built.
  const kernelDirs = options.kernels.map((k) => fetchKernel(k));
  for (const pending of kernelDirs) pending.catch(() => {}); // awaited below, where a failure is reported
  const arches = [...new Set(options.kernels.map((k) => k.arch))];
  if (arches.includes('arm64')) {
    say('building the arm64 prebuild (scripts/prebuild.cjs --arch arm64)');
    execFileSync(process.execPath, [join(root, 'scripts', 'prebuild.cjs'), '--arch', 'arm64'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const layers = new Map<Arch, Layers>();
  for (const arch of arches) {
    // One guest image per CPU: the union of what its kernels run.
    const files = options.files.length > 0 ? options.files : [...new Set(options.kernels.filter((k) => k.arch === arch).flatMap((k) => k.files))];
    layers.set(
      arch,
      buildInitrd(root, cache, arch, {
        files,
        env: {
          EXEC_TRACER_TEST_SCALE: String(TEST_SCALE),
          EXEC_TRACER_TS_BUNDLES: TS_BUNDLES_IN_GUEST,
          EXEC_TRACER_GUEST_TEST_TIMEOUT_MS: String(TEST_TIMEOUT_MS),
        },
      }, say),
    );
    say(`${arch} guest: Node ${layers.get(arch)!.node}, ${files.length} test file(s)`);
  }
  const kernels = await Promise.all(options.kernels.map(async (k, i) => ({ kernel: k, kernelDir: await kernelDirs[i]! })));
  say(`booting ${kernels.length} kernel(s), ${Math.min(options.jobs, kernels.length)} at a time, ${options.smp} CPU(s) each (qemu TCG); consoles in ${relative(root, logs)}/`);

  const stream = kernels.length === 1;
  const results = await pool(kernels, options.jobs, async ({ kernel, kernelDir }) => {
    const initrd = kernelInitrd(kernel, kernelDir, layers.get(kernel.arch)!);
    const result = await boot(kernel, join(kernelDir, 'vmlinuz'), initrd, options, stream).finally(() => rmSync(initrd, { force: true }));
    const ok = result.problems.length === 0;
    say(
      `${ok ? 'ok  ' : 'FAIL'} ${kernel.id.padEnd(10)} Linux ${result.release.padEnd(24)} ` +
        `${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped  ${minutes(result.seconds)}`,
    );
    return result;
  });

  const failed = results.filter((r) => r.problems.length > 0);
  for (const r of failed) {
    console.log(`\n---- ${r.kernel.id} (Linux ${r.release}): ${r.problems.length} problem(s) ----`);
    for (const p of r.problems) console.log(`  - ${p}`);
    if (!stream) {
      // The whole console under CI (it is all a CI log keeps), its end otherwise.
      const lines = withoutReport(readFileSync(r.log, 'utf8')).split('\n');
      const shown = process.env.CI === 'true' ? lines : lines.slice(-80);
      console.log(`---- console of ${r.kernel.id} (${relative(root, r.log)})${shown.length < lines.length ? ', last 80 lines' : ''} ----`);
      console.log(shown.join('\n'));
    }
  }
  const total = Math.round((Date.now() - started) / 1000);
  if (options.summary !== undefined) {
    const kernelsJson = results.map((r) => ({
      id: r.kernel.id, release: r.release, passed: r.passed, failed: r.failed, skipped: r.skipped,
      seconds: r.seconds, ok: r.problems.length === 0, problems: r.problems,
    }));
    mkdirSync(dirname(resolve(root, options.summary)), { recursive: true });
    writeFileSync(resolve(root, options.summary), JSON.stringify({ seconds: total, kernels: kernelsJson }, null, 2));
  }
  say(`${results.length - failed.length} of ${results.length} kernel(s) passed in ${minutes(total)}`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
