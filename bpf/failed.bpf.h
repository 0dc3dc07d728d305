/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Execs that fail (opt-in). No tracepoint fires for them: sched_process_exec
 * is the success. What is left on kernels that refuse fexit and LSM
 * programs, with kprobes off, is the syscall's return: tp_btf/sys_exit. The
 * classic syscalls/sys_exit_execve tracepoint would need tracefs and costs
 * the same (the kernel routes it through the same sys_exit hook, for every
 * syscall, and filters by number afterwards).
 *
 * So this runs at the return of every syscall of every process, and the
 * common case must cost next to nothing: it looks at the return value first
 * (a register, most syscalls succeed), then at the syscall number, and reads
 * anything else only for an exec that failed.
 */
#ifndef EXEC_TRACER_FAILED_BPF_H
#define EXEC_TRACER_FAILED_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_tracer.h"
#include "bounds.h"
#include "ring.bpf.h"
#include "filter.bpf.h"
#include "exec.bpf.h" /* the scratch slot, argv_limit and read_filename() */

/* The user registers as each architecture saves them (CO-RE flavors of
 * struct pt_regs: one object serves x86-64 and arm64). */
struct pt_regs___et_x86 {
	unsigned long di, si, dx, orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___et_arm64 {
	unsigned long regs[31];
	unsigned long orig_x0;
	int syscallno;
} __attribute__((preserve_access_index));

/* thread_info: compat tasks (32-bit) number their syscalls differently. */
struct thread_info___et {
	unsigned long flags;
	__u32 status;
} __attribute__((preserve_access_index));

#define ET_X86_NR_EXECVE 59
#define ET_X86_NR_EXECVEAT 322
#define ET_X86_TS_COMPAT 0x0002
#define ET_ARM64_NR_EXECVE 221
#define ET_ARM64_NR_EXECVEAT 281
#define ET_ARM64_TIF_32BIT (1UL << 22)

/* The caller's filename and argv pointers; false when this is no native exec. */
static __always_inline bool failed_exec_args(struct pt_regs *regs, struct task_struct *task,
					     const char **filename, const char *const **argv, __u16 *flags)
{
	long nr;

	if (bpf_core_field_exists(((struct pt_regs___et_x86 *)0)->orig_ax)) {
		struct pt_regs___et_x86 *x = (void *)regs;

		nr = BPF_CORE_READ(x, orig_ax);
		if (nr != ET_X86_NR_EXECVE && nr != ET_X86_NR_EXECVEAT)
			return false;
		if (BPF_CORE_READ((struct thread_info___et *)&task->thread_info, status) & ET_X86_TS_COMPAT)
			return false;
		if (nr == ET_X86_NR_EXECVE) {
			*filename = (const char *)BPF_CORE_READ(x, di);
			*argv = (const char *const *)BPF_CORE_READ(x, si);
		} else {
			*filename = (const char *)BPF_CORE_READ(x, si);
			*argv = (const char *const *)BPF_CORE_READ(x, dx);
			*flags |= ET_FAILED_EXECVEAT;
		}
		return true;
	}
	if (bpf_core_field_exists(((struct pt_regs___et_arm64 *)0)->syscallno)) {
		struct pt_regs___et_arm64 *a = (void *)regs;

		nr = BPF_CORE_READ(a, syscallno);
		if (nr != ET_ARM64_NR_EXECVE && nr != ET_ARM64_NR_EXECVEAT)
			return false;
		if (BPF_CORE_READ((struct thread_info___et *)&task->thread_info, flags) & ET_ARM64_TIF_32BIT)
			return false;
		/* x0 holds the return value by now; the first argument is in orig_x0. */
		if (nr == ET_ARM64_NR_EXECVE) {
			*filename = (const char *)BPF_CORE_READ(a, orig_x0);
			*argv = (const char *const *)BPF_CORE_READ(a, regs[1]);
		} else {
			*filename = (const char *)BPF_CORE_READ(a, regs[1]);
			*argv = (const char *const *)BPF_CORE_READ(a, regs[2]);
			*flags |= ET_FAILED_EXECVEAT;
		}
		return true;
	}
	return false;
}

/*
 * Copies argv as the caller passed it: pointer by pointer, each string
 * NUL-terminated, within argv_limit bytes and ET_FAILED_ARGS_MAX arguments.
 * Global (verified once, alone) and handed plain integers: the loop would
 * otherwise multiply the states of its caller. Returns the bytes stored;
 * the count and flags go into the record.
 */
__noinline int copy_failed_argv(__u64 argv_addr, __u64 at)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct et_exec_failed_record *r = bpf_map_lookup_elem(&scratch, &cpu);
	const char *const *argv = (const char *const *)argv_addr;
	__u64 used = 0, room, at_now;
	const char *arg;
	char *data;
	long n;
	int i;

