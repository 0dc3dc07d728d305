/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * In-kernel filters: every record (exec, exit, fork, failed exec) is
 * judged before anything costly is read for it (argv, environment, paths),
 * and a record the filter drops is counted, not lost. The rules' shape is
 * in exec_tracer.h (struct et_filter_rule and the keys).
 *
 * With no filter, a record costs one load of the rule in force. With one,
 * the checks run cheapest first: pid namespace, ids and task name (hash
 * look-ups), descent (one look-up), the cgroup's ancestors (one look-up per
 * level), and path prefixes last (an LPM trie; the exe path is a walk).
 *
 * Descent and prefixes need memory across records, kept here by tgid
 * (filter_tracked): fork copies a parent's entry to the child, so a subtree
 * is followed in the kernel even when a middle process exits and its
 * children re-parent; exit removes the entry. A fork or exit record has no
 * path of its own: it is judged by what the prefixes said of the process's
 * last exec (its image), inherited at fork.
 */
#ifndef EXEC_TRACER_FILTER_BPF_H
#define EXEC_TRACER_FILTER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "bounds.h"
#include "task.h"
#include "walk.bpf.h"

/* Each generation's rule, and which is in force (0 or 1): user space
 * fills the other, then flips filter_gen. */
struct et_filter_rule filter_rules[2];
__u32 filter_gen;
/* Set by user space once any generation follows descent or images: from
 * then on fork copies and exit removes tracked entries. */
__u32 filter_tracking;
/* The generation the seeding iterator fills (user space sets it first). */
__u32 filter_seed_gen;

/* A per-CPU map, not .bss: no atomic, and no cache line shared with the
 * rule every record reads (a .bss counter cost ~100 ns per rejected exec). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct et_filter_counts);
} filter_counts SEC(".maps");

#define ET_FILTER_BIT(kind) (1U << (kind))
#define ET_FILTER_PREFIX_BITS (ET_FILTER_BIT(ET_FILTER_FILENAME_PREFIX) | ET_FILTER_BIT(ET_FILTER_EXE_PREFIX))
/* Sizes, documented as the filter's limits in lib/filter.ts. */
#define ET_FILTER_IDS_MAX 8192
#define ET_FILTER_COMMS_MAX 1024
#define ET_FILTER_PREFIXES_MAX 512
#define ET_FILTER_ROOTS_MAX 256
#define ET_FILTER_TRACKED_MAX 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_FILTER_IDS_MAX);
	/* Allocated as filled: empty unless a list is longer than the rule holds
	 * (preallocated, it cost every start() its 8,192 elements). */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct et_filter_id_key);
	__type(value, __u8);
} filter_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_FILTER_COMMS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct et_filter_comm_key);
	__type(value, __u8);
} filter_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ET_FILTER_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required of an LPM trie */
	__type(key, struct et_filter_prefix_key);
	__type(value, __u8);
} filter_prefixes SEC(".maps");

/* The roots of the generation being seeded, by pid (user space fills it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_FILTER_ROOTS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct et_filter_root);
} filter_roots SEC(".maps");

/* Allocated as processes are remembered: empty unless a filter follows them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ET_FILTER_TRACKED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct et_filter_tracked);
} filter_tracked SEC(".maps");

/* Which paths a record brings (filter_input.paths). */
#define ET_FILTER_PATH_FILENAME 1
#define ET_FILTER_PATH_EXE 2

/* What descent, cgroups and prefixes judge a record on, gathered by its
 * program before filter_judge_slow() runs: global functions take no
 * pointers on 5.10, so it is a map value. (Ids, names and namespaces are
 * judged inline from registers: see filter_drops().) */
