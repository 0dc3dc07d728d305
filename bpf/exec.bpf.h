/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * What happens on exec: one record per successful exec, written to the ring.
 *
 * Two entry points share one body: tp_btf/sched_process_exec (needs no
 * tracefs, gets bprm with argc) and the classic tracepoint (fallback for
 * kernels without BTF-enabled tracepoints). User space autoloads one of them.
 * The scratch slot and read_filename() also serve failed execs (failed.bpf.h).
 */
#ifndef EXEC_TRACER_EXEC_BPF_H
#define EXEC_TRACER_EXEC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "bounds.h"
#include "ring.bpf.h"
#include "task.h"
#include "walk.bpf.h"
#include "who.h"
#include "filter.bpf.h"

/* Knobs, set by user space between open and load. */
const volatile __u32 argv_limit = 8192;
/* enum et_context: which parts of the context each record carries. */
const volatile __u32 context = ET_CONTEXT_EXE | ET_CONTEXT_FILE | ET_CONTEXT_INTERPRETER |
			       ET_CONTEXT_CWD | ET_CONTEXT_CGROUP;
/* The environment is opt-in (secrets live there): when read_env is 0, the
 * verifier drops every instruction that would touch it, at load. */
const volatile __u32 read_env = 0;
const volatile __u32 env_limit = 0;

/*
 * Where a record is built before it is copied into the ring in one piece.
 * bpf_ringbuf_reserve() only takes constant sizes, and reserving the largest
 * possible record for every exec would waste most of the ring. A per-CPU array
 * cannot hold values over 32 KiB, which would cap argv, so this is a plain
 * array with one slot per possible CPU (max_entries and value_size are set
 * from the argv limit before load). Sharing a slot is safe: tracepoint probes
 * run with preemption disabled and BPF blocks recursion of a program on a CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, ET_SCRATCH_SIZE(8192, 0));
} scratch SEC(".maps");

/* The pid and pid namespace at the task's own level: its view of itself. */
static __always_inline struct upid own_upid(struct pid *pid)
{
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	/* A variable index into numbers[]: a probe read, whichever the hook. */
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
	return upid;
}

/* What a record needs from the task, read the cheapest way the hook allows. */
struct task_facts {
	__u64 start_boot_ns;
	__u64 parent_start_boot_ns;
	__u64 exec_seq;
	__u64 parent_exec_seq;
	__u32 pid;
	__u32 ppid;
	struct pid *thread_pid;
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start; /* 0 unless read_env */
	unsigned long env_end;
	struct file *exe_file;
	struct path root;
	struct path pwd;
	const char *interp; /* NULL: no interpreter ran the file */
	bool interp_unknown;
	struct task_struct *task;
	struct linux_binprm *bprm; /* NULL: the hook has none */
};

/* tp_btf hands over trusted BTF pointers: plain loads (a fault reads as 0),
 * no helper call per field. This is most of the BPF time it saves. */
static __always_inline void facts_direct(struct task_struct *task, struct linux_binprm *bprm,
					 struct task_facts *f)
{
	struct task_struct *parent = task->real_parent;
	struct mm_struct *mm = task->mm;
	struct fs_struct *fs = task->fs;

	/* After de_thread() the exec'ing thread carries the leader's start time,
	 * so this is the process's identity, stable across its execs. */
	f->start_boot_ns = task->start_boottime;
	f->parent_start_boot_ns = parent->group_leader->start_boottime;
	f->exec_seq = task->self_exec_id;
	f->parent_exec_seq = parent->self_exec_id;
	f->pid = task->tgid;
	f->ppid = parent->tgid;
	f->thread_pid = task->thread_pid;
	f->arg_start = mm->arg_start;
	f->arg_end = mm->arg_end;
	f->env_start = read_env ? mm->env_start : 0;
	f->env_end = read_env ? mm->env_end : 0;
	f->exe_file = mm->exe_file;
	/* Probe reads: the walk takes plain integers (walk.bpf.h says why), and
	 * the verifier does not let a trusted pointer pass for one. */
	bpf_core_read(&f->root, sizeof(f->root), &fs->root);
	bpf_core_read(&f->pwd, sizeof(f->pwd), &fs->pwd);
	/* Without an interpreter, interp is the filename pointer itself
	 * (fs/exec.c); binfmt_script and binfmt_misc replace it. */
	f->interp = bprm->interp != bprm->filename ? bprm->interp : NULL;
	f->interp_unknown = false;
	f->task = task;
	f->bprm = bprm;
}

