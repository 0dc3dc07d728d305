// SPDX-License-Identifier: MIT
//
// The shipped systemd unit (examples/deploy/exec-tracer.service) linted by
// systemd's own parser: `systemd-analyze verify` (Debian's systemd, which
// scripts/setup-debian.sh installs; PID 1 need not be systemd). verify
// checks that ExecStart's program exists and is executable, so a copy of
// the unit names the built bin instead of /usr/local/bin/exec-tracer: that
// one path, and nothing else, differs from the shipped file. Broken copies
// show that verify's complaints reach the test.
//
// Not a *.kernel.test.ts: nothing here loads BPF, and the kernel matrix's
// guests have no systemd. The unit's privileges are acted out against the
// kernel in privileges.kernel.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execStart, shippedUnit, UNIT_FILE } from '../helpers/systemd-unit.js';
import { root } from './kernel.js';

/** Why systemd-analyze cannot run here, or undefined. */
function unavailable(): string | undefined {
  const found = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined || found.status !== 0) return 'systemd-analyze is not installed (bash scripts/setup-debian.sh installs systemd)';
  return undefined;
}
const reason = unavailable();
if (reason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`the systemd unit must be verified under CI=true: ${reason}`);
  console.warn(`[exec-tracer] skipping systemd-analyze verify: ${reason}`);
}

/** The command's bin as built; npm makes a package's bin executable when it installs it, and so does this. */
const bin = join(root, 'dist', 'cli', 'main.js');

const dir = mkdtempSync(join(tmpdir(), 'exec-tracer-unit-'));
beforeAll(() => chmodSync(bin, 0o755));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shipped unit's text with ExecStart's program replaced by PROGRAM (EDIT: a further change). */
function unitCopy(program: string, edit: (text: string) => string = (t) => t): string {
  const shipped = readFileSync(UNIT_FILE, 'utf8');
  const { program: installed } = execStart(shippedUnit());
  const text = shipped.replace(`\nExecStart=${installed} `, `\nExecStart=${program} `);
  // Only ExecStart's program differs.
  const changed = text.split('\n').filter((line, i) => line !== shipped.split('\n')[i]);
  expect(changed).toEqual([expect.stringMatching(new RegExp(`^ExecStart=${program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `))]);
  return edit(text);
}

/** `systemd-analyze verify` of TEXT saved as exec-tracer.service: its exit code and everything it said. */
function verify(text: string): { code: number | null; said: string } {
  const file = join(dir, 'exec-tracer.service');
  writeFileSync(file, text);
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
  return { code: result.status, said: `${result.stdout}${result.stderr}` };
}

describe.skipIf(reason !== undefined)('the systemd unit, systemd-analyze verify', () => {
  it('finds nothing to say about the shipped unit, its ExecStart pointed at the built bin', () => {
    const { code, said } = verify(unitCopy(bin));
    expect(said).toBe('');
    expect(code).toBe(0);
    console.log(`[systemd-unit] ${execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).split('\n')[0]}: verify said nothing`);
  });

  it('systemd-analyze security rates its sandbox: a non-root user, no new privileges, a read-only system, exposure at most 4.3', () => {
    const file = join(dir, 'exec-tracer.service');
    writeFileSync(file, unitCopy(bin));
    const security = (threshold: number) =>
      spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', `--threshold=${threshold}`, file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    const report = security(43);
    expect(report.status, report.stdout + report.stderr).toBe(0);
    for (const passed of ['User=/DynamicUser=', 'NoNewPrivileges=', 'ProtectSystem=', 'ProtectHome=', 'PrivateDevices=', 'ProtectKernelModules=', 'UMask='])
      expect(report.stdout, passed).toMatch(new RegExp(`^✓ ${passed.replace(/[/=]/g, '\\$&')} `, 'm'));
    expect(report.stdout).toMatch(/^✓ ProtectSystem=\s+Service has strict read-only access/m);
    const exposure = /Overall exposure level for exec-tracer\.service: (\d+\.\d)/.exec(report.stdout)?.[1];
    console.log(`[systemd-unit] systemd-analyze security --offline: exposure ${exposure}`);
    // The threshold bites: one notch lower fails.
    expect(security(Math.round(Number(exposure) * 10) - 1).status).not.toBe(0);
  });

  it('reports a broken copy: a program that is not there, an unknown key, a bad value', () => {
    const missing = verify(unitCopy(join(dir, 'no-such-bin')));
    expect(missing.code).not.toBe(0);
    expect(missing.said).toContain('no-such-bin is not executable');
    const typo = verify(unitCopy(bin, (t) => t.replace('\nProtectHome=', '\nProtectHom=')));
    expect(typo.said).toMatch(/Unknown key .?ProtectHom.? in section .?\[?Service\]?/);
    const value = verify(unitCopy(bin, (t) => t.replace(/\nTimeoutStopSec=\S+/, '\nTimeoutStopSec=ten')));
    expect(value.said).toMatch(/Failed to parse .*ten/);
  });
});
