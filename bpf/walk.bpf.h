/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The path of a file or directory as a task sees it, and the cgroup v2 path
 * of a cgroup: walks up the tree into a per-CPU workspace (a map), run as
 * global functions the verifier checks once each.
 *
 * bpf_d_path() is not allowed from the exec tracepoints, so paths are built
 * here the way the kernel's d_path() does, by walking from the dentry up to
 * the task's root, crossing mounts on the way. Everything is read with probe
 * reads: a mount crossing goes through struct mount, which a tp_btf program
 * cannot reach with a trusted pointer (container_of is a negative offset),
 * and one code path serves both entry points. Like every BPF path walk it
 * takes no lock: a rename racing the exec may show the old or the new name.
 */
#ifndef EXEC_TRACER_WALK_BPF_H
#define EXEC_TRACER_WALK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "bounds.h"

/* The longest name of one component (NAME_MAX). */
#define ET_NAME_MAX 255

/*
 * Builds the path of (dentry, vfsmnt) as seen from (root_dentry, root_mnt),
 * the task's root, backwards into ws[pos, ET_PATH_MAX) of the workspace
 * below, and returns pos, with ET_WALK_CUT added when the walk stopped short.
 *
 * At most ET_PATH_DEPTH steps (components and mount crossings together) and
 * ET_PATH_MAX - 1 bytes; beyond either the path is cut at a component
 * boundary, and what is kept is the deepest part: a true suffix of the real
 * path, starting with '/'.
 *
 * Ends, like d_path(), at the task's root; at the root of the mount namespace
 * when the file is not under the task's root (the path is then absolute in
 * that namespace); or at a dentry that is its own parent and not a mount's
 * root: a pseudo file (a memfd, "/memfd:name") or a detached tree.
 *
 * Both functions are global, so the verifier checks each once, on its own,
 * with its arguments as unknown integers, and the loop only calls the step:
 * a loop with the step inlined is explored path by path, iteration by
 * iteration (230,000 instructions, a quarter of a second at every start),
 * and inlined in the program every exit of the loop would be explored
 * through the rest of it (over the verifier's 1M limit). The walk's state
 * lives in the workspace, so the step needs no pointer argument (5.10's
 * verifier allows global functions none). Kernel pointers are integers here
 * and are only ever read through probe reads.
 */
#define ET_WALK_CUT (1 << 16)

struct walk {
	__u64 dentry, vfsmnt, mnt_root, root_dentry, root_mnt;
	__u64 pos;                 /* the path is ws[pos, ET_PATH_MAX) */
	char ws[2 * ET_PATH_MAX];  /* twice: a name written at any masked pos fits */
};

/* The walk's workspace: one slot per possible CPU (set before load), shared
 * safely for the reasons the scratch map's comment gives. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walk_space SEC(".maps");

static __always_inline struct walk *walk_workspace(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&walk_space, &cpu);
}

enum walk_result { WALK_GO_ON, WALK_DONE, WALK_STOPPED };

/* One step up: a component written, or a mount crossed. */
__noinline int walk_step(void)
{
	/* struct vfsmount is embedded in struct mount, whose fields say where
	 * the mount sits; offsets from CO-RE, so any kernel's layout works. */
	__u64 mnt_off = bpf_core_field_offset(struct mount, mnt);
	__u64 parent_off = bpf_core_field_offset(struct mount, mnt_parent);
	__u64 point_off = bpf_core_field_offset(struct mount, mnt_mountpoint);
	__u64 root_off = bpf_core_field_offset(struct vfsmount, mnt_root);
	__u64 d_parent_off = bpf_core_field_offset(struct dentry, d_parent);
	__u64 d_name_off = bpf_core_field_offset(struct dentry, d_name);
	struct walk *w = walk_workspace();
	__u64 up, mnt, pos, len;
	/* d_parent and d_name, side by side in every kernel so far: one read. */
	struct {
		__u64 parent;
		struct qstr name;
	} d;

	if (!w)
		return WALK_STOPPED;
	if (w->dentry == w->root_dentry && w->vfsmnt == w->root_mnt)
		return WALK_DONE;
	if (w->dentry == w->mnt_root) {
		/* The root of a mount: go on from where it is mounted, unless
		 * it is the root of its namespace. */
		mnt = w->vfsmnt - mnt_off;
		if (bpf_probe_read_kernel(&up, sizeof(up), (void *)(mnt + parent_off)) || up == mnt)
			return WALK_DONE;
		if (bpf_probe_read_kernel(&w->dentry, sizeof(w->dentry), (void *)(mnt + point_off)))
			return WALK_STOPPED;
		w->vfsmnt = up + mnt_off;
		if (bpf_probe_read_kernel(&w->mnt_root, sizeof(w->mnt_root), (void *)(w->vfsmnt + root_off)))
			return WALK_STOPPED;
		return WALK_GO_ON;
	}
	if (d_name_off == d_parent_off + sizeof(d.parent)) {
		if (bpf_probe_read_kernel(&d, sizeof(d), (void *)(w->dentry + d_parent_off)))
			return WALK_STOPPED;
	} else if (bpf_probe_read_kernel(&d.parent, sizeof(d.parent), (void *)(w->dentry + d_parent_off)) ||
		   bpf_probe_read_kernel(&d.name, sizeof(d.name), (void *)(w->dentry + d_name_off))) {
		return WALK_STOPPED;
	}
	/* A name is at most NAME_MAX (255) bytes: the mask keeps it whole. */
	len = mask_bits(d.name.len, ET_NAME_MAX);
	pos = clamp_max(w->pos, ET_PATH_MAX);
	if (len + 1 > pos)
		return WALK_STOPPED; /* no room for "/name": keep the suffix built so far */
	pos = mask_bits(pos - len - 1, ET_PATH_MAX - 1);
	/* The size restated at the call: 6.12's verifier loses len's bound
	 * through the `len + 1` above (a register linked to it by a constant
	 * offset) and rejects the read as unbounded. */
	if (bpf_probe_read_kernel(w->ws + pos + 1, mask_bits(len, ET_NAME_MAX), d.name.name))
		return WALK_STOPPED;
	w->ws[pos] = '/';
	w->pos = pos;
	if (w->dentry == d.parent)
		return WALK_DONE; /* a pseudo file or a detached tree: its name is its path */
	w->dentry = d.parent;
	return WALK_GO_ON;
}