struct filter_input {
	__u64 kn;            /* the cgroup's kernfs node (an address) */
	__u64 start_boot_ns; /* the process's start: tracked entries must match it */
	__u32 tgid;
	__u32 slot;          /* enum et_filtered_slot: which record */
	__u32 paths;         /* ET_FILTER_PATH_*: which keys below hold a path */
	__u32 pad;
	struct et_filter_prefix_key filename;
	struct et_filter_prefix_key exe;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct filter_input);
} filter_space SEC(".maps");

static __always_inline struct filter_input *filter_input(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&filter_space, &zero);
}

static __always_inline void count_filtered(__u32 slot)
{
	__u32 zero = 0;
	struct et_filter_counts *c = bpf_map_lookup_elem(&filter_counts, &zero);

	if (c)
		c->filtered[slot & (ET_FILTERED_COUNT - 1)]++;
}

static __always_inline void count_filter_miss(void)
{
	__u32 zero = 0;
	struct et_filter_counts *c = bpf_map_lookup_elem(&filter_counts, &zero);

	if (c)
		c->misses++;
}

/* The process's tracked entry, unless the pid now names another process. */
static __always_inline struct et_filter_tracked *filter_tracked_get(__u32 tgid, __u64 start_boot_ns)
{
	struct et_filter_tracked *t = bpf_map_lookup_elem(&filter_tracked, &tgid);

	return t && t->start_boot_ns == start_boot_ns ? t : NULL;
}

/* The inode number of the task's own pid namespace. */
static __always_inline __u32 task_pidns(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct pid_namespace *ns = NULL;

	bpf_core_read(&ns, sizeof(ns), &pid->numbers[level].ns);
	return BPF_CORE_READ(ns, ns.inum);
}

/* A key's bit length for a path of `len` bytes (after gen, side and kind). */
static __always_inline __u32 prefix_bits(long len)
{
	return (3 + (__u32)clamp_max(len, ET_FILTER_PREFIX_MAX)) * 8;
}

/* The path passed to exec, into the filename key: a kernel string (the
 * exec tracepoints) or the caller's memory (a failed exec). */
static __always_inline void filter_filename(struct filter_input *in, const char *filename, const bool user)
{
	long n = user ? bpf_probe_read_user_str(in->filename.path, ET_FILTER_PREFIX_MAX + 1, filename)
		      : bpf_probe_read_kernel_str(in->filename.path, ET_FILTER_PREFIX_MAX + 1, filename);

	if (n <= 0)
		return; /* unreadable: judged like a path that matches no prefix */
	in->filename.prefixlen = prefix_bits(n - 1);
	in->paths |= ET_FILTER_PATH_FILENAME;
}

/* The first bytes of what walk_path() built, into the exe key. Global for
 * the reason copy_walked() is. */
__noinline int filter_copy_exe(int walked)
{
	struct filter_input *in = filter_input();
	struct walk *w = walk_workspace();
	__u64 pos, len;

	if (walked < 0 || !in || !w)
		return 0;
	pos = mask_bits(walked, ET_PATH_MAX - 1);
	len = clamp_max(ET_PATH_MAX - pos, ET_FILTER_PREFIX_MAX);
	if (bpf_probe_read_kernel(in->exe.path, len, w->ws + pos))
		return 0;
	in->exe.prefixlen = prefix_bits(len);
	in->paths |= ET_FILTER_PATH_EXE;
	return 0;
}

static __always_inline bool filter_id_in_map(__u32 gen, __u32 side, __u32 kind, __u64 value)
{
	struct et_filter_id_key key = { .gen = gen, .side = side, .kind = kind, .value = value };

	return bpf_map_lookup_elem(&filter_ids, &key) != NULL;
}

/* Whether `value` is in the rule's inline list of a kind (side and kind constants). */
static __always_inline bool filter_id_inline(const struct et_filter_rule *rule, __u32 side, __u32 kind,
					     __u32 value)
{
	__u32 n = rule->id_count[side][kind - 1];
	int i;

	for (i = 0; i < ET_FILTER_INLINE; i++) {
		if (i < n && rule->ids[side][kind - 1][i] == value)
			return true;
	}
	return false;
}