/* The classic tracepoint only has the task's address: probe reads. */
static __always_inline void facts_probed(struct task_struct *task, struct task_facts *f)
{
	f->start_boot_ns = BPF_CORE_READ(task, start_boottime);
	f->parent_start_boot_ns = BPF_CORE_READ(task, real_parent, group_leader, start_boottime);
	f->exec_seq = BPF_CORE_READ(task, self_exec_id);
	f->parent_exec_seq = BPF_CORE_READ(task, real_parent, self_exec_id);
	f->pid = BPF_CORE_READ(task, tgid);
	f->ppid = BPF_CORE_READ(task, real_parent, tgid);
	f->thread_pid = BPF_CORE_READ(task, thread_pid);
	f->arg_start = BPF_CORE_READ(task, mm, arg_start);
	f->arg_end = BPF_CORE_READ(task, mm, arg_end);
	f->env_start = read_env ? BPF_CORE_READ(task, mm, env_start) : 0;
	f->env_end = read_env ? BPF_CORE_READ(task, mm, env_end) : 0;
	f->exe_file = BPF_CORE_READ(task, mm, exe_file);
	f->root = BPF_CORE_READ(task, fs, root);
	f->pwd = BPF_CORE_READ(task, fs, pwd);
	f->interp = NULL;
	f->interp_unknown = true;
	f->task = task;
	f->bprm = NULL;
}

/*
 * Copies what a walk built in the workspace (walk_path(), cgroup_walk())
 * to `at` in this CPU's scratch record, after at most three other paths.
 * Returns its length, plus ET_WALK_CUT when the walk was cut. Global, like
 * the walks: inlined at each use, its branches would multiply the
 * verifier's states through the rest of the program (the cgroup path alone
 * cost 5,800 more instructions to verify at every start).
 */
__noinline int copy_walked(int walked, __u64 at)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct et_exec_record *r = bpf_map_lookup_elem(&scratch, &cpu);
	struct walk *w = walk_workspace();
	__u64 pos, len;

	if (walked < 0 || !r || !w)
		return 0;
	pos = mask_bits(walked, ET_PATH_MAX - 1);
	len = clamp_max(ET_PATH_MAX - pos, ET_PATH_MAX - 1);
	at = clamp_offset(at, ET_FILENAME_MAX - 1 + argv_limit + 3 * (ET_PATH_MAX - 1));
	if (bpf_probe_read_kernel((char *)(r + 1) + at, len, w->ws + pos))
		return 0;
	return len | (walked & ET_WALK_CUT);
}

/* The length of what copy_walked() copied; sets `cut_flag` if it was cut. */
static __always_inline __u64 walked_length(struct et_exec_record *r, int copied, __u16 cut_flag)
{
	r->context_flags |= (copied & ET_WALK_CUT) ? cut_flag : 0;
	return mask_bits(copied, ET_PATH_MAX - 1);
}

/* Appends the path of `path`, as the task sees it from `root`. */
static __always_inline __u64 append_path(struct et_exec_record *r, __u64 at, const struct path *path,
					 const struct path *root, __u16 cut_flag)
{
	int walked = walk_path((__u64)path->dentry, (__u64)path->mnt, (__u64)root->dentry,
			       (__u64)root->mnt);

	return walked_length(r, copy_walked(walked, at), cut_flag);
}

