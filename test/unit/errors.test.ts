// SPDX-License-Identifier: MIT
//
// What a user reads when the kernel refuses: a verifier rejection says it is
// one, names the kernel, and quotes the verifier's verdict; it never reads as
// a permission problem.
import { describe, expect, it } from 'vitest';
import { fromNative, olderThanMinimum, verifierVerdict } from '../../lib/errors.js';
import { nativeError } from '../helpers/mock-binding.js';

// What libbpf 1.1 printed on Debian 12's 6.1 before the bound fix (abridged).
const REJECTED_ON_6_1 = [
  "libbpf: prog 'handle_exec_btf': BPF program load failed: Permission denied",
  "libbpf: prog 'handle_exec_btf': -- BEGIN PROG LOAD LOG --",
  'reg type unsupported for arg#0 function handle_exec_btf#22',
  '; if (bpf_ringbuf_output(&events, r, sizeof(*r) + n + argv_len, flags))',
  '188: (85) call bpf_ringbuf_output#130',
  "R3 min value is negative, either use unsigned or 'var &= const'",
  'processed 391 insns (limit 1000000) max_states_per_insn 3 total_states 29 peak_states 29 mark_read 6',
  '-- END PROG LOAD LOG --',
  "libbpf: prog 'handle_exec_btf': failed to load: -13",
  "libbpf: failed to load object 'exec_tracer_bpf'",
  '',
].join('\n');

describe('a verifier rejection', () => {
  const rejected = () =>
    fromNative(nativeError('EACCES', 13, 'load', REJECTED_ON_6_1), { release: '6.1.0-50-amd64', arch: 'x64' });

  it('reads as one, on the kernel it happened on, and calls itself a bug in exec-tracer', () => {
    const error = rejected();
    expect(error.code).toBe('EVERIFIER');
    const [first, second] = error.message.split('\n');
    expect(first).toBe(
      "exec-tracer: load: the kernel's BPF verifier rejected the program on Linux 6.1.0-50-amd64 (x64), " +
        "which meets exec-tracer's minimum (Linux 5.8): this is a bug in exec-tracer (EACCES, errno 13)",
    );
    expect(first).not.toMatch(/Permission denied/);
    expect(second).toBe("verifier: R3 min value is negative, either use unsigned or 'var &= const'");
    expect(error.hint).toMatch(/report it .*error\.log/);
    expect(error.hint).not.toMatch(/too old|CAP_BPF/);
    expect(error.log).toBe(REJECTED_ON_6_1);
    expect(error.errno).toBe(13);
    expect(error.operation).toBe('load');
  });

  it('on a kernel older than 5.8 says the kernel is too old instead', () => {
    const error = fromNative(nativeError('EINVAL', 22, 'load', REJECTED_ON_6_1), { release: '5.4.0-216-generic', arch: 'x64' });
    expect(error.code).toBe('EVERIFIER');
    expect(error.message.split('\n')[0]).toMatch(/Linux 5\.4\.0-216-generic \(x64\) is older than the Linux 5\.8 exec-tracer needs \(EINVAL, errno 22\)$/);
    expect(error.hint).toMatch(/Linux >= 5\.8/);
  });

  it('is told apart from a permission refusal, which has no verifier log', () => {
    const error = fromNative(nativeError('EPERM', 1, 'load', "libbpf: map 'events': failed to create: Operation not permitted(-1)\n"), {
      release: '6.1.0-50-amd64',
      arch: 'x64',
    });
    expect(error.code).toBe('EPERM');
    expect(error.hint).toMatch(/CAP_BPF and CAP_PERFMON/);
  });
});

describe('verifierVerdict', () => {
  it("takes the verifier's last line before its statistics", () => {
    expect(verifierVerdict(REJECTED_ON_6_1)).toBe("R3 min value is negative, either use unsigned or 'var &= const'");
  });

  it('keeps the last line of a log cut short (no END marker, no statistics)', () => {
    expect(verifierVerdict('-- BEGIN PROG LOAD LOG --\n0: (79) r2 = *(u64 *)(r1 +0)\ninvalid bpf_context access off=0 size=8\n')).toBe(
      'invalid bpf_context access off=0 size=8',
    );
  });

  it('finds none where libbpf printed no program log', () => {
    expect(verifierVerdict("libbpf: failed to find BTF for 'sched_process_exec'\n")).toBeUndefined();
    expect(verifierVerdict('')).toBeUndefined();
  });
});

describe('olderThanMinimum', () => {
  it.each([
    ['4.19.0-27-amd64', true],
    ['5.7.19', true],
    ['5.8.0', false],
    ['5.10.0-32-amd64', false],
    ['6.18.0', false],
    ['10.0.0', false],
  ])('%s: %s', (release, older) => {
    expect(olderThanMinimum(release)).toBe(older);
  });

  it('does not guess from a release it cannot read', () => {
    expect(olderThanMinimum('unknown')).toBeUndefined();
  });
});

describe('an option the kernel cannot serve', () => {
  it('is EUNSUPPORTED with a hint that names the option', () => {
    const error = fromNative(nativeError('EOPNOTSUPP', 95, 'attach'), { release: '6.1.0', arch: 'x64' });
    expect(error.code).toBe('EUNSUPPORTED');
    expect(error.hint).toMatch(/options\.forks/);
  });
});