static __always_inline bool filter_id_listed(const struct et_filter_rule *rule, __u32 gen, __u32 side,
					     __u32 kind, __u64 value)
{
	if (kind <= ET_FILTER_INLINE_IDS && !(rule->mapped & (1U << (kind + 16 * side))))
		return filter_id_inline(rule, side, kind, value);
	return filter_id_in_map(gen, side, kind, value);
}

/* Which sides list one of the ids a kind judges (1 << side). */
static __always_inline __u32 filter_id_sides(const struct et_filter_rule *rule, __u32 gen, __u32 inc, __u32 exc,
					     __u32 kind, __u64 value)
{
	__u32 sides = 0;

	if ((inc & ET_FILTER_BIT(kind)) && filter_id_listed(rule, gen, ET_FILTER_INCLUDE, kind, value))
		sides |= 1 << ET_FILTER_INCLUDE;
	if ((exc & ET_FILTER_BIT(kind)) && filter_id_listed(rule, gen, ET_FILTER_EXCLUDE, kind, value))
		sides |= 1 << ET_FILTER_EXCLUDE;
	return sides;
}

static __always_inline bool filter_comm_listed(const struct et_filter_rule *rule, __u32 gen, __u32 side,
					       const char *comm)
{
	struct et_filter_comm_key key = { .gen = gen, .side = side };
	const __u64 *want = (const __u64 *)comm;
	__u32 n = rule->comm_count[side];
	int i;

	if (!(rule->mapped & (1U << (ET_FILTER_COMM + 16 * side)))) {
		for (i = 0; i < ET_FILTER_INLINE; i++) {
			const __u64 *have = (const __u64 *)rule->comms[side][i];

			if (i < n && have[0] == want[0] && have[1] == want[1])
				return true;
		}
		return false;
	}
	__builtin_memcpy(key.comm, comm, ET_COMM_LEN);
	return bpf_map_lookup_elem(&filter_comms, &key) != NULL;
}

static __always_inline __u32 filter_comm_sides(const struct et_filter_rule *rule, __u32 gen, __u32 inc,
					       __u32 exc, const char *comm)
{
	__u32 sides = 0;

	if ((inc & ET_FILTER_BIT(ET_FILTER_COMM)) && filter_comm_listed(rule, gen, ET_FILTER_INCLUDE, comm))
		sides |= 1 << ET_FILTER_INCLUDE;
	if ((exc & ET_FILTER_BIT(ET_FILTER_COMM)) && filter_comm_listed(rule, gen, ET_FILTER_EXCLUDE, comm))
		sides |= 1 << ET_FILTER_EXCLUDE;
	return sides;
}

/*
 * One level of the cgroup's ancestry: the sides listing the node in
 * filter_input.kn, which then moves to its parent (0 at the root). Global,
 * and the loop only calls it, as with walk_step().
 */
__noinline int filter_cgroup_step(__u32 gen, __u32 inc, __u32 exc)
{
	__u64 parent_off = bpf_core_field_exists(struct kernfs_node, __parent)
				   ? bpf_core_field_offset(struct kernfs_node, __parent)
				   : bpf_core_field_offset(struct kernfs_node___parent, parent);
	__u64 id_off = bpf_core_field_offset(struct kernfs_node, id);
	struct filter_input *in = filter_input();
	__u64 id = 0, parent = 0;
	__u32 sides;

	if (!in || !in->kn)
		return 0;
	if (bpf_probe_read_kernel(&id, sizeof(id), (void *)(in->kn + id_off)) ||
	    bpf_probe_read_kernel(&parent, sizeof(parent), (void *)(in->kn + parent_off)))
		parent = 0;
	in->kn = parent;
	sides = ((inc & ET_FILTER_BIT(ET_FILTER_CGROUP)) && filter_id_in_map(gen, ET_FILTER_INCLUDE, ET_FILTER_CGROUP, id))
			? 1 << ET_FILTER_INCLUDE : 0;
	if ((exc & ET_FILTER_BIT(ET_FILTER_CGROUP)) && filter_id_in_map(gen, ET_FILTER_EXCLUDE, ET_FILTER_CGROUP, id))
		sides |= 1 << ET_FILTER_EXCLUDE;
	return sides;
}

