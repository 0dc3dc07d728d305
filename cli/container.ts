// SPDX-License-Identifier: MIT
//
// --container ID: which cgroup a running container's processes are in, so
// the kernel filter (by cgroup, subtree included) can keep only them. Found
// from the cgroup v2 tree's directory names alone, the way
// containerIdFromCgroup reads them: no runtime socket, no docker CLI.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerIdFromCgroup } from 'exec-tracer';

/** Where cgroup v2 is mounted, from /proc/self/mountinfo; undefined without one. */
export function cgroup2Mount(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | undefined {
  for (const line of mountinfo.split('\n')) {
    // "… mount-point options … - cgroup2 source super-options"
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined || !right.startsWith('cgroup2 ')) continue;
    return left.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  }
  return undefined;
}

/** A running container the tree shows: its full id and its cgroup (as `event.cgroup` names it). */
export interface ContainerCgroup {
  id: string;
  cgroup: string;
}

/**
 * The containers whose id starts with `prefix`, each with the top cgroup
 * of its subtree (a container's own sub-cgroups are below it). Walks at
 * most `maxDepth` levels; unreadable directories are skipped.
 */
export function findContainers(prefix: string, mount: string, maxDepth = 16): ContainerCgroup[] {
  const found = new Map<string, string>();
  const walk = (relative: string, depth: number, parentId: string | undefined) => {
    let entries;
    try {
      entries = readdirSync(join(mount, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = `${relative}/${entry.name}`;
      const id = containerIdFromCgroup(path);
      // The shallowest directory naming a container is its top cgroup.
      if (id !== undefined && id !== parentId && id.startsWith(prefix) && !found.has(id)) found.set(id, path);
      if (depth < maxDepth) walk(path, depth + 1, id);
    }
  };
  walk('', 1, undefined);
  return [...found].map(([id, cgroup]) => ({ id, cgroup }));
}