	if (!r)
		return 0;
	data = (char *)(r + 1);
	at = clamp_max(at, ET_FILENAME_MAX - 1);
	r->argc = 0;
	if (!argv)
		return 0;
	for (i = 0; i < ET_FAILED_ARGS_MAX; i++) {
		if (bpf_probe_read_user(&arg, sizeof(arg), argv + i)) {
			r->flags |= ET_FAILED_ARGV_FAULT;
			break;
		}
		if (!arg)
			break;
		if (used >= argv_limit) {
			r->flags |= ET_FAILED_ARGV_TRUNCATED;
			break;
		}
		room = clamp_max(argv_limit - used, argv_limit);
		at_now = clamp_offset(at + used, ET_FILENAME_MAX - 1 + argv_limit);
		n = bpf_probe_read_user_str(data + at_now, room, arg);
		if (n <= 0) {
			r->flags |= ET_FAILED_ARGV_FAULT;
			break;
		}
		used += clamp_max(n, room);
		r->argc++;
		/* Filled to the last byte: the string may have been cut (the NUL
		 * is always written), so argv is a prefix from here on. */
		if ((__u64)n >= room) {
			r->flags |= ET_FAILED_ARGV_TRUNCATED;
			break;
		}
	}
	if (i == ET_FAILED_ARGS_MAX)
		r->flags |= ET_FAILED_ARGV_TRUNCATED;
	return used;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_failed_btf, struct pt_regs *regs, long ret)
{
	struct task_struct *task, *parent;
	const char *filename = NULL;
	const char *const *argv = NULL;
	struct et_exec_failed_record *r;
	__u64 filename_len, argv_len, uid_gid, size;
	__u16 flags = 0;
	__u32 cpu;

	if (ret >= 0 || ret < -4095)
		return 0; /* the common case: the syscall succeeded */
	/* Not bpf_get_current_task_btf(): 5.10 lacks it, and past this point
	 * (a failed exec) a few probe reads cost nothing that matters. */
	task = (struct task_struct *)bpf_get_current_task();
	if (!failed_exec_args(regs, task, &filename, &argv, &flags))
		return 0;

	if (filter_drops_record(task, ET_FILTERED_EXEC_FAILED, filename, true, false, true, false))
		return 0;
	cpu = bpf_get_smp_processor_id();
	r = bpf_map_lookup_elem(&scratch, &cpu);
	if (!r) {
		count_drop();
		return 0;
	}
	parent = BPF_CORE_READ(task, real_parent);
	r->hdr.type = ET_RECORD_EXEC_FAILED;
	r->hdr.fixed_size = sizeof(*r);
	r->boot_ns = bpf_ktime_get_boot_ns();
	r->start_boot_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	r->parent_start_boot_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
	r->exec_seq = BPF_CORE_READ(task, self_exec_id);
	r->pid = BPF_CORE_READ(task, tgid);
	r->tid = BPF_CORE_READ(task, pid);
	r->ppid = BPF_CORE_READ(parent, tgid);
	uid_gid = bpf_get_current_uid_gid();
	r->uid = (__u32)uid_gid;
	r->error = -ret;
	r->flags = flags;
	bpf_get_current_comm(r->comm, sizeof(r->comm));

	/* As passed: a path over PATH_MAX, refused with ENAMETOOLONG, is cut here. */
	filename_len = read_filename((char *)(r + 1), filename, true, &r->flags, ET_FAILED_FILENAME_FAULT,
				     ET_FAILED_FILENAME_TRUNCATED);
	r->filename_len = filename_len;
	argv_len = clamp_max(copy_failed_argv((__u64)argv, filename_len), argv_limit);
	r->argv_len = argv_len;
	size = clamp_max(sizeof(*r) + filename_len + argv_len, sizeof(*r) + ET_FILENAME_MAX - 1 + argv_limit);
	r->hdr.size = size;
	submit(r, size);
	return 0;
}

#endif /* EXEC_TRACER_FAILED_BPF_H */