/* The sides listing the cgroup or one of its ancestors. */
static __always_inline __u32 filter_cgroup_sides(__u32 gen, __u32 inc, __u32 exc)
{
	__u32 sides = 0;
	int i;

	/* A cgroup deeper than this matches by its nearest 32 levels only. */
	for (i = 0; i <= ET_CGROUP_DEPTH; i++)
		sides |= filter_cgroup_step(gen, inc, exc);
	return sides;
}

static __always_inline bool filter_prefix_listed(struct et_filter_prefix_key *key, __u32 gen, __u32 side,
						 __u32 kind)
{
	key->gen = gen;
	key->side = side;
	key->kind = kind;
	return bpf_map_lookup_elem(&filter_prefixes, key) != NULL;
}

/*
 * What the path prefixes say of this record (enum et_filter_image): from
 * its own paths where it has them, else from its process's last exec. An
 * exec that brings both paths is remembered as its process's image.
 */
__noinline int filter_prefix_image(__u32 gen, __u32 seq)
{
	struct filter_input *in = filter_input();
	struct et_filter_tracked *t, fresh = {};
	__u32 image = 0, known = 0;

	if (!in)
		return 0;
	if (in->paths & ET_FILTER_PATH_FILENAME) {
		known |= ET_IMAGE_FILENAME_IN | ET_IMAGE_FILENAME_EX;
		if (filter_prefix_listed(&in->filename, gen, ET_FILTER_INCLUDE, ET_FILTER_FILENAME_PREFIX))
			image |= ET_IMAGE_FILENAME_IN;
		if (filter_prefix_listed(&in->filename, gen, ET_FILTER_EXCLUDE, ET_FILTER_FILENAME_PREFIX))
			image |= ET_IMAGE_FILENAME_EX;
	}
	if (in->paths & ET_FILTER_PATH_EXE) {
		known |= ET_IMAGE_EXE_IN | ET_IMAGE_EXE_EX;
		if (filter_prefix_listed(&in->exe, gen, ET_FILTER_INCLUDE, ET_FILTER_EXE_PREFIX))
			image |= ET_IMAGE_EXE_IN;
		if (filter_prefix_listed(&in->exe, gen, ET_FILTER_EXCLUDE, ET_FILTER_EXE_PREFIX))
			image |= ET_IMAGE_EXE_EX;
	}
	t = filter_tracked_get(in->tgid, in->start_boot_ns);
	if (in->slot == ET_FILTERED_EXEC) {
		/* Remembered whether or not the exec is kept: its exit is judged by it. */
		if (t) {
			t->image_seq = seq;
			t->image = image;
		} else {
			fresh.start_boot_ns = in->start_boot_ns;
			fresh.image_seq = seq;
			fresh.image = image;
			if (bpf_map_update_elem(&filter_tracked, &in->tgid, &fresh, BPF_ANY))
				count_filter_miss();
		}
		return image;
	}
	/* An image not seen under this filter matches no prefix. */
	if (t && t->image_seq == seq)
		image |= t->image & ~known;
	return image;
}

/* Whether a side's match of a kind decides the record's fate. */
#define FILTER_DROPS(kind, sides) \
	(((exc & ET_FILTER_BIT(kind)) && ((sides) & (1 << ET_FILTER_EXCLUDE))) || \
	 ((inc & ET_FILTER_BIT(kind)) && !((sides) & (1 << ET_FILTER_INCLUDE))))

