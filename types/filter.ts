// SPDX-License-Identifier: MIT
//
// `options.filter` and `tracer.setFilter()`: what the kernel keeps, judged
// before it reads argv, the environment or a path.

/**
 * The keys a filter can list. Each key is optional; a listed key is a list
 * of values, any of which matches (OR). Lists may not be empty: omit the key.
 */
export interface ExecFilterKeys {
  /** Real user ids (`uid`). At most 256. */
  uids?: readonly number[];
  /** Real group ids (`gid`). At most 256. */
  gids?: readonly number[];
  /** Effective user ids (`euid`: setuid programs run as their owner). At most 256. */
  euids?: readonly number[];
  /** Exact task names (`comm`: at most 15 bytes, as the kernel keeps them). At most 256. */
  comms?: readonly string[];
  /**
   * Prefixes of the path of the binary that runs (`exe`, symlinks resolved),
   * compared byte by byte: end one with `/` to mean a directory. Absolute,
   * at most 252 bytes each, at most 64.
   */
  exePrefixes?: readonly string[];
  /**
   * Prefixes of the path exactly as passed to exec (`filename`: may be
   * relative, or a symlink). At most 252 bytes each, at most 64.
   */
  filenamePrefixes?: readonly string[];
  /**
   * Cgroup v2 cgroups, and everything below them (a process in a child
   * cgroup matches): a path as `event.cgroup` shows it
   * (`'/system.slice/docker-<id>.scope'`), a path under the cgroup2 mount
   * (`'/sys/fs/cgroup/kubepods.slice/…'`), or an id (`event.cgroupId`). A
   * path must exist when the filter is applied. At most 256.
   */
  cgroups?: readonly (string | number | bigint)[];
  /** Pid namespaces, by inode number (`event.namespaces.pid`). At most 256. */
  pidNamespaces?: readonly number[];
  /**
   * Processes whose whole subtree matches: each listed process, every
   * process below it when the filter is applied, and every process forked
   * below it later, followed in the kernel (a grandchild stays in the
   * subtree when its parent exits and it re-parents). A pid, or a
   * `processId` (which must still name a live process). At most 64.
   */
  descendantsOf?: readonly (number | string)[];
}

/**
 * What the tracer reports, decided in the kernel before any argv,
 * environment or path is read: records the filter drops cost almost
 * nothing and are counted in `stats().filtered` (and its siblings), never
 * as lost. Listed keys combine with AND; `exclude` drops what any of its
 * keys matches. Every record type is judged (exec, exit, fork, failed
 * exec), so a filtered-out process's exit is not reported either.
 *
 * ```ts
 * // One container, by its cgroup, except its shells:
 * { cgroups: ['/system.slice/docker-3f2a….scope'], exclude: { comms: ['sh', 'bash'] } }
 * // One subtree, as it grows:
 * { descendantsOf: [buildPid] }
 * ```
 */
export interface ExecFilter extends ExecFilterKeys {
  /** Only processes in a pid namespace other than the host's (containers, sandboxes). */
  containersOnly?: boolean;
  /** Only processes in the host's (the initial) pid namespace. */
  hostOnly?: boolean;
  /**
   * Leave out this Node process and every process it starts, and their
   * descendants (default `false`: a program sees the processes it spawns).
   * "Self" is the process that owns the tracer (all its threads, worker
   * threads included) and its subtree as `descendantsOf` follows one:
   * children it had when the filter was applied and every process forked
   * below it since, wherever they re-parent. Not covered: processes it
   * merely asks another process to start (a systemd unit, `docker run`,
   * an ssh command on this host), which are not its descendants.
   */
  excludeSelf?: boolean;
  /** Records matching any of these keys are dropped, e.g. `{ comms: ['sh'] }` for everything but sh. */
  exclude?: ExecFilterKeys;
}