/* The context after argv at data + at: exe path, file identity, interpreter, cwd, cgroup. */
static __always_inline __u64 append_context(struct et_exec_record *r, char *data, __u64 at,
					    const struct task_facts *f, const bool direct)
{
	struct file *file = f->exe_file;
	__u64 len, start = at;
	long n;

	clear_exe_identity(r);
	r->exe_len = 0;
	r->interp_len = 0;
	r->cwd_len = 0;
	r->cgroup_len = 0;
	r->context = context;
	r->context_flags = 0;

	if ((context & ET_CONTEXT_EXE) && file) {
		struct path exe_path = {};

		bpf_core_read(&exe_path, sizeof(exe_path), &file->f_path);
		len = append_path(r, at, &exe_path, &f->root, ET_CTX_EXE_TRUNCATED);
		r->exe_len = len;
		at += len;
	}
	if ((context & ET_CONTEXT_FILE) && file)
		read_exe_identity(r, file, direct);
	if (context & ET_CONTEXT_INTERPRETER) {
		if (f->interp_unknown) {
			r->context_flags |= ET_CTX_INTERPRETER_UNKNOWN;
		} else if (f->interp) {
			at = clamp_offset(at, ET_FILENAME_MAX - 1 + argv_limit + ET_PATH_MAX - 1);
			n = bpf_probe_read_kernel_str(data + at, ET_PATH_MAX, f->interp);
			if (n > 0) {
				len = clamp_max(n - 1, ET_PATH_MAX - 1);
				r->interp_len = len;
				r->context_flags |= ET_CTX_INTERPRETER;
				at += len;
			}
		}
	}
	if (context & ET_CONTEXT_CWD) {
		len = append_path(r, at, &f->pwd, &f->root, ET_CTX_CWD_TRUNCATED);
		r->cwd_len = len;
		at += len;
	}
	if (context & ET_CONTEXT_CGROUP) {
		struct task_struct *task = f->task;
		struct css_set *cgroups = KREAD(direct, task, cgroups);
		struct cgroup *cgrp = KREAD(direct, cgroups, dfl_cgrp);
		__u64 kn = 0;

		/* A probe read: the walk takes an integer (walk.bpf.h says why). */
		bpf_core_read(&kn, sizeof(kn), &cgrp->kn);
		len = walked_length(r, copy_walked(cgroup_walk(kn), at), ET_CTX_CGROUP_TRUNCATED);
		r->cgroup_len = len;
		at += len;
	}
	return at - start;
}

/* The new mm's environment after everything else, like argv. */
static __always_inline __u64 append_env(struct et_exec_record *r, char *data, __u64 at,
					const struct task_facts *f)
{
	__u64 size = f->env_end > f->env_start ? f->env_end - f->env_start : 0;
	__u64 len = clamp_max(size, env_limit);

	r->flags |= ET_EXEC_ENV;
	r->env_size = size > 0xffffffffULL ? 0xffffffffU : (__u32)size;
	if (size > env_limit)
		r->flags |= ET_EXEC_ENV_TRUNCATED;
	at = clamp_offset(at, ET_FILENAME_MAX - 1 + argv_limit + ET_CONTEXT_MAX);
	len = clamp_max(len, env_limit);
	if (len && bpf_probe_read_user(data + at, len, (void *)f->env_start)) {
		r->flags |= ET_EXEC_ENV_FAULT;
		len = 0;
	}
	r->env_len = len;
	return len;
}

/*
 * Copies the path exec was given to `data` (ET_FILENAME_MAX bytes, room for
 * its NUL), from kernel or user memory; returns the bytes stored, without
 * the NUL. Sets `fault` when nothing could be read, `cut` when the path is
 * longer than what is stored. Shared by exec and failed-exec records.
 */
static __always_inline __u64 read_filename(char *data, const char *filename, const bool user, __u16 *flags,
					   __u16 fault, __u16 cut)
{
	const char *last_byte = filename + ET_FILENAME_MAX - 1;
	char last = 0;
	long n = user ? bpf_probe_read_user_str(data, ET_FILENAME_MAX, filename)
		      : bpf_probe_read_kernel_str(data, ET_FILENAME_MAX, filename);

	if (n <= 0) {
		*flags |= fault;
		return 0;
	}
	/* Filled to the last byte, where the read wrote its NUL: the path went
	 * on unless its own NUL was there. Unreadable, it is not known whole. */
	if (n >= ET_FILENAME_MAX) {
		if ((user ? bpf_probe_read_user(&last, 1, last_byte) : bpf_probe_read_kernel(&last, 1, last_byte)) ||
		    last)
			*flags |= cut;
	}
	/* A no-op at run time (n <= ET_FILENAME_MAX): the bound the verifier
	 * needs for the reads placed after the path (bpf/bounds.h says why). */
	return clamp_max(n - 1, ET_FILENAME_MAX - 1);
}