/* The kinds judged from memory (filter_input, maps, walks) rather than from the task's ids. */
#define ET_FILTER_SLOW_BITS \
	(ET_FILTER_BIT(ET_FILTER_DESCENDANT) | ET_FILTER_BIT(ET_FILTER_CGROUP) | ET_FILTER_PREFIX_BITS)

/*
 * 1 when the rule in force drops the record in filter_input for descent,
 * cgroup or path prefixes, else 0. Global: it is verified once, and only a
 * filter with those kinds pays for the call and the memory it reads.
 */
__noinline int filter_judge_slow(void)
{
	__u32 gen = filter_gen & 1;
	struct et_filter_rule *rule = &filter_rules[gen];
	struct filter_input *in = filter_input();
	struct et_filter_tracked *t;
	__u32 inc, exc, seq, sides, image;

	if (!in)
		return 0;
	inc = rule->include;
	exc = rule->exclude;
	seq = rule->seq;
	if ((inc | exc) & ET_FILTER_BIT(ET_FILTER_DESCENDANT)) {
		t = filter_tracked_get(in->tgid, in->start_boot_ns);
		sides = t && t->seq[gen] == seq ? t->sides[gen] : 0;
		if (FILTER_DROPS(ET_FILTER_DESCENDANT, sides))
			return 1;
	}
	if ((inc | exc) & ET_FILTER_BIT(ET_FILTER_CGROUP)) {
		sides = filter_cgroup_sides(gen, inc, exc);
		if (FILTER_DROPS(ET_FILTER_CGROUP, sides))
			return 1;
	}
	if ((inc | exc) & ET_FILTER_PREFIX_BITS) {
		image = filter_prefix_image(gen, seq);
		sides = ((image & ET_IMAGE_FILENAME_IN) ? 1 << ET_FILTER_INCLUDE : 0) |
			((image & ET_IMAGE_FILENAME_EX) ? 1 << ET_FILTER_EXCLUDE : 0);
		if (FILTER_DROPS(ET_FILTER_FILENAME_PREFIX, sides))
			return 1;
		sides = ((image & ET_IMAGE_EXE_IN) ? 1 << ET_FILTER_INCLUDE : 0) |
			((image & ET_IMAGE_EXE_EX) ? 1 << ET_FILTER_EXCLUDE : 0);
		if (FILTER_DROPS(ET_FILTER_EXE_PREFIX, sides))
			return 1;
	}
	return 0;
}

/* What the cheap kinds judge, read into registers and the stack. */
struct filter_task {
	__u32 uid, gid, euid, pidns;
	char comm[ET_COMM_LEN];
};

/*
 * Whether the filter in force (`rule`, generation `gen`) drops a record
 * about `task`. The cheap kinds first, inline and from the task itself,
 * reading only what the rule lists: this is all a filter of ids, names and
 * namespaces costs. Inline on purpose: through the per-CPU input and a
 * call it cost ~400 ns more per exec on this project's VM, and as a global
 * function given scalars 300-1,000 ns more (measured A/B), though it
 * verified ~25 ms faster at start(). Descent, cgroups and prefixes then go
 * through filter_input and filter_judge_slow(). `direct`: the hook hands
 * over a trusted task (plain loads), else probe reads. `current`: the task
 * is the one running. `filename`: the path passed to exec, if the record
 * has one (`user`: in the caller's memory); `exe`: walk the running
 * binary's path (exec records only).
 */
