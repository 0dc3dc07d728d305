// SPDX-License-Identifier: MIT
//
// A real browser for the timeline tests: Debian 12's Chromium unpacked into
// deps/chromium (scripts/fetch-chromium.sh, run here when it is missing),
// run headless on a local HTML file, with no network and a throwaway
// profile, to dump the DOM after the page's script has run or to take a
// screenshot. Each run costs a few seconds on the 2-core test VM: a suite
// should make few.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './process.js';

/** Where the browser and the libraries the host lacked are. */
export interface ChromiumInstall {
  chromium: string;
  /** LD_LIBRARY_PATH: the libraries unpacked beside it (the host has the rest). */
  libraryPath: string;
}

const installDir = join(root, 'deps', 'chromium');

/** deps/chromium, fetched first if missing (needs root and Debian's archive). */
export function chromiumInstall(): ChromiumInstall {
  if (!existsSync(join(installDir, '.exec-tracer-root'))) {
    execFileSync('bash', [join(root, 'scripts', 'fetch-chromium.sh'), installDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const chromium = join(installDir, 'usr', 'lib', 'chromium', 'chromium');
  if (!existsSync(chromium)) throw new Error(`no ${chromium}: remove ${installDir} and fetch again`);
  // The multiarch directory (x86_64-linux-gnu…) and pulseaudio's private one below it.
  const lib = join(installDir, 'usr', 'lib');
  const dirs = readdirSync(lib)
    .filter((d) => d.endsWith('-linux-gnu'))
    .flatMap((d) => [join(lib, d), join(lib, d, 'pulseaudio')])
    .filter((d) => existsSync(d));
  return { chromium, libraryPath: dirs.join(':') };
}

let skipReason: string | undefined | null = null;
/**
 * Why the tests that need Chromium cannot run here, or undefined if they can
 * (fetching it first when missing). Under CI=true it throws instead: a skip
 * there would hide a page that no longer renders. Use as
 * `describe.skipIf(chromiumSkipReason() !== undefined)`.
 */
export function chromiumSkipReason(): string | undefined {
  if (skipReason !== null) return skipReason;
  skipReason = unavailableReason();
  if (skipReason !== undefined) {
    if (process.env.CI === 'true') throw new Error(`the Chromium tests cannot run under CI=true: ${skipReason}`);
    console.warn(`[exec-tracer] skipping the Chromium tests: ${skipReason}`);
  }
  return skipReason;
}

function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `platform is ${process.platform}, not linux`;
  if (!existsSync(join(installDir, '.exec-tracer-root')) && process.getuid?.() !== 0)
    return `${installDir} is missing and only root can fetch it (scripts/fetch-chromium.sh runs apt-get)`;
  try {
    chromiumInstall();
    return undefined;
  } catch (e) {
    return `fetching Chromium into ${installDir} failed: ${(e as Error).message}`;
  }
}

/** The browser window, CSS px (the device scale factor is 1, so also screenshot pixels). */
export interface WindowSize {
  width: number;
  height: number;
}

/** What a Chromium run printed, and how long it took. */
export interface ChromiumResult {
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole run, process start to exit, ms. */
  elapsedMs: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Runs headless Chromium on FILE with ARGS, in a profile of its own that is
 * removed after. Rejects when it does not exit 0 within `timeoutMs` (its
 * whole process group is killed then).
 */
export function runChromium(file: string, args: string[], size: WindowSize, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ChromiumResult> {
  const { chromium, libraryPath } = chromiumInstall();
  const profile = mkdtempSync(join(tmpdir(), 'et-chromium-'));
  const argv = [
    '--headless',
    // Root cannot use Chromium's sandbox; the page is the test's own.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
    `--window-size=${size.width},${size.height}`,
    ...args,
    pathToFileURL(resolve(file)).href,
  ];
  const started = performance.now();
  return new Promise<ChromiumResult>((resolvePromise, reject) => {
    const child = spawn(chromium, argv, {
      detached: true, // its own process group: a timeout kills the renderer and GPU processes too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LD_LIBRARY_PATH: [libraryPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-16_384)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`chromium did not finish ${file} within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      const elapsedMs = performance.now() - started;
      if (code === 0) resolvePromise({ stdout, stderr, elapsedMs });
      else reject(new Error(`chromium exited with ${code ?? signal} on ${file}; stderr:\n${stderr}`));
    });
  });
}

/** The DOM of FILE once its scripts have run (`--dump-dom`), as HTML. */
export async function dumpDom(htmlFile: string, size: WindowSize = { width: 1200, height: 700 }, timeoutMs?: number): Promise<string> {
  const { stdout } = await runChromium(htmlFile, ['--dump-dom'], size, timeoutMs);
  if (!stdout.includes('</html>')) throw new Error(`chromium dumped no whole DOM for ${htmlFile}: ${stdout.slice(0, 200)}`);
  return stdout;
}

/** A PNG screenshot of FILE in a window of `size`. */
export async function screenshot(htmlFile: string, pngFile: string, size: WindowSize, timeoutMs?: number): Promise<ChromiumResult> {
  const result = await runChromium(htmlFile, [`--screenshot=${resolve(pngFile)}`], size, timeoutMs);
  if (!existsSync(pngFile)) throw new Error(`chromium wrote no screenshot of ${htmlFile}; stderr:\n${result.stderr}`);
  return result;
}

/** `Chromium 150.0.7871.100`, as the browser reports itself. */
export function chromiumVersion(): string {
  const { chromium, libraryPath } = chromiumInstall();
  return execFileSync(chromium, ['--version'], { env: { ...process.env, LD_LIBRARY_PATH: libraryPath }, encoding: 'utf8' }).trim();
}