__noinline int walk_path(__u64 dentry, __u64 vfsmnt, __u64 root_dentry, __u64 root_mnt)
{
	__u64 root_off = bpf_core_field_offset(struct vfsmount, mnt_root);
	struct walk *w = walk_workspace();
	int i, step = WALK_GO_ON;
	__u64 pos;

	if (!w)
		return -1;
	w->dentry = dentry;
	w->vfsmnt = vfsmnt;
	w->root_dentry = root_dentry;
	w->root_mnt = root_mnt;
	w->pos = ET_PATH_MAX;
	if (bpf_probe_read_kernel(&w->mnt_root, sizeof(w->mnt_root), (void *)(vfsmnt + root_off)))
		return -1;
	for (i = 0; i < ET_PATH_DEPTH && step == WALK_GO_ON; i++)
		step = walk_step();
	pos = clamp_max(w->pos, ET_PATH_MAX);
	if (pos >= ET_PATH_MAX) {
		/* The root itself, or nothing could be read. */
		pos = ET_PATH_MAX - 1;
		w->ws[ET_PATH_MAX - 1] = '/';
	}
	return pos | (step == WALK_DONE ? 0 : ET_WALK_CUT);
}

/*
 * The cgroup v2 path of a cgroup, from its kernfs node: the names up to the
 * hierarchy's root, as /proc/<pid>/cgroup shows them from the initial cgroup
 * namespace ("/system.slice/docker-<id>.scope"; "/" for the root). Built
 * backwards into ws[pos, ET_PATH_MAX) like walk_path(), so a cut keeps the
 * deepest levels (where a container's scope sits) and sets ET_WALK_CUT; at
 * most ET_CGROUP_DEPTH levels. The names are read now, at the exec: a cgroup
 * removed a moment later is still named.
 *
 * Since 6.15 the parent is `__parent` (read under RCU); before, `parent`.
 */
struct kernfs_node___parent {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/* One level up: a name written (if `may_write`), or the root reached. The
 * node is w->dentry. */
__noinline int cgroup_step(__u64 may_write)
{
	__u64 parent_off = bpf_core_field_exists(struct kernfs_node, __parent)
				   ? bpf_core_field_offset(struct kernfs_node, __parent)
				   : bpf_core_field_offset(struct kernfs_node___parent, parent);
	__u64 name_off = bpf_core_field_offset(struct kernfs_node, name);
	struct walk *w = walk_workspace();
	__u64 parent, name, pos, len;
	long n;

	if (!w)
		return WALK_STOPPED;
	if (bpf_probe_read_kernel(&parent, sizeof(parent), (void *)(w->dentry + parent_off)))
		return WALK_STOPPED;
	if (!parent)
		return WALK_DONE; /* the root: its name is not part of the path */
	if (!may_write)
		return WALK_STOPPED; /* deeper than ET_CGROUP_DEPTH levels */
	if (bpf_probe_read_kernel(&name, sizeof(name), (void *)(w->dentry + name_off)))
		return WALK_STOPPED;
	/* kernfs keeps no length: the name goes to the spare half first. */
	n = bpf_probe_read_kernel_str(w->ws + ET_PATH_MAX, ET_NAME_MAX + 1, (void *)name);
	if (n <= 0)
		return WALK_STOPPED;
	len = mask_bits(n - 1, ET_NAME_MAX);
	pos = clamp_max(w->pos, ET_PATH_MAX);
	if (len + 1 > pos)
		return WALK_STOPPED;
	pos = mask_bits(pos - len - 1, ET_PATH_MAX - 1);
	if (bpf_probe_read_kernel(w->ws + pos + 1, mask_bits(len, ET_NAME_MAX), w->ws + ET_PATH_MAX))
		return WALK_STOPPED;
	w->ws[pos] = '/';
	w->pos = pos;
	w->dentry = parent;
	return WALK_GO_ON;
}

__noinline int cgroup_walk(__u64 kn)
{
	struct walk *w = walk_workspace();
	int i, step = WALK_GO_ON;
	__u64 pos;

	if (!w || !kn)
		return -1;
	w->dentry = kn;
	w->pos = ET_PATH_MAX;
	/* One step more than levels: the last only finds whether it is the root. */
	for (i = 0; i <= ET_CGROUP_DEPTH && step == WALK_GO_ON; i++)
		step = cgroup_step(i < ET_CGROUP_DEPTH);
	pos = clamp_max(w->pos, ET_PATH_MAX);
	if (pos >= ET_PATH_MAX) {
		/* The root cgroup, or nothing could be read. */
		pos = ET_PATH_MAX - 1;
		w->ws[ET_PATH_MAX - 1] = '/';
	}
	return pos | (step == WALK_DONE ? 0 : ET_WALK_CUT);
}

#endif /* EXEC_TRACER_WALK_BPF_H */