static __always_inline bool filter_drops(struct task_struct *task, struct et_filter_rule *rule, __u32 gen,
					 __u32 slot, const char *filename, const bool user, const bool direct,
					 const bool current, const bool exe)
{
	__u32 inc = rule->include, exc = rule->exclude, flags = rule->flags, need = inc | exc;
	struct filter_task ft;
	struct filter_input *in;
	const struct cred *cred;

	if ((need & ET_FILTER_BIT(ET_FILTER_PID_NAMESPACE)) || flags) {
		ft.pidns = task_pidns(task);
		if ((flags & ET_FILTER_CONTAINERS_ONLY) && ft.pidns == ET_INIT_PIDNS_INUM)
			return true;
		if ((flags & ET_FILTER_HOST_ONLY) && ft.pidns != ET_INIT_PIDNS_INUM)
			return true;
		if (FILTER_DROPS(ET_FILTER_PID_NAMESPACE, filter_id_sides(rule, gen, inc, exc, ET_FILTER_PID_NAMESPACE, ft.pidns)))
			return true;
	}
	if (need & (ET_FILTER_BIT(ET_FILTER_UID) | ET_FILTER_BIT(ET_FILTER_GID) | ET_FILTER_BIT(ET_FILTER_EUID))) {
		cred = KREAD(direct, task, cred);
		ft.uid = KREAD(direct, cred, uid.val);
		ft.gid = KREAD(direct, cred, gid.val);
		ft.euid = KREAD(direct, cred, euid.val);
		if (FILTER_DROPS(ET_FILTER_UID, filter_id_sides(rule, gen, inc, exc, ET_FILTER_UID, ft.uid)) ||
		    FILTER_DROPS(ET_FILTER_GID, filter_id_sides(rule, gen, inc, exc, ET_FILTER_GID, ft.gid)) ||
		    FILTER_DROPS(ET_FILTER_EUID, filter_id_sides(rule, gen, inc, exc, ET_FILTER_EUID, ft.euid)))
			return true;
	}
	if (need & ET_FILTER_BIT(ET_FILTER_COMM)) {
		/* Compared as 16 bytes, so zeroed first: bpf_get_current_comm()
		 * copies with strscpy (6.1), which does not pad, and before 6.x
		 * the kernel itself set comm with strlcpy, which leaves an older,
		 * longer name's bytes after the NUL. */
		__builtin_memset(ft.comm, 0, sizeof(ft.comm));
		if (current)
			bpf_get_current_comm(ft.comm, sizeof(ft.comm));
		else
			bpf_core_read_str(ft.comm, sizeof(ft.comm), &task->comm);
		if (FILTER_DROPS(ET_FILTER_COMM, filter_comm_sides(rule, gen, inc, exc, ft.comm)))
			return true;
	}
	if (!(need & ET_FILTER_SLOW_BITS))
		return false;

	in = filter_input();
	if (!in)
		return false;
	in->slot = slot;
	in->paths = 0;
	in->tgid = KREAD(direct, task, tgid);
	in->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	if (need & ET_FILTER_BIT(ET_FILTER_CGROUP)) {
		struct css_set *cgroups = KREAD(direct, task, cgroups);
		struct cgroup *cgrp = KREAD(direct, cgroups, dfl_cgrp);

		in->kn = (__u64)KREAD(direct, cgrp, kn);
	}
	if (filename && (need & ET_FILTER_BIT(ET_FILTER_FILENAME_PREFIX)))
		filter_filename(in, filename, user);
	if (exe && (need & ET_FILTER_BIT(ET_FILTER_EXE_PREFIX))) {
		struct file *file = BPF_CORE_READ(task, mm, exe_file);
		struct path exe_path = {}, root = {};

		if (file) {
			bpf_core_read(&exe_path, sizeof(exe_path), &file->f_path);
			root = BPF_CORE_READ(task, fs, root);
			filter_copy_exe(walk_path((__u64)exe_path.dentry, (__u64)exe_path.mnt, (__u64)root.dentry,
						  (__u64)root.mnt));
		}
	}
	return filter_judge_slow();
}