static __always_inline int emit_exec(const struct task_facts *f, __u32 old_pid,
				     const char *filename, int argc, const bool direct)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct et_exec_record *r = bpf_map_lookup_elem(&scratch, &cpu);
	unsigned long arg_start = f->arg_start, arg_end = f->arg_end;
	__u64 argv_size, argv_len, filename_len, context_len, env_len = 0, size, uid_gid;
	struct upid upid;
	char *data;

	if (!r) {
		count_drop();
		return 0;
	}
	data = (char *)(r + 1);

	r->hdr.type = ET_RECORD_EXEC;
	r->hdr.fixed_size = sizeof(*r);
	r->boot_ns = bpf_ktime_get_boot_ns();
	r->start_boot_ns = f->start_boot_ns;
	r->parent_start_boot_ns = f->parent_start_boot_ns;
	r->exec_seq = f->exec_seq;
	r->parent_exec_seq = f->parent_exec_seq;
	r->cgroup_id = bpf_get_current_cgroup_id();
	r->pid = f->pid;
	r->tid = old_pid;
	r->ppid = f->ppid;
	uid_gid = bpf_get_current_uid_gid();
	r->uid = (__u32)uid_gid;
	r->gid = (__u32)(uid_gid >> 32);
	upid = own_upid(f->thread_pid);
	r->ns_pid = upid.nr;
	read_who(r, f->task, f->bprm, upid.ns, direct);
	r->flags = 0;
	if (argc >= 0) {
		r->argc = argc;
	} else {
		r->argc = 0;
		r->flags |= ET_EXEC_ARGC_UNKNOWN;
	}
	bpf_get_current_comm(r->comm, sizeof(r->comm));

	filename_len = read_filename(data, filename, false, &r->flags, ET_EXEC_FILENAME_FAULT,
				     ET_EXEC_FILENAME_TRUNCATED);
	r->filename_len = filename_len;

	/* The new mm's argument area: just written by the kernel during exec, so
	 * resident; a failed read is still flagged rather than guessed around. */
	argv_size = arg_end > arg_start ? arg_end - arg_start : 0;
	r->argv_size = argv_size > 0xffffffffULL ? 0xffffffffU : (__u32)argv_size;
	if (argv_size > argv_limit)
		r->flags |= ET_EXEC_ARGV_TRUNCATED;
	argv_len = clamp_max(argv_size, argv_limit);
	if (argv_len && bpf_probe_read_user(data + filename_len, argv_len, (void *)arg_start)) {
		r->flags |= ET_EXEC_ARGV_FAULT;
		argv_len = 0;
	}
	r->argv_len = argv_len;
	context_len = append_context(r, data, filename_len + argv_len, f, direct);
	r->env_size = 0;
	r->env_len = 0;
	if (read_env)
		env_len = append_env(r, data, filename_len + argv_len + context_len, f);
	/* Restated at the call: the scratch slot holds at least this much. */
	size = clamp_max(sizeof(*r) + filename_len + argv_len + context_len + env_len,
			 sizeof(*r) + ET_FILENAME_MAX - 1 + argv_limit + ET_CONTEXT_MAX + env_limit);
	r->hdr.size = size;

	submit(r, size);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_facts facts;

	/* First, from the task alone: a dropped exec costs none of the reads below. */
	if (filter_drops_record(p, ET_FILTERED_EXEC, bprm->filename, false, true, true, true))
		return 0;
	facts_direct(p, bprm, &facts);
	return emit_exec(&facts, old_pid, bprm->filename, bprm->argc, true);
}

SEC("tracepoint/sched/sched_process_exec")
int handle_exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	/* __data_loc: low 16 bits are the offset of the string within ctx */
	const char *filename = (const char *)ctx + (ctx->__data_loc_filename & 0xffff);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_facts facts;

	if (filter_drops_record(task, ET_FILTERED_EXEC, filename, false, false, true, true))
		return 0;
	facts_probed(task, &facts);
	return emit_exec(&facts, ctx->old_pid, filename, -1, false);
}

#endif /* EXEC_TRACER_EXEC_BPF_H */
