// SPDX-License-Identifier: MIT
//
// Container ids from cgroup v2 paths: a table of the shapes that container
// runtimes give their cgroups, tried against each path component.

/** How one runtime names a container's cgroup. */
interface ContainerPattern {
  /** The runtime (and cgroup driver) that names cgroups this way. */
  runtime: string;
  /** Matches a whole component; group 1 is the container id. */
  component: RegExp;
  /** If set, the component's parent must match this too. */
  parent?: RegExp;
}

/** 64 lowercase hex characters: a full container id. */
const ID = '([0-9a-f]{64})';

/**
 * The systemd cgroup driver names a container `<prefix>-<id>.scope`; the
 * cgroupfs driver names it `<prefix>-<id>` or just `<id>`. A bare id alone
 * proves nothing, so it counts only under the parent its runtime uses.
 * The conmon monitors (`crio-conmon-<id>.scope`, `libpod-conmon-<id>.scope`)
 * match nothing: `conmon-<id>` is not an id.
 */
const PATTERNS: readonly ContainerPattern[] = [
  { runtime: 'docker', component: new RegExp(`^docker-${ID}(?:\\.scope)?$`) },
  { runtime: 'docker (cgroupfs)', component: new RegExp(`^${ID}$`), parent: /^docker$/ },
  { runtime: 'containerd (CRI)', component: new RegExp(`^cri-containerd-${ID}(?:\\.scope)?$`) },
  { runtime: 'CRI-O', component: new RegExp(`^crio-${ID}(?:\\.scope)?$`) },
  { runtime: 'podman', component: new RegExp(`^libpod-${ID}(?:\\.scope)?$`) },
  { runtime: 'nerdctl', component: new RegExp(`^nerdctl-${ID}(?:\\.scope)?$`) },
  { runtime: 'kubernetes (cgroupfs)', component: new RegExp(`^${ID}$`), parent: /^pod/ },
];

/**
 * The id of the container a process runs in, read from its cgroup v2 path.
 *
 * `cgroup` is the path as the host sees it, absolute from the root of the
 * v2 hierarchy (`/system.slice/docker-<id>.scope`), or a truncated suffix
 * of it that still starts with `/`. Recognized components, where `<id>` is
 * exactly 64 lowercase hex characters:
 *
 * - Docker: `docker-<id>.scope` (systemd driver), `/docker/<id>` (cgroupfs)
 * - containerd through CRI: `cri-containerd-<id>.scope`
 * - CRI-O: `crio-<id>.scope`, not the monitor's `crio-conmon-<id>.scope`
 * - Podman: `libpod-<id>.scope`, not the monitor's
 *   `libpod-conmon-<id>.scope`; `/libpod_parent/libpod-<id>` (cgroupfs)
 * - nerdctl: `nerdctl-<id>.scope`
 * - Kubernetes: any of the above below the pod's slice
 *   (`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`),
 *   or, with the cgroupfs driver, a bare `<id>` whose parent starts with
 *   `pod` (`/kubepods/burstable/pod<uid>/<id>`)
 *
 * A prefixed form is also recognized without its `.scope` suffix, as the
 * cgroupfs driver names it (`/kubepods/besteffort/pod<uid>/crio-<id>`).
 *
 * The path may continue below the container's component, as it does when
 * the container runs its own systemd (`/system.slice/docker-<id>.scope/init.scope`),
 * and containers may nest (Docker in Docker: `/docker/<outer>/docker/<inner>`).
 * Components are therefore tried from the leaf up and the deepest match
 * wins: that is the container the process actually runs in; the ones
 * above it only contain that container.
 *
 * Only the path is read: no /proc, no runtime API. The call is cheap and
 * works for a process that has already exited, but it does not check that
 * the container still exists.
 *
 * @param cgroup The cgroup v2 path; `''` when unknown.
 * @returns The 64-character container id, or `undefined` when the path
 *   names no container (including `''` and `/`).
 */
export function containerIdFromCgroup(cgroup: string): string | undefined {
  const components = cgroup.split('/');
  for (let i = components.length - 1; i >= 0; i--) {
    const component = components[i]!;
    const parent = components[i - 1];
    for (const pattern of PATTERNS) {
      if (pattern.parent && (parent === undefined || !pattern.parent.test(parent))) continue;
      const id = pattern.component.exec(component)?.[1];
      if (id !== undefined) return id;
    }
  }
  return undefined;
}