/* Whether the filter in force (if any) drops this record; counted if so. */
static __always_inline bool filter_drops_record(struct task_struct *task, __u32 slot, const char *filename,
						const bool user, const bool direct, const bool current,
						const bool exe)
{
	__u32 gen = filter_gen & 1;
	struct et_filter_rule *rule = &filter_rules[gen];

	if (!(rule->include | rule->exclude | rule->flags))
		return false; /* no filter: the common case */
	if (!filter_drops(task, rule, gen, slot, filename, user, direct, current, exe))
		return false;
	count_filtered(slot);
	return true;
}

/* At fork: the child is what its parent is to the filter (descent, image). */
static __always_inline void filter_follow_fork(__u32 parent_tgid, __u64 parent_start, __u32 child_tgid,
					       __u64 child_start)
{
	struct et_filter_tracked *t, copy;

	if (!filter_tracking)
		return;
	t = filter_tracked_get(parent_tgid, parent_start);
	if (!t)
		return;
	copy = *t;
	copy.start_boot_ns = child_start;
	if (bpf_map_update_elem(&filter_tracked, &child_tgid, &copy, BPF_ANY))
		count_filter_miss();
}

/* At a process's end: nothing more is judged of it. */
static __always_inline void filter_forget(__u32 tgid)
{
	if (filter_tracking)
		bpf_map_delete_elem(&filter_tracked, &tgid);
}

/*
 * The seeding walk's state: the iterator runs on one thread at a time (the
 * addon's, inside read(2) of the iterator), so plain globals do.
 */
__u64 seed_walk_task;
__u32 seed_walk_sides;

/* One step up the ancestry from seed_walk_task: the roots it is, then its
 * real parent. 0 once init (or a failed read) ends the walk. */
__noinline int seed_filter_step(void)
{
	struct task_struct *task = (struct task_struct *)seed_walk_task;
	struct et_filter_root *root;
	__u32 tgid;

	if (!task)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	root = bpf_map_lookup_elem(&filter_roots, &tgid);
	if (root && (!root->start_boot_ns ||
		     root->start_boot_ns == BPF_CORE_READ(task, group_leader, start_boottime)))
		seed_walk_sides |= root->sides;
	if (tgid <= 1)
		return 0;
	seed_walk_task = (__u64)BPF_CORE_READ(task, real_parent);
	return 1;
}

/*
 * Marks every live process below a root of the generation being filled
 * (filter_seed_gen): the roots are in filter_roots. Forks from then on are
 * followed by filter_follow_fork(); a process forked while this runs is
 * either seen here (a new pid comes after its parent's) or copied from its
 * parent already marked.
 */
SEC("iter/task")
int seed_filter(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__u32 gen = filter_seed_gen & 1, seq = filter_rules[gen].seq, tgid;
	struct et_filter_tracked *t, fresh = {};
	__u64 start;
	int i;

	if (!task || task->pid != task->tgid || task->signal->live.counter == 0)
		return 0;
	seed_walk_task = (__u64)task;
	seed_walk_sides = 0;
	/* Deeper trees than this are not followed from the seed (only by forks). */
	for (i = 0; i < ET_PATH_DEPTH; i++) {
		if (!seed_filter_step())
			break;
	}
	if (!seed_walk_sides)
		return 0;
	tgid = task->tgid;
	start = task->start_boottime;
	t = filter_tracked_get(tgid, start);
	if (t) {
		t->sides[gen] = t->seq[gen] == seq ? t->sides[gen] | seed_walk_sides : seed_walk_sides;
		t->seq[gen] = seq;
		return 0;
	}
	/* Constant indexes: older verifiers refuse a variable offset into the stack. */
	fresh.start_boot_ns = start;
	if (gen) {
		fresh.seq[1] = seq;
		fresh.sides[1] = seed_walk_sides;
	} else {
		fresh.seq[0] = seq;
		fresh.sides[0] = seed_walk_sides;
	}
	if (bpf_map_update_elem(&filter_tracked, &tgid, &fresh, BPF_ANY))
		count_filter_miss();
	return 0;
}

#endif /* EXEC_TRACER_FILTER_BPF_H */
