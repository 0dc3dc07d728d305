// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { containerIdFromCgroup } from '../../lib/container.js';

// Distinct ids, so a test fails if the wrong component is picked.
const A = '411248eaba8405511bd9cfafd789c065dd83fe1e207ce8bf66a24dc95efa5c82';
const B = '501041892e0d32ff8130817f308777333e5319b58012fc23265fb3eb7a67de9e';
const C = 'ec7a5384efc9493c2f92aa92a908347449060bead1fdd8fe63b02eba715ee771';
const D = '789f15ec8abc4cce280b006f956f13f57aa6a11a61dbd2e55cd8c3405de051be';
const E = '225fc61b42b7f0d934a7babe15be087e61dff565bccf99e048502348a4977174';
const F = 'e43ca23bfc25fe5bf65e725553ad27bd7b58c6222072993daa922779f7e72309';
const G = '9da8cebbfb866c6b79130a108ac05487f07f621cd935eba7636a7531069601ef';

const POD_SYSTEMD = '3f1b2c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d';
const POD_CGROUPFS = '3f1b2c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d';

describe('containerIdFromCgroup', () => {
  it.each([
    ['Docker, systemd driver', `/system.slice/docker-${A}.scope`, A],
    ['Docker, cgroupfs driver', `/docker/${B}`, B],
    ['containerd CRI', `/system.slice/cri-containerd-${C}.scope`, C],
    ['CRI-O', `/machine.slice/crio-${D}.scope`, D],
    ['Podman, systemd', `/machine.slice/libpod-${E}.scope`, E],
    ['Podman, rootless systemd', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${F}.scope`, F],
    ['Podman, systemd, container subgroup', `/machine.slice/libpod-${E}.scope/container`, E],
    ['Podman, cgroupfs', `/libpod_parent/libpod-${G}`, G],
    ['nerdctl, systemd', `/system.slice/nerdctl-${A}.scope`, A],
    ['k8s burstable, containerd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_SYSTEMD}.slice/cri-containerd-${B}.scope`, B],
    ['k8s besteffort, CRI-O', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_SYSTEMD}.slice/crio-${C}.scope`, C],
    ['k8s guaranteed, docker', `/kubepods.slice/kubepods-pod${POD_SYSTEMD}.slice/docker-${D}.scope`, D],
    ['k8s guaranteed, containerd', `/kubepods.slice/kubepods-pod${POD_SYSTEMD}.slice/cri-containerd-${E}.scope`, E],
    ['k8s cgroupfs burstable', `/kubepods/burstable/pod${POD_CGROUPFS}/${F}`, F],
    ['k8s cgroupfs besteffort', `/kubepods/besteffort/pod${POD_CGROUPFS}/${G}`, G],
    ['k8s cgroupfs guaranteed', `/kubepods/pod${POD_CGROUPFS}/${A}`, A],
    ['k8s cgroupfs, CRI-O without .scope', `/kubepods/besteffort/pod${POD_CGROUPFS}/crio-${B}`, B],
  ])('%s: %s', (_name, cgroup, id) => {
    expect(containerIdFromCgroup(cgroup)).toBe(id);
  });

  it.each([
    ['systemd in Docker, init.scope', `/system.slice/docker-${A}.scope/init.scope`, A],
    ['systemd in Docker, a service', `/system.slice/docker-${A}.scope/system.slice/foo.service`, A],
    ['Docker in Docker: the innermost id', `/docker/${B}/docker/${C}`, C],
    ['Docker in Docker below the inner container', `/docker/${B}/docker/${C}/init.scope`, C],
    ['Docker (cgroupfs) inside a systemd-driver Docker', `/system.slice/docker-${D}.scope/docker/${E}`, E],
    ['Docker inside a k8s container', `/kubepods/pod${POD_CGROUPFS}/${F}/docker/${G}`, G],
  ])('nested, %s: %s', (_name, cgroup, id) => {
    expect(containerIdFromCgroup(cgroup)).toBe(id);
  });

  it.each([
    ['a suffix below the pod slice', `/kubepods-burstable-pod${POD_SYSTEMD}.slice/cri-containerd-${A}.scope`, A],
    ['just the leaf', `/docker-${B}.scope`, B],
    ['first component cut mid-name, leaf intact', `/ds-burstable-pod${POD_SYSTEMD}.slice/crio-${C}.scope`, C],
    ['a cgroupfs suffix that keeps the parent', `/pod${POD_CGROUPFS}/${D}`, D],
  ])('truncated, %s: %s', (_name, cgroup, id) => {
    expect(containerIdFromCgroup(cgroup)).toBe(id);
  });

  it.each([
    ['unknown', ''],
    ['the root', '/'],
    ['a login session', '/user.slice/user-1000.slice/session-3.scope'],
    ['a system service', '/system.slice/ssh.service'],
    ['init', '/init.scope'],
    ['/docker without an id', '/docker'],
    ['/docker with a trailing slash', '/docker/'],
    ['the docker daemon', '/system.slice/docker.service'],
    ['CRI-O conmon', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_SYSTEMD}.slice/crio-conmon-${A}.scope`],
    ['Podman conmon', `/machine.slice/libpod-conmon-${A}.scope`],
    ['a pod slice with no container', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_SYSTEMD}.slice`],
    ['a cgroupfs pod with no container', `/kubepods/burstable/pod${POD_CGROUPFS}`],
    ['63 hex chars', `/system.slice/docker-${A.slice(1)}.scope`],
    ['65 hex chars', `/system.slice/docker-${A}0.scope`],
    ['uppercase id', `/system.slice/docker-${A.toUpperCase()}.scope`],
    ['uppercase id, cgroupfs', `/docker/${B.toUpperCase()}`],
    ['63 hex chars, cgroupfs', `/docker/${B.slice(1)}`],
    ['65 hex chars, k8s cgroupfs', `/kubepods/pod${POD_CGROUPFS}/${C}0`],
    ['a bare id under an unknown parent', `/system.slice/${D}`],
    ['a bare id with the parent truncated away', `/${D}`],
    ['an unknown prefix', `/system.slice/runc-${E}.scope`],
    ['the prefix cut by truncation', `/cker-${E}.scope`],
    ['a suffix after the id', `/system.slice/docker-${E}.scope.bak`],
  ])('no container, %s: %j', (_name, cgroup) => {
    expect(containerIdFromCgroup(cgroup)).toBeUndefined();
  });
});
